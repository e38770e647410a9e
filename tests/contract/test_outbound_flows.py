"""Outbound payments and outbound transfers through the SDK: every endpoint, every transition.

After every step the financial account's balances (cash, outbound_pending, inbound_pending)
equal the sum of its Treasury transactions' impacts (``assert_books``), the flow's Treasury
transactions and entries say what moved, and at the end of each test the ledger's own audit
is clean.
"""

from __future__ import annotations

import pytest
import stripe

from openissuing.storage.uow import transaction as db_transaction
from tests.flows import activated_account, assert_audit_clean, assert_books
from tests.outbound import (
    BANK,
    OUTBOUND_FEATURES,
    entries,
    outbound_account,
    outbound_setup,
    pay,
    transfer,
)

DAY = 86400


def _refused(call, code: str, param: str | None = None, status: int = 400):
    with pytest.raises(stripe.StripeError) as refused:
        call()
    assert refused.value.http_status == status, refused.value
    assert refused.value.code == code, refused.value
    if param is not None:
        assert refused.value.param == param, refused.value
    return refused.value


def _trxn(client, acct: str, trxn_id: str):
    return client.v1.treasury.transactions.retrieve(trxn_id, options={"stripe_account": acct})


def _event_types(client, acct: str, flow_id: str) -> list[str]:
    page = client.v1.events.list(params={"limit": 100}, options={"stripe_account": acct})
    return [e.type for e in reversed(page.data) if e.data.object.to_dict().get("id") == flow_id]


# ------------------------------------------------------------------ outbound payments


def test_a_payment_holds_posts_and_returns_with_its_treasury_trail(server, client):
    acct, fa = outbound_setup(client)
    o = {"stripe_account": acct}
    helpers = client.v1.test_helpers.treasury.outbound_payments
    obp = pay(client, acct, fa, 3_000, description="Invoice 42", metadata={"k": "v"})
    assert (obp.status, obp.cancelable, obp.amount, obp.currency) == (
        "processing",
        True,
        3_000,
        "usd",
    )
    assert obp.metadata.to_dict() == {"k": "v"} and obp.statement_descriptor == "payment"
    details = obp.destination_payment_method_details
    assert details.type == "us_bank_account" and details.financial_account is None
    assert details.us_bank_account.last4 == "6789"
    assert details.us_bank_account.routing_number == "110000000"
    assert details.us_bank_account.network == "ach"
    assert details.billing_details.name == "Vendor Inc."
    assert obp.expected_arrival_date > obp.created
    assert obp.expected_arrival_date % DAY == 0  # midnight UTC of a business day
    assert_books(client, acct, fa, cash=7_000, outbound_pending=3_000)
    trxn = _trxn(client, acct, obp.transaction)
    assert (trxn.flow_type, trxn.flow, trxn.status, trxn.amount) == (
        "outbound_payment",
        obp.id,
        "open",
        -3_000,
    )
    assert entries(client, acct, fa, trxn.id) == [("outbound_payment", -3_000, 0, 3_000)]

    # The transaction expands, and its flow_details name the payment.
    expanded = client.v1.treasury.outbound_payments.retrieve(
        obp.id, params={"expand": ["transaction"]}, options=o
    )
    assert expanded.transaction.id == trxn.id
    flow = client.v1.treasury.transactions.retrieve(
        trxn.id, params={"expand": ["flow_details"]}, options=o
    ).flow_details
    assert flow.type == "outbound_payment" and flow.outbound_payment.id == obp.id

    obp = helpers.post(obp.id, options=o)
    assert (obp.status, obp.cancelable) == ("posted", False)
    assert obp.status_transitions.posted_at is not None
    assert_books(client, acct, fa, cash=7_000)
    trxn = _trxn(client, acct, obp.transaction)
    assert (trxn.status, trxn.amount) == ("posted", -3_000)
    assert trxn.status_transitions.posted_at == obp.status_transitions.posted_at
    assert entries(client, acct, fa, trxn.id)[1:] == [("outbound_payment_posting", 0, 0, -3_000)]

    obp = helpers.update(
        obp.id, params={"tracking_details": {"type": "ach", "ach": {"trace_id": "T123"}}}, options=o
    )
    assert obp.tracking_details.type == "ach" and obp.tracking_details.ach.trace_id == "T123"
    assert obp.tracking_details.us_domestic_wire is None

    obp = helpers.return_outbound_payment(
        obp.id, params={"returned_details": {"code": "account_closed"}}, options=o
    )
    assert obp.status == "returned" and obp.status_transitions.returned_at is not None
    assert obp.returned_details.code == "account_closed"
    assert_books(client, acct, fa, cash=10_000)
    back = _trxn(client, acct, obp.returned_details.transaction)
    assert (back.flow_type, back.flow, back.status, back.amount) == (
        "outbound_payment",
        obp.id,
        "posted",
        3_000,
    )
    assert entries(client, acct, fa, back.id) == [("outbound_payment_return", 3_000, 0, 0)]
    assert _trxn(client, acct, obp.transaction).status == "posted"  # the original is untouched
    returned = client.v1.treasury.outbound_payments.retrieve(
        obp.id, params={"expand": ["returned_details.transaction"]}, options=o
    )
    assert returned.returned_details.transaction.id == back.id

    assert _event_types(client, acct, obp.id) == [
        "treasury.outbound_payment.created",
        "treasury.outbound_payment.posted",
        "treasury.outbound_payment.tracking_details_updated",
        "treasury.outbound_payment.returned",
    ]
    _refused(lambda: helpers.post(obp.id, options=o), "status_transition_invalid")
    _refused(
        lambda: helpers.return_outbound_payment(obp.id, options=o), "status_transition_invalid"
    )
    assert_audit_clean(server)


def test_cancel_and_fail_release_the_hold_and_void_the_transaction(server, client):
    acct, fa = outbound_setup(client)
    o = {"stripe_account": acct}
    payments = client.v1.treasury.outbound_payments
    helpers = client.v1.test_helpers.treasury.outbound_payments
    first, second = pay(client, acct, fa, 2_000), pay(client, acct, fa, 5_000)
    assert_books(client, acct, fa, cash=3_000, outbound_pending=7_000)

    canceled = payments.cancel(first.id, options=o)
    assert (canceled.status, canceled.cancelable) == ("canceled", False)
    assert canceled.status_transitions.canceled_at is not None
    assert canceled.status_transitions.posted_at is None
    assert_books(client, acct, fa, cash=5_000, outbound_pending=5_000)
    trxn = _trxn(client, acct, first.transaction)
    assert (trxn.status, trxn.amount) == ("void", 0)
    assert trxn.status_transitions.void_at is not None
    assert entries(client, acct, fa, trxn.id) == [
        ("outbound_payment", -2_000, 0, 2_000),
        ("outbound_payment_cancellation", 2_000, 0, -2_000),
    ]

    failed = helpers.fail(second.id, options=o)
    assert failed.status == "failed" and failed.status_transitions.failed_at is not None
    assert_books(client, acct, fa, cash=10_000)
    assert entries(client, acct, fa, second.transaction)[1:] == [
        ("outbound_payment_failure", 5_000, 0, -5_000)
    ]
    assert _trxn(client, acct, second.transaction).status == "void"

    # Nothing moves twice; no transition out of a final status.
    for call in (
        lambda: payments.cancel(first.id, options=o),
        lambda: helpers.fail(first.id, options=o),
        lambda: helpers.post(second.id, options=o),
        lambda: helpers.return_outbound_payment(second.id, options=o),
    ):
        _refused(call, "status_transition_invalid")
    # A posted payment is no longer cancelable.
    third = pay(client, acct, fa, 1_000)
    helpers.post(third.id, options=o)
    _refused(lambda: payments.cancel(third.id, options=o), "status_transition_invalid")
    assert_books(client, acct, fa, cash=9_000)
    assert _event_types(client, acct, first.id)[-1] == "treasury.outbound_payment.canceled"
    assert _event_types(client, acct, second.id)[-1] == "treasury.outbound_payment.failed"
    assert_audit_clean(server)


def test_returning_a_processing_payment_settles_it_then_credits_it_back(server, client):
    acct, fa = outbound_setup(client)
    o = {"stripe_account": acct}
    obp = pay(client, acct, fa, 4_000)
    obp = client.v1.test_helpers.treasury.outbound_payments.return_outbound_payment(
        obp.id, options=o
    )
    assert obp.status == "returned" and obp.returned_details.code == "declined"
    assert obp.status_transitions.posted_at == obp.status_transitions.returned_at
    assert_books(client, acct, fa, cash=10_000)
    assert entries(client, acct, fa, obp.transaction) == [
        ("outbound_payment", -4_000, 0, 4_000),
        ("outbound_payment_posting", 0, 0, -4_000),
    ]
    assert entries(client, acct, fa, obp.returned_details.transaction) == [
        ("outbound_payment_return", 4_000, 0, 0)
    ]
    assert_audit_clean(server)


def test_insufficient_funds_refuses_and_moves_nothing(server, client):
    acct, fa = outbound_setup(client, funds=1_000)
    o = {"stripe_account": acct}
    pay(client, acct, fa, 600)
    _refused(lambda: pay(client, acct, fa, 401), "insufficient_funds", "amount")
    _refused(lambda: transfer(client, acct, fa, 401), "insufficient_funds", "amount")
    assert_books(client, acct, fa, cash=400, outbound_pending=600)
    assert (
        len(
            client.v1.treasury.outbound_payments.list(
                params={"financial_account": fa}, options=o
            ).data
        )
        == 1
    )
    assert (
        client.v1.treasury.outbound_transfers.list(params={"financial_account": fa}, options=o).data
        == []
    )
    pay(client, acct, fa, 400)  # exactly the cash left
    assert_books(client, acct, fa, cash=0, outbound_pending=1_000)
    assert_audit_clean(server)


def test_bad_input_is_refused_with_its_param(server, client):
    acct, fa = outbound_setup(client)
    _refused(lambda: pay(client, acct, fa, 0), "parameter_invalid_integer", "amount")
    with pytest.raises(stripe.InvalidRequestError) as bad:
        pay(client, acct, fa, 10, currency="eur")
    assert bad.value.param == "currency"
    _refused(
        lambda: pay(client, acct, fa, 10, destination_payment_method_data=None),
        "parameter_missing",
        "destination_payment_method",
    )
    wrong = {**BANK, "us_bank_account": {"routing_number": "12", "account_number": "1234"}}
    with pytest.raises(stripe.InvalidRequestError) as bad:
        pay(client, acct, fa, 10, destination_payment_method_data=wrong)
    assert bad.value.param == "destination_payment_method_data[us_bank_account][routing_number]"
    with pytest.raises(stripe.InvalidRequestError) as bad:
        pay(client, acct, fa, 10, destination_payment_method="pm_x")
    assert bad.value.param == "destination_payment_method_data"
    _refused(
        lambda: pay(
            client,
            acct,
            fa,
            10,
            destination_payment_method_data={"type": "financial_account"},
        ),
        "parameter_missing",
        "destination_payment_method_data[financial_account]",
    )
    assert_books(client, acct, fa, cash=10_000)


def test_a_missing_feature_or_a_restriction_refuses_the_flow(server, client):
    acct = activated_account(client)
    o = {"stripe_account": acct}
    ach_only = {"outbound_payments": {"ach": {"requested": True}}}
    fa = outbound_account(client, acct, features=ach_only, funds=5_000)
    pay(client, acct, fa, 100)  # outbound_payments.ach is active
    wire = {"us_bank_account": {"network": "us_domestic_wire"}}
    error = _refused(
        lambda: pay(client, acct, fa, 100, destination_payment_method_options=wire),
        "feature_not_enabled",
        "financial_account",
    )
    assert "outbound_payments.us_domestic_wire" in error.user_message
    _refused(lambda: transfer(client, acct, fa, 100), "feature_not_enabled", "financial_account")
    other = outbound_account(client, acct)
    to_fa = {"type": "financial_account", "financial_account": other}
    error = _refused(
        lambda: pay(client, acct, fa, 100, destination_payment_method_data=to_fa),
        "feature_not_enabled",
        "financial_account",
    )
    assert "intra_stripe_flows" in error.user_message

    # The platform restricts outbound flows: every outbound flow is refused, as authorizations.
    full = outbound_account(client, acct, funds=5_000)
    client.v1.treasury.financial_accounts.update(
        full, params={"platform_restrictions": {"outbound_flows": "restricted"}}, options=o
    )
    for call in (
        lambda: pay(client, acct, full, 100),
        lambda: transfer(client, acct, full, 100),
        lambda: pay(client, acct, full, 100, destination_payment_method_data=to_fa),
    ):
        _refused(call, "feature_not_enabled", "financial_account")
    assert_books(client, acct, full, cash=5_000)
    assert_books(client, acct, other, cash=0)
    client.v1.treasury.financial_accounts.update(
        full, params={"platform_restrictions": {"outbound_flows": "unrestricted"}}, options=o
    )
    pay(client, acct, full, 100)

    # A closed financial account sends nothing.
    empty = outbound_account(client, acct)
    client.v1.treasury.financial_accounts.close(empty, options=o)
    _refused(lambda: pay(client, acct, empty, 1), "financial_account_not_open", "financial_account")
    assert_books(client, acct, fa, cash=4_900, outbound_pending=100)
    assert_audit_clean(server)


# ------------------------------------------------------------------ intra_stripe_flows


def test_a_payment_to_another_accounts_financial_account_arrives_as_a_received_credit(
    server, client
):
    payer, source = outbound_setup(client)
    payee = activated_account(client)
    destination = outbound_account(client, payee)
    o, po = {"stripe_account": payer}, {"stripe_account": payee}
    obp = pay(
        client,
        payer,
        source,
        2_500,
        description="Rent",
        destination_payment_method_data={
            "type": "financial_account",
            "financial_account": destination,
        },
    )
    # The stripe network is instant: posted when created, nothing left to cancel.
    assert (obp.status, obp.cancelable) == ("posted", False)
    assert obp.expected_arrival_date == obp.created
    details = obp.destination_payment_method_details
    assert details.type == "financial_account" and details.us_bank_account is None
    assert (details.financial_account.id, details.financial_account.network) == (
        destination,
        "stripe",
    )
    assert_books(client, payer, source, cash=7_500)
    assert entries(client, payer, source, obp.transaction) == [
        ("outbound_payment", -2_500, 0, 2_500),
        ("outbound_payment_posting", 0, 0, -2_500),
    ]
    assert_books(client, payee, destination, cash=2_500)
    (credit,) = client.v1.treasury.received_credits.list(
        params={"financial_account": destination}, options=po
    ).data
    assert (credit.status, credit.network, credit.amount) == ("succeeded", "stripe", 2_500)
    assert credit.linked_flows.source_flow == obp.id
    assert credit.linked_flows.source_flow_type == "outbound_payment"
    assert credit.initiating_payment_method_details.type == "financial_account"
    assert credit.initiating_payment_method_details.financial_account.id == source
    assert credit.initiating_payment_method_details.financial_account.network == "stripe"
    assert credit.description == "Rent"
    assert entries(client, payee, destination, credit.transaction) == [
        ("received_credit", 2_500, 0, 0)
    ]
    assert _event_types(client, payer, obp.id) == [
        "treasury.outbound_payment.created",
        "treasury.outbound_payment.posted",
    ]
    assert _event_types(client, payee, credit.id) == [
        "treasury.received_credit.created",
        "treasury.received_credit.succeeded",
    ]
    # The payee never sees the payer's payment.
    _refused(
        lambda: client.v1.treasury.outbound_payments.retrieve(obp.id, options=po),
        "resource_missing",
        status=404,
    )
    helpers = client.v1.test_helpers.treasury.outbound_payments
    for call in (
        lambda: client.v1.treasury.outbound_payments.cancel(obp.id, options=o),
        lambda: helpers.fail(obp.id, options=o),
        lambda: helpers.post(obp.id, options=o),
        lambda: helpers.return_outbound_payment(obp.id, options=o),
    ):
        _refused(call, "status_transition_invalid")
    assert_audit_clean(server)


def test_reversing_the_received_credit_returns_the_payment_to_its_sender(server, client):
    payer, source = outbound_setup(client)
    payee = activated_account(client)
    destination = outbound_account(client, payee)
    o, po = {"stripe_account": payer}, {"stripe_account": payee}
    data = {"type": "financial_account", "financial_account": destination}
    obp = pay(client, payer, source, 4_000, destination_payment_method_data=data)
    (credit,) = client.v1.treasury.received_credits.list(
        params={"financial_account": destination}, options=po
    ).data
    assert credit.reversal_details.restricted_reason is None  # stripe, from an OutboundPayment
    reversal = client.v1.treasury.credit_reversals.create(
        params={"received_credit": credit.id}, options=po
    )
    assert reversal.status == "posted" and reversal.network == "stripe"
    assert_books(client, payee, destination, cash=0)
    assert_books(client, payer, source, cash=10_000)
    returned = client.v1.treasury.outbound_payments.retrieve(obp.id, options=o)
    assert returned.status == "returned" and returned.returned_details.code == "declined"
    assert returned.status_transitions.returned_at is not None
    assert entries(client, payer, source, returned.returned_details.transaction) == [
        ("outbound_payment_return", 4_000, 0, 0)
    ]
    assert _event_types(client, payer, obp.id)[-1] == "treasury.outbound_payment.returned"
    # An intra-account transfer's credit is not reversible (source_flow_restricted).
    savings = outbound_account(client, payer)
    transfer(
        client,
        payer,
        source,
        1_000,
        destination_payment_method=None,
        destination_payment_method_data={"type": "financial_account", "financial_account": savings},
    )
    (kept,) = client.v1.treasury.received_credits.list(
        params={"financial_account": savings}, options=o
    ).data
    assert kept.reversal_details.restricted_reason == "source_flow_restricted"
    assert_audit_clean(server)


def test_a_restricted_or_featureless_destination_is_refused_before_anything_moves(server, client):
    payer, source = outbound_setup(client)
    payee = activated_account(client)
    po = {"stripe_account": payee}
    featureless = outbound_account(client, payee, features={})
    frozen = outbound_account(client, payee)
    client.v1.treasury.financial_accounts.update(
        frozen, params={"platform_restrictions": {"inbound_flows": "restricted"}}, options=po
    )
    closed = outbound_account(client, payee)
    client.v1.treasury.financial_accounts.close(closed, options=po)
    param = "destination_payment_method_data[financial_account]"
    for destination, code in (
        (featureless, "feature_not_enabled"),
        (frozen, "feature_not_enabled"),
        (closed, "financial_account_not_open"),
        (source, "invalid_request_error"),
    ):
        data = {"type": "financial_account", "financial_account": destination}
        with pytest.raises(stripe.InvalidRequestError) as refused:
            pay(client, payer, source, 1_000, destination_payment_method_data=data)
        assert refused.value.param == param
        if code != "invalid_request_error":
            assert refused.value.code == code
    for destination in (featureless, frozen):
        assert_books(client, payee, destination, cash=0)
        assert (
            client.v1.treasury.received_credits.list(
                params={"financial_account": destination}, options=po
            ).data
            == []
        )
    assert_books(client, payer, source, cash=10_000)
    assert (
        client.v1.treasury.outbound_payments.list(
            params={"financial_account": source}, options={"stripe_account": payer}
        ).data
        == []
    )
    assert_audit_clean(server)


def test_a_financial_account_of_another_platform_is_not_found(server, client, make_sandbox):
    acct, fa = outbound_setup(client)
    elsewhere = make_sandbox("elsewhere")
    other_client = elsewhere.client()
    stranger = activated_account(other_client)
    foreign = outbound_account(other_client, stranger)
    data = {"type": "financial_account", "financial_account": foreign}
    _refused(
        lambda: pay(client, acct, fa, 1_000, destination_payment_method_data=data),
        "resource_missing",
        "destination_payment_method_data[financial_account]",
        status=404,
    )
    _refused(
        lambda: transfer(
            client,
            acct,
            fa,
            1_000,
            destination_payment_method=None,
            destination_payment_method_data=data,
        ),
        "resource_missing",
        status=404,
    )
    assert_books(client, acct, fa, cash=10_000)


# ------------------------------------------------------------------ outbound transfers


def test_a_transfer_to_the_accounts_own_bank_account_lives_the_same_lifecycle(server, client):
    acct, fa = outbound_setup(client)
    o = {"stripe_account": acct}
    transfers = client.v1.treasury.outbound_transfers
    helpers = client.v1.test_helpers.treasury.outbound_transfers
    wire = {"us_bank_account": {"network": "us_domestic_wire"}}
    obt = transfer(client, acct, fa, 6_000, destination_payment_method_options=wire)
    assert (obt.status, obt.cancelable, obt.statement_descriptor) == (
        "processing",
        True,
        "transfer",
    )
    assert obt.destination_payment_method == "pm_usBankAccount"
    bank = obt.destination_payment_method_details.us_bank_account
    assert (bank.routing_number, bank.last4, bank.network) == (
        "110000000",
        "6789",
        "us_domestic_wire",
    )
    assert_books(client, acct, fa, cash=4_000, outbound_pending=6_000)
    trxn = _trxn(client, acct, obt.transaction)
    assert (trxn.flow_type, trxn.flow, trxn.status) == ("outbound_transfer", obt.id, "open")

    # Not yet trackable while cancelable.
    tracking = {"type": "us_domestic_wire", "us_domestic_wire": {"imad": "IMAD1", "omad": "OMAD1"}}
    _refused(
        lambda: helpers.update(obt.id, params={"tracking_details": tracking}, options=o),
        "status_transition_invalid",
    )
    obt = helpers.post(obt.id, options=o)
    assert obt.status == "posted"
    assert_books(client, acct, fa, cash=4_000)
    assert entries(client, acct, fa, obt.transaction) == [
        ("outbound_transfer", -6_000, 0, 6_000),
        ("outbound_transfer_posting", 0, 0, -6_000),
    ]
    with pytest.raises(stripe.InvalidRequestError) as mismatch:
        helpers.update(
            obt.id,
            params={"tracking_details": {"type": "ach", "ach": {"trace_id": "X"}}},
            options=o,
        )
    assert mismatch.value.param == "tracking_details[type]"
    obt = helpers.update(obt.id, params={"tracking_details": tracking}, options=o)
    assert obt.tracking_details.us_domestic_wire.imad == "IMAD1"
    assert obt.tracking_details.us_domestic_wire.chips is None and obt.tracking_details.ach is None
    obt = helpers.return_outbound_transfer(
        obt.id, params={"returned_details": {"code": "invalid_account_number"}}, options=o
    )
    assert obt.status == "returned" and obt.returned_details.code == "invalid_account_number"
    assert_books(client, acct, fa, cash=10_000)
    assert entries(client, acct, fa, obt.returned_details.transaction) == [
        ("outbound_transfer_return", 6_000, 0, 0)
    ]

    canceled = transfers.cancel(transfer(client, acct, fa, 1_000).id, options=o)
    assert canceled.status == "canceled"
    failed = helpers.fail(transfer(client, acct, fa, 2_000).id, options=o)
    assert failed.status == "failed"
    assert_books(client, acct, fa, cash=10_000)
    assert entries(client, acct, fa, canceled.transaction)[1:] == [
        ("outbound_transfer_cancellation", 1_000, 0, -1_000)
    ]
    assert entries(client, acct, fa, failed.transaction)[1:] == [
        ("outbound_transfer_failure", 2_000, 0, -2_000)
    ]
    types = set()
    for flow in (obt, canceled, failed):
        types |= set(_event_types(client, acct, flow.id))
    assert types == {
        "treasury.outbound_transfer.created",
        "treasury.outbound_transfer.posted",
        "treasury.outbound_transfer.tracking_details_updated",
        "treasury.outbound_transfer.returned",
        "treasury.outbound_transfer.canceled",
        "treasury.outbound_transfer.failed",
    }
    assert_audit_clean(server)


def test_a_transfer_between_the_accounts_own_financial_accounts(server, client):
    acct, fa = outbound_setup(client)
    o = {"stripe_account": acct}
    savings = outbound_account(client, acct)
    obt = transfer(
        client,
        acct,
        fa,
        3_500,
        destination_payment_method=None,
        destination_payment_method_data={"type": "financial_account", "financial_account": savings},
    )
    assert (obt.status, obt.cancelable) == ("posted", False)
    assert obt.destination_payment_method is None
    assert obt.destination_payment_method_details.financial_account.id == savings
    assert_books(client, acct, fa, cash=6_500)
    assert_books(client, acct, savings, cash=3_500)
    (credit,) = client.v1.treasury.received_credits.list(
        params={"financial_account": savings}, options=o
    ).data
    assert credit.linked_flows.source_flow == obt.id
    assert credit.linked_flows.source_flow_type == "outbound_transfer"
    assert credit.network == "stripe"
    source = client.v1.treasury.received_credits.retrieve(
        credit.id, params={"expand": ["linked_flows.source_flow"]}, options=o
    ).linked_flows.source_flow
    assert source.id == obt.id

    # A transfer stays within its account: another account's financial account is refused.
    other_acct = activated_account(client)
    theirs = outbound_account(client, other_acct)
    with pytest.raises(stripe.InvalidRequestError) as refused:
        transfer(
            client,
            acct,
            fa,
            100,
            destination_payment_method=None,
            destination_payment_method_data={
                "type": "financial_account",
                "financial_account": theirs,
            },
        )
    assert refused.value.param == "destination_payment_method_data[financial_account]"
    assert_books(client, acct, fa, cash=6_500)
    assert_books(client, other_acct, theirs, cash=0)
    assert_audit_clean(server)


def test_a_connect_bank_account_gives_the_destination_its_details(server, client):
    acct, fa = outbound_setup(client)
    bank = {
        "id": "ba_outboundTestAccount1",
        "object": "bank_account",
        "account": acct,
        "account_holder_name": "Jane Austen",
        "account_holder_type": "company",
        "account_type": "savings",
        "bank_name": "TEST BANK OF OPENISSUING",
        "created": 1_700_000_000,
        "fingerprint": "fpOutbound123",
        "last4": "4321",
        "routing_number": "021000021",
    }
    db_transaction(server.runtime.engine, lambda uow: uow.docs.insert("bank_account", acct, bank))
    obt = transfer(client, acct, fa, 100, destination_payment_method=bank["id"])
    details = obt.destination_payment_method_details
    assert details.billing_details.name == "Jane Austen"
    assert (
        details.us_bank_account.last4,
        details.us_bank_account.routing_number,
        details.us_bank_account.bank_name,
        details.us_bank_account.account_holder_type,
        details.us_bank_account.account_type,
        details.us_bank_account.fingerprint,
    ) == ("4321", "021000021", "TEST BANK OF OPENISSUING", "company", "savings", "fpOutbound123")
    # Another account's bank account id is just an unknown id: the test bank.
    other_acct, other_fa = outbound_setup(client)
    other = transfer(client, other_acct, other_fa, 100, destination_payment_method=bank["id"])
    assert other.destination_payment_method_details.us_bank_account.last4 == "6789"


# ------------------------------------------------------------------ reads, isolation, retries


def test_lists_filter_and_page_and_other_accounts_see_nothing(server, client):
    acct, fa = outbound_setup(client, funds=100_000)
    o = {"stripe_account": acct}
    payments = client.v1.treasury.outbound_payments
    made = [
        pay(client, acct, fa, 100 + i, customer="cus_A" if i % 2 else "cus_B") for i in range(5)
    ]
    client.v1.test_helpers.treasury.outbound_payments.post(made[0].id, options=o)
    listed = payments.list(params={"financial_account": fa}, options=o)
    assert [p.id for p in listed.data] == [p.id for p in reversed(made)]
    posted = payments.list(params={"financial_account": fa, "status": "posted"}, options=o)
    assert [p.id for p in posted.data] == [made[0].id]
    for_a = payments.list(params={"financial_account": fa, "customer": "cus_A"}, options=o)
    assert {p.id for p in for_a.data} == {made[1].id, made[3].id}
    first = payments.list(params={"financial_account": fa, "limit": 2}, options=o)
    assert first.has_more and [p.id for p in first.data] == [made[4].id, made[3].id]
    rest = payments.list(
        params={"financial_account": fa, "starting_after": first.data[-1].id}, options=o
    )
    assert [p.id for p in rest.data] == [made[2].id, made[1].id, made[0].id]
    created = payments.list(
        params={"financial_account": fa, "created": {"gt": made[0].created + 10**6}}, options=o
    )
    assert created.data == []
    other_fa = outbound_account(client, acct)
    assert payments.list(params={"financial_account": other_fa}, options=o).data == []
    transfers_made = [transfer(client, acct, fa, 10) for _ in range(2)]
    listed = client.v1.treasury.outbound_transfers.list(
        params={"financial_account": fa, "status": "processing"}, options=o
    )
    assert [t.id for t in listed.data] == [t.id for t in reversed(transfers_made)]

    # Another account: every id is unknown.
    stranger = {"stripe_account": activated_account(client)}
    obp, obt = made[1].id, transfers_made[0].id
    for call in (
        lambda: payments.retrieve(obp, options=stranger),
        lambda: payments.cancel(obp, options=stranger),
        lambda: client.v1.test_helpers.treasury.outbound_payments.post(obp, options=stranger),
        lambda: client.v1.treasury.outbound_transfers.retrieve(obt, options=stranger),
        lambda: client.v1.treasury.outbound_transfers.cancel(obt, options=stranger),
        lambda: client.v1.test_helpers.treasury.outbound_transfers.fail(obt, options=stranger),
        lambda: payments.list(params={"financial_account": fa}, options=stranger),
        lambda: pay(client, stranger["stripe_account"], fa, 1),
    ):
        _refused(call, "resource_missing", status=404)
    assert payments.retrieve(obp, options=o).status == "processing"


def test_an_idempotent_retry_answers_the_same_and_moves_money_once(server, client):
    acct, fa = outbound_setup(client)
    o = {"stripe_account": acct, "idempotency_key": "obp-retry-1"}
    params = {
        "financial_account": fa,
        "amount": 1_500,
        "currency": "usd",
        "destination_payment_method_data": BANK,
    }
    first = client.v1.treasury.outbound_payments.create(params=params, options=o)
    again = client.v1.treasury.outbound_payments.create(params=params, options=o)
    assert again.to_dict() == first.to_dict()
    assert_books(client, acct, fa, cash=8_500, outbound_pending=1_500)
    post_o = {"stripe_account": acct, "idempotency_key": "obp-retry-post"}
    helpers = client.v1.test_helpers.treasury.outbound_payments
    posted = helpers.post(first.id, options=post_o)
    assert helpers.post(first.id, options=post_o).to_dict() == posted.to_dict()
    assert_books(client, acct, fa, cash=8_500)
    assert len(entries(client, acct, fa, first.transaction)) == 2
    assert_audit_clean(server)


def test_posting_late_moves_the_expected_arrival_date(server, client):
    acct, fa = outbound_setup(client)
    o = {"stripe_account": acct}
    obp = pay(client, acct, fa, 1_000)
    server.clock.advance(10 * DAY)
    posted = client.v1.test_helpers.treasury.outbound_payments.post(obp.id, options=o)
    assert posted.expected_arrival_date > obp.expected_arrival_date
    assert posted.expected_arrival_date > posted.status_transitions.posted_at
    page = client.v1.events.list(
        params={"type": "treasury.outbound_payment.expected_arrival_date_updated"}, options=o
    )
    (event,) = page.data
    assert event.data.object.id == obp.id
    assert event.data.previous_attributes["expected_arrival_date"] == obp.expected_arrival_date
    # Posted on time: the date stands, no event.
    on_time = pay(client, acct, fa, 1_000)
    assert (
        client.v1.test_helpers.treasury.outbound_payments.post(
            on_time.id, options=o
        ).expected_arrival_date
        == on_time.expected_arrival_date
    )
    assert len(client.v1.events.list(params={"type": event.type}, options=o).data) == 1


def test_the_features_fixture_requests_every_outbound_feature(server, client):
    acct, fa = outbound_setup(client, funds=0)
    active = client.v1.treasury.financial_accounts.retrieve(
        fa, options={"stripe_account": acct}
    ).active_features
    assert {
        "outbound_payments.ach",
        "outbound_payments.us_domestic_wire",
        "outbound_transfers.ach",
        "outbound_transfers.us_domestic_wire",
        "intra_stripe_flows",
    } <= set(active)
    assert OUTBOUND_FEATURES["intra_stripe_flows"] == {"requested": True}


def _sdk_missing(cls, obj: dict, path: str = "") -> list[str]:
    """Fields the SDK's class declares (nested classes too) that ``obj`` lacks."""
    missing = []
    inner = getattr(cls, "_inner_class_types", {})
    for name in vars(cls).get("__annotations__", {}):
        if name.startswith("_") or name == "OBJECT_NAME":
            continue
        if name not in obj:
            missing.append(path + name)
        elif isinstance(obj[name], dict) and name in inner:
            missing += _sdk_missing(inner[name], obj[name], f"{path}{name}.")
    return missing


def test_every_field_the_sdk_declares_is_present(server, client):
    from stripe.treasury import OutboundPayment, OutboundTransfer

    acct, fa = outbound_setup(client)
    o = {"stripe_account": acct}
    helpers = client.v1.test_helpers.treasury
    tracking = {"tracking_details": {"type": "us_domestic_wire", "us_domestic_wire": {}}}
    wire = {"us_bank_account": {"network": "us_domestic_wire"}}
    savings = outbound_account(client, acct)
    to_savings = {"type": "financial_account", "financial_account": savings}
    for cls, send, flows in (
        (OutboundPayment, pay, helpers.outbound_payments),
        (OutboundTransfer, transfer, helpers.outbound_transfers),
    ):
        flow = send(client, acct, fa, 100, destination_payment_method_options=wire)
        flows.post(flow.id, options=o)
        tracking["tracking_details"]["us_domestic_wire"] = {"imad": "I1"}
        shown = flows.update(flow.id, params=tracking, options=o).to_dict()
        assert _sdk_missing(cls, shown) == [], cls
        intra = (
            send(client, acct, fa, 100, destination_payment_method_data=to_savings)
            if cls is OutboundPayment
            else send(
                client,
                acct,
                fa,
                100,
                destination_payment_method=None,
                destination_payment_method_data=to_savings,
            )
        )
        assert _sdk_missing(cls, intra.to_dict()) == [], cls
        assert intra.status == "posted"
