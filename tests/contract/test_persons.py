"""Persons of a company account, through the official SDK: requirements until complete."""

from __future__ import annotations

import json

import pytest
import stripe

from openissuing.storage.uow import transaction
from tests.flows import onboarded_account_params

COMPANY = {
    "name": "Rocket Rides",
    "tax_id": "000000000",
    "address": {"line1": "2 Market St", "city": "San Francisco", "postal_code": "94105"},
}
BASICS = [
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
REPRESENTATIVE_DUE = sorted([*BASICS, "relationship.executive", "relationship.title", "ssn_last_4"])
JANE = {
    "first_name": "Jane",
    "last_name": "Diaz",
    "email": "jane@example.com",
    "dob": {"day": 4, "month": 7, "year": 1980},
    "address": {"line1": "2 Market St", "city": "San Francisco", "postal_code": "94105"},
}
ACTIVE = {"card_issuing": "active", "transfers": "active", "treasury": "active"}


def company_account(client) -> stripe.Account:
    params = onboarded_account_params(business_type="company", company=dict(COMPANY))
    del params["individual"]
    return client.v1.accounts.create(params=params)


def _events(server, account_id: str, event_type: str) -> list[dict]:
    page = transaction(
        server.runtime.engine,
        lambda uow: uow.docs.list("event", account_id, filters={"type": event_type}, limit=100),
    )
    return page.records


def test_company_needs_a_representative_and_owners_until_given(server, client):
    account = company_account(client)
    assert account.capabilities.to_dict() == {name: "inactive" for name in ACTIVE}
    due = account.requirements.currently_due
    assert "company.owners_provided" in due
    assert [f for f in due if f.startswith("representative.")] == [
        f"representative.{field}" for field in REPRESENTATIVE_DUE
    ]
    assert [f for f in due if f.startswith("owners.")] == [f"owners.{f}" for f in BASICS]
    assert not [f for f in due if f.startswith(("directors.", "executives."))]  # not in the US
    cap = client.v1.accounts.capabilities.retrieve(account.id, "card_issuing")
    assert cap.requirements.disabled_reason == "requirements.fields_needed"
    assert "representative.first_name" in cap.requirements.currently_due

    # A representative with only a name: the role's group is filled, the person owes the rest.
    rep = client.v1.accounts.persons.create(
        account.id,
        params={
            "first_name": "Jane",
            "last_name": "Diaz",
            "relationship": {"representative": True},
        },
    )
    assert rep.object == "person" and rep.id.startswith("person_") and rep.account == account.id
    assert rep.requirements.currently_due == [
        f for f in REPRESENTATIVE_DUE if f not in ("first_name", "last_name")
    ]
    assert rep.verification.status == "unverified"
    account = client.v1.accounts.retrieve(account.id)
    due = account.requirements.currently_due
    assert not [f for f in due if f.startswith("representative.")]
    assert f"{rep.id}.email" in due and f"{rep.id}.ssn_last_4" in due

    # The rest of the representative; the SSN is only ever flagged as provided.
    rep = client.v1.accounts.persons.update(
        account.id,
        rep.id,
        params={
            **{k: v for k, v in JANE.items() if k not in ("first_name", "last_name")},
            "ssn_last_4": "0000",
            "id_number": "000000000",
            "relationship": {"executive": True, "title": "CEO"},
        },
    )
    assert rep.requirements.currently_due == [] and rep.verification.status == "verified"
    assert rep.ssn_last_4_provided is True and rep.id_number_provided is True
    assert "000000000" not in json.dumps(rep.to_dict()) and "ssn_last_4" not in rep.to_dict()
    account = client.v1.accounts.retrieve(account.id)
    assert not [f for f in account.requirements.currently_due if f.startswith(rep.id)]
    assert account.capabilities.card_issuing == "inactive"  # owners still owed

    # Declaring the owners provided (nobody owns 25 %) completes the company.
    account = client.v1.accounts.update(account.id, params={"company": {"owners_provided": True}})
    assert account.company.owners_provided is True
    assert account.requirements.currently_due == []
    assert account.capabilities.to_dict() == ACTIVE
    assert account.charges_enabled is False and account.details_submitted is True

    created = _events(server, account.id, "person.created")
    assert [e["data"]["object"]["id"] for e in created] == [rep.id]
    updated = _events(server, account.id, "person.updated")
    assert updated and "000000000" not in json.dumps(updated)
    assert updated[0]["data"]["previous_attributes"]["ssn_last_4_provided"] is False
    account_updates = _events(server, account.id, "account.updated")
    assert any("requirements" in e["data"].get("previous_attributes", {}) for e in account_updates)


def test_owners_with_enough_ownership_provide_the_owners(client):
    account = company_account(client)
    rep = client.v1.accounts.persons.create(
        account.id,
        params={
            **JANE,
            "ssn_last_4": "0000",
            "relationship": {
                "representative": True,
                "executive": True,
                "title": "CEO",
                "owner": True,
                "percent_ownership": 60,
            },
        },
    )
    assert rep.relationship.percent_ownership == 60
    account = client.v1.accounts.retrieve(account.id)
    assert account.company.owners_provided is False
    assert account.requirements.currently_due == ["company.owners_provided"]

    owner = client.v1.accounts.persons.create(
        account.id,
        params={"first_name": "Kai", "relationship": {"owner": True, "percent_ownership": 25.5}},
    )
    account = client.v1.accounts.retrieve(account.id)
    assert account.company.owners_provided is True  # 85.5 % listed: nobody else can own 25 %
    assert account.requirements.currently_due == [
        f"{owner.id}.{f}" for f in BASICS if f != "first_name"
    ]
    client.v1.accounts.persons.update(account.id, owner.id, params=JANE | {"first_name": "Kai"})
    account = client.v1.accounts.retrieve(account.id)
    assert account.requirements.currently_due == []
    assert account.capabilities.to_dict() == ACTIVE

    # Deleting an owner takes the ownership away again.
    deleted = client.v1.accounts.persons.delete(account.id, owner.id)
    assert deleted.deleted is True and deleted.id == owner.id
    account = client.v1.accounts.retrieve(account.id)
    assert account.requirements.currently_due == ["company.owners_provided"]
    assert account.capabilities.card_issuing == "inactive"
    with pytest.raises(stripe.InvalidRequestError) as missing:
        client.v1.accounts.persons.retrieve(account.id, owner.id)
    assert missing.value.http_status == 404 and missing.value.param == "person"


def test_one_representative_and_list_filters(server, client):
    account = company_account(client)
    first = client.v1.accounts.persons.create(
        account.id, params={"first_name": "A", "relationship": {"representative": True}}
    )
    director = client.v1.accounts.persons.create(
        account.id, params={"first_name": "B", "relationship": {"director": True}}
    )
    second = client.v1.accounts.persons.create(
        account.id, params={"first_name": "C", "relationship": {"representative": True}}
    )
    first = client.v1.accounts.persons.retrieve(account.id, first.id)
    assert first.relationship.representative is False and second.relationship.representative
    reps = client.v1.accounts.persons.list(
        account.id, params={"relationship": {"representative": True}}
    )
    assert [p.id for p in reps.data] == [second.id]
    directors = client.v1.accounts.persons.list(
        account.id, params={"relationship": {"director": True}}
    )
    assert [p.id for p in directors.data] == [director.id]
    everyone = client.v1.accounts.persons.list(account.id, params={"limit": 2})
    assert [p.id for p in everyone.data] == [second.id, director.id] and everyone.has_more
    rest = client.v1.accounts.persons.list(
        account.id, params={"limit": 2, "starting_after": director.id}
    )
    assert [p.id for p in rest.data] == [first.id] and not rest.has_more
    # The person who lost the role got its own person.updated.
    updates = _events(server, account.id, "person.updated")
    assert [e["data"]["object"]["id"] for e in updates] == [first.id]
    assert updates[0]["data"]["previous_attributes"]["relationship"]["representative"] is True


def test_directors_and_executives_outside_the_us(client):
    params = onboarded_account_params(business_type="company", company=dict(COMPANY), country="DE")
    del params["individual"]
    account = client.v1.accounts.create(params=params)
    due = account.requirements.currently_due
    for flag in ("owners", "directors", "executives"):
        assert f"company.{flag}_provided" in due
    assert "directors.first_name" in due and "executives.dob.day" in due
    assert "representative.ssn_last_4" not in due  # the SSN is a US requirement
    director = client.v1.accounts.persons.create(
        account.id,
        params={"first_name": "Lena", "last_name": "Vogel", "relationship": {"director": True}},
    )
    assert director.requirements.currently_due == []
    account = client.v1.accounts.retrieve(account.id)
    assert not [f for f in account.requirements.currently_due if f.startswith("directors.")]
    assert "company.directors_provided" in account.requirements.currently_due  # not automatic
    account = client.v1.accounts.update(
        account.id,
        params={
            "company": {
                "directors_provided": True,
                "executives_provided": True,
                "owners_provided": True,
            }
        },
    )
    assert account.company.directors_provided is True
    assert sorted({f.split(".")[0] for f in account.requirements.currently_due}) == [
        "representative"
    ]


def test_bad_input_and_individual_accounts(client):
    account = company_account(client)
    with pytest.raises(stripe.InvalidRequestError) as bad:
        client.v1.accounts.persons.create(
            account.id, params={"relationship": {"owner": True, "percent_ownership": 101}}
        )
    assert bad.value.http_status == 400 and bad.value.param == "relationship[percent_ownership]"
    with pytest.raises(stripe.InvalidRequestError) as bad_dob:
        client.v1.accounts.persons.create(
            account.id, params={"dob": {"day": 40, "month": 1, "year": 1990}}
        )
    assert bad_dob.value.param == "dob"
    assert client.v1.accounts.persons.list(account.id).data == []  # nothing half-made
    individual = client.v1.accounts.create(params=onboarded_account_params())
    with pytest.raises(stripe.InvalidRequestError) as refused:
        client.v1.accounts.persons.create(individual.id, params={"first_name": "X"})
    assert refused.value.param == "account"


def test_persons_are_isolated(server, client, make_sandbox):
    account = company_account(client)
    person = client.v1.accounts.persons.create(account.id, params={"first_name": "Jane"})
    other = make_sandbox("other").client()
    for call in (
        lambda: other.v1.accounts.persons.retrieve(account.id, person.id),
        lambda: other.v1.accounts.persons.list(account.id),
        lambda: other.v1.accounts.persons.update(account.id, person.id, params={"last_name": "X"}),
        lambda: other.v1.accounts.persons.delete(account.id, person.id),
    ):
        with pytest.raises(stripe.InvalidRequestError) as missing:
            call()
        assert missing.value.http_status == 404
    # Another account of the same platform does not hold this person either.
    sibling = company_account(client)
    with pytest.raises(stripe.InvalidRequestError) as missing:
        client.v1.accounts.persons.retrieve(sibling.id, person.id)
    assert missing.value.http_status == 404
    # The connected account reads its own persons; only the platform changes them.
    own = server.client(stripe_account=account.id)
    assert own.v1.accounts.persons.retrieve(account.id, person.id).id == person.id
    with pytest.raises(stripe.PermissionError):
        own.v1.accounts.persons.update(account.id, person.id, params={"last_name": "X"})
