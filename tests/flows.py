"""Reusable test data for the guide's flow: a connected account ready for Issuing + Treasury.

The parameters themselves live in ``openissuing.fixtures`` (the demo, trigger and seed
commands send the same ones).
"""

from __future__ import annotations

from typing import Any

from openissuing.fixtures import (  # noqa: F401 - re-exported for the tests
    ADDRESS,
    ONBOARDED_ACCOUNT_PARAMS,
    ONBOARDED_CAPABILITIES,
    TOS_ACCEPTANCE,
    onboarded_account_params,
)


def activated_account(client, **overrides: Any) -> str:
    """Create a connected account whose card_issuing, transfers and treasury are active; its id."""
    account = client.v1.accounts.create(params=onboarded_account_params(**overrides))
    statuses = account.capabilities.to_dict()
    missing = account.requirements.currently_due
    assert all(statuses.get(name) == "active" for name in ONBOARDED_CAPABILITIES), (
        statuses,
        missing,
    )
    return account.id


def issuing_financial_account(client, acct: str) -> str:
    """A USD financial account of ``acct`` with the card_issuing feature requested; its id."""
    return client.v1.treasury.financial_accounts.create(
        params={"supported_currencies": ["usd"], "features": {"card_issuing": {"requested": True}}},
        options={"stripe_account": acct},
    ).id


def fund(client, acct: str, fa: str, amount: int):
    """An ACH received credit of ``amount`` into ``fa``."""
    return client.v1.test_helpers.treasury.received_credits.create(
        params={"financial_account": fa, "amount": amount, "currency": "usd", "network": "ach"},
        options={"stripe_account": acct},
    )


def active_card(
    client, acct: str, fa: str, name: str = "Jenny Rosen", **holder_extra: Any
) -> tuple[str, str]:
    """An individual cardholder (what Stripe needs before approving) and an active virtual card
    on ``fa``; (cardholder id, card id)."""
    first, _, last = name.partition(" ")
    options = {"stripe_account": acct}
    holder = client.v1.issuing.cardholders.create(
        params={
            "name": name,
            "billing": {"address": ADDRESS},
            "individual": {"first_name": first, "last_name": last or first},
            **holder_extra,
        },
        options=options,
    )
    card = client.v1.issuing.cards.create(
        params={
            "cardholder": holder.id,
            "financial_account": fa,
            "currency": "usd",
            "type": "virtual",
            "status": "active",
        },
        options=options,
    )
    return holder.id, card.id


def assert_books(
    client, acct: str, fa: str, cash: int, outbound_pending: int = 0, inbound_pending: int = 0
) -> None:
    """The financial account's balances are as expected, and equal the sum of its Treasury
    transactions' balance impacts (the books and the trail agree)."""
    options = {"stripe_account": acct}
    balance = client.v1.treasury.financial_accounts.retrieve(fa, options=options).balance
    shown = (
        balance.cash["usd"],
        balance.outbound_pending["usd"],
        balance.inbound_pending["usd"],
    )
    assert shown == (cash, outbound_pending, inbound_pending)
    summed = [0, 0, 0]
    page = client.v1.treasury.transactions.list(
        params={"financial_account": fa, "limit": 100}, options=options
    )
    for trxn in page.auto_paging_iter():
        summed[0] += trxn.balance_impact.cash
        summed[1] += trxn.balance_impact.outbound_pending
        summed[2] += trxn.balance_impact.inbound_pending
    assert tuple(summed) == shown


def assert_audit_clean(server) -> None:
    """The ledger's own audit (what `openissuing check-ledger` runs) finds nothing."""
    from openissuing.storage.ledger_audit import audit

    with server.runtime.engine.connect() as conn:
        assert audit(conn) == []
