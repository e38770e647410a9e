"""Cardholders: building and updating the record, and what Stripe requires of it.

Pure functions over validated params; no I/O.
"""

from __future__ import annotations

import copy
from typing import Any

from openissuing.domain import metadata
from openissuing.domain.errors import InvalidRequest
from openissuing.domain.issuing import spending_controls

Record = dict[str, Any]
MAX_NAME_LENGTH = 24


def new(cardholder_id: str, now: int, params: dict[str, Any]) -> Record:
    record: Record = {
        "id": cardholder_id,
        "object": "issuing.cardholder",
        "billing": None,
        "company": None,
        "created": now,
        "email": None,
        "individual": None,
        "livemode": False,
        "metadata": {},
        "name": None,
        "phone_number": None,
        "preferred_locales": [],
        "requirements": {"disabled_reason": None, "past_due": []},
        "spending_controls": spending_controls.empty(with_currency=True),
        "status": params.get("status") or "active",
        "type": params.get("type") or "individual",
    }
    return update(record, params, creating=True)


def update(existing: Record, params: dict[str, Any], *, creating: bool = False) -> Record:
    record = existing if creating else copy.deepcopy(existing)  # ``new`` built it just now
    if "name" in params or creating:
        record["name"] = _name(params["name"])
    if "billing" in params:
        record["billing"] = {"address": _address(params["billing"]["address"])}
    for field in ("email", "phone_number"):
        if field in params:
            record[field] = params[field] or None
    if "preferred_locales" in params:
        record["preferred_locales"] = (
            [] if params["preferred_locales"] == "" else list(params["preferred_locales"])
        )
    if "status" in params and not creating:
        record["status"] = params["status"]
    if "individual" in params:
        record["individual"] = _individual(record.get("individual"), params["individual"])
    if "company" in params:
        record["company"] = {"tax_id_provided": bool(params["company"].get("tax_id"))}
    record["metadata"] = metadata.apply(record["metadata"], params.get("metadata"))
    record["spending_controls"] = spending_controls.apply(
        record["spending_controls"], params.get("spending_controls"), with_currency=True
    )
    record["requirements"] = requirements(record)
    return record


def _name(name: str) -> str:
    name = name.strip()
    if not name:
        raise InvalidRequest("The cardholder name must not be empty.", param="name")
    return name


def _address(address: dict[str, Any]) -> dict[str, Any]:
    fields = ("city", "country", "line1", "line2", "postal_code", "state")
    out = {field: (address.get(field) or None) for field in fields}
    if out["country"]:
        out["country"] = out["country"].upper()
    return out


def _individual(existing: Record | None, params: dict[str, Any]) -> Record:
    individual: Record = (
        copy.deepcopy(existing)
        if existing
        else {
            "card_issuing": None,
            "dob": None,
            "first_name": None,
            "last_name": None,
            "verification": None,
        }
    )
    for field in ("first_name", "last_name"):
        if field in params:
            individual[field] = params[field] or None
    if "dob" in params:
        individual["dob"] = {k: params["dob"][k] for k in ("day", "month", "year")}
    if "card_issuing" in params:
        acceptance = params["card_issuing"].get("user_terms_acceptance") or {}
        individual["card_issuing"] = {
            "user_terms_acceptance": {
                "date": acceptance.get("date"),
                "ip": acceptance.get("ip"),
                "user_agent": acceptance.get("user_agent") or None,
            }
        }
    if "verification" in params:
        document = params["verification"].get("document") or {}
        individual["verification"] = {
            "document": {"back": document.get("back"), "front": document.get("front")}
        }
    return individual


def requirements(record: Record) -> Record:
    """What is past due before this cardholder's cards may be used.

    Individuals need a first and last name, companies a tax id (Stripe's
    test-mode minimum); anything past due disables the cardholder's cards.
    """
    past_due: list[str] = []
    if record["type"] == "individual":
        individual = record.get("individual") or {}
        for field in ("first_name", "last_name"):
            if not individual.get(field):
                past_due.append(f"individual.{field}")
    elif not (record.get("company") or {}).get("tax_id_provided"):
        past_due.append("company.tax_id")
    return {"disabled_reason": "requirements.past_due" if past_due else None, "past_due": past_due}


def filter_keys(record: Record) -> dict[str, str | None]:
    return {
        "email": record.get("email"),
        "phone_number": record.get("phone_number"),
        "status": record["status"],
        "type": record["type"],
    }
