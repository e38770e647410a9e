"""The pure rules behind persons, company requirements, external accounts and the onboarding form.

Table-driven, no server.
"""

from __future__ import annotations

import pytest

from openissuing.domain.connect import accounts, capabilities, onboarding, persons
from openissuing.domain.connect import external_accounts as ext
from openissuing.domain.errors import InvalidRequest, ResourceMissing

NOW = 1_700_000_000
ACCEPTANCE = {"date": NOW, "ip": "203.0.113.7"}
BASICS = {
    "first_name": "Jane",
    "last_name": "Diaz",
    "email": "jane@example.com",
    "dob": {"day": 4, "month": 7, "year": 1980},
    "address": {"line1": "2 Market St", "city": "SF", "postal_code": "94105"},
}
REP = {
    **BASICS,
    "ssn_last_4": "0000",
    "relationship": {"representative": True, "executive": True, "title": "CEO"},
}
COMPANY = {
    "name": "Rocket Rides",
    "tax_id": "000000000",
    "address": {"line1": "2 Market St", "city": "SF", "postal_code": "94105"},
}
PERSON_BASICS = sorted(capabilities.PERSON_BASICS)


def company(country: str = "US", **company_params):
    params = {
        "type": "custom",
        "country": country,
        "business_type": "company",
        "company": COMPANY | company_params,
        "business_profile": {"url": "https://example.com"},
        "tos_acceptance": ACCEPTANCE,
        "capabilities": {"transfers": {"requested": True}},
    }
    return accounts.new("acct_test", NOW, params, person_id="p")


def person(params, person_id: str = "person_a", country: str = "US"):
    return persons.refresh(persons.new(person_id, "acct_test", NOW, params), country)


def with_people(record, *people, country: str = "US"):
    return accounts.with_persons(record, {p["id"]: persons.summary(p, country) for p in people})


@pytest.mark.parametrize(
    ("params", "due"),
    [
        ({}, ["first_name", "last_name"]),  # no role: a name
        ({"first_name": "A", "last_name": "B"}, []),
        ({"relationship": {"director": True}}, ["first_name", "last_name"]),
        ({"relationship": {"owner": True}}, PERSON_BASICS),
        ({"relationship": {"executive": True}, **BASICS}, []),
        (
            {"relationship": {"representative": True}, **BASICS},
            ["relationship.executive", "relationship.title", "ssn_last_4"],
        ),
        ({**REP, "ssn_last_4": ""}, ["ssn_last_4"]),
        ({**{k: v for k, v in REP.items() if k != "ssn_last_4"}, "id_number": "000000000"}, []),
        (REP, []),
    ],
)
def test_what_a_person_owes_for_its_roles(params, due):
    assert person(params)["requirements"]["currently_due"] == due


def test_the_ssn_is_a_us_requirement_and_secrets_are_only_flags():
    outside = person({**REP, "ssn_last_4": ""}, country="DE")
    assert outside["requirements"]["currently_due"] == []
    made = person(REP)
    assert made["ssn_last_4_provided"] is True and "ssn_last_4" not in made
    assert made["verification"]["status"] == "verified"


@pytest.mark.parametrize(
    ("people", "declared", "due"),
    [
        (
            [],
            {},
            ["company.owners_provided"]
            + [f"owners.{f}" for f in PERSON_BASICS]
            + [
                f"representative.{f}"
                for f in sorted(capabilities.person_role_fields("representative", "US"))
            ],
        ),
        (
            [],
            {"owners_provided": True},
            [
                f"representative.{f}"
                for f in sorted(capabilities.person_role_fields("representative", "US"))
            ],
        ),
        ([REP], {"owners_provided": True}, []),
        ([REP], {}, ["company.owners_provided", *(f"owners.{f}" for f in PERSON_BASICS)]),
        (
            [
                {
                    **REP,
                    "relationship": {**REP["relationship"], "owner": True, "percent_ownership": 75},
                }
            ],
            {},
            ["company.owners_provided"],  # 75 % is not more than 75 %
        ),
        (
            [
                {
                    **REP,
                    "relationship": {**REP["relationship"], "owner": True, "percent_ownership": 80},
                }
            ],
            {},
            [],
        ),
        (
            [{"first_name": "Kai", "relationship": {"representative": True}}],
            {"owners_provided": True},
            None,
        ),
    ],
)
def test_company_requirements_from_its_persons(people, declared, due):
    made = [person(p, f"person_{i}") for i, p in enumerate(people)]
    record = with_people(company(**declared), *made)
    if due is None:  # the person's own missing fields, prefixed with its id
        due = sorted(f"person_0.{f}" for f in made[0]["requirements"]["currently_due"])
    assert record["requirements"]["currently_due"] == sorted(due)
    assert record["capabilities"]["transfers"] == ("active" if not due else "inactive")


def test_owners_provided_is_derived_and_the_declaration_kept():
    owner = person({**BASICS, "relationship": {"owner": True, "percent_ownership": 90}})
    record = with_people(company(), owner)
    assert record["company"]["owners_provided"] is True
    again = with_people(record)  # the owner deleted
    assert again["company"]["owners_provided"] is False
    declared = accounts.update(again, {"company": {"owners_provided": True}}, NOW, person_id="p")
    assert with_people(declared)["company"]["owners_provided"] is True


def test_outside_the_us_directors_and_executives_are_due_and_never_automatic():
    record = company("DE", owners_provided=True)
    due = record["requirements"]["currently_due"]
    assert "company.directors_provided" in due and "company.executives_provided" in due
    assert "directors.first_name" in due and "executives.email" in due
    director = person({"first_name": "L", "last_name": "V", "relationship": {"director": True}})
    record = with_people(record, director, country="DE")
    assert record["company"]["directors_provided"] is False
    assert not [f for f in record["requirements"]["currently_due"] if f.startswith("directors.")]


def test_the_platform_owes_no_persons():
    record = accounts.platform_account_record("acct_platform", NOW)
    assert record["requirements"]["currently_due"] == []


@pytest.mark.parametrize("percent", [-1, 100.5, "x"])
def test_percent_ownership_is_between_0_and_100(percent):
    with pytest.raises(InvalidRequest) as bad:
        persons.new("p", "a", NOW, {"relationship": {"owner": True, "percent_ownership": percent}})
    assert bad.value.param == "relationship[percent_ownership]"


@pytest.mark.parametrize(
    ("routing", "valid"),
    [("110000000", True), ("021000021", True), ("110000001", False), ("11000000", False)],
)
def test_aba_routing_checksum(routing, valid):
    assert ext.valid_routing_number(routing) is valid


@pytest.mark.parametrize(
    ("value", "kind"),
    [
        ("btok_us_verified", "bank_account"),
        ("tok_visa_debit", "card"),
        ({"object": "bank_account", "country": "US"}, "bank_account"),
        ({"object": "card", "number": "1"}, "card"),
    ],
)
def test_external_account_param_kinds(value, kind):
    assert ext.parse(value)[0] == kind


def test_unknown_token_is_404():
    with pytest.raises(ResourceMissing):
        ext.parse("pm_card_visa")


@pytest.mark.parametrize(
    ("record", "same", "default_currency", "allowed"),
    [
        ({"default_for_currency": False, "currency": "usd"}, 3, "usd", True),
        ({"default_for_currency": True, "currency": "usd"}, 2, "usd", False),
        ({"default_for_currency": True, "currency": "usd"}, 1, "usd", False),
        ({"default_for_currency": True, "currency": "cad"}, 1, "usd", True),
        ({"default_for_currency": True, "currency": "cad"}, 2, "usd", False),
    ],
)
def test_delete_rule(record, same, default_currency, allowed):
    if allowed:
        ext.check_deletable(record, same, default_currency)
    else:
        with pytest.raises(InvalidRequest):
            ext.check_deletable(record, same, default_currency)


def test_a_bank_account_keeps_only_last4_and_the_outcome():
    made = ext.bank_account("ba_1", "acct", NOW, {"token": "btok_us_verified_noAccount"}, None)
    assert made["last4"] == "1116" and made["_failure_code"] == "no_account"
    assert "000111111116" not in repr(made)


@pytest.mark.parametrize(
    ("due", "expected"),
    [
        (
            ["individual.dob.day", "individual.dob.month", "individual.dob.year"],
            [("individual.dob", "date", "individual")],
        ),
        (
            ["tos_acceptance.date", "tos_acceptance.ip"],
            [("tos_acceptance", "checkbox", "terms")],
        ),
        (["business_type"], [("business_type", "select", "account")]),
        (["company.tax_id"], [("company.tax_id", "secret", "company")]),
        (["company.owners_provided"], [("company.owners_provided", "checkbox", "company")]),
        (["representative.email"], [("representative.email", "email", "representative")]),
        (["business_profile.url"], [("business_profile.url", "url", "account")]),
        (["person_1.ssn_last_4"], [("person_1.ssn_last_4", "secret", "person_1")]),
    ],
)
def test_form_fields_for_requirements(due, expected):
    got = [(f.name, f.kind, f.section) for f in onboarding.fields(due)]
    assert got == expected


def test_a_submission_becomes_the_api_params():
    fields = onboarding.fields(
        [
            "company.owners_provided",
            "representative.dob.day",
            "representative.dob.month",
            "representative.dob.year",
            "representative.relationship.executive",
            "representative.first_name",
            "person_x.email",
            "tos_acceptance.date",
            "tos_acceptance.ip",
            "business_profile.url",
        ]
    )
    values = {
        "company.owners_provided": "yes",
        "representative.dob": "1980-07-04",
        "representative.relationship.executive": "yes",
        "representative.first_name": "Jane",
        "person_x.email": "x@example.com",
        "tos_acceptance": "yes",
        "business_profile.url": "  ",
    }
    result = onboarding.submission(fields, values, NOW, "127.0.0.1")
    assert result.account == {
        "company": {"owners_provided": True},
        "tos_acceptance": {"date": NOW, "ip": "127.0.0.1"},
    }
    assert result.new_persons == {
        "representative": {
            "relationship": {"representative": True, "executive": True},
            "dob": {"day": 4, "month": 7, "year": 1980},
            "first_name": "Jane",
        }
    }
    assert result.person_updates == {"person_x": {"email": "x@example.com"}}
    with pytest.raises(InvalidRequest):
        onboarding.submission(fields, {"representative.dob": "04/07/1980"}, NOW, "ip")
