"""Capabilities of a connected account, and what each one requires. Pure rules.

A capability's status follows from the account record alone, deterministically:

=================================================== =============== ================================
situation                                           ``status``      ``requirements.disabled_reason``
=================================================== =============== ================================
not requested (or ``requested=false``)              ``unrequested`` ``null``
requested, the account was rejected by the platform ``inactive``    ``rejected.other``
requested, a required field below is missing        ``inactive``    ``requirements.fields_needed``
requested, a prerequisite capability not requested  ``inactive``    ``other``
requested, nothing missing                          ``active``      ``null``
=================================================== =============== ================================

Test mode verifies instantly, so ``pending`` never appears. Missing fields are listed in the
capability's ``currently_due``, ``eventually_due`` and ``past_due`` (it cannot be enabled until they
arrive), and their union in the account's ``requirements`` (whose ``disabled_reason`` is then
``requirements.past_due``). Only requested capabilities appear in ``account.capabilities``.

Requirements of a US account: a minimal set, close to what Stripe lists in test mode.

================================================= ========= ================ ============ ========
requirement                                       transfers card_payments /  card_issuing treasury
                                                  (and any  us_bank_account_
                                                  other)    ach_payments
================================================= ========= ================ ============ ========
``business_type``                                 x         x                x            x
``tos_acceptance.date``, ``tos_acceptance.ip``    x         x                x            x
the legal entity's fields (below)                 x         x                x            x
``business_profile.url`` (alternative:            .         x                x            x
``business_profile.product_description``)
``settings.card_issuing.tos_acceptance.date/.ip`` .         .                x            .
``settings.treasury.tos_acceptance.date/.ip``     .         .                .            x
capability ``transfers`` requested                .         .                .            x
================================================= ========= ================ ============ ========

The legal entity depends on ``business_type``: ``individual`` needs ``individual.first_name``,
``individual.last_name``, ``individual.email``, ``individual.dob.day/.month/.year`` and
``individual.address.line1/.city/.postal_code``; ``company``, ``non_profit`` and
``government_entity`` need ``company.name``, ``company.tax_id`` and
``company.address.line1/.city/.postal_code``, and their persons (``person_requirements``: a
representative, the owners or ``company.owners_provided``, outside the US also directors and
executives, and each listed person's missing fields as ``person_….field``). Until
``business_type`` is known it alone stands for the entity.

Treasury's docs also ask for ``card_payments`` before ``treasury``, and Issuing's for
``transfers`` beside ``card_issuing``; we require only ``transfers`` for ``treasury`` (the flow the
guides use) and accept requests in any order: statuses are recomputed after every change.

State kept on the account record: ``_capabilities`` maps each *requested* capability to
``{"requested_at": unix}`` (a private key the serializer strips); ``_rejected`` holds the
platform's rejection reason. Everything else is derived here.
"""

from __future__ import annotations

import copy
from decimal import Decimal
from typing import Any

Record = dict[str, Any]

# Every capability name the SDK (16.1.0) knows; anything else is "No such capability".
KNOWN: frozenset[str] = frozenset(
    """acss_debit_payments affirm_payments afterpay_clearpay_payments alma_payments
    amazon_pay_payments
    app_distribution au_becs_debit_payments bacs_debit_payments bancontact_payments
    bank_transfer_payments
    billie_payments bizum_payments blik_payments blik_recurring_payments boleto_payments
    card_issuing
    card_payments cartes_bancaires_payments cashapp_payments crypto_payments eps_payments
    fpx_payments
    gb_bank_transfer_payments giropay_payments grabpay_payments ideal_payments
    india_international_payments
    jcb_payments jp_bank_transfer_payments kakao_pay_payments klarna_payments konbini_payments
    kr_card_payments legacy_payments link_payments mb_way_payments mobilepay_payments
    multibanco_payments
    mx_bank_transfer_payments naver_pay_payments nz_bank_account_becs_debit_payments oxxo_payments
    p24_payments pay_by_bank_payments payco_payments paynow_payments paypay_payments payto_payments
    pix_payments promptpay_payments revolut_pay_payments samsung_pay_payments satispay_payments
    scalapay_payments sepa_bank_transfer_payments sepa_debit_payments sequra_payments
    sofort_payments
    sunbit_payments swish_payments tax_reporting_us_1099_k tax_reporting_us_1099_misc transfers
    treasury
    twint_payments upi_payments us_bank_account_ach_payments us_bank_transfer_payments wero_payments
    zip_payments""".split()
)

# Listed by GET /v1/accounts/{id}/capabilities even when unrequested (the ones this server is
# about).
ALWAYS_LISTED = (
    "card_issuing",
    "card_payments",
    "transfers",
    "treasury",
    "us_bank_account_ach_payments",
)

ACCOUNT_BASICS = ("business_type", "tos_acceptance.date", "tos_acceptance.ip")
INDIVIDUAL_FIELDS = (
    "individual.first_name",
    "individual.last_name",
    "individual.email",
    "individual.dob.day",
    "individual.dob.month",
    "individual.dob.year",
    "individual.address.line1",
    "individual.address.city",
    "individual.address.postal_code",
)
COMPANY_FIELDS = (
    "company.name",
    "company.tax_id",
    "company.address.line1",
    "company.address.city",
    "company.address.postal_code",
)
COMPANY_TYPES = ("company", "non_profit", "government_entity")
BUSINESS_PROFILE = ("business_profile.url",)

EXTRA_FIELDS: dict[str, tuple[str, ...]] = {
    "card_payments": BUSINESS_PROFILE,
    "us_bank_account_ach_payments": BUSINESS_PROFILE,
    "card_issuing": BUSINESS_PROFILE
    + ("settings.card_issuing.tos_acceptance.date", "settings.card_issuing.tos_acceptance.ip"),
    "treasury": BUSINESS_PROFILE
    + ("settings.treasury.tos_acceptance.date", "settings.treasury.tos_acceptance.ip"),
}
# A requirement satisfied by any one of these other fields (Stripe's ``alternatives``).
ALTERNATIVES: dict[str, tuple[str, ...]] = {
    "business_profile.url": ("business_profile.product_description",)
}
# Requirements whose value is never stored: the record keeps only that it was provided.
STORED_AS: dict[str, str] = {"company.tax_id": "company.tax_id_provided"}
PREREQUISITES: dict[str, tuple[str, ...]] = {"treasury": ("transfers",)}

# The persons of a company (``business_type`` company, non_profit or government_entity), by role:
# what each must provide (``persons.py`` shows the table) and which groups a company must list.
PERSON_ROLES = ("representative", "owner", "director", "executive")
PERSON_NAMES = ("first_name", "last_name")
PERSON_BASICS = (
    *PERSON_NAMES,
    "email",
    "dob.day",
    "dob.month",
    "dob.year",
    "address.line1",
    "address.city",
    "address.postal_code",
)
PERSON_ROLE_FIELDS: dict[str, tuple[str, ...]] = {
    "representative": (*PERSON_BASICS, "relationship.executive", "relationship.title"),
    "owner": PERSON_BASICS,
    "executive": PERSON_BASICS,
    "director": PERSON_NAMES,
}
# Stripe's US lists also ask the representative's SSN (last 4; a full id_number does too).
PERSON_COUNTRY_FIELDS: dict[tuple[str, str], tuple[str, ...]] = {
    ("representative", "US"): ("ssn_last_4",)
}
# A person requirement met by any of these flags (the secret itself is never kept).
PERSON_SATISFIED_BY: dict[str, tuple[str, ...]] = {
    "ssn_last_4": ("ssn_last_4_provided", "id_number_provided"),
    "id_number": ("id_number_provided",),
}
# Which groups a company must list. Stripe's US country spec lists the representative and the
# owners (``company.owners_provided``, ``owners.*``); elsewhere (where Stripe's lists vary by
# country) we also ask for the directors and the executives.
PERSON_GROUPS: dict[str, tuple[str, ...]] = {"US": ("representative", "owners")}
DEFAULT_PERSON_GROUPS = ("representative", "owners", "directors", "executives")
GROUP_ROLE = {
    "representative": "representative",
    "owners": "owner",
    "directors": "director",
    "executives": "executive",
}
# Owners count as provided without the flag once together they hold more than this: nobody
# left could own the 25 % that makes someone an owner (Stripe: "determined using both the number
# of owners provided and their total percent ownership").
OWNERS_SUFFICIENT_PERCENT = Decimal(75)


def person_role_fields(role: str, country: str) -> tuple[str, ...]:
    return PERSON_ROLE_FIELDS[role] + PERSON_COUNTRY_FIELDS.get((role, country), ())


def person_groups(country: str) -> tuple[str, ...]:
    return PERSON_GROUPS.get(country, DEFAULT_PERSON_GROUPS)


def owners_sufficient(record: Record) -> bool:
    """Whether the owners listed together hold more than ``OWNERS_SUFFICIENT_PERCENT``."""
    total = sum(
        (
            Decimal(str(person.get("percent_ownership") or 0))
            for person in (record.get("_persons") or {}).values()
            if "owner" in person["roles"]
        ),
        Decimal(0),
    )
    return total > OWNERS_SUFFICIENT_PERCENT


def person_requirements(record: Record) -> list[str]:
    """What a company still owes about its persons, as Stripe names it on the account.

    A group with nobody in it lists its role's fields (``representative.first_name``); owners,
    directors and executives also need ``company.<group>_provided`` until it is true (then an
    empty group is fine); every listed person owes its own missing fields (``person_….email``).
    """
    if record.get("business_type") not in COMPANY_TYPES or record.get("_persons_exempt"):
        return []
    persons = record.get("_persons") or {}
    country = record.get("country") or "US"
    company = record.get("company") or {}
    due: list[str] = []
    for group in person_groups(country):
        role = GROUP_ROLE[group]
        held = any(role in person["roles"] for person in persons.values())
        declared = group == "representative" or bool(company.get(f"{group}_provided"))
        if not declared:
            due.append(f"company.{group}_provided")
        if not held and not (declared and group != "representative"):
            due.extend(f"{group}.{field}" for field in person_role_fields(role, country))
    for person_id, person in sorted(persons.items()):
        due.extend(f"{person_id}.{field}" for field in person["due"])
    return due


def empty_requirements() -> Record:
    return {
        "alternatives": [],
        "current_deadline": None,
        "currently_due": [],
        "disabled_reason": None,
        "errors": [],
        "eventually_due": [],
        "past_due": [],
        "pending_verification": [],
    }


def required_fields(name: str, business_type: str | None) -> list[str]:
    """The fields ``name`` needs on an account of this business type (see the table above)."""
    if business_type == "individual":
        entity: tuple[str, ...] = INDIVIDUAL_FIELDS
    elif business_type in COMPANY_TYPES:
        entity = COMPANY_FIELDS
    else:
        entity = ()
    return [*ACCOUNT_BASICS, *entity, *EXTRA_FIELDS.get(name, ())]


def provided(record: Record, field: str) -> bool:
    value: Any = record
    for part in STORED_AS.get(field, field).split("."):
        if not isinstance(value, dict):
            return False
        value = value.get(part)
    return value not in (None, "", False)


def missing_fields(record: Record, name: str) -> list[str]:
    """Required fields of ``name`` that are neither provided nor replaced by an alternative."""
    missing = []
    for field in required_fields(name, record.get("business_type")):
        if provided(record, field) or any(
            provided(record, alt) for alt in ALTERNATIVES.get(field, ())
        ):
            continue
        missing.append(field)
    missing.extend(person_requirements(record))
    return sorted(missing)


def is_requested(record: Record, name: str) -> bool:
    return name in (record.get("_capabilities") or {})


def unmet_prerequisites(record: Record, name: str) -> list[str]:
    return [other for other in PREREQUISITES.get(name, ()) if not is_requested(record, other)]


def _alternatives(missing: list[str]) -> list[Record]:
    return [
        {"alternative_fields_due": list(ALTERNATIVES[field]), "original_fields_due": [field]}
        for field in missing
        if field in ALTERNATIVES
    ]


def status_and_requirements(record: Record, name: str) -> tuple[str, Record]:
    """The capability's status and its ``requirements`` hash (see the module's table)."""
    requirements = empty_requirements()
    if not is_requested(record, name):
        return "unrequested", requirements
    if record.get("_rejected"):
        requirements["disabled_reason"] = "rejected.other"
        return "inactive", requirements
    missing = missing_fields(record, name)
    if missing:
        requirements.update(
            alternatives=_alternatives(missing),
            currently_due=missing,
            eventually_due=list(missing),
            past_due=list(missing),
            disabled_reason="requirements.fields_needed",
        )
        return "inactive", requirements
    if unmet_prerequisites(record, name):
        requirements["disabled_reason"] = "other"
        return "inactive", requirements
    return "active", requirements


def capability(record: Record, name: str) -> Record:
    """The ``capability`` object as Stripe shows it (no ``created``/``livemode`` on
    capabilities)."""
    status, requirements = status_and_requirements(record, name)
    state = (record.get("_capabilities") or {}).get(name) or {}
    return {
        "id": name,
        "object": "capability",
        "account": record["id"],
        "future_requirements": empty_requirements(),
        "requested": status != "unrequested",
        "requested_at": state.get("requested_at"),
        "requirements": requirements,
        "status": status,
    }


def listed_names(record: Record) -> list[str]:
    return sorted(set(ALWAYS_LISTED) | set(record.get("_capabilities") or {}))


def set_requested(record: Record, name: str, requested: bool, now: int) -> Record:
    """Request (keeping the first ``requested_at``) or remove one capability; returns a copy."""
    out = copy.deepcopy(record)
    states = out.setdefault("_capabilities", {})
    if requested:
        states.setdefault(name, {"requested_at": now})
    else:
        states.pop(name, None)
    return out


def _account_disabled_reason(record: Record, past_due: list[str]) -> str | None:
    rejected = record.get("_rejected")
    if rejected:
        return str(rejected)
    return "requirements.past_due" if past_due else None


def evaluate(record: Record) -> Record:
    """Recompute ``capabilities`` (name → status of requested ones) and the account's
    ``requirements`` (the union of its capabilities'); returns a copy."""
    out = copy.deepcopy(record)
    statuses: dict[str, str] = {}
    due: set[str] = set()
    alternatives: list[Record] = []
    for name in sorted(out.get("_capabilities") or {}):
        status, requirements = status_and_requirements(out, name)
        statuses[name] = status
        due.update(requirements["currently_due"])
        alternatives.extend(a for a in requirements["alternatives"] if a not in alternatives)
    fields = sorted(due)
    out["capabilities"] = statuses
    out["requirements"] = empty_requirements() | {
        "alternatives": alternatives,
        "currently_due": fields,
        "eventually_due": list(fields),
        "past_due": list(fields),
        "disabled_reason": _account_disabled_reason(out, fields),
    }
    out["future_requirements"] = empty_requirements()
    return out
