"""Connect accounts and capabilities, through the official SDK against the real server."""

from __future__ import annotations

import json
import secrets

import pytest
import stripe

from openissuing.storage.uow import transaction
from tests.flows import (
    ONBOARDED_ACCOUNT_PARAMS,
    TOS_ACCEPTANCE,
    activated_account,
    onboarded_account_params,
)

# ``activated_account`` (imported above from tests/flows.py) is the reusable helper: it creates an
# account with card_issuing, transfers and treasury active and returns its id.

GUIDE_CAPABILITIES = {
    name: {"requested": True} for name in ("card_issuing", "transfers", "treasury")
}
CUSTOM = {"type": "custom"}
REPRESENTATIVE = {
    "first_name": "Jane",
    "last_name": "Diaz",
    "email": "jane@example.com",
    "dob": {"day": 4, "month": 7, "year": 1980},
    "address": {"line1": "2 Market St", "city": "San Francisco", "postal_code": "94105"},
    "ssn_last_4": "0000",
    "relationship": {"representative": True, "executive": True, "title": "CEO"},
}

# Every field of Stripe's example objects (openapi fixtures3.json), as dotted paths.
EXAMPLE_ACCOUNT_PATHS = """business_profile.annual_revenue.amount
business_profile.annual_revenue.currency
business_profile.annual_revenue.fiscal_year_end business_profile.estimated_worker_count
business_profile.mcc
business_profile.minority_owned_business_designation business_profile.name
business_profile.product_description
business_profile.support_address.city business_profile.support_address.country
business_profile.support_address.line1
business_profile.support_address.line2 business_profile.support_address.postal_code
business_profile.support_address.state
business_profile.support_email business_profile.support_phone business_profile.support_url
business_profile.url
business_type capabilities charges_enabled controller.type country created default_currency
details_submitted email
external_accounts.data external_accounts.has_more external_accounts.object external_accounts.url
future_requirements.alternatives future_requirements.current_deadline
future_requirements.currently_due
future_requirements.disabled_reason future_requirements.errors future_requirements.eventually_due
future_requirements.past_due future_requirements.pending_verification id metadata object
payouts_enabled
requirements.alternatives requirements.current_deadline requirements.currently_due
requirements.disabled_reason
requirements.errors requirements.eventually_due requirements.past_due
requirements.pending_verification
settings.bacs_debit_payments.display_name settings.bacs_debit_payments.service_user_number
settings.branding.icon
settings.branding.logo settings.branding.primary_color settings.branding.secondary_color
settings.card_issuing.tos_acceptance.date settings.card_issuing.tos_acceptance.ip
settings.card_payments.decline_on.avs_failure settings.card_payments.decline_on.cvc_failure
settings.card_payments.statement_descriptor_prefix
settings.card_payments.statement_descriptor_prefix_kana
settings.card_payments.statement_descriptor_prefix_kanji settings.dashboard.display_name
settings.dashboard.timezone
settings.invoices.default_account_tax_ids settings.invoices.hosted_payment_method_save
settings.payments.statement_descriptor settings.payments.statement_descriptor_kana
settings.payments.statement_descriptor_kanji settings.payments.statement_descriptor_prefix_kana
settings.payments.statement_descriptor_prefix_kanji settings.payouts.debit_negative_balances
settings.payouts.schedule.delay_days settings.payouts.schedule.interval
settings.payouts.statement_descriptor
settings.sepa_debit_payments tos_acceptance.date tos_acceptance.ip tos_acceptance.user_agent type
company individual""".split()
EXAMPLE_CAPABILITY_PATHS = """account id object requested requested_at status""".split() + [
    f"{group}.{field}"
    for group in ("requirements", "future_requirements")
    for field in (
        "alternatives",
        "current_deadline",
        "currently_due",
        "disabled_reason",
        "errors",
        "eventually_due",
        "past_due",
        "pending_verification",
    )
]
EXAMPLE_PERSON_PATHS = """account additional_tos_acceptances.account.date
additional_tos_acceptances.account.ip
additional_tos_acceptances.account.user_agent created dob.day dob.month dob.year first_name
future_requirements.alternatives future_requirements.currently_due future_requirements.errors
future_requirements.eventually_due future_requirements.past_due
future_requirements.pending_verification id
id_number_provided last_name metadata object relationship.authorizer relationship.director
relationship.executive
relationship.legal_guardian relationship.owner relationship.percent_ownership
relationship.representative
relationship.title requirements.alternatives requirements.currently_due requirements.errors
requirements.eventually_due
requirements.past_due requirements.pending_verification ssn_last_4_provided
verification.additional_document.back
verification.additional_document.details verification.additional_document.details_code
verification.additional_document.front verification.details verification.details_code
verification.document.back
verification.document.details verification.document.details_code verification.document.front
verification.status
address.line1 address.city address.postal_code email phone""".split()

NOTHING_PROVIDED_DUE = [
    "business_profile.url",
    "business_type",
    "settings.card_issuing.tos_acceptance.date",
    "settings.card_issuing.tos_acceptance.ip",
    "settings.treasury.tos_acceptance.date",
    "settings.treasury.tos_acceptance.ip",
    "tos_acceptance.date",
    "tos_acceptance.ip",
]
INDIVIDUAL_DUE = [
    "individual.address.city",
    "individual.address.line1",
    "individual.address.postal_code",
    "individual.dob.day",
    "individual.dob.month",
    "individual.dob.year",
    "individual.email",
    "individual.first_name",
    "individual.last_name",
]


def _missing_paths(obj: dict, paths: list[str]) -> list[str]:
    missing = []
    for path in paths:
        node = obj
        for part in path.split("."):
            if not isinstance(node, dict) or part not in node:
                missing.append(path)
                break
            node = node[part]
    return missing


def _events(server, account_id: str, event_type: str) -> list[dict]:
    page = transaction(
        server.runtime.engine,
        lambda uow: uow.docs.list("event", account_id, filters={"type": event_type}, limit=100),
    )
    return page.records


def _as(server, account_id: str) -> stripe.StripeClient:
    return server.client(stripe_account=account_id)


def test_onboarded_account_is_active_and_complete(client):
    account = client.v1.accounts.retrieve(activated_account(client))
    wire = account.to_dict()
    assert _missing_paths(wire, EXAMPLE_ACCOUNT_PATHS) == []
    assert _missing_paths(wire["individual"], EXAMPLE_PERSON_PATHS) == []
    assert account.id.startswith("acct_") and account.object == "account"
    assert account.capabilities.to_dict() == {
        "card_issuing": "active",
        "transfers": "active",
        "treasury": "active",
    }
    assert account.requirements.currently_due == [] and account.requirements.disabled_reason is None
    assert account.type == "custom" and account.controller.requirement_collection == "application"
    assert account.details_submitted is True
    assert account.individual.id.startswith("person_") and account.individual.account == account.id
    assert account.individual.verification.status == "verified"
    assert account.individual.ssn_last_4_provided is True and "ssn_last_4" not in wire["individual"]
    assert account.settings.card_issuing.tos_acceptance.date == TOS_ACCEPTANCE["date"]
    assert account.company is None
    assert account.external_accounts.url == f"/v1/accounts/{account.id}/external_accounts"
    capability = client.v1.accounts.capabilities.retrieve(account.id, "card_issuing")
    assert _missing_paths(capability.to_dict(), EXAMPLE_CAPABILITY_PATHS) == []
    assert "created" not in capability.to_dict() and "livemode" not in capability.to_dict()


def test_missing_information_keeps_capabilities_inactive(client):
    account = client.v1.accounts.create(params={**CUSTOM, "capabilities": GUIDE_CAPABILITIES})
    assert account.capabilities.to_dict() == {
        "card_issuing": "inactive",
        "transfers": "inactive",
        "treasury": "inactive",
    }
    assert account.requirements.currently_due == NOTHING_PROVIDED_DUE
    assert account.requirements.past_due == NOTHING_PROVIDED_DUE
    assert account.requirements.disabled_reason == "requirements.past_due"
    assert account.requirements.alternatives[0].alternative_fields_due == [
        "business_profile.product_description"
    ]
    assert account.individual is None and account.details_submitted is False

    issuing = client.v1.accounts.capabilities.retrieve(account.id, "card_issuing")
    assert (issuing.status, issuing.requested, issuing.account) == ("inactive", True, account.id)
    assert isinstance(issuing.requested_at, int)
    assert issuing.requirements.disabled_reason == "requirements.fields_needed"
    assert "settings.card_issuing.tos_acceptance.ip" in issuing.requirements.currently_due
    assert "settings.treasury.tos_acceptance.ip" not in issuing.requirements.currently_due
    transfers = client.v1.accounts.capabilities.retrieve(account.id, "transfers")
    assert transfers.requirements.currently_due == [
        "business_type",
        "tos_acceptance.date",
        "tos_acceptance.ip",
    ]


def test_providing_information_activates_capabilities(client):
    account = client.v1.accounts.create(params={**CUSTOM, "capabilities": GUIDE_CAPABILITIES})
    typed = client.v1.accounts.update(account.id, params={"business_type": "individual"})
    assert typed.requirements.currently_due == sorted(
        set(NOTHING_PROVIDED_DUE + INDIVIDUAL_DUE) - {"business_type"}
    )
    assert typed.individual.requirements.currently_due == [
        f[len("individual.") :] for f in INDIVIDUAL_DUE
    ]

    info = {k: ONBOARDED_ACCOUNT_PARAMS[k] for k in ("individual", "tos_acceptance", "settings")}
    almost = client.v1.accounts.update(account.id, params=info)
    assert almost.requirements.currently_due == ["business_profile.url"]
    assert almost.capabilities.to_dict() == {
        "card_issuing": "inactive",
        "transfers": "active",
        "treasury": "inactive",
    }

    done = client.v1.accounts.update(
        account.id, params={"business_profile": {"product_description": "Bikes."}}
    )
    assert done.capabilities.to_dict() == {
        "card_issuing": "active",
        "transfers": "active",
        "treasury": "active",
    }
    assert (
        done.requirements.to_dict()["currently_due"] == []
        and done.requirements.disabled_reason is None
    )
    assert client.v1.accounts.capabilities.retrieve(account.id, "treasury").status == "active"


def test_company_account_reports_tax_id_provided_never_the_id(client):
    tax_id = "12-3456789"
    company = {
        "name": "Rocket Rides",
        "tax_id": tax_id,
        "address": {
            "line1": "2 Market St",
            "city": "San Francisco",
            "postal_code": "94105",
            "state": "CA",
        },
    }
    params = onboarded_account_params(business_type="company", company=company)
    del params["individual"]
    account = client.v1.accounts.create(params=params)
    # A company also owes its persons (tests/contract/test_persons.py): a representative, and
    # its owners declared provided.
    assert account.capabilities.card_issuing == "inactive"
    client.v1.accounts.persons.create(account.id, params=REPRESENTATIVE)
    account = client.v1.accounts.update(account.id, params={"company": {"owners_provided": True}})
    assert account.capabilities.to_dict() == {
        "card_issuing": "active",
        "transfers": "active",
        "treasury": "active",
    }
    assert account.company.name == "Rocket Rides" and account.company.tax_id_provided is True
    assert tax_id not in json.dumps(account.to_dict())
    assert account.individual is None

    cleared = client.v1.accounts.update(account.id, params={"company": {"tax_id": ""}})
    assert cleared.company.tax_id_provided is False
    assert "company.tax_id" in cleared.requirements.currently_due
    assert cleared.capabilities.card_issuing == "inactive"


def test_capabilities_list_retrieve_and_update(client):
    account_id = activated_account(client)
    listed = client.v1.accounts.capabilities.list(account_id)
    statuses = {c.id: c.status for c in listed.data}
    assert statuses["card_issuing"] == "active" and statuses["card_payments"] == "unrequested"
    assert listed.url == f"/v1/accounts/{account_id}/capabilities"

    removed = client.v1.accounts.capabilities.update(
        account_id, "card_issuing", params={"requested": False}
    )
    assert (removed.status, removed.requested, removed.requested_at) == ("unrequested", False, None)
    account = client.v1.accounts.retrieve(account_id)
    assert "card_issuing" not in account.capabilities.to_dict()

    again = client.v1.accounts.capabilities.update(
        account_id, "card_issuing", params={"requested": True}
    )
    assert (again.status, again.requested) == ("active", True)
    assert client.v1.accounts.retrieve(account_id).capabilities.card_issuing == "active"

    unchanged = client.v1.accounts.capabilities.update(account_id, "card_issuing", params={})
    assert unchanged.to_dict() == again.to_dict()


def test_treasury_needs_transfers_requested_in_any_order(client):
    params = onboarded_account_params(capabilities={"treasury": {"requested": True}})
    account = client.v1.accounts.create(params=params)
    assert account.capabilities.to_dict() == {"treasury": "inactive"}
    treasury = client.v1.accounts.capabilities.retrieve(account.id, "treasury")
    assert (
        treasury.requirements.disabled_reason == "other"
        and treasury.requirements.currently_due == []
    )

    client.v1.accounts.capabilities.update(account.id, "transfers", params={"requested": True})
    assert client.v1.accounts.capabilities.retrieve(account.id, "treasury").status == "active"


def test_unknown_capability_and_unknown_account(client):
    account_id = activated_account(client)
    with pytest.raises(stripe.InvalidRequestError) as raised:
        client.v1.accounts.capabilities.retrieve(account_id, "teleportation")
    assert (raised.value.http_status, raised.value.code, raised.value.param) == (
        404,
        "resource_missing",
        "capability",
    )
    with pytest.raises(stripe.InvalidRequestError) as raised:
        client.v1.accounts.update("acct_doesnotexist", params={"email": "x@example.com"})
    assert (raised.value.http_status, raised.value.code, raised.value.param) == (
        404,
        "resource_missing",
        "account",
    )
    with pytest.raises(stripe.InvalidRequestError) as raised:
        client.v1.accounts.capabilities.list("acct_doesnotexist")
    assert raised.value.http_status == 404


def test_retrieve_current_account(server, client):
    platform = client.v1.accounts.retrieve_current()
    assert platform.id == server.platform_id
    assert platform.capabilities.to_dict() == {
        "card_issuing": "active",
        "transfers": "active",
        "treasury": "active",
    }
    assert platform.controller.type == "account"

    account_id = activated_account(client)
    acting = client.v1.accounts.retrieve_current(options={"stripe_account": account_id})
    assert acting.id == account_id and acting.capabilities.treasury == "active"


def test_connected_account_sees_only_itself(server, client):
    mine, theirs = activated_account(client), activated_account(client)
    as_mine = _as(server, mine)
    assert as_mine.v1.accounts.retrieve(mine).id == mine
    assert as_mine.v1.accounts.capabilities.retrieve(mine, "transfers").status == "active"
    for attempt in (
        lambda: as_mine.v1.accounts.retrieve(theirs),
        lambda: as_mine.v1.accounts.retrieve(server.platform_id),
        lambda: as_mine.v1.accounts.capabilities.list(theirs),
        lambda: as_mine.v1.accounts.update(theirs, params={"metadata": {"x": "y"}}),
    ):
        with pytest.raises(stripe.InvalidRequestError) as raised:
            attempt()
        assert raised.value.http_status == 404
    for attempt in (
        lambda: as_mine.v1.accounts.create(params={**CUSTOM}),
        lambda: as_mine.v1.accounts.list(),
        lambda: as_mine.v1.accounts.update(mine, params={"metadata": {"x": "y"}}),
        lambda: as_mine.v1.accounts.capabilities.update(
            mine, "card_issuing", params={"requested": False}
        ),
    ):
        with pytest.raises(stripe.PermissionError) as raised:
            attempt()
        assert raised.value.http_status == 403


def test_update_merges_and_keeps_unspecified_fields(client):
    account_id = activated_account(client, metadata={"a": "1", "b": "2"})
    updated = client.v1.accounts.update(
        account_id,
        params={
            "metadata": {"a": "", "c": "3"},
            "email": "new@example.com",
            "individual": {"first_name": "Jen"},
            "business_profile": {"support_address": {"city": "Oakland"}},
            "settings": {
                "payouts": {
                    "schedule": {
                        "delay_days": "minimum",
                        "interval": "weekly",
                        "weekly_anchor": "monday",
                    }
                }
            },
            "tos_acceptance": {"user_agent": "Mozilla/5.0"},
            "external_account": "btok_us_verified",
        },
    )
    assert updated.metadata.to_dict() == {"b": "2", "c": "3"}
    assert updated.email == "new@example.com"
    assert (updated.individual.first_name, updated.individual.last_name) == ("Jen", "Rosen")
    assert updated.business_profile.url == "https://example.com"
    assert updated.business_profile.support_address.city == "Oakland"
    assert (
        updated.settings.payouts.schedule.delay_days == 2
        and updated.settings.payouts.schedule.weekly_anchor == "monday"
    )
    assert (
        updated.tos_acceptance.date == TOS_ACCEPTANCE["date"]
        and updated.tos_acceptance.user_agent == "Mozilla/5.0"
    )
    assert updated.payouts_enabled is True and updated.charges_enabled is False
    assert updated.country == "US" and updated.default_currency == "usd"


def test_type_and_controller(client):
    custom = client.v1.accounts.create(params={"type": "custom"})
    assert custom.controller.to_dict() == {
        "fees": {"payer": "application_custom"},
        "is_controller": True,
        "losses": {"payments": "application"},
        "requirement_collection": "application",
        "stripe_dashboard": {"type": "none"},
        "type": "application",
    }
    assert client.v1.accounts.create(params={}).type == "standard"
    controlled = client.v1.accounts.create(
        params={"controller": ONBOARDED_ACCOUNT_PARAMS["controller"]}
    )
    assert controlled.type == "custom" and controlled.controller.fees.payer == "application"
    mixed = client.v1.accounts.create(
        params={"controller": {"stripe_dashboard": {"type": "express"}}}
    )
    assert mixed.type == "none"
    with pytest.raises(stripe.InvalidRequestError) as raised:
        client.v1.accounts.create(
            params={"type": "custom", "controller": {"requirement_collection": "application"}}
        )
    assert (raised.value.http_status, raised.value.param) == (400, "controller")
    with pytest.raises(stripe.InvalidRequestError) as raised:
        client.v1.accounts.update(custom.id, params={"type": "express"})
    assert raised.value.code == "parameter_unknown"


def test_platform_account_cannot_be_changed_through_connect(server, client):
    with pytest.raises(stripe.InvalidRequestError) as raised:
        client.v1.accounts.update(server.platform_id, params={"email": "me@example.com"})
    assert (raised.value.http_status, raised.value.param) == (400, "account")
    assert client.v1.accounts.retrieve(server.platform_id).id == server.platform_id


def test_delete_account(server, client):
    account_id = activated_account(client)
    deleted = client.v1.accounts.delete(account_id)
    assert (deleted.id, deleted.object, deleted.deleted) == (account_id, "account", True)
    for attempt in (
        lambda: client.v1.accounts.retrieve(account_id),
        lambda: client.v1.accounts.delete(account_id),
        lambda: client.v1.accounts.capabilities.update(
            account_id, "transfers", params={"requested": True}
        ),
    ):
        with pytest.raises(stripe.InvalidRequestError) as raised:
            attempt()
        assert (raised.value.http_status, raised.value.code) == (404, "resource_missing")
    with pytest.raises(stripe.PermissionError):
        client.v1.accounts.retrieve_current(options={"stripe_account": account_id})
    listed = [a.id for a in client.v1.accounts.list(params={"limit": 100}).auto_paging_iter()]
    assert account_id not in listed


def test_list_pages_newest_first(server, client):
    tag = secrets.token_hex(4)
    made = [
        client.v1.accounts.create(params={**CUSTOM, "metadata": {"tag": tag}}).id for _ in range(3)
    ]
    page = client.v1.accounts.list(params={"limit": 1})
    assert len(page.data) == 1 and page.has_more is True and page.url == "/v1/accounts"
    seen = [
        a.id
        for a in client.v1.accounts.list(params={"limit": 1}).auto_paging_iter()
        if a.id in made
    ]
    assert seen == list(reversed(made))
    everything = [a.id for a in client.v1.accounts.list(params={"limit": 100}).auto_paging_iter()]
    assert server.platform_id not in everything


def test_reject_and_unreject(client):
    account_id = activated_account(client)
    rejected = client.v1.accounts.reject(account_id, params={"reason": "fraud_other"})
    assert rejected.requirements.disabled_reason == "rejected.platform_fraud"
    assert set(rejected.capabilities.to_dict().values()) == {"inactive"}
    assert (
        client.v1.accounts.capabilities.retrieve(
            account_id, "card_issuing"
        ).requirements.disabled_reason
        == "rejected.other"
    )
    restored = client.v1.accounts.unreject(account_id)
    assert set(restored.capabilities.to_dict().values()) == {"active"}
    assert restored.requirements.disabled_reason is None


def test_changes_record_capability_and_account_events(server, client):
    account = client.v1.accounts.create(params={**CUSTOM, "capabilities": GUIDE_CAPABILITIES})
    created = _events(server, account.id, "capability.updated")
    assert sorted(e["data"]["object"]["id"] for e in created) == [
        "card_issuing",
        "transfers",
        "treasury",
    ]
    assert all(
        e["account"] == account.id and e["data"]["object"]["status"] == "inactive" for e in created
    )
    assert _events(server, account.id, "account.updated") == []

    onboarding = {
        k: v
        for k, v in ONBOARDED_ACCOUNT_PARAMS.items()
        if k not in ("controller", "country", "capabilities")
    }
    client.v1.accounts.update(account.id, params=onboarding)
    activated = [
        e
        for e in _events(server, account.id, "capability.updated")
        if e["data"]["object"]["status"] == "active"
    ]
    assert sorted(e["data"]["object"]["id"] for e in activated) == [
        "card_issuing",
        "transfers",
        "treasury",
    ]
    assert all(e["data"]["previous_attributes"]["status"] == "inactive" for e in activated)
    (updated,) = _events(server, account.id, "account.updated")
    assert updated["data"]["previous_attributes"]["capabilities"]["card_issuing"] == "inactive"
    assert updated["data"]["object"]["capabilities"]["card_issuing"] == "active"
    assert not any(key.startswith("_") for key in updated["data"]["object"])
