"""The endpoints the official ``stripe`` SDK exposes in openissuing's namespaces.

Read off the SDK itself, not a hand-kept list: ``StripeClient.v1`` is walked through each
service's ``_subservices`` table, and every public method's source names its HTTP method and
path template (``"/v1/issuing/cards/{card}".format(...)``). Used by
``tools/gen_param_spec.py`` (which spec to generate) and by
``tests/contract/test_sdk_surface.py`` (no SDK method in scope may reach "Unrecognized request
URL").
"""

from __future__ import annotations

import inspect
import re
import sys
from dataclasses import dataclass
from typing import Any

import stripe

# The top-level services of ``client.v1`` that openissuing implements (issue 9's scope).
NAMESPACES = (
    "accounts",
    "account_links",
    "balance",
    "balance_transactions",
    "ephemeral_keys",
    "events",
    "issuing",
    "test_helpers.issuing",
    "test_helpers.treasury",
    "topups",
    "treasury",
    "webhook_endpoints",
)

_REQUEST = re.compile(r'self\._request\(\s*"(get|post|delete)",\s*"([^"]+)"')


@dataclass(frozen=True)
class Endpoint:
    accessor: str  # "client.v1.issuing.cards.create"
    method: str  # "POST"
    path: str  # "/v1/issuing/cards/{card}"

    @property
    def key(self) -> str:
        return f"{self.method} {self.path}"


def _subservices(service: Any) -> list[str]:
    module = sys.modules[type(service).__module__]
    return sorted(getattr(module, "_subservices", {}))


def _walk(service: Any, accessor: str, found: list[Endpoint]) -> None:
    for name in _subservices(service):
        _walk(getattr(service, name), f"{accessor}.{name}", found)
    for name, function in inspect.getmembers(type(service), inspect.isfunction):
        if name.startswith("_") or name.endswith("_async"):
            continue
        match = _REQUEST.search(inspect.getsource(function))
        if match:
            found.append(Endpoint(f"{accessor}.{name}", match.group(1).upper(), match.group(2)))


def endpoints() -> list[Endpoint]:
    """Every SDK method in ``NAMESPACES``, sorted by accessor."""
    client = stripe.StripeClient("sk_test_surface")
    found: list[Endpoint] = []
    for namespace in NAMESPACES:
        service: Any = client.v1
        for part in namespace.split("."):
            service = getattr(service, part)
        _walk(service, f"client.v1.{namespace}", found)
    return sorted(set(found), key=lambda e: e.accessor)


if __name__ == "__main__":
    for endpoint in endpoints():
        print(f"{endpoint.method:6} {endpoint.path}  {endpoint.accessor}")
