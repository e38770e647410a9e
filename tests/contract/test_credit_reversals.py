"""Credit reversals through the SDK, and the ``reversal_details`` of received credits before and
after: which credits can be reversed (network, deadline, at most once), the money (a hold that
posts at once in test mode), the Treasury trail, list filters, isolation and idempotency."""

from __future__ import annotations

import pytest
import stripe

from tests.flows import activated_account, assert_audit_clean, assert_books, fund

DAY = 86400


def _o(acct: str) -> dict:
    return {"stripe_account": acct}


@pytest.fixture()
def acct(client) -> str:
    return activated_account(client)


@pytest.fixture()
def fa(client, acct) -> str:
    return client.v1.treasury.financial_accounts.create(
        params={"supported_currencies": ["usd"]}, options=_o(acct)
    ).id


def _credit(client, acct: str, fa: str, amount: int, network: str = "ach"):
    return client.v1.test_helpers.treasury.received_credits.create(
        params={"financial_account": fa, "amount": amount, "currency": "usd", "network": network},
        options=_o(acct),
    )


def _reverse(client, acct: str, credit: str, **extra):
    return client.v1.treasury.credit_reversals.create(
        params={"received_credit": credit, **extra}, options=_o(acct)
    )


def _error(call, *args, **kwargs) -> stripe.StripeError:
    with pytest.raises(stripe.StripeError) as raised:
        call(*args, **kwargs)
    return raised.value


def _restricted(client, acct: str, credit: str) -> tuple[str | None, int | None]:
    shown = client.v1.treasury.received_credits.retrieve(credit, options=_o(acct))
    return shown.reversal_details.restricted_reason, shown.reversal_details.deadline


def test_reversing_an_ach_credit_debits_it_back(client, server, acct, fa):
    credit = _credit(client, acct, fa, 8_000)
    assert credit.reversal_details.restricted_reason is None
    assert credit.reversal_details.deadline == credit.created + 5 * DAY
    fund(client, acct, fa, 500)
    reversal = _reverse(client, acct, credit.id, metadata={"why": "sent twice"})
    assert reversal.id.startswith("credrev_") and reversal.object == "treasury.credit_reversal"
    assert (reversal.amount, reversal.currency, reversal.network) == (8_000, "usd", "ach")
    assert (reversal.received_credit, reversal.financial_account) == (credit.id, fa)
    assert reversal.status == "posted" and reversal.status_transitions.posted_at is not None
    assert reversal.metadata.to_dict() == {"why": "sent twice"}
    assert reversal.hosted_regulatory_receipt_url is None
    assert_books(client, acct, fa, cash=500)

    trxn = client.v1.treasury.transactions.retrieve(
        reversal.transaction, params={"expand": ["entries"]}, options=_o(acct)
    )
    assert (trxn.flow_type, trxn.flow, trxn.status, trxn.amount) == (
        "credit_reversal",
        reversal.id,
        "posted",
        -8_000,
    )
    entries = sorted(trxn.entries.data, key=lambda e: e.id)
    assert [
        (e.type, e.balance_impact.cash, e.balance_impact.outbound_pending) for e in entries
    ] == [("credit_reversal", -8_000, 8_000), ("credit_reversal_posting", 0, -8_000)]

    after = client.v1.treasury.received_credits.retrieve(credit.id, options=_o(acct))
    assert after.linked_flows.credit_reversal == reversal.id
    assert after.reversal_details.restricted_reason == "already_reversed"
    assert after.reversal_details.deadline == credit.reversal_details.deadline
    # the created event shows it processing, the posted one posted
    events = client.v1.events.list(params={"limit": 20}, options=_o(acct)).data
    mine = [(e.type, e.data.object.status) for e in reversed(events)]
    mine = [m for m in mine if m[0].startswith("treasury.credit_reversal.")]
    assert mine == [
        ("treasury.credit_reversal.created", "processing"),
        ("treasury.credit_reversal.posted", "posted"),
    ]
    # at most once
    error = _error(_reverse, client, acct, credit.id)
    assert (error.http_status, error.param) == (400, "received_credit")
    assert "already been reversed" in error.user_message
    assert_books(client, acct, fa, cash=500)
    assert_audit_clean(server)


def test_a_reversal_needs_the_cash(client, server, acct, fa):
    credit = _credit(client, acct, fa, 3_000)
    client.v1.test_helpers.treasury.received_debits.create(
        params={"financial_account": fa, "amount": 1_000, "currency": "usd", "network": "ach"},
        options=_o(acct),
    )
    error = _error(_reverse, client, acct, credit.id)
    assert (error.http_status, error.code, error.param) == (
        400,
        "insufficient_funds",
        "received_credit",
    )
    assert _restricted(client, acct, credit.id)[0] is None  # still reversible
    listing = client.v1.treasury.credit_reversals.list(
        params={"financial_account": fa}, options=_o(acct)
    )
    assert listing.data == []
    assert_books(client, acct, fa, cash=2_000)
    fund(client, acct, fa, 1_000)
    assert _reverse(client, acct, credit.id).status == "posted"
    assert_books(client, acct, fa, cash=0)
    assert_audit_clean(server)


@pytest.mark.parametrize("network", ["us_domestic_wire", "rtp"])
def test_wire_and_rtp_credits_are_network_restricted(client, server, acct, fa, network):
    credit = _credit(client, acct, fa, 1_000, network=network)
    assert credit.reversal_details.to_dict() == {
        "deadline": None,
        "restricted_reason": "network_restricted",
    }
    error = _error(_reverse, client, acct, credit.id)
    assert (error.http_status, error.param) == (400, "received_credit")
    assert_books(client, acct, fa, cash=1_000)


def test_the_deadline_passes(client, server, acct, fa):
    server.clock.freeze()  # the boundary is exact: the wall clock must not tick past it
    credit = _credit(client, acct, fa, 1_000)
    server.clock.advance(5 * DAY)  # at the deadline: still reversible
    assert _restricted(client, acct, credit.id) == (None, credit.reversal_details.deadline)
    server.clock.advance(1)
    assert _restricted(client, acct, credit.id) == (
        "deadline_passed",
        credit.reversal_details.deadline,
    )
    error = _error(_reverse, client, acct, credit.id)
    assert (error.http_status, error.param) == (400, "received_credit")
    assert "deadline" in error.user_message
    assert_books(client, acct, fa, cash=1_000)


def test_a_failed_credit_cannot_be_reversed(client, server, acct, fa):
    other = client.v1.treasury.financial_accounts.create(
        params={"supported_currencies": ["usd"]}, options=_o(acct)
    ).id
    client.v1.treasury.financial_accounts.close(other, options=_o(acct))
    failed = _credit(client, acct, other, 100)
    assert failed.status == "failed"
    assert failed.reversal_details.restricted_reason == "other"
    assert _error(_reverse, client, acct, failed.id).param == "received_credit"


def test_list_and_retrieve(client, server, acct, fa):
    credits = [_credit(client, acct, fa, amount) for amount in (100, 200, 300)]
    other_fa = client.v1.treasury.financial_accounts.create(
        params={"supported_currencies": ["usd"]}, options=_o(acct)
    ).id
    elsewhere = _reverse(client, acct, _credit(client, acct, other_fa, 50).id)
    reversals = [_reverse(client, acct, c.id) for c in credits]
    listing = client.v1.treasury.credit_reversals.list(
        params={"financial_account": fa}, options=_o(acct)
    )
    assert [r.id for r in listing.data] == [r.id for r in reversed(reversals)]
    by_credit = client.v1.treasury.credit_reversals.list(
        params={"financial_account": fa, "received_credit": credits[1].id}, options=_o(acct)
    )
    assert [r.id for r in by_credit.data] == [reversals[1].id]
    posted = client.v1.treasury.credit_reversals.list(
        params={"financial_account": fa, "status": "posted", "limit": 2}, options=_o(acct)
    )
    assert len(posted.data) == 2 and posted.has_more
    processing = client.v1.treasury.credit_reversals.list(
        params={"financial_account": fa, "status": "processing"}, options=_o(acct)
    )
    assert processing.data == []
    fetched = client.v1.treasury.credit_reversals.retrieve(reversals[0].id, options=_o(acct))
    assert fetched.to_dict() == reversals[0].to_dict()
    assert elsewhere.financial_account == other_fa
    error = _error(client.v1.treasury.credit_reversals.list, params={}, options=_o(acct))
    assert (error.http_status, error.param) == (400, "financial_account")
    assert_books(client, acct, fa, cash=0)
    assert_audit_clean(server)


def test_another_accounts_objects_are_not_found(client, server, acct, fa):
    credit = _credit(client, acct, fa, 700)
    reversal = _reverse(client, acct, _credit(client, acct, fa, 300).id)
    other = activated_account(client)
    o = _o(other)
    assert _error(_reverse, client, other, credit.id).http_status == 404
    error = _error(client.v1.treasury.credit_reversals.retrieve, reversal.id, options=o)
    assert error.http_status == 404
    error = _error(
        client.v1.treasury.credit_reversals.list, params={"financial_account": fa}, options=o
    )
    assert error.http_status == 404
    assert _restricted(client, acct, credit.id)[0] is None
    assert_books(client, acct, fa, cash=700)


def test_an_idempotent_retry_reverses_once(client, server, acct, fa):
    credit = _credit(client, acct, fa, 1_200)
    options = {"stripe_account": acct, "idempotency_key": "credrev-once"}
    params = {"received_credit": credit.id}
    first = client.v1.treasury.credit_reversals.create(params=params, options=options)
    again = client.v1.treasury.credit_reversals.create(params=params, options=options)
    assert first.id == again.id
    assert_books(client, acct, fa, cash=0)
    assert_audit_clean(server)


def test_unknown_received_credit_is_404(client, acct):
    error = _error(_reverse, client, acct, "rc_doesnotexist")
    assert (error.http_status, error.param) == (404, "received_credit")
