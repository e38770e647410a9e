"""Money in and out of a financial account, and the Treasury trail it leaves, through the SDK.

Covers the received-credit / received-debit test helpers, the list and
retrieve endpoints of received credits, received debits, Treasury
transactions and transaction entries (filters, ``expand[]=entries``,
``expand[]=flow_details``). After every step the balances are checked against
expected numbers and against the sum of the account's Treasury transactions;
each test ends with the ledger's own audit.
"""

from __future__ import annotations

import pytest
import stripe

from openissuing.storage.ledger_audit import audit
from tests.flows import activated_account

BANK = {
    "type": "us_bank_account",
    "us_bank_account": {
        "account_holder_name": "Jenny Rosen",
        "account_number": "000999998888",
        "routing_number": "110000000",
    },
}


def _opts(acct: str) -> dict:
    return {"stripe_account": acct}


@pytest.fixture()
def acct(client) -> str:
    return activated_account(client)


def _financial_account(client, acct: str) -> str:
    params = {"supported_currencies": ["usd"], "features": {"card_issuing": {"requested": True}}}
    return client.v1.treasury.financial_accounts.create(params=params, options=_opts(acct)).id


def _credit(client, acct: str, fa: str, amount: int, **extra):
    params = {
        "financial_account": fa,
        "amount": amount,
        "currency": "usd",
        "network": "ach",
        **extra,
    }
    return client.v1.test_helpers.treasury.received_credits.create(
        params=params, options=_opts(acct)
    )


def _debit(client, acct: str, fa: str, amount: int, **extra):
    params = {
        "financial_account": fa,
        "amount": amount,
        "currency": "usd",
        "network": "ach",
        **extra,
    }
    return client.v1.test_helpers.treasury.received_debits.create(
        params=params, options=_opts(acct)
    )


def _transactions(client, acct: str, fa: str, **filters) -> list:
    page = client.v1.treasury.transactions.list(
        params={"financial_account": fa, "limit": 100, **filters}, options=_opts(acct)
    )
    return list(page.auto_paging_iter())


def assert_books(
    client, acct: str, fa: str, cash: int, outbound_pending: int = 0, inbound_pending: int = 0
) -> None:
    """The API balance is what we expect, and equals the sum of the Treasury transactions'
    impacts."""
    balance = client.v1.treasury.financial_accounts.retrieve(fa, options=_opts(acct)).balance
    shown = (balance.cash["usd"], balance.outbound_pending["usd"], balance.inbound_pending["usd"])
    assert shown == (cash, outbound_pending, inbound_pending)
    summed = [0, 0, 0]
    for trxn in _transactions(client, acct, fa):
        impact = trxn.balance_impact
        summed[0] += impact.cash
        summed[1] += impact.outbound_pending
        summed[2] += impact.inbound_pending
    assert tuple(summed) == shown


def assert_audit_clean(server) -> None:
    with server.runtime.engine.connect() as conn:
        assert audit(conn) == []


def _error(call, *args, **kwargs) -> stripe.StripeError:
    with pytest.raises(stripe.StripeError) as raised:
        call(*args, **kwargs)
    return raised.value


# -- received credits -------------------------------------------------------------


def test_received_credit_funds_the_account_and_leaves_a_posted_transaction(client, server, acct):
    fa = _financial_account(client, acct)
    assert_books(client, acct, fa, cash=0)

    credit = _credit(
        client,
        acct,
        fa,
        12_500,
        description="Payroll top-up",
        initiating_payment_method_details=BANK,
    )
    assert credit.id.startswith("rc_") and credit.object == "treasury.received_credit"
    assert credit.status == "succeeded" and credit.failure_code is None
    assert (credit.amount, credit.currency, credit.network) == (12_500, "usd", "ach")
    assert credit.financial_account == fa and credit.description == "Payroll top-up"
    assert credit.initiating_payment_method_details.type == "us_bank_account"
    assert credit.initiating_payment_method_details.us_bank_account.last4 == "8888"
    assert credit.initiating_payment_method_details.billing_details.name == "Jenny Rosen"
    assert (
        credit.linked_flows.issuing_transaction is None
        and credit.linked_flows.issuing_authorization is None
    )
    assert credit.transaction.startswith("trxn_")
    assert_books(client, acct, fa, cash=12_500)

    assert (
        client.v1.treasury.received_credits.retrieve(credit.id, options=_opts(acct)).to_dict()
        == credit.to_dict()
    )

    trxn = client.v1.treasury.transactions.retrieve(credit.transaction, options=_opts(acct))
    assert trxn.object == "treasury.transaction" and trxn.financial_account == fa
    assert (trxn.flow, trxn.flow_type, trxn.status) == (credit.id, "received_credit", "posted")
    assert trxn.amount == 12_500 and trxn.currency == "usd"
    assert trxn.balance_impact.to_dict() == {
        "cash": 12_500,
        "inbound_pending": 0,
        "outbound_pending": 0,
    }
    assert trxn.status_transitions.posted_at is not None and trxn.status_transitions.void_at is None
    assert trxn.entries is None and trxn.flow_details is None  # both are opt-in

    second = _credit(client, acct, fa, 500, network="us_domestic_wire")
    assert second.network == "us_domestic_wire"
    assert_books(client, acct, fa, cash=13_000)
    assert_audit_clean(server)


def test_transaction_expands_entries_and_flow_details(client, server, acct):
    fa = _financial_account(client, acct)
    credit = _credit(client, acct, fa, 4_000)

    trxn = client.v1.treasury.transactions.retrieve(
        credit.transaction, params={"expand": ["entries", "flow_details"]}, options=_opts(acct)
    )
    assert trxn.entries.object == "list" and trxn.entries.has_more is False
    assert (
        f"financial_account={fa}" in trxn.entries.url
        and f"transaction={trxn.id}" in trxn.entries.url
    )
    [entry] = trxn.entries.data
    assert entry.id.startswith("trxne_") and entry.object == "treasury.transaction_entry"
    assert (entry.type, entry.flow, entry.flow_type) == (
        "received_credit",
        credit.id,
        "received_credit",
    )
    assert entry.transaction == trxn.id and entry.financial_account == fa
    assert entry.balance_impact.to_dict() == {
        "cash": 4_000,
        "inbound_pending": 0,
        "outbound_pending": 0,
    }
    assert trxn.flow_details.type == "received_credit"
    assert trxn.flow_details.received_credit.id == credit.id
    assert trxn.flow_details.received_credit.amount == 4_000

    fetched = client.v1.treasury.transaction_entries.retrieve(entry.id, options=_opts(acct))
    assert fetched.to_dict() == entry.to_dict()
    with_details = client.v1.treasury.transaction_entries.retrieve(
        entry.id, params={"expand": ["flow_details"]}, options=_opts(acct)
    )
    assert with_details.flow_details.type == "received_credit"
    assert with_details.flow_details.received_credit.id == credit.id
    expanded_trxn = client.v1.treasury.transaction_entries.retrieve(
        entry.id, params={"expand": ["transaction"]}, options=_opts(acct)
    )
    assert expanded_trxn.transaction.id == trxn.id and expanded_trxn.transaction.amount == 4_000
    assert_audit_clean(server)


# -- received debits --------------------------------------------------------------


def test_received_debit_pulls_cash_out(client, server, acct):
    fa = _financial_account(client, acct)
    _credit(client, acct, fa, 10_000)

    debit = _debit(client, acct, fa, 3_000, description="Utility bill")
    assert debit.id.startswith("rd_") and debit.object == "treasury.received_debit"
    assert (debit.status, debit.failure_code, debit.network) == ("succeeded", None, "ach")
    assert (debit.amount, debit.currency, debit.financial_account) == (3_000, "usd", fa)
    assert (
        debit.linked_flows.issuing_transaction is None
        and debit.linked_flows.issuing_authorization is None
    )
    assert_books(client, acct, fa, cash=7_000)

    trxn = client.v1.treasury.transactions.retrieve(
        debit.transaction, params={"expand": ["entries", "flow_details"]}, options=_opts(acct)
    )
    assert (trxn.flow, trxn.flow_type, trxn.status, trxn.amount) == (
        debit.id,
        "received_debit",
        "posted",
        -3_000,
    )
    assert trxn.balance_impact.to_dict() == {
        "cash": -3_000,
        "inbound_pending": 0,
        "outbound_pending": 0,
    }
    assert [e.type for e in trxn.entries.data] == ["received_debit"]
    assert (
        trxn.flow_details.type == "received_debit"
        and trxn.flow_details.received_debit.id == debit.id
    )

    # Exactly the cash that is left can be pulled.
    _debit(client, acct, fa, 7_000)
    assert_books(client, acct, fa, cash=0)
    assert (
        client.v1.treasury.received_debits.retrieve(debit.id, options=_opts(acct)).to_dict()
        == debit.to_dict()
    )
    assert_audit_clean(server)


def test_received_debit_beyond_cash_fails_with_insufficient_funds_and_moves_nothing(
    client, server, acct
):
    fa = _financial_account(client, acct)
    _credit(client, acct, fa, 1_000)
    before = _transactions(client, acct, fa)

    debit = _debit(client, acct, fa, 1_001)
    assert (debit.status, debit.failure_code) == ("failed", "insufficient_funds")
    assert debit.transaction is None
    assert_books(client, acct, fa, cash=1_000)
    assert [t.id for t in _transactions(client, acct, fa)] == [t.id for t in before]

    # An empty account refuses any debit, too.
    empty = _financial_account(client, acct)
    assert _debit(client, acct, empty, 1).failure_code == "insufficient_funds"
    assert_books(client, acct, empty, cash=0)
    assert_audit_clean(server)


def test_received_flow_helpers_reject_bad_requests(client, server, acct):
    fa = _financial_account(client, acct)
    missing = _error(_credit, client, acct, "fa_doesnotexist", 100)
    assert missing.http_status == 404 and missing.code == "resource_missing"
    assert missing.param == "financial_account"
    wrong_currency = _error(
        client.v1.test_helpers.treasury.received_credits.create,
        params={"financial_account": fa, "amount": 100, "currency": "eur", "network": "ach"},
        options=_opts(acct),
    )
    assert wrong_currency.http_status == 400 and wrong_currency.param == "currency"
    zero = _error(_debit, client, acct, fa, 0)
    assert zero.http_status == 400 and zero.param == "amount"
    wire_debit = _error(_debit, client, acct, fa, 100, network="us_domestic_wire")
    assert wire_debit.http_status == 400 and wire_debit.param == "network"

    # Another connected account cannot see (or fund) this financial account.
    other = activated_account(client)
    hidden = _error(_credit, client, other, fa, 100)
    assert hidden.http_status == 404
    assert_books(client, acct, fa, cash=0)
    assert_audit_clean(server)


def test_inbound_flows_restricted_makes_received_credits_fail(client, server, acct):
    fa = _financial_account(client, acct)
    client.v1.treasury.financial_accounts.update(
        fa, params={"platform_restrictions": {"inbound_flows": "restricted"}}, options=_opts(acct)
    )
    credit = _credit(client, acct, fa, 2_000)
    assert (credit.status, credit.failure_code, credit.transaction) == (
        "failed",
        "account_frozen",
        None,
    )
    assert_books(client, acct, fa, cash=0)
    assert _transactions(client, acct, fa) == []
    assert_audit_clean(server)


# -- lists and filters ------------------------------------------------------------


def test_lists_filter_by_financial_account_and_status(client, server, acct):
    fa = _financial_account(client, acct)
    other_fa = _financial_account(client, acct)
    first = _credit(client, acct, fa, 5_000)
    second = _credit(client, acct, fa, 1_000)
    elsewhere = _credit(client, acct, other_fa, 700)
    paid = _debit(client, acct, fa, 2_000)
    bounced = _debit(client, acct, fa, 99_999)
    assert_books(client, acct, fa, cash=4_000)
    assert_books(client, acct, other_fa, cash=700)

    def ids(service, **params) -> list[str]:
        return [o.id for o in service.list(params=params, options=_opts(acct)).auto_paging_iter()]

    credits, debits = client.v1.treasury.received_credits, client.v1.treasury.received_debits
    assert ids(credits, financial_account=fa) == [second.id, first.id]
    assert ids(credits, financial_account=other_fa) == [elsewhere.id]
    assert ids(credits, financial_account=fa, status="succeeded") == [second.id, first.id]
    assert ids(credits, financial_account=fa, status="failed") == []
    assert ids(debits, financial_account=fa) == [bounced.id, paid.id]
    assert ids(debits, financial_account=fa, status="failed") == [bounced.id]
    assert ids(debits, financial_account=fa, status="succeeded") == [paid.id]
    assert ids(debits, financial_account=other_fa) == []
    one = credits.list(params={"financial_account": fa, "limit": 1}, options=_opts(acct))
    assert [o.id for o in one.data] == [second.id] and one.has_more is True

    transactions = client.v1.treasury.transactions
    expected = [paid.transaction, second.transaction, first.transaction]
    assert ids(transactions, financial_account=fa) == expected
    assert ids(transactions, financial_account=fa, status="posted") == expected
    assert ids(transactions, financial_account=fa, status="open") == []
    assert ids(transactions, financial_account=other_fa) == [elsewhere.transaction]

    entries = client.v1.treasury.transaction_entries
    listed = list(
        entries.list(params={"financial_account": fa}, options=_opts(acct)).auto_paging_iter()
    )
    assert [e.transaction for e in listed] == expected
    assert [e.type for e in listed] == ["received_debit", "received_credit", "received_credit"]
    only = ids(entries, financial_account=fa, transaction=first.transaction)
    assert len(only) == 1
    assert ids(entries, financial_account=other_fa, transaction=first.transaction) == []

    missing = _error(credits.list, params={}, options=_opts(acct))
    assert missing.http_status == 400 and missing.param == "financial_account"
    unknown = _error(
        transactions.list, params={"financial_account": "fa_nope"}, options=_opts(acct)
    )
    assert unknown.http_status == 404
    assert _error(transactions.retrieve, "trxn_nope", options=_opts(acct)).http_status == 404
    assert _error(entries.retrieve, "trxne_nope", options=_opts(acct)).http_status == 404
    assert _error(credits.retrieve, "rc_nope", options=_opts(acct)).http_status == 404
    assert _error(debits.retrieve, "rd_nope", options=_opts(acct)).http_status == 404
    assert_audit_clean(server)


def test_closed_financial_account_refuses_received_flows(client, server, acct):
    fa = _financial_account(client, acct)
    closed = client.v1.treasury.financial_accounts.close(fa, options=_opts(acct))
    assert closed.status == "closed"
    credit = _credit(client, acct, fa, 1_000)
    debit = _debit(client, acct, fa, 1_000)
    assert (credit.status, credit.failure_code, credit.transaction) == (
        "failed",
        "account_closed",
        None,
    )
    assert (debit.status, debit.failure_code, debit.transaction) == (
        "failed",
        "account_closed",
        None,
    )
    assert_books(client, acct, fa, cash=0)
    assert _transactions(client, acct, fa) == []
    failed = client.v1.treasury.received_credits.list(
        params={"financial_account": fa, "status": "failed"}, options=_opts(acct)
    )
    assert [c.id for c in failed.data] == [credit.id]
    assert_audit_clean(server)


def test_a_replayed_received_flow_moves_money_once(client, server, acct):
    fa = _financial_account(client, acct)
    params = {"financial_account": fa, "amount": 2_500, "currency": "usd", "network": "ach"}
    options = {"stripe_account": acct, "idempotency_key": "fund-once-" + fa}
    first = client.v1.test_helpers.treasury.received_credits.create(params=params, options=options)
    again = client.v1.test_helpers.treasury.received_credits.create(params=params, options=options)
    assert again.id == first.id
    assert_books(client, acct, fa, cash=2_500)
    debit_options = {"stripe_account": acct, "idempotency_key": "pull-once-" + fa}
    pulled = client.v1.test_helpers.treasury.received_debits.create(
        params=params, options=debit_options
    )
    assert (
        client.v1.test_helpers.treasury.received_debits.create(
            params=params, options=debit_options
        ).id
        == pulled.id
    )
    assert_books(client, acct, fa, cash=0)
    assert len(_transactions(client, acct, fa)) == 2
    assert_audit_clean(server)


def test_listed_transactions_and_entries_can_include_their_flows(client, server, acct):
    fa = _financial_account(client, acct)
    credit = _credit(client, acct, fa, 900)
    debit = _debit(client, acct, fa, 400)
    listed = client.v1.treasury.transactions.list(
        params={"financial_account": fa, "expand": ["data.flow_details"]}, options=_opts(acct)
    ).data
    assert [
        (t.flow_details.type, getattr(t.flow_details, t.flow_details.type).id) for t in listed
    ] == [("received_debit", debit.id), ("received_credit", credit.id)]
    assert all(t.entries is None for t in listed)
    entries = client.v1.treasury.transaction_entries.list(
        params={"financial_account": fa, "expand": ["data.flow_details"]}, options=_opts(acct)
    ).data
    assert [e.flow_details.type for e in entries] == ["received_debit", "received_credit"]
    assert_books(client, acct, fa, cash=500)
    assert_audit_clean(server)
