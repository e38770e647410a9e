"""Inbound transfers through the SDK: create, retrieve, list, cancel and the test helpers
(succeed, fail, return), with the books and the Treasury trail checked after every step.

Money: created -> the amount is inbound_pending (not spendable); succeed -> cash; fail/cancel
-> the pending amount goes away (the transaction is void); return -> a received debit takes the
cash back (its own posted Treasury transaction). Each test ends with the ledger's own audit.
"""

from __future__ import annotations

import pytest
import stripe

from openissuing.storage.uow import transaction
from tests.flows import activated_account, assert_audit_clean, assert_books, fund

PM = "pm_usBankAccount_test"


def _o(acct: str) -> dict:
    return {"stripe_account": acct}


def inbound_financial_account(client, acct: str, **extra) -> str:
    """A USD financial account of ``acct`` with ``inbound_transfers.ach`` requested; its id."""
    features = {"inbound_transfers": {"ach": {"requested": True}}}
    return client.v1.treasury.financial_accounts.create(
        params={"supported_currencies": ["usd"], "features": features, **extra}, options=_o(acct)
    ).id


def create(client, acct: str, fa: str, amount: int, **extra):
    params = {
        "financial_account": fa,
        "amount": amount,
        "currency": "usd",
        "origin_payment_method": PM,
        **extra,
    }
    return client.v1.treasury.inbound_transfers.create(params=params, options=_o(acct))


def _error(call, *args, **kwargs) -> stripe.StripeError:
    with pytest.raises(stripe.StripeError) as raised:
        call(*args, **kwargs)
    return raised.value


def _entries(client, acct: str, fa: str, trxn: str) -> list:
    page = client.v1.treasury.transaction_entries.list(
        params={"financial_account": fa, "transaction": trxn}, options=_o(acct)
    )
    return sorted(page.data, key=lambda e: e.id)


def _impacts(entries) -> list[tuple[str, int, int, int]]:
    return [
        (
            e.type,
            e.balance_impact.cash,
            e.balance_impact.inbound_pending,
            e.balance_impact.outbound_pending,
        )
        for e in entries
    ]


def _events(client, acct: str, object_id: str) -> list[str]:
    """The types of the account's events about ``object_id``, oldest first."""
    page = client.v1.events.list(params={"limit": 100}, options=_o(acct))
    return [e.type for e in reversed(page.data) if e.data.object.id == object_id]


@pytest.fixture()
def acct(client) -> str:
    return activated_account(client)


def test_create_holds_the_amount_as_inbound_pending(client, server, acct):
    fa = inbound_financial_account(client, acct)
    ibt = create(
        client,
        acct,
        fa,
        10_000,
        description="From my bank",
        statement_descriptor="transfer",
        metadata={"order": "42"},
    )
    assert ibt.id.startswith("ibt_") and ibt.object == "treasury.inbound_transfer"
    assert (ibt.status, ibt.cancelable, ibt.returned) == ("processing", True, False)
    assert (ibt.amount, ibt.currency, ibt.financial_account) == (10_000, "usd", fa)
    assert ibt.description == "From my bank" and ibt.metadata.to_dict() == {"order": "42"}
    assert ibt.failure_details is None and ibt.linked_flows.received_debit is None
    assert ibt.status_transitions.to_dict() == {
        "canceled_at": None,
        "failed_at": None,
        "succeeded_at": None,
    }
    assert ibt.origin_payment_method == PM
    bank = ibt.origin_payment_method_details.us_bank_account
    assert ibt.origin_payment_method_details.type == "us_bank_account"
    assert (bank.routing_number, bank.last4, bank.network) == ("110000000", "6789", "ach")
    assert bank.bank_name == "STRIPE TEST BANK" and bank.mandate is None
    assert_books(client, acct, fa, cash=0, inbound_pending=10_000)

    trxn = client.v1.treasury.transactions.retrieve(ibt.transaction, options=_o(acct))
    assert (trxn.flow_type, trxn.flow, trxn.status, trxn.amount) == (
        "inbound_transfer",
        ibt.id,
        "open",
        0,
    )
    assert _impacts(_entries(client, acct, fa, trxn.id)) == [("inbound_transfer", 0, 10_000, 0)]
    # expand[]=transaction gives the Treasury transaction itself
    expanded = client.v1.treasury.inbound_transfers.retrieve(
        ibt.id, params={"expand": ["transaction", "transaction.flow_details"]}, options=_o(acct)
    )
    assert expanded.transaction.id == trxn.id
    assert expanded.transaction.flow_details.inbound_transfer.id == ibt.id
    assert _events(client, acct, ibt.id) == ["treasury.inbound_transfer.created"]
    assert_audit_clean(server)


def test_inbound_pending_is_not_spendable(client, server, acct):
    fa = inbound_financial_account(client, acct)
    create(client, acct, fa, 5_000)
    debit = client.v1.test_helpers.treasury.received_debits.create(
        params={"financial_account": fa, "amount": 1, "currency": "usd", "network": "ach"},
        options=_o(acct),
    )
    assert (debit.status, debit.failure_code) == ("failed", "insufficient_funds")
    assert_books(client, acct, fa, cash=0, inbound_pending=5_000)
    assert_audit_clean(server)


def test_succeed_makes_it_cash(client, server, acct):
    fa = inbound_financial_account(client, acct)
    ibt = create(client, acct, fa, 7_500)
    done = client.v1.test_helpers.treasury.inbound_transfers.succeed(ibt.id, options=_o(acct))
    assert (done.status, done.cancelable) == ("succeeded", False)
    assert done.status_transitions.succeeded_at is not None
    assert done.status_transitions.failed_at is None
    assert_books(client, acct, fa, cash=7_500)
    trxn = client.v1.treasury.transactions.retrieve(ibt.transaction, options=_o(acct))
    assert (trxn.status, trxn.amount) == ("posted", 7_500)
    assert trxn.status_transitions.posted_at is not None
    assert _impacts(_entries(client, acct, fa, trxn.id)) == [
        ("inbound_transfer", 0, 7_500, 0),
        ("inbound_transfer", 7_500, -7_500, 0),
    ]
    # the money is spendable now
    spent = client.v1.test_helpers.treasury.received_debits.create(
        params={"financial_account": fa, "amount": 7_500, "currency": "usd", "network": "ach"},
        options=_o(acct),
    )
    assert spent.status == "succeeded"
    assert_books(client, acct, fa, cash=0)
    # only once; and a succeeded transfer can neither fail nor be canceled
    helpers = client.v1.test_helpers.treasury.inbound_transfers
    for call in (helpers.succeed, helpers.fail, client.v1.treasury.inbound_transfers.cancel):
        error = _error(call, ibt.id, options=_o(acct))
        assert error.http_status == 400 and error.code == "status_transition_invalid"
    assert _events(client, acct, ibt.id) == [
        "treasury.inbound_transfer.created",
        "treasury.inbound_transfer.succeeded",
    ]
    assert_audit_clean(server)


@pytest.mark.parametrize("code", [None, "insufficient_funds", "account_closed"])
def test_fail_drops_the_pending_amount(client, server, acct, code):
    fa = inbound_financial_account(client, acct)
    fund(client, acct, fa, 300)
    ibt = create(client, acct, fa, 2_000)
    params = {"failure_details": {"code": code}} if code else {}
    failed = client.v1.test_helpers.treasury.inbound_transfers.fail(
        ibt.id, params=params, options=_o(acct)
    )
    assert (failed.status, failed.cancelable) == ("failed", False)
    assert failed.failure_details.code == (code or "other")
    assert failed.status_transitions.failed_at is not None
    assert_books(client, acct, fa, cash=300)
    trxn = client.v1.treasury.transactions.retrieve(ibt.transaction, options=_o(acct))
    assert (trxn.status, trxn.amount) == ("void", 0)
    assert trxn.status_transitions.void_at is not None
    assert _impacts(_entries(client, acct, fa, trxn.id)) == [
        ("inbound_transfer", 0, 2_000, 0),
        ("inbound_transfer", 0, -2_000, 0),
    ]
    error = _error(client.v1.test_helpers.treasury.inbound_transfers.return_inbound_transfer,
                   ibt.id, options=_o(acct))  # fmt: skip
    assert error.code == "status_transition_invalid"
    assert _events(client, acct, ibt.id)[-1] == "treasury.inbound_transfer.failed"
    assert_audit_clean(server)


def test_fail_refuses_an_unknown_failure_code(client, acct):
    fa = inbound_financial_account(client, acct)
    ibt = create(client, acct, fa, 2_000)
    error = _error(
        client.v1.test_helpers.treasury.inbound_transfers.fail,
        ibt.id,
        params={"failure_details": {"code": "bad_luck"}},
        options=_o(acct),
    )
    assert error.http_status == 400 and error.param == "failure_details[code]"
    assert client.v1.treasury.inbound_transfers.retrieve(ibt.id, options=_o(acct)).status == (
        "processing"
    )


def test_cancel_only_while_cancelable(client, server, acct):
    fa = inbound_financial_account(client, acct)
    ibt = create(client, acct, fa, 4_000)
    canceled = client.v1.treasury.inbound_transfers.cancel(ibt.id, options=_o(acct))
    assert (canceled.status, canceled.cancelable) == ("canceled", False)
    assert canceled.status_transitions.canceled_at is not None
    assert_books(client, acct, fa, cash=0)
    trxn = client.v1.treasury.transactions.retrieve(ibt.transaction, options=_o(acct))
    assert trxn.status == "void"
    error = _error(client.v1.treasury.inbound_transfers.cancel, ibt.id, options=_o(acct))
    assert error.http_status == 400 and error.code == "status_transition_invalid"
    error = _error(
        client.v1.test_helpers.treasury.inbound_transfers.succeed, ibt.id, options=_o(acct)
    )
    assert error.code == "status_transition_invalid"
    assert _events(client, acct, ibt.id) == [
        "treasury.inbound_transfer.created",
        "treasury.inbound_transfer.canceled",
    ]
    assert_books(client, acct, fa, cash=0)
    assert_audit_clean(server)


def test_return_debits_the_money_back_as_a_received_debit(client, server, acct):
    fa = inbound_financial_account(client, acct)
    ibt = create(client, acct, fa, 6_000)
    helpers = client.v1.test_helpers.treasury.inbound_transfers
    helpers.succeed(ibt.id, options=_o(acct))
    fund(client, acct, fa, 1_000)
    returned = helpers.return_inbound_transfer(ibt.id, options=_o(acct))
    assert (returned.status, returned.returned) == ("succeeded", True)
    rd_id = returned.linked_flows.received_debit
    assert rd_id and rd_id.startswith("rd_")
    debit = client.v1.treasury.received_debits.retrieve(rd_id, options=_o(acct))
    assert (debit.amount, debit.network, debit.status) == (6_000, "ach", "succeeded")
    assert debit.linked_flows.inbound_transfer == ibt.id
    assert debit.reversal_details.restricted_reason == "source_flow_restricted"
    assert debit.initiating_payment_method_details.us_bank_account.last4 == "6789"
    assert_books(client, acct, fa, cash=1_000)
    trxn = client.v1.treasury.transactions.retrieve(debit.transaction, options=_o(acct))
    assert (trxn.flow_type, trxn.flow, trxn.status, trxn.amount) == (
        "received_debit",
        rd_id,
        "posted",
        -6_000,
    )
    # the transfer's own transaction is untouched
    own = client.v1.treasury.transactions.retrieve(ibt.transaction, options=_o(acct))
    assert (own.status, own.amount) == ("posted", 6_000)
    # at most once; the return cannot be reversed as a debit reversal
    error = _error(helpers.return_inbound_transfer, ibt.id, options=_o(acct))
    assert error.code == "status_transition_invalid"
    error = _error(
        client.v1.treasury.debit_reversals.create,
        params={"received_debit": rd_id},
        options=_o(acct),
    )
    assert error.http_status == 400 and error.param == "received_debit"
    assert_books(client, acct, fa, cash=1_000)
    assert_audit_clean(server)


def test_a_return_may_overdraw_the_account(client, server, acct):
    """An ACH return is the bank's, not the user's to refuse: the cash may go negative."""
    fa = inbound_financial_account(client, acct)
    ibt = create(client, acct, fa, 3_000)
    helpers = client.v1.test_helpers.treasury.inbound_transfers
    helpers.succeed(ibt.id, options=_o(acct))
    client.v1.test_helpers.treasury.received_debits.create(
        params={"financial_account": fa, "amount": 2_500, "currency": "usd", "network": "ach"},
        options=_o(acct),
    )
    helpers.return_inbound_transfer(ibt.id, options=_o(acct))
    assert_books(client, acct, fa, cash=-2_500)
    assert_audit_clean(server)


def test_retrieve_and_list(client, server, acct):
    fa = inbound_financial_account(client, acct)
    other_fa = inbound_financial_account(client, acct)
    first = create(client, acct, fa, 100)
    second = create(client, acct, fa, 200)
    third = create(client, acct, fa, 300)
    create(client, acct, other_fa, 400)
    client.v1.test_helpers.treasury.inbound_transfers.succeed(second.id, options=_o(acct))
    listing = client.v1.treasury.inbound_transfers.list(
        params={"financial_account": fa}, options=_o(acct)
    )
    assert [t.id for t in listing.data] == [third.id, second.id, first.id]
    succeeded = client.v1.treasury.inbound_transfers.list(
        params={"financial_account": fa, "status": "succeeded"}, options=_o(acct)
    )
    assert [t.id for t in succeeded.data] == [second.id]
    page = client.v1.treasury.inbound_transfers.list(
        params={"financial_account": fa, "limit": 2}, options=_o(acct)
    )
    assert [t.id for t in page.data] == [third.id, second.id] and page.has_more
    rest = client.v1.treasury.inbound_transfers.list(
        params={"financial_account": fa, "starting_after": second.id}, options=_o(acct)
    )
    assert [t.id for t in rest.data] == [first.id] and not rest.has_more
    back = client.v1.treasury.inbound_transfers.list(
        params={"financial_account": fa, "ending_before": first.id}, options=_o(acct)
    )
    assert [t.id for t in back.data] == [third.id, second.id]
    fetched = client.v1.treasury.inbound_transfers.retrieve(second.id, options=_o(acct))
    assert fetched.status == "succeeded" and fetched.amount == 200
    error = _error(client.v1.treasury.inbound_transfers.list, params={}, options=_o(acct))
    assert error.http_status == 400 and error.param == "financial_account"
    assert_books(client, acct, fa, cash=200, inbound_pending=400)


def test_validation_refuses_before_anything_moves(client, server, acct):
    fa = inbound_financial_account(client, acct)
    cases = [
        ({"amount": 0}, "amount"),
        ({"amount": -5}, "amount"),
        ({"currency": "eur"}, "currency"),
        ({"statement_descriptor": "much too long descriptor"}, "statement_descriptor"),
        ({"statement_descriptor": "no!"}, "statement_descriptor"),
        ({"financial_account": "fa_nope"}, "financial_account"),
        ({"origin_payment_method": "ba_nothing"}, "origin_payment_method"),
        ({"origin_payment_method": "card_x"}, "origin_payment_method"),
    ]
    for overrides, param in cases:
        params = {"financial_account": fa, "amount": 100, "currency": "usd"}
        params["origin_payment_method"] = PM
        params.update(overrides)
        error = _error(client.v1.treasury.inbound_transfers.create, params=params, options=_o(acct))
        assert error.http_status in (400, 404) and error.param == param, (overrides, error)
    listing = client.v1.treasury.inbound_transfers.list(
        params={"financial_account": fa}, options=_o(acct)
    )
    assert listing.data == []
    assert_books(client, acct, fa, cash=0)
    assert_audit_clean(server)


def test_the_feature_gates_inbound_transfers(client, server, acct):
    # not requested
    plain = client.v1.treasury.financial_accounts.create(
        params={"supported_currencies": ["usd"]}, options=_o(acct)
    ).id
    error = _error(create, client, acct, plain, 100)
    assert (error.http_status, error.code, error.param) == (
        400,
        "feature_not_enabled",
        "financial_account",
    )
    assert "requested" in error.user_message
    # restricted by the platform: platform_restrictions.inbound_flows
    fa = inbound_financial_account(client, acct)
    ibt = create(client, acct, fa, 500)  # before the restriction: stays, and can settle
    client.v1.treasury.financial_accounts.update(
        fa, params={"platform_restrictions": {"inbound_flows": "restricted"}}, options=_o(acct)
    )
    error = _error(create, client, acct, fa, 100)
    assert (error.code, error.param) == ("feature_not_enabled", "financial_account")
    assert "inbound_flows" in error.user_message
    client.v1.treasury.financial_accounts.update(
        fa, params={"platform_restrictions": {"inbound_flows": "unrestricted"}}, options=_o(acct)
    )
    assert create(client, acct, fa, 100).status == "processing"
    client.v1.treasury.inbound_transfers.cancel(ibt.id, options=_o(acct))
    assert_books(client, acct, fa, cash=0, inbound_pending=100)
    assert_audit_clean(server)


def test_a_closed_financial_account_takes_no_inbound_transfer(client, acct):
    fa = inbound_financial_account(client, acct)
    client.v1.treasury.financial_accounts.close(fa, options=_o(acct))
    error = _error(create, client, acct, fa, 100)
    assert (error.http_status, error.code, error.param) == (
        400,
        "financial_account_not_open",
        "financial_account",
    )


def test_a_pending_inbound_transfer_keeps_the_account_open(client, acct):
    fa = inbound_financial_account(client, acct)
    ibt = create(client, acct, fa, 100)
    error = _error(client.v1.treasury.financial_accounts.close, fa, options=_o(acct))
    assert error.http_status == 400 and "inbound_pending" in error.user_message
    client.v1.treasury.inbound_transfers.cancel(ibt.id, options=_o(acct))
    assert client.v1.treasury.financial_accounts.close(fa, options=_o(acct)).status == "closed"


def test_an_external_bank_account_is_shown_as_itself(client, server, acct):
    """A ``ba_`` origin names a Connect external account of the acting account (stored by the
    external accounts API as a ``bank_account`` document); another account's is a 404."""
    fa = inbound_financial_account(client, acct)
    stranger = activated_account(client)
    bank = {
        "id": "ba_inboundTest0001",
        "object": "bank_account",
        "account": acct,
        "account_holder_name": "Jenny Rosen",
        "account_holder_type": "company",
        "bank_name": "BANK OF TESTS",
        "fingerprint": "fpBankOfTests",
        "last4": "4321",
        "routing_number": "110000000",
        "created": 1,
    }

    def store(uow):
        uow.docs.insert("bank_account", acct, bank)

    transaction(server.runtime.engine, store)
    ibt = create(client, acct, fa, 100, origin_payment_method=bank["id"])
    details = ibt.origin_payment_method_details
    assert details.billing_details.name == "Jenny Rosen"
    assert (details.us_bank_account.last4, details.us_bank_account.bank_name) == (
        "4321",
        "BANK OF TESTS",
    )
    assert details.us_bank_account.account_holder_type == "company"
    stranger_fa = inbound_financial_account(client, stranger)
    error = _error(create, client, stranger, stranger_fa, 100, origin_payment_method=bank["id"])
    assert (error.http_status, error.param) == (404, "origin_payment_method")


def test_another_accounts_inbound_transfer_is_not_found(client, server, acct):
    fa = inbound_financial_account(client, acct)
    ibt = create(client, acct, fa, 100)
    other = activated_account(client)
    other_fa = inbound_financial_account(client, other)
    o = _o(other)
    for call in (
        client.v1.treasury.inbound_transfers.retrieve,
        client.v1.treasury.inbound_transfers.cancel,
        client.v1.test_helpers.treasury.inbound_transfers.succeed,
        client.v1.test_helpers.treasury.inbound_transfers.fail,
        client.v1.test_helpers.treasury.inbound_transfers.return_inbound_transfer,
    ):
        assert _error(call, ibt.id, options=o).http_status == 404
    assert _error(create, client, other, fa, 100).http_status == 404
    error = _error(
        client.v1.treasury.inbound_transfers.list, params={"financial_account": fa}, options=o
    )
    assert error.http_status == 404
    listing = client.v1.treasury.inbound_transfers.list(
        params={"financial_account": other_fa}, options=o
    )
    assert listing.data == []
    assert client.v1.treasury.inbound_transfers.retrieve(ibt.id, options=_o(acct)).status == (
        "processing"
    )
    assert_books(client, acct, fa, cash=0, inbound_pending=100)


def test_an_idempotent_retry_moves_the_money_once(client, server, acct):
    fa = inbound_financial_account(client, acct)
    params = {"financial_account": fa, "amount": 900, "currency": "usd"}
    params["origin_payment_method"] = PM
    options = {"stripe_account": acct, "idempotency_key": "ibt-once"}
    first = client.v1.treasury.inbound_transfers.create(params=params, options=options)
    again = client.v1.treasury.inbound_transfers.create(params=params, options=options)
    assert first.id == again.id
    helpers = client.v1.test_helpers.treasury.inbound_transfers
    succeed_options = {"stripe_account": acct, "idempotency_key": "ibt-once-succeed"}
    helpers.succeed(first.id, options=succeed_options)
    assert helpers.succeed(first.id, options=succeed_options).status == "succeeded"
    assert_books(client, acct, fa, cash=900)
    assert_audit_clean(server)
