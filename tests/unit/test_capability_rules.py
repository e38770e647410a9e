"""The requirement rules that decide capability statuses (pure; no server)."""

from __future__ import annotations

import pytest

from openissuing.domain.connect import accounts, capabilities, persons
from openissuing.domain.errors import InvalidRequest, ResourceMissing

NOW = 1_700_000_000
ACCEPTANCE = {"date": NOW, "ip": "203.0.113.7"}
INDIVIDUAL = {
    "first_name": "Jenny",
    "last_name": "Rosen",
    "email": "jenny@example.com",
    "dob": {"day": 1, "month": 11, "year": 1981},
    "address": {"line1": "1 Main St", "city": "San Francisco", "postal_code": "94111"},
}
COMPANY = {
    "name": "Rocket Rides",
    "tax_id": "123456789",
    "address": {"line1": "2 Market St", "city": "SF", "postal_code": "94105"},
}
REPRESENTATIVE = {
    **INDIVIDUAL,
    "ssn_last_4": "0000",
    "relationship": {"representative": True, "executive": True, "title": "CEO"},
}
ALL = {
    "card_issuing": {"requested": True},
    "transfers": {"requested": True},
    "treasury": {"requested": True},
}


def account(**params):
    return accounts.new("acct_test", NOW, params, person_id="person_test")


def onboarded(**overrides):
    params = {
        "type": "custom",
        "capabilities": ALL,
        "business_type": "individual",
        "individual": INDIVIDUAL,
        "business_profile": {"url": "https://example.com"},
        "tos_acceptance": ACCEPTANCE,
        "settings": {
            "card_issuing": {"tos_acceptance": ACCEPTANCE},
            "treasury": {"tos_acceptance": ACCEPTANCE},
        },
    }
    params.update(overrides)
    return account(**{k: v for k, v in params.items() if v is not None})


def test_required_fields_table():
    basics = ["business_type", "tos_acceptance.date", "tos_acceptance.ip"]
    assert capabilities.required_fields("transfers", None) == basics
    assert capabilities.required_fields("transfers", "individual") == basics + list(
        capabilities.INDIVIDUAL_FIELDS
    )
    assert capabilities.required_fields("transfers", "non_profit") == basics + list(
        capabilities.COMPANY_FIELDS
    )
    issuing = capabilities.required_fields("card_issuing", "company")
    assert issuing[-3:] == [
        "business_profile.url",
        "settings.card_issuing.tos_acceptance.date",
        "settings.card_issuing.tos_acceptance.ip",
    ]
    treasury = capabilities.required_fields("treasury", "company")
    assert (
        "settings.treasury.tos_acceptance.ip" in treasury
        and "settings.card_issuing.tos_acceptance.ip" not in treasury
    )
    assert capabilities.required_fields("klarna_payments", None) == basics


def test_nothing_requested_is_unrequested_and_absent():
    record = account(type="custom")
    assert record["capabilities"] == {}
    assert (
        record["requirements"]["currently_due"] == []
        and record["requirements"]["disabled_reason"] is None
    )
    cap = capabilities.capability(record, "card_issuing")
    assert (cap["status"], cap["requested"], cap["requested_at"]) == ("unrequested", False, None)


def test_requested_without_information_is_inactive_with_fields_due():
    record = account(capabilities={"transfers": {"requested": True}})
    assert record["capabilities"] == {"transfers": "inactive"}
    cap = capabilities.capability(record, "transfers")
    due = ["business_type", "tos_acceptance.date", "tos_acceptance.ip"]
    assert cap["requirements"]["currently_due"] == due == cap["requirements"]["past_due"]
    assert cap["requirements"]["disabled_reason"] == "requirements.fields_needed"
    assert cap["requested_at"] == NOW
    assert record["requirements"]["past_due"] == due
    assert record["requirements"]["disabled_reason"] == "requirements.past_due"


def test_fully_onboarded_individual_is_active():
    record = onboarded()
    assert record["capabilities"] == {
        "card_issuing": "active",
        "transfers": "active",
        "treasury": "active",
    }
    assert (
        record["requirements"]["currently_due"] == []
        and record["requirements"]["disabled_reason"] is None
    )
    assert record["individual"]["verification"]["status"] == "verified"
    assert record["details_submitted"] is True


def test_each_missing_field_is_named():
    record = onboarded(individual={**INDIVIDUAL, "address": {"line1": "1 Main St", "city": "SF"}})
    assert record["requirements"]["currently_due"] == ["individual.address.postal_code"]
    assert record["individual"]["requirements"]["currently_due"] == ["address.postal_code"]
    assert set(record["capabilities"].values()) == {"inactive"}


def test_product_description_is_an_alternative_to_url():
    without = onboarded(business_profile={"mcc": "5734"})
    assert without["requirements"]["currently_due"] == ["business_profile.url"]
    assert without["requirements"]["alternatives"] == [
        {
            "alternative_fields_due": ["business_profile.product_description"],
            "original_fields_due": ["business_profile.url"],
        }
    ]
    assert (
        without["capabilities"]["transfers"] == "active"
    )  # transfers does not need a business profile
    described = onboarded(business_profile={"product_description": "Bikes."})
    assert described["capabilities"]["card_issuing"] == "active"


def test_issuing_and_treasury_need_their_own_terms():
    record = onboarded(settings={"treasury": {"tos_acceptance": ACCEPTANCE}})
    assert record["capabilities"] == {
        "card_issuing": "inactive",
        "transfers": "active",
        "treasury": "active",
    }
    assert capabilities.capability(record, "card_issuing")["requirements"]["currently_due"] == [
        "settings.card_issuing.tos_acceptance.date",
        "settings.card_issuing.tos_acceptance.ip",
    ]


def test_company_needs_company_fields_persons_and_tax_id_is_only_flagged():
    bare = onboarded(business_type="company", individual=None, company=COMPANY)
    assert bare["capabilities"]["card_issuing"] == "inactive"
    representative = persons.new("person_rep", "acct_test", NOW, REPRESENTATIVE)
    declared = accounts.update(bare, {"company": {"owners_provided": True}}, NOW, person_id="p")
    record = accounts.with_persons(
        declared, {representative["id"]: persons.summary(representative, "US")}
    )
    assert record["capabilities"]["card_issuing"] == "active"
    assert record["company"]["tax_id_provided"] is True and "tax_id" not in record["company"]
    missing = onboarded(business_type="company", company={"name": "Rocket Rides"})
    basics = [
        "address.city",
        "address.line1",
        "address.postal_code",
        "dob.day",
        "dob.month",
        "dob.year",
        "email",
        "first_name",
        "last_name",
    ]
    assert missing["requirements"]["currently_due"] == sorted(
        [
            "company.address.city",
            "company.address.line1",
            "company.address.postal_code",
            "company.owners_provided",
            "company.tax_id",
            *(f"owners.{field}" for field in basics),
            *(f"representative.{field}" for field in basics),
            "representative.relationship.executive",
            "representative.relationship.title",
            "representative.ssn_last_4",
        ]
    )


def test_treasury_needs_transfers_requested():
    record = onboarded(capabilities={"treasury": {"requested": True}})
    cap = capabilities.capability(record, "treasury")
    assert (cap["status"], cap["requirements"]["disabled_reason"]) == ("inactive", "other")
    assert cap["requirements"]["currently_due"] == []
    fixed = accounts.update(
        record, {"capabilities": {"transfers": {"requested": True}}}, NOW + 5, person_id="p"
    )
    assert fixed["capabilities"] == {"transfers": "active", "treasury": "active"}


def test_requested_false_removes_and_rerequest_keeps_first_timestamp():
    record = onboarded()
    again = accounts.update(
        record, {"capabilities": {"card_issuing": {"requested": True}}}, NOW + 10, person_id="p"
    )
    assert capabilities.capability(again, "card_issuing")["requested_at"] == NOW
    removed = accounts.update(
        record, {"capabilities": {"card_issuing": {"requested": False}}}, NOW + 10, person_id="p"
    )
    assert "card_issuing" not in removed["capabilities"]
    assert capabilities.capability(removed, "card_issuing")["status"] == "unrequested"


def test_rejection_disables_everything_until_unrejected():
    rejected = accounts.reject(onboarded(), "terms_of_service")
    assert set(rejected["capabilities"].values()) == {"inactive"}
    assert rejected["requirements"]["disabled_reason"] == "rejected.platform_terms_of_service"
    assert (
        capabilities.capability(rejected, "transfers")["requirements"]["disabled_reason"]
        == "rejected.other"
    )
    assert accounts.unreject(rejected)["capabilities"]["transfers"] == "active"


def test_status_is_deterministic_whatever_the_order_of_updates():
    steps = [
        {"business_type": "individual"},
        {"individual": INDIVIDUAL},
        {"tos_acceptance": ACCEPTANCE},
        {
            "settings": {
                "card_issuing": {"tos_acceptance": ACCEPTANCE},
                "treasury": {"tos_acceptance": ACCEPTANCE},
            }
        },
        {"business_profile": {"url": "https://example.com"}},
        {"capabilities": ALL},
    ]
    results = []
    for order in (steps, list(reversed(steps))):
        record = account(type="custom")
        for params in order:
            record = accounts.update(record, params, NOW, person_id="person_test")
        results.append((record["capabilities"], record["requirements"]))
    assert results[0] == results[1]
    assert results[0][0] == {"card_issuing": "active", "transfers": "active", "treasury": "active"}


def test_private_state_is_not_public():
    record = onboarded(external_account="btok_us")
    assert all(not key.startswith("_") for key in accounts.public(record))
    assert record["payouts_enabled"] is True


def test_invalid_inputs_are_named_errors():
    with pytest.raises(InvalidRequest) as raised:
        account(type="custom", controller={"requirement_collection": "application"})
    assert raised.value.param == "controller"
    with pytest.raises(InvalidRequest):
        account(email="not-an-email")
    with pytest.raises(InvalidRequest):
        account(country="USA")
    with pytest.raises(InvalidRequest):
        account(individual={"dob": {"day": 31, "month": 13, "year": 1990}})
    with pytest.raises(ResourceMissing):
        account(account_token="ct_123")


def test_platform_record_is_fully_onboarded():
    record = accounts.platform_account_record("acct_platform", NOW)
    assert record["capabilities"] == {
        "card_issuing": "active",
        "transfers": "active",
        "treasury": "active",
    }
    assert record["controller"]["type"] == "account"
