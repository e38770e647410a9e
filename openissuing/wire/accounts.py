"""account and capability on the wire."""

from __future__ import annotations

from openissuing.domain.connect import accounts as rules
from openissuing.wire import View


def account(record: dict, view: View) -> dict:
    # Records written before a field existed still show every field (null where unset).
    out = rules.public(rules.blank(record["id"], record.get("created") or 0))
    out.update(rules.public(record))
    out["object"] = "account"
    if out.get("individual"):
        out["individual"] = _percent_as_number(out["individual"])
    # Its bank accounts and debit cards (the presenter loads the first page).
    out["external_accounts"] = {
        "object": "list",
        "data": list(view.related.get("external_accounts") or []),
        "has_more": bool(view.related.get("external_accounts_more")),
        "url": f"/v1/accounts/{record['id']}/external_accounts",
    }
    return out


def _percent_as_number(person: dict) -> dict:
    """Ownership is stored as exact decimal text; Stripe's wire shows a JSON number.

    A copy: the record itself is never changed."""
    relationship = person.get("relationship") or {}
    percent = relationship.get("percent_ownership")
    if not isinstance(percent, str):
        return person
    return {**person, "relationship": {**relationship, "percent_ownership": float(percent)}}


def capability(record: dict, view: View) -> dict:
    # Capabilities are built whole by the domain; they have no created/livemode.
    out = dict(record)
    out["object"] = "capability"
    return out


def person(record: dict, view: View) -> dict:
    """A person of a company account; secrets were never kept (only ``*_provided``)."""
    out = rules.public(rules._person(record["id"], record.get("account") or "", 0))
    out.update(rules.public(record))
    out["object"] = "person"
    return _percent_as_number(out)


def login_link(record: dict, view: View) -> dict:
    """Built whole by the service (the url carries a secret that is never stored)."""
    return {"object": "login_link", "created": record["created"], "url": record["url"]}


def account_link(record: dict, view: View) -> dict:
    return {
        "object": "account_link",
        "created": record["created"],
        "expires_at": record["expires_at"],
        "url": record["url"],
    }
