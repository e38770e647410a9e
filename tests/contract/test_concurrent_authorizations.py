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
from tests.flows import activated_account, active_card, fund, issuing_financial_account

PURCHASES = 240
AMOUNT = 700
AFFORDABLE = 97


def _setup(client):
    acct = activated_account(client)
    fa = issuing_financial_account(client, acct)
    fund(client, acct, fa, AFFORDABLE * AMOUNT + AMOUNT - 1)
    _, card = active_card(client, acct, fa, "Race Tester")
    return acct, fa, card


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
