"""Which webhook endpoints receive which event. Pure rules, no I/O.

Stripe's two kinds of endpoint:

* an *account* endpoint (``connect=false``) hears the events of the account
  that owns it: the platform's own events for a platform endpoint, a connected
  account's for one that account registered itself;
* a *Connect* endpoint (``connect=true``) lives on the platform and hears the
  events of its connected accounts (``event.account`` set), never the
  platform's own.

Then the endpoint must be enabled and subscribed to the type, by name or ``*``.
``issuing_authorization.request`` is never queued: it is answered
synchronously during the authorization (the real-time flow), and queuing it as
well would deliver a decision request twice, late the second time.
"""

from __future__ import annotations

from typing import Any

SYNCHRONOUS_EVENT_TYPES = frozenset({"issuing_authorization.request"})
WILDCARD = "*"


def subscribed(enabled_events: list[str], event_type: str) -> bool:
    return WILDCARD in enabled_events or event_type in enabled_events


def hears_account(
    endpoint: dict[str, Any], endpoint_owner: str, event_owner: str, platform: str
) -> bool:
    """Whether an endpoint owned by ``endpoint_owner`` hears events owned by ``event_owner``."""
    if endpoint.get("connect"):
        return endpoint_owner == platform and event_owner != platform
    return endpoint_owner == event_owner


def receives(
    endpoint: dict[str, Any],
    endpoint_owner: str,
    event: dict[str, Any],
    event_owner: str,
    platform: str,
) -> bool:
    if endpoint.get("status") != "enabled" or event["type"] in SYNCHRONOUS_EVENT_TYPES:
        return False
    if not hears_account(endpoint, endpoint_owner, event_owner, platform):
        return False
    return subscribed(endpoint.get("enabled_events") or [], event["type"])


def candidate_owners(event_owner: str, platform: str) -> list[str]:
    """The accounts whose endpoints could hear an event of ``event_owner``."""
    return [platform] if event_owner == platform else [platform, event_owner]
