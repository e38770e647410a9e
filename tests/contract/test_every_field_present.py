"""Every field of Stripe's example objects is present in ours (null where unset).

stripe-python 16 raises AttributeError on a missing field, so a server that
omits one breaks client code. ``tests/data/stripe-example-objects.json`` is
Stripe's public fixture file (openapi/fixtures3.json, the objects in scope).
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from tests.flows import ADDRESS, activated_account
from tests.outbound import outbound_account, pay, transfer

EXAMPLES = json.loads(
    (Path(__file__).parents[1] / "data" / "stripe-example-objects.json").read_text()
)["resources"]


# Maps keyed by data (capability names, currencies, metadata keys), not by field names.
MAPS = {
    "capabilities",
    "metadata",
    "cash",
    "inbound_pending",
    "outbound_pending",
    "previous_attributes",
}


def _missing(ours: dict, example: dict, path: str = "") -> list[str]:
    missing = []
    for key, value in example.items():
        if key not in ours:
            missing.append(path + key)
        elif key in MAPS:
            continue
        elif (
            isinstance(value, dict)
            and isinstance(ours[key], dict)
            and value
            and "object" not in value
        ):
            missing += _missing(ours[key], value, f"{path}{key}.")
    return missing


@pytest.fixture(scope="module")
def objects(client_module):
    c = client_module
    acct = activated_account(c)
    o = {"stripe_account": acct}
    fa = c.v1.treasury.financial_accounts.create(
        params={"supported_currencies": ["usd"], "features": {"card_issuing": {"requested": True}}},
        options=o,
    )
    credit = c.v1.test_helpers.treasury.received_credits.create(
        params={"financial_account": fa.id, "amount": 10_000, "currency": "usd", "network": "ach"},
        options=o,
    )
    debit = c.v1.test_helpers.treasury.received_debits.create(
        params={"financial_account": fa.id, "amount": 100, "currency": "usd", "network": "ach"},
        options=o,
    )
    holder = c.v1.issuing.cardholders.create(
        params={
            "name": "Jenny Rosen",
            "billing": {"address": ADDRESS},
            "individual": {"first_name": "Jenny", "last_name": "Rosen"},
        },
        options=o,
    )
    card = c.v1.issuing.cards.create(
        params={
            "cardholder": holder.id,
            "financial_account": fa.id,
            "currency": "usd",
            "type": "virtual",
            "status": "active",
        },
        options=o,
    )
    auth = c.v1.test_helpers.issuing.authorizations.create(
        params={"card": card.id, "amount": 1_000}, options=o
    )
    auth = c.v1.test_helpers.issuing.authorizations.capture(auth.id, options=o)
    txn = auth.transactions[0]
    wallet = c.v1.test_helpers.issuing.authorizations.create(
        params={"card": card.id, "amount": 500, "wallet": "google_pay"}, options=o
    )
    token = c.v1.issuing.tokens.retrieve(wallet.token, options=o)
    design = c.v1.issuing.personalization_designs.create(
        params={"physical_bundle": "ics_standard_white", "lookup_key": "every_field"}, options=o
    )
    bundle = c.v1.issuing.physical_bundles.retrieve("ics_standard_white", options=o)
    dispute = c.v1.issuing.disputes.create(
        params={
            "transaction": txn.id,
            "evidence": {"reason": "fraudulent", "fraudulent": {"explanation": "not me"}},
        },
        options=o,
    )
    c.v1.issuing.disputes.submit(dispute.id, options=o)
    dispute = c.v1.issuing.disputes.retrieve(dispute.id, options=o)
    trxn = c.v1.treasury.transactions.list(
        params={"financial_account": fa.id, "limit": 1}, options=o
    ).data[0]
    entry = c.v1.treasury.transaction_entries.list(
        params={"financial_account": fa.id, "limit": 1}, options=o
    ).data[0]
    c.v1.treasury.financial_accounts.update(
        fa.id, params={"features": {"inbound_transfers": {"ach": {"requested": True}}}}, options=o
    )
    inbound = c.v1.treasury.inbound_transfers.create(
        params={
            "financial_account": fa.id,
            "amount": 500,
            "currency": "usd",
            "origin_payment_method": "pm_example",
        },
        options=o,
    )
    reversal = c.v1.treasury.credit_reversals.create(
        params={
            "received_credit": c.v1.test_helpers.treasury.received_credits.create(
                params={
                    "financial_account": fa.id,
                    "amount": 300,
                    "currency": "usd",
                    "network": "ach",
                },
                options=o,
            ).id
        },
        options=o,
    )
    # The Issuing balance (cards without a financial account): a top-up's balance transaction.
    topup = c.v1.topups.create(
        params={"amount": 1_000, "currency": "usd", "destination_balance": "issuing"}, options=o
    )
    topup = c.v1.topups.retrieve(topup.id, options=o)
    balance_transaction = c.v1.balance_transactions.retrieve(topup.balance_transaction, options=o)
    endpoint = c.v1.webhook_endpoints.create(
        params={"url": "http://127.0.0.1:9/hook", "enabled_events": ["*"]}
    )
    company = c.v1.accounts.create(params={"type": "custom", "business_type": "company"})
    person = c.v1.accounts.persons.create(company.id, params={"first_name": "Jane"})
    found = {
        "person": c.v1.accounts.persons.retrieve(company.id, person.id),
        "account": c.v1.accounts.retrieve(acct),
        "capability": c.v1.accounts.capabilities.retrieve(acct, "card_issuing"),
        "treasury.financial_account": c.v1.treasury.financial_accounts.retrieve(fa.id, options=o),
        "treasury.financial_account_features": c.v1.treasury.financial_accounts.features.retrieve(
            fa.id, options=o
        ),
        "treasury.received_credit": credit,
        "treasury.received_debit": debit,
        "treasury.transaction": trxn,
        "treasury.transaction_entry": entry,
        "issuing.cardholder": holder,
        "issuing.card": card,
        "issuing.authorization": auth,
        "issuing.transaction": txn,
        "issuing.dispute": dispute,
        "issuing.token": token,
        "issuing.personalization_design": design,
        "issuing.physical_bundle": bundle,
        "event": c.v1.events.list(params={"limit": 1}, options=o).data[0],
        "webhook_endpoint": endpoint,
        "treasury.inbound_transfer": inbound,
        "treasury.credit_reversal": reversal,
        "balance_transaction": balance_transaction,
    }
    if dispute.treasury and dispute.treasury.debit_reversal:
        found["treasury.debit_reversal"] = c.v1.treasury.debit_reversals.retrieve(
            dispute.treasury.debit_reversal, options=o
        )
    found.update(_outbound_flows(c, acct))
    yield {name: obj.to_dict() for name, obj in found.items()}
    c.v1.webhook_endpoints.delete(endpoint.id)


def _outbound_flows(c, acct: str) -> dict:
    """A returned outbound payment and transfer (tracking details set), so every part shows."""
    o = {"stripe_account": acct}
    fa = outbound_account(c, acct, funds=5_000)
    tracking = {"tracking_details": {"type": "ach", "ach": {"trace_id": "T1"}}}
    helpers = c.v1.test_helpers.treasury
    obp = pay(c, acct, fa, 1_000)
    helpers.outbound_payments.post(obp.id, options=o)
    helpers.outbound_payments.update(obp.id, params=tracking, options=o)
    obt = transfer(c, acct, fa, 1_000)
    helpers.outbound_transfers.post(obt.id, options=o)
    helpers.outbound_transfers.update(obt.id, params=tracking, options=o)
    return {
        "treasury.outbound_payment": helpers.outbound_payments.return_outbound_payment(
            obp.id, options=o
        ),
        "treasury.outbound_transfer": helpers.outbound_transfers.return_outbound_transfer(
            obt.id, options=o
        ),
    }


@pytest.fixture(scope="module")
def client_module(module_server):
    return module_server.client()


@pytest.mark.parametrize(
    "object_type",
    [
        "account",
        "person",
        "capability",
        "treasury.financial_account",
        "treasury.financial_account_features",
        "treasury.received_credit",
        "treasury.received_debit",
        "treasury.transaction",
        "treasury.transaction_entry",
        "issuing.cardholder",
        "issuing.card",
        "issuing.authorization",
        "issuing.transaction",
        "issuing.dispute",
        "issuing.token",
        "issuing.personalization_design",
        "issuing.physical_bundle",
        "treasury.debit_reversal",
        "treasury.outbound_payment",
        "treasury.outbound_transfer",
        "treasury.inbound_transfer",
        "treasury.credit_reversal",
        "event",
        "webhook_endpoint",
        "balance_transaction",
    ],
)
def test_every_example_field_is_present(objects, object_type):
    ours = objects[object_type]
    example = EXAMPLES[object_type]
    assert ours["object"] == example["object"]
    # The secret is shown on create only; Stripe's example shows a created endpoint.
    optional = {"webhook_endpoint": {"secret"}}.get(object_type, set())
    assert [m for m in _missing(ours, example) if m not in optional] == []
