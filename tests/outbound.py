"""Test data for money out of a financial account (outbound payments and transfers)."""

from __future__ import annotations

from typing import Any

from tests.flows import activated_account, fund

# Every feature the outbound flows use.
OUTBOUND_FEATURES: dict[str, Any] = {
    "outbound_payments": {"ach": {"requested": True}, "us_domestic_wire": {"requested": True}},
    "outbound_transfers": {"ach": {"requested": True}, "us_domestic_wire": {"requested": True}},
    "intra_stripe_flows": {"requested": True},
}
BANK = {
    "type": "us_bank_account",
    "us_bank_account": {"routing_number": "110000000", "account_number": "000123456789"},
    "billing_details": {"name": "Vendor Inc."},
}


def outbound_account(client, acct: str, features: dict | None = None, funds: int = 0) -> str:
    """A USD financial account of ``acct`` with the outbound features active; funded."""
    fa = client.v1.treasury.financial_accounts.create(
        params={
            "supported_currencies": ["usd"],
            "features": OUTBOUND_FEATURES if features is None else features,
        },
        options={"stripe_account": acct},
    )
    if funds:
        fund(client, acct, fa.id, funds)
    return fa.id


def outbound_setup(client, funds: int = 10_000) -> tuple[str, str]:
    """An onboarded connected account and its funded outbound-ready financial account."""
    acct = activated_account(client)
    return acct, outbound_account(client, acct, funds=funds)


def pay(client, acct: str, fa: str, amount: int, **extra: Any):
    """An outbound payment of ``amount`` to a US bank account (``extra`` overrides)."""
    params = {
        "financial_account": fa,
        "amount": amount,
        "currency": "usd",
        "destination_payment_method_data": BANK,
        **extra,
    }
    return client.v1.treasury.outbound_payments.create(
        params=params, options={"stripe_account": acct}
    )


def transfer(client, acct: str, fa: str, amount: int, **extra: Any):
    """An outbound transfer of ``amount`` to the account's own (test) bank account."""
    params = {
        "financial_account": fa,
        "amount": amount,
        "currency": "usd",
        "destination_payment_method": "pm_usBankAccount",
        **extra,
    }
    return client.v1.treasury.outbound_transfers.create(
        params=params, options={"stripe_account": acct}
    )


def entries(client, acct: str, fa: str, trxn: str) -> list[tuple[str, int, int, int]]:
    """A Treasury transaction's entries, oldest first: (type, cash, inbound_pending,
    outbound_pending)."""
    page = client.v1.treasury.transaction_entries.list(
        params={"financial_account": fa, "transaction": trxn, "limit": 100},
        options={"stripe_account": acct},
    )
    return [
        (
            e.type,
            e.balance_impact.cash,
            e.balance_impact.inbound_pending,
            e.balance_impact.outbound_pending,
        )
        for e in reversed(page.data)
    ]


def walk_outbound_events(client, clock, acct: str) -> None:
    """Emit every treasury.outbound_payment.* and treasury.outbound_transfer.* event type in
    ``acct`` (``clock`` is the test's sandbox clock: a late posting moves the arrival date)."""
    o = {"stripe_account": acct}
    fa = outbound_account(client, acct, funds=20_000)
    savings = outbound_account(client, acct)
    payments = client.v1.test_helpers.treasury.outbound_payments
    transfers = client.v1.test_helpers.treasury.outbound_transfers
    kinds = (
        (client.v1.treasury.outbound_payments, payments, payments.return_outbound_payment, pay),
        (client.v1.treasury.outbound_transfers, transfers, transfers.return_outbound_transfer)
        + (transfer,),
    )
    late = []
    for api, helpers, back, send in kinds:
        returning = send(client, acct, fa, 1_000, metadata={"walk": "returned"})
        helpers.post(returning.id, options=o)
        tracking = {"type": "ach", "ach": {"trace_id": "TRACE1"}}
        helpers.update(returning.id, params={"tracking_details": tracking}, options=o)
        back(returning.id, params={"returned_details": {"code": "no_account"}}, options=o)
        api.cancel(send(client, acct, fa, 500).id, options=o)
        helpers.fail(send(client, acct, fa, 500).id, options=o)
        late.append((helpers, send(client, acct, fa, 700)))
    # Over the stripe network: posted at once, a received credit in the savings account.
    transfer(
        client,
        acct,
        fa,
        300,
        destination_payment_method=None,
        destination_payment_method_data={"type": "financial_account", "financial_account": savings},
    )
    clock.advance(3 * 86400)  # posted three days late: the expected arrival date moves
    for helpers, flow in late:
        helpers.post(flow.id, options=o)
