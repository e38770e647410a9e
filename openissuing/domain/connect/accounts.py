"""Connect accounts: building and updating the record. Pure functions over validated params.

The record is the wire object (every field present, ``null`` where unset) plus private keys
starting with ``_`` that the serializer strips: ``_capabilities`` / ``_rejected`` (see
``capabilities``), ``_external_account`` (whether it has a bank account or debit card),
``_persons`` (a summary of a company's persons, ``persons.summary``) and ``_provided`` (the
``company.*_provided`` flags the platform declared; the wire values are derived).
Secrets are never stored: a company's tax id or a person's id number only set ``*_provided``.
Statuses, requirements and the ``*_enabled`` flags are derived by ``refresh`` after every change.
"""

from __future__ import annotations

import copy
from decimal import Decimal
from typing import Any

from openissuing.domain import metadata
from openissuing.domain.connect import capabilities
from openissuing.domain.errors import InvalidRequest, ResourceMissing

Record = dict[str, Any]
PRIVATE_PREFIX = "_"
MINIMUM_PAYOUT_DELAY_DAYS = 2  # what "delay_days=minimum" means for a US account

# How Stripe describes the legacy account types in controller terms (fees payer, losses, collection,
# dashboard).
LEGACY_CONTROLLERS: dict[str, tuple[str, str, str, str]] = {
    "custom": ("application_custom", "application", "application", "none"),
    "express": ("application_express", "application", "stripe", "express"),
    "standard": ("account", "stripe", "stripe", "full"),
}
# Params that hold secrets: the record keeps only that they were provided.
_COMPANY_SECRETS = {"tax_id": "tax_id_provided", "vat_id": "vat_id_provided"}
# What the platform declared with company[owners_provided] etc.; the wire value is derived.
_NOT_DECLARED = {"owners": False, "directors": False, "executives": False}
_PERSON_SECRETS = {
    "id_number": "id_number_provided",
    "id_number_secondary": "id_number_secondary_provided",
    "ssn_last_4": "ssn_last_4_provided",
}


def _address(town: bool = False) -> Record:
    fields = ["city", "country", "line1", "line2", "postal_code", "state"] + (
        ["town"] if town else []
    )
    return {field: None for field in fields}


def _acceptance() -> Record:
    return {"date": None, "ip": None, "user_agent": None}


def _document() -> Record:
    return {"back": None, "details": None, "details_code": None, "front": None}


def _business_profile() -> Record:
    return {
        "annual_revenue": {"amount": None, "currency": None, "fiscal_year_end": None},
        "estimated_worker_count": None,
        "mcc": None,
        "minority_owned_business_designation": None,
        "monthly_estimated_revenue": None,
        "name": None,
        "product_description": None,
        "specified_commercial_transactions_act_url": None,
        "support_address": _address(),
        "support_email": None,
        "support_phone": None,
        "support_url": None,
        "url": None,
    }


def _settings() -> Record:
    return {
        "bacs_debit_payments": {"display_name": None, "service_user_number": None},
        "branding": {"icon": None, "logo": None, "primary_color": None, "secondary_color": None},
        "card_issuing": {"tos_acceptance": _acceptance()},
        "card_payments": {
            "decline_on": {"avs_failure": True, "cvc_failure": True},
            "statement_descriptor_prefix": None,
            "statement_descriptor_prefix_kana": None,
            "statement_descriptor_prefix_kanji": None,
        },
        "dashboard": {"display_name": None, "timezone": "Etc/UTC"},
        "invoices": {"default_account_tax_ids": None, "hosted_payment_method_save": None},
        "payments": {
            "statement_descriptor": None,
            "statement_descriptor_kana": None,
            "statement_descriptor_kanji": None,
            "statement_descriptor_prefix_kana": None,
            "statement_descriptor_prefix_kanji": None,
        },
        "payouts": {
            "debit_negative_balances": True,
            "schedule": {
                "delay_days": MINIMUM_PAYOUT_DELAY_DAYS,
                "interval": "daily",
                "monthly_anchor": None,
                "monthly_payout_days": None,
                "weekly_anchor": None,
                "weekly_payout_days": None,
            },
            "statement_descriptor": None,
        },
        "paypay_payments": None,
        "sepa_debit_payments": {"creditor_id": None},
        "treasury": {"tos_acceptance": _acceptance()},
    }


def _company() -> Record:
    return {
        "address": _address(),
        "address_kana": None,
        "address_kanji": None,
        "administrative_address": None,
        "directors_provided": False,
        "directorship_declaration": None,
        "executives_provided": False,
        "export_license_id": None,
        "export_purpose_code": None,
        "name": None,
        "name_kana": None,
        "name_kanji": None,
        "owners_provided": False,
        "ownership_declaration": None,
        "ownership_exemption_reason": None,
        "phone": None,
        "physical_address": None,
        "principal_place_of_business": None,
        "registration_date": None,
        "representative_declaration": None,
        "structure": None,
        "tax_id_provided": False,
        "tax_id_registrar": None,
        "vat_id_provided": False,
        "verification": {"document": _document()},
    }


def _person(person_id: str, account_id: str, now: int) -> Record:
    """The ``person`` behind an individual account (``account.individual``)."""
    requirements = {
        k: v
        for k, v in capabilities.empty_requirements().items()
        if k not in ("current_deadline", "disabled_reason")
    }
    return {
        "id": person_id,
        "object": "person",
        "account": account_id,
        "additional_tos_acceptances": {"account": _acceptance()},
        "address": _address(),
        "address_kana": None,
        "address_kanji": None,
        "created": now,
        "dob": {"day": None, "month": None, "year": None},
        "email": None,
        "first_name": None,
        "first_name_kana": None,
        "first_name_kanji": None,
        "full_name_aliases": [],
        "future_requirements": copy.deepcopy(requirements),
        "gender": None,
        "id_number_provided": False,
        "id_number_secondary_provided": False,
        "last_name": None,
        "last_name_kana": None,
        "last_name_kanji": None,
        "maiden_name": None,
        "metadata": {},
        "nationality": None,
        "phone": None,
        "political_exposure": None,
        "registered_address": _address(),
        "relationship": {
            "authorizer": None,
            "director": False,
            "executive": False,
            "legal_guardian": False,
            "owner": True,
            "percent_ownership": None,
            "representative": True,
            "title": None,
        },
        "requirements": requirements,
        "ssn_last_4_provided": False,
        "us_cfpb_data": None,
        "verification": {
            "additional_document": _document(),
            "details": None,
            "details_code": None,
            "document": _document(),
            "status": "unverified",
        },
    }


def blank(account_id: str, now: int) -> Record:
    """Every field of an ``account``, unset; ``new`` fills it from params."""
    return {
        "id": account_id,
        "object": "account",
        "business_profile": _business_profile(),
        "business_type": None,
        "capabilities": {},
        "charges_enabled": False,
        "company": None,
        "controller": None,
        "country": "US",
        "created": now,
        "default_currency": "usd",
        "details_submitted": False,
        "email": None,
        "future_requirements": capabilities.empty_requirements(),
        "groups": None,
        "individual": None,
        "metadata": {},
        "payouts_enabled": False,
        "requirements": capabilities.empty_requirements(),
        "settings": _settings(),
        "tos_acceptance": {"date": None, "ip": None, "service_agreement": None, "user_agent": None},
        "type": "standard",
        "_capabilities": {},
        "_external_account": False,
        "_rejected": None,
        "_persons": {},
        "_provided": dict(_NOT_DECLARED),
    }


def new(account_id: str, now: int, params: dict[str, Any], *, person_id: str) -> Record:
    record = blank(account_id, now)
    record["controller"], record["type"] = controller(params)
    if params.get("country"):
        record["country"] = _country(params["country"])
    return update(record, params, now, person_id=person_id)


def controller(params: dict[str, Any]) -> tuple[Record, str]:
    """``controller`` and ``type`` from either the legacy ``type`` or ``controller[...]`` params.

    Controller params that describe a legacy type are reported as that type, others as ``none``.
    """
    given = params.get("controller")
    if given and params.get("type"):
        raise InvalidRequest("You cannot specify both `type` and `controller`.", param="controller")
    if not given:
        legacy = params.get("type") or "standard"
        return _controller(*LEGACY_CONTROLLERS[legacy]), legacy
    collection = given.get("requirement_collection", "stripe")
    platform_owned = collection == "application"
    payer = (given.get("fees") or {}).get("payer", "application" if platform_owned else "account")
    losses = (given.get("losses") or {}).get(
        "payments", "application" if platform_owned else "stripe"
    )
    dashboard = (given.get("stripe_dashboard") or {}).get(
        "type", "none" if platform_owned else "full"
    )
    legacy_type = "none"
    for legacy, (
        _,
        legacy_losses,
        legacy_collection,
        legacy_dashboard,
    ) in LEGACY_CONTROLLERS.items():
        if (losses, collection, dashboard) == (legacy_losses, legacy_collection, legacy_dashboard):
            legacy_type = legacy
    return _controller(payer, losses, collection, dashboard), legacy_type


def _controller(payer: str, losses: str, collection: str, dashboard: str) -> Record:
    return {
        "fees": {"payer": payer},
        "is_controller": True,
        "losses": {"payments": losses},
        "requirement_collection": collection,
        "stripe_dashboard": {"type": dashboard},
        "type": "application",
    }


def _country(value: str) -> str:
    if len(value) != 2 or not value.isalpha():
        raise InvalidRequest(
            f"Country '{value}' is unknown. Try using a 2-character alphanumeric country code "
            "instead, such as 'US'.",
            param="country",
        )
    return value.upper()


def update(existing: Record, params: dict[str, Any], now: int, *, person_id: str) -> Record:
    """Apply create/update params; unspecified fields stay as they were."""
    if params.get("account_token"):
        raise ResourceMissing("token", params["account_token"], param="account_token")
    record = copy.deepcopy(existing)
    _simple_fields(record, params)
    if "business_profile" in params:
        record["business_profile"] = merge(record["business_profile"], params["business_profile"])
    if "tos_acceptance" in params:
        record["tos_acceptance"] = merge(record["tos_acceptance"], params["tos_acceptance"])
    if "settings" in params:
        record["settings"] = _apply_settings(record["settings"], params["settings"])
    if "company" in params or (
        record["business_type"] in capabilities.COMPANY_TYPES and record["company"] is None
    ):
        company_params = dict(params.get("company") or {})
        record["_provided"] = _declared(record) | {
            group: bool(company_params.pop(f"{group}_provided"))
            for group in _NOT_DECLARED
            if f"{group}_provided" in company_params
        }
        record["company"] = _apply_company(record["company"] or _company(), company_params)
    if "individual" in params or (
        record["business_type"] == "individual" and record["individual"] is None
    ):
        person = record["individual"] or _person(person_id, record["id"], now)
        record["individual"] = _apply_person(person, params.get("individual") or {})
    for name, wanted in (params.get("capabilities") or {}).items():
        if "requested" in wanted:
            record = capabilities.set_requested(record, name, wanted["requested"], now)
    record["metadata"] = metadata.apply(record["metadata"], params.get("metadata"))
    return refresh(record)


def _simple_fields(record: Record, params: dict[str, Any]) -> None:
    if "business_type" in params:
        record["business_type"] = params["business_type"]
    if "email" in params:
        record["email"] = _email(params["email"], "email")
    if params.get("default_currency"):
        record["default_currency"] = params["default_currency"].lower()
    if "external_account" in params:
        record["_external_account"] = params["external_account"] not in ("", None)
    if params.get("groups"):
        record["groups"] = {"payments_pricing": params["groups"].get("payments_pricing") or None}


def _email(value: str, param: str) -> str | None:
    if value == "":
        return None
    if "@" not in value or value.startswith("@") or value.endswith("@"):
        raise InvalidRequest(f"Invalid email address: {value}", param=param)
    return value


def merge(current: Record | None, params: dict[str, Any]) -> Record:
    """Deep-merge params into a copy of a wire-shaped hash; ``""`` clears a field.

    Keys the wire shape does not have are accepted but not kept (files, passwords…), except
    inside a hash that was still ``null`` (e.g. ``annual_revenue``), which takes what it is given.
    """
    out: dict[str, Any] = (
        copy.deepcopy(current) if current is not None else {key: None for key in params}
    )
    for key, value in params.items():
        if key not in out:
            continue
        if isinstance(value, dict):
            out[key] = merge(out[key] if isinstance(out[key], dict) else None, value)
        elif value == "":
            out[key] = None
        else:
            out[key] = list(value) if isinstance(value, list) else value
    return out


def _apply_settings(current: Record, params: dict[str, Any]) -> Record:
    params = copy.deepcopy(params)
    params.pop("paypay_payments", None)  # carries a password; not modelled
    schedule = (params.get("payouts") or {}).get("schedule") or {}
    if schedule.get("delay_days") == "minimum":
        schedule["delay_days"] = MINIMUM_PAYOUT_DELAY_DAYS
    return merge(current, params)


def _apply_company(current: Record, params: dict[str, Any]) -> Record:
    params = dict(params)
    secrets = {flag: params.pop(name) for name, flag in _COMPANY_SECRETS.items() if name in params}
    params.pop("registration_number", None)
    company = merge(current, params)
    for flag, value in secrets.items():
        company[flag] = value not in ("", None)
    return company


def _param(prefix: str, name: str) -> str:
    return f"{prefix}[{name}]" if prefix else name


def _apply_person(
    current: Record, params: dict[str, Any], *, param_prefix: str = "individual"
) -> Record:
    params = dict(params)
    secrets = {flag: params.pop(name) for name, flag in _PERSON_SECRETS.items() if name in params}
    dob = params.pop("dob", None)
    meta = params.pop("metadata", None)
    aliases = params.pop("full_name_aliases", None)
    relationship = params.pop("relationship", None)
    if "email" in params:
        params["email"] = _email(params["email"], _param(param_prefix, "email")) or ""
    person = merge(current, params)
    for flag, value in secrets.items():
        person[flag] = value not in ("", None)
    if dob is not None:
        person["dob"] = _dob(dob, _param(param_prefix, "dob"))
    if aliases is not None:
        person["full_name_aliases"] = [] if aliases == "" else list(aliases)
    if relationship:
        percent = relationship.get("percent_ownership")
        if percent not in (None, ""):
            # Kept exact as decimal text; the serializer writes it as the JSON number Stripe shows.
            relationship = {**relationship, "percent_ownership": str(Decimal(str(percent)))}
        person["relationship"] = merge(person["relationship"], relationship)
    person["metadata"] = metadata.apply(person["metadata"], meta)
    return person


def _dob(value: Any, param: str) -> Record:
    if value == "":
        return {"day": None, "month": None, "year": None}
    day, month, year = value["day"], value["month"], value["year"]
    if not (1 <= day <= 31 and 1 <= month <= 12 and 1900 <= year <= 2100):
        raise InvalidRequest("The date of birth is not a valid date.", param=param)
    return {"day": day, "month": month, "year": year}


def _declared(record: Record) -> dict[str, bool]:
    """The ``*_provided`` flags the platform set (records from before persons: the stored ones)."""
    if "_provided" in record:
        return dict(record["_provided"])
    company = record.get("company") or {}
    return {group: bool(company.get(f"{group}_provided")) for group in _NOT_DECLARED}


def _derive_company_flags(record: Record) -> Record:
    """``company.owners_provided`` is true when declared or when the owners listed suffice;
    directors and executives only when declared (Stripe never sets those by itself)."""
    if record.get("company") is None:
        return record
    out = copy.deepcopy(record)
    declared = _declared(out)
    out["company"]["owners_provided"] = declared["owners"] or capabilities.owners_sufficient(out)
    out["company"]["directors_provided"] = declared["directors"]
    out["company"]["executives_provided"] = declared["executives"]
    return out


def with_persons(record: Record, summaries: dict[str, Record]) -> Record:
    """The account after its persons changed (``summaries``: id → ``persons.summary``)."""
    return refresh({**copy.deepcopy(record), "_persons": copy.deepcopy(summaries)})


def refresh(record: Record) -> Record:
    """Derive statuses, requirements and flags from the record (after every change)."""
    out = capabilities.evaluate(_derive_company_flags(record))
    statuses = out["capabilities"]
    rejected = bool(out.get("_rejected"))
    out["charges_enabled"] = not rejected and statuses.get("card_payments") == "active"
    out["payouts_enabled"] = (
        not rejected and out["_external_account"] and statuses.get("transfers") == "active"
    )
    out["details_submitted"] = (
        bool(out["tos_acceptance"]["date"]) and not out["requirements"]["currently_due"]
    )
    if out["individual"] is not None:
        _refresh_person(out)
    return out


def _refresh_person(record: Record) -> None:
    """The individual's own requirements are the account's ``individual.*`` ones, unprefixed."""
    prefix = "individual."
    due = [
        field[len(prefix) :]
        for field in record["requirements"]["currently_due"]
        if field.startswith(prefix)
    ]
    person = record["individual"]
    person["requirements"].update(currently_due=due, eventually_due=list(due), past_due=list(due))
    missing = [f for f in capabilities.INDIVIDUAL_FIELDS if not capabilities.provided(record, f)]
    person["verification"]["status"] = "unverified" if missing else "verified"


def reject(record: Record, reason: str) -> Record:
    """The platform rejects the account: every capability goes inactive."""
    if reason.startswith("fraud"):
        disabled = "rejected.platform_fraud"
    elif reason == "terms_of_service":
        disabled = "rejected.platform_terms_of_service"
    else:
        disabled = "rejected.platform_other"
    return refresh({**copy.deepcopy(record), "_rejected": disabled})


def unreject(record: Record) -> Record:
    return refresh({**copy.deepcopy(record), "_rejected": None})


def public(record: Record) -> Record:
    """The record without its private keys (what events and serializers may show)."""
    return {key: value for key, value in record.items() if not key.startswith(PRIVATE_PREFIX)}


# The list filter of GET /v1/accounts: connected, not deleted (the platform's own record has no
# keys).
CONNECTED = {"connected": "true"}


def filter_keys(record: Record) -> dict[str, str | None]:
    return {} if record.get("deleted") else dict(CONNECTED)


def tombstone(record: Record) -> Record:
    """What a deleted account leaves behind: enough for Stripe-Account checks to refuse it."""
    return {**copy.deepcopy(record), "deleted": True}


def platform_account_record(account_id: str, now: int) -> dict[str, Any]:
    """The platform's own account, returned by GET /v1/account without Stripe-Account.

    Fully onboarded (its capabilities evaluate to active by the same rules as everyone's).
    """
    acceptance = {"date": now, "ip": "127.0.0.1"}
    params = {
        "type": "standard",
        "business_type": "company",
        "business_profile": {"name": "OpenIssuing platform", "url": "https://openissuing.invalid"},
        "company": {
            "name": "OpenIssuing platform",
            "tax_id": "000000000",
            "address": {
                "line1": "1 Platform Way",
                "city": "San Francisco",
                "postal_code": "94111",
                "state": "CA",
                "country": "US",
            },
        },
        "tos_acceptance": acceptance,
        "settings": {
            "card_issuing": {"tos_acceptance": acceptance},
            "treasury": {"tos_acceptance": acceptance},
        },
        "capabilities": {
            name: {"requested": True} for name in ("card_issuing", "transfers", "treasury")
        },
    }
    record = new(account_id, now, params, person_id="")
    # The platform is onboarded by definition: it owes no persons.
    record = refresh({**record, "_persons_exempt": True})
    # Stripe describes an account's own view of itself as controlled by the account.
    record["controller"] = {
        "fees": None,
        "is_controller": None,
        "losses": None,
        "requirement_collection": None,
        "stripe_dashboard": None,
        "type": "account",
    }
    return record
