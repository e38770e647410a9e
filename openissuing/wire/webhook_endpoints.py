"""webhook_endpoint on the wire."""

from __future__ import annotations

from openissuing.wire import View, base

# Fields of the stored record that are ours, not Stripe's.
_INTERNAL = ("connect",)


def webhook_endpoint(record: dict, view: View) -> dict:
    out = base(record, "webhook_endpoint")
    for name in _INTERNAL:
        out.pop(name, None)
    # The signing secret is shown once, in the create response (which passes it in).
    secret = out.pop("secret", None)
    if view.reveal_secrets and secret is not None:
        out["secret"] = secret
    return out
