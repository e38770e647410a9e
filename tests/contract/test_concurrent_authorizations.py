"""Hundreds of concurrent purchases against one financial account funded for only some.

Real HTTP from many threads at once: exactly the affordable authorizations are
approved, the rest decline with ``insufficient_funds``, and the books balance.
On PostgreSQL this exercises the row locks; on SQLite the write lock.
"""

from __future__ import annotations

import concurrent.futures
import uuid

import httpx

from openissuing.storage.ledger_audit import audit
from tests.flows import activated_account

PURCHASES = 240
AMOUNT = 700
AFFORDABLE = 97
ADDRESS = {
    "line1": "1 Main St",
    "city": "Austin",
    "state": "TX",
    "postal_code": "78701",
    "country": "US",
}


def _setup(client):
    acct = activated_account(client)
    o = {"stripe_account": acct}
    fa = client.v1.treasury.financial_accounts.create(
        params={"supported_currencies": ["usd"], "features": {"card_issuing": {"requested": True}}},
        options=o,
    )
    client.v1.test_helpers.treasury.received_credits.create(
        params={
            "financial_account": fa.id,
            "amount": AFFORDABLE * AMOUNT + AMOUNT - 1,
            "currency": "usd",
            "network": "ach",
        },
        options=o,
    )
    holder = client.v1.issuing.cardholders.create(
        params={
            "name": "Race Tester",
            "billing": {"address": ADDRESS},
            "individual": {"first_name": "Race", "last_name": "Tester"},
        },
        options=o,
    )
    card = client.v1.issuing.cards.create(
        params={
            "cardholder": holder.id,
            "financial_account": fa.id,
            "currency": "usd",
            "type": "virtual",
            "status": "active",
        },
        options=o,
    )
    return acct, fa.id, card.id


def test_concurrent_authorizations_never_overspend(server, client):
    acct, fa_id, card_id = _setup(client)
    headers = {"Authorization": f"Bearer {server.api_key}", "Stripe-Account": acct}

    def purchase(_: int) -> dict:
        with httpx.Client(base_url=server.url, headers=headers, timeout=60) as http:
            response = http.post(
                "/v1/test_helpers/issuing/authorizations",
                data={"card": card_id, "amount": AMOUNT},
                headers={"Idempotency-Key": str(uuid.uuid4())},
            )
            assert response.status_code == 200, response.text
            return response.json()

    with concurrent.futures.ThreadPoolExecutor(max_workers=24) as pool:
        results = list(pool.map(purchase, range(PURCHASES)))

    approved = [r for r in results if r["approved"]]
    declined = [r for r in results if not r["approved"]]
    assert len(approved) == AFFORDABLE
    assert {r["request_history"][0]["reason"] for r in declined} == {"insufficient_funds"}
    balance = client.v1.treasury.financial_accounts.retrieve(
        fa_id, options={"stripe_account": acct}
    ).balance
    assert balance.outbound_pending["usd"] == AFFORDABLE * AMOUNT
    assert balance.cash["usd"] == AMOUNT - 1
    with server.runtime.engine.connect() as conn:
        assert audit(conn) == []
