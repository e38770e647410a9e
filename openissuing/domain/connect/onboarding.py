"""The hosted onboarding form behind an account link: which inputs a list of requirements asks
for, and what the submitted values become as API params. Pure rules.

Each requirement Stripe names (``company.name``, ``representative.dob.day``,
``person_….email``, ``company.owners_provided``…) becomes one input; the three parts of a date
of birth become one date input and a terms acceptance's ``date``/``ip`` one checkbox (accepting
records the time and the visitor's address). Submitted values become the params of the same
calls a platform would make: the account's own fields (``POST /v1/accounts/{id}``), a new person
per missing group (``representative``, ``owners``…: ``POST …/persons`` with that relationship)
and each listed person's fields (``POST …/persons/{id}``). Empty inputs are left out (nothing is
cleared from the form).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from typing import Any

from openissuing.domain.errors import InvalidRequest

PERSON_GROUPS = {
    "representative": "representative",
    "owners": "owner",
    "directors": "director",
    "executives": "executive",
}
ACCEPTANCES = (
    "tos_acceptance",
    "settings.card_issuing.tos_acceptance",
    "settings.treasury.tos_acceptance",
)
SECRET_FIELDS = {"ssn_last_4", "id_number", "tax_id"}
BUSINESS_TYPES = ("individual", "company", "non_profit", "government_entity")
LABELS = {
    "business_type": "Business type",
    "business_profile.url": "Business website",
    "business_profile.product_description": "What the business sells",
    "tos_acceptance": "I accept the services agreement",
    "settings.card_issuing.tos_acceptance": "I accept the Issuing terms",
    "settings.treasury.tos_acceptance": "I accept the Treasury terms",
    "first_name": "First name",
    "last_name": "Last name",
    "email": "Email",
    "dob": "Date of birth",
    "address.line1": "Address",
    "address.city": "City",
    "address.postal_code": "Postal code",
    "ssn_last_4": "Last 4 digits of the SSN",
    "id_number": "ID number",
    "relationship.title": "Job title",
    "relationship.executive": "Is an executive of the company",
    "name": "Legal name",
    "tax_id": "Tax ID (EIN)",
    "owners_provided": "All owners of 25 % or more are listed (or there are none)",
    "directors_provided": "All directors are listed",
    "executives_provided": "All executives are listed",
}
SECTION_TITLES = {
    "account": "Business",
    "individual": "About you",
    "company": "Company",
    "terms": "Terms",
    "representative": "Representative",
    "owners": "Owner",
    "directors": "Director",
    "executives": "Executive",
}


@dataclass(frozen=True)
class Field:
    """One input: ``name`` is the requirement (or the collapsed date / acceptance) it fills."""

    name: str
    label: str
    kind: str  # text, email, url, date, secret, checkbox, select
    section: str
    options: tuple[str, ...] = ()


def _section(name: str) -> str:
    head = name.split(".", 1)[0]
    if any(name == a for a in ACCEPTANCES):
        return "terms"
    if head in ("individual", "company") or head in PERSON_GROUPS:
        return head
    if head.startswith("person_"):
        return head
    return "account"


def _collapse(requirement: str) -> str:
    for acceptance in ACCEPTANCES:
        if requirement.startswith(acceptance + "."):
            return acceptance
    if requirement.rsplit(".", 1)[-1] in ("day", "month", "year") and ".dob." in f".{requirement}":
        return requirement.rsplit(".", 1)[0]
    return requirement


def _kind(name: str) -> str:
    leaf = name.rsplit(".", 1)[-1]
    if (
        name in ACCEPTANCES
        or leaf in ("executive", "owners_provided")
        or name.endswith("_provided")
    ):
        return "checkbox"
    if leaf == "dob":
        return "date"
    if leaf in SECRET_FIELDS:
        return "secret"
    if name == "business_type":
        return "select"
    return {"email": "email", "url": "url"}.get(leaf, "text")


def _label(name: str) -> str:
    if name in LABELS:
        return LABELS[name]
    tail = name.split(".", 1)[1] if "." in name else name
    return LABELS.get(
        tail, LABELS.get(tail.rsplit(".", 1)[-1], tail.replace("_", " ").capitalize())
    )


# The order a person fills a form in (Stripe's lists are alphabetical).
SECTION_ORDER = (
    "account",
    "individual",
    "company",
    "representative",
    "person_",
    "owners",
    "executives",
    "directors",
    "terms",
)
FIELD_ORDER = (
    "business_type",
    "business_profile",
    "name",
    "tax_id",
    "address",
    "first_name",
    "last_name",
    "email",
    "phone",
    "dob",
    "address.line1",
    "address.city",
    "address.postal_code",
    "relationship.title",
    "relationship.executive",
    "ssn_last_4",
    "id_number",
)


def _rank(field: Field) -> tuple[int, int, str]:
    section = next(
        (i for i, name in enumerate(SECTION_ORDER) if field.section.startswith(name)),
        len(SECTION_ORDER),
    )
    tail = field.name.split(".", 1)[1] if "." in field.name else field.name
    if field.section == "account":
        tail = field.name.split(".", 1)[0]
    order = next(
        (i for i, name in enumerate(FIELD_ORDER) if tail == name),
        next((i for i, name in enumerate(FIELD_ORDER) if tail.startswith(name)), len(FIELD_ORDER)),
    )
    return section, order, field.name


def fields(currently_due: list[str]) -> list[Field]:
    """The inputs for these requirements, one per collapsed name, in form order (``_rank``)."""
    out: list[Field] = []
    seen: set[str] = set()
    for requirement in currently_due:
        name = _collapse(requirement)
        if name in seen:
            continue
        seen.add(name)
        kind = _kind(name)
        options = BUSINESS_TYPES if kind == "select" else ()
        out.append(Field(name, _label(name), kind, _section(name), options))
    return sorted(out, key=_rank)


@dataclass
class Submission:
    """What a submitted form asks for, as API params."""

    account: dict[str, Any]
    new_persons: dict[str, dict[str, Any]]  # group → person params (with its relationship)
    person_updates: dict[str, dict[str, Any]]  # person id → params


def _put(target: dict[str, Any], dotted: str, value: Any) -> None:
    *parents, leaf = dotted.split(".")
    for part in parents:
        target = target.setdefault(part, {})
    target[leaf] = value


def _dob(value: str, param: str) -> dict[str, int]:
    try:
        born = date.fromisoformat(value)
    except ValueError:
        raise InvalidRequest("The date of birth is not a valid date.", param=param) from None
    return {"day": born.day, "month": born.month, "year": born.year}


def submission(form_fields: list[Field], values: dict[str, str], now: int, ip: str) -> Submission:
    """The params the submitted ``values`` (by field name) stand for; empty inputs skipped."""
    result = Submission({}, {}, {})
    for field in form_fields:
        raw = (values.get(field.name) or "").strip()
        if not raw:
            continue
        value: Any = raw
        if field.kind == "checkbox":
            value = True
        if field.name in ACCEPTANCES:
            value = {"date": now, "ip": ip}
        elif field.kind == "date":
            value = _dob(raw, field.name)
        head, _, rest = field.name.partition(".")
        if head in PERSON_GROUPS:
            person = result.new_persons.setdefault(
                head, {"relationship": {PERSON_GROUPS[head]: True}}
            )
            _put(person, rest, value)
        elif head.startswith("person_"):
            _put(result.person_updates.setdefault(head, {}), rest, value)
        else:
            _put(result.account, field.name, value)
    return result
