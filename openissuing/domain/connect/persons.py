"""Persons of a company account (``/v1/accounts/{account}/persons``): their records and what
each one still owes. Pure rules.

A person is the same record as an individual account's ``individual`` (``accounts._person``),
with every relationship ``false`` until given. What a person must provide follows from the roles
it holds (the union of their rows below); the missing fields are its own
``requirements.currently_due`` (unprefixed, ``dob.day``) and, on the account, the same fields
prefixed with its id (``person_…dob.day``), as Stripe lists them.

=================== ===========================================================================
role                fields it needs (a minimal set, close to Stripe's US test mode)
=================== ===========================================================================
``representative``  first_name, last_name, email, dob.day/.month/.year, address.line1/.city/
                    .postal_code, relationship.executive, relationship.title, and in the US
                    ssn_last_4 (an ``id_number`` satisfies it too)
``owner``           the same basics (name, email, date of birth, address)
``executive``       the same basics
``director``        first_name, last_name
none of them        first_name, last_name
=================== ===========================================================================

Secrets are never stored: ``id_number``/``ssn_last_4`` only set ``*_provided``.

The account keeps a private summary of its persons (``_persons``: id → roles, ownership and due
fields) so that its requirements stay a pure function of the account record
(``capabilities.person_requirements``). A company has one representative: naming a new one
takes the role from the previous one (``other_representatives``).
"""

from __future__ import annotations

import copy
from decimal import Decimal, InvalidOperation
from typing import Any

from openissuing.domain.connect import accounts, capabilities
from openissuing.domain.errors import InvalidRequest

Record = dict[str, Any]

ROLES = capabilities.PERSON_ROLES
NAMES = capabilities.PERSON_NAMES
SATISFIED_BY = capabilities.PERSON_SATISFIED_BY
role_fields = capabilities.person_role_fields


def blank(person_id: str, account_id: str, now: int) -> Record:
    """A new person of a company: the individual's shape, holding no role yet."""
    person = accounts._person(person_id, account_id, now)
    person["relationship"].update(owner=False, representative=False)
    return person


def new(person_id: str, account_id: str, now: int, params: dict[str, Any]) -> Record:
    return update(blank(person_id, account_id, now), params)


def update(existing: Record, params: dict[str, Any]) -> Record:
    """Apply create/update params (``""`` clears); secrets only set their ``*_provided`` flag."""
    relationship = params.get("relationship")
    if relationship and relationship.get("percent_ownership") not in (None, ""):
        _check_percent(relationship["percent_ownership"])
    return accounts._apply_person(copy.deepcopy(existing), params, param_prefix="")


def _check_percent(value: Any) -> None:
    try:
        percent = Decimal(str(value))
    except InvalidOperation:
        percent = Decimal(-1)
    if not (Decimal(0) <= percent <= Decimal(100)):
        raise InvalidRequest(
            "Percent ownership must be a number between 0 and 100.",
            param="relationship[percent_ownership]",
        )


def roles(person: Record) -> list[str]:
    relationship = person.get("relationship") or {}
    return [role for role in ROLES if relationship.get(role)]


def provided(person: Record, field: str) -> bool:
    if field in SATISFIED_BY:
        return any(person.get(flag) for flag in SATISFIED_BY[field])
    value: Any = person
    for part in field.split("."):
        if not isinstance(value, dict):
            return False
        value = value.get(part)
    return value not in (None, "", False)


def due(person: Record, country: str) -> list[str]:
    """The fields this person still owes for the roles it holds (see the module's table)."""
    needed: list[str] = []
    for role in roles(person) or ["none"]:
        fields = NAMES if role == "none" else role_fields(role, country)
        needed.extend(field for field in fields if field not in needed)
    return sorted(field for field in needed if not provided(person, field))


def refresh(person: Record, country: str) -> Record:
    """The person's own ``requirements`` and verification status, from its fields."""
    out = copy.deepcopy(person)
    missing = due(out, country)
    out["requirements"].update(
        currently_due=missing, eventually_due=list(missing), past_due=list(missing)
    )
    out["verification"]["status"] = "unverified" if missing else "verified"
    return out


def summary(person: Record, country: str) -> Record:
    """What the account keeps of a person to derive its own requirements."""
    relationship = person.get("relationship") or {}
    return {
        "roles": roles(person),
        "percent_ownership": relationship.get("percent_ownership"),
        "due": due(person, country),
    }


def filter_keys(person: Record) -> dict[str, str | None]:
    relationship = person.get("relationship") or {}
    return {role: "true" if relationship.get(role) else "false" for role in (*ROLES, "authorizer")}


def list_filters(params: dict[str, Any]) -> dict[str, str]:
    wanted = params.get("relationship") or {}
    return {role: "true" if value else "false" for role, value in wanted.items()}


def takes_representative(before: Record | None, after: Record) -> bool:
    """Whether this change names the person the representative (the others then lose it)."""
    was = bool(((before or {}).get("relationship") or {}).get("representative"))
    return bool(after["relationship"].get("representative")) and not was


def drop_representative(person: Record) -> Record:
    out = copy.deepcopy(person)
    out["relationship"]["representative"] = False
    return out


def public(person: Record) -> Record:
    return {key: value for key, value in person.items() if not key.startswith("_")}
