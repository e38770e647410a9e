"""Issuing disputes and Treasury debit reversals, end to end through the official SDK.

A connected account funds its financial account, buys with a Treasury-funded card, disputes
the capture (by ``transaction`` or by ``treasury[received_debit]``), attaches evidence, submits,
and sees the test-mode outcome: won (the money comes back through a ``card`` debit reversal
linked to the dispute and the received debit) or lost (nothing moves). Balances, Treasury
transactions and events are checked after each step; money tests end with the ledger audit.
"""

from __future__ import annotations

import pytest
import stripe

from openissuing.storage.ledger_audit import audit
from openissuing.storage.uow import transaction as db_transaction
from tests.flows import activated_account
from tests.refunds import refund as refund_made

ADDRESS = {
    "line1": "1 Main St",
    "city": "San Francisco",
    "state": "CA",
    "postal_code": "94111",
    "country": "US",
}
DAY = 86_400
DISPUTE_FIELDS = {
    "amount",
    "balance_transactions",
    "created",
    "currency",
    "evidence",
    "id",
    "livemode",
    "loss_reason",
    "metadata",
    "object",
    "status",
    "transaction",
    "treasury",
}
REASONS = (
    "canceled",
    "duplicate",
    "fraudulent",
    "merchandise_not_as_described",
    "no_valid_authorization",
    "not_received",
    "other",
    "service_not_as_described",
)
DEBIT_REVERSAL_FIELDS = {
    "amount",
    "created",
    "currency",
    "financial_account",
    "hosted_regulatory_receipt_url",
    "id",
    "linked_flows",
    "livemode",
    "metadata",
    "network",
    "object",
    "received_debit",
    "status",
    "status_transitions",
    "transaction",
}
WIN = {
    "reason": "fraudulent",
    "fraudulent": {"explanation": "Card reported stolen. winning_evidence"},
}
LOSE = {
    "reason": "fraudulent",
    "fraudulent": {"explanation": "Card reported stolen. losing_evidence"},
}


class Books:
    """A connected account with a funded financial account and an active Treasury-backed card."""

    def __init__(self, client, server, fund: int = 10_000) -> None:
        self.client, self.server = client, server
        self.acct = activated_account(client)
        self.o = {"stripe_account": self.acct}
        self.fa = client.v1.treasury.financial_accounts.create(
            params={
                "supported_currencies": ["usd"],
                "features": {"card_issuing": {"requested": True}},
            },
            options=self.o,
        ).id
        cardholder = client.v1.issuing.cardholders.create(
            params={
                "name": "Jenny Rosen",
                "billing": {"address": ADDRESS},
                "individual": {"first_name": "Jenny", "last_name": "Rosen"},
            },
            options=self.o,
        ).id
        self.card = client.v1.issuing.cards.create(
            params={
                "cardholder": cardholder,
                "financial_account": self.fa,
                "currency": "usd",
                "type": "virtual",
                "status": "active",
            },
            options=self.o,
        ).id
        if fund:
            client.v1.test_helpers.treasury.received_credits.create(
                params={
                    "financial_account": self.fa,
                    "amount": fund,
                    "currency": "usd",
                    "network": "ach",
                },
                options=self.o,
            )

    @property
    def disputes(self):
        return self.client.v1.issuing.disputes

    def purchase(self, amount: int):
        """Authorize and capture ``amount``: the capture transaction."""
        helpers = self.client.v1.test_helpers.issuing.authorizations
        auth = helpers.create(params={"card": self.card, "amount": amount}, options=self.o)
        return helpers.capture(auth.id, options=self.o).transactions[-1]

    def force_capture(self, amount: int):
        return self.client.v1.test_helpers.issuing.transactions.create_force_capture(
            params={"card": self.card, "amount": amount}, options=self.o
        )

    def dispute(self, txn_id: str, **params):
        return self.disputes.create(params={"transaction": txn_id, **params}, options=self.o)

    def cash(self) -> int:
        return self.client.v1.treasury.financial_accounts.retrieve(
            self.fa, options=self.o
        ).balance.cash["usd"]

    def check_cash(self, expected: int) -> None:
        """The balance shown, and the same number summed from the Treasury transactions."""
        assert self.cash() == expected
        page = self.client.v1.treasury.transactions.list(
            params={"financial_account": self.fa, "limit": 100}, options=self.o
        )
        assert sum(t.balance_impact.cash for t in page.auto_paging_iter()) == expected

    def events(self, event_type: str) -> list[dict]:
        def read(uow):
            return uow.docs.list(
                "event", self.acct, filters={"type": event_type}, limit=None
            ).records

        return db_transaction(self.server.runtime.engine, read, write=False)

    def event_objects(self, event_type: str, object_id: str) -> list[dict]:
        return [
            e["data"]["object"]
            for e in self.events(event_type)
            if e["data"]["object"]["id"] == object_id
        ]

    def audit_clean(self) -> None:
        with self.server.runtime.engine.connect() as conn:
            assert audit(conn) == []


@pytest.fixture()
def books(client, server) -> Books:
    return Books(client, server)


def _error(call, *args, kind=stripe.InvalidRequestError, **kwargs) -> stripe.StripeError:
    with pytest.raises(kind) as raised:
        call(*args, **kwargs)
    return raised.value


def _refused(error: stripe.StripeError, status: int, code: str | None, param: str | None) -> None:
    assert (error.http_status, error.code, error.error.param) == (status, code, param), (
        error.user_message
    )


# ---------------------------------------------------------------------------------------------- won


def test_won_dispute_returns_the_money_through_a_debit_reversal(books):
    b = books
    txn = b.purchase(3_000)
    rd = txn.treasury.received_debit
    b.check_cash(7_000)

    created = b.dispute(txn.id, evidence=WIN, metadata={"case": "42"})
    assert created.id.startswith("idp_") and created.object == "issuing.dispute"
    assert set(created.to_dict()) == DISPUTE_FIELDS
    assert (created.status, created.amount, created.currency, created.transaction) == (
        "unsubmitted",
        3_000,
        "usd",
        txn.id,
    )
    assert (
        created.loss_reason is None
        and created.balance_transactions == []
        and created.livemode is False
    )
    assert created.treasury.to_dict() == {"received_debit": rd, "debit_reversal": None}
    assert created.metadata.to_dict() == {"case": "42"}
    evidence = created.evidence.to_dict()
    assert set(evidence) == {"reason", *REASONS} and evidence["reason"] == "fraudulent"
    assert evidence["fraudulent"] == {
        "additional_documentation": None,
        "explanation": WIN["fraudulent"]["explanation"],
    }
    assert all(evidence[r] is None for r in REASONS if r != "fraudulent")
    assert b.client.v1.issuing.transactions.retrieve(txn.id, options=b.o).dispute == created.id
    assert [o["status"] for o in b.event_objects("issuing_dispute.created", created.id)] == [
        "unsubmitted"
    ]
    assert [o["dispute"] for o in b.event_objects("issuing_transaction.updated", txn.id)] == [
        created.id
    ]
    b.check_cash(7_000)  # opening a dispute moves nothing

    submitted = b.disputes.submit(created.id, options=b.o)
    assert (
        submitted.status == "submitted" and submitted.treasury.debit_reversal is None
    )  # Stripe's answer
    won = b.disputes.retrieve(created.id, options=b.o)
    assert won.status == "won" and won.loss_reason is None
    reversal_id = won.treasury.debit_reversal
    assert reversal_id.startswith("debrev_") and won.treasury.received_debit == rd
    b.check_cash(10_000)

    reversal = b.client.v1.treasury.debit_reversals.retrieve(reversal_id, options=b.o)
    assert (
        set(reversal.to_dict()) == DEBIT_REVERSAL_FIELDS
        and reversal.object == "treasury.debit_reversal"
    )
    assert (reversal.amount, reversal.currency, reversal.network, reversal.status) == (
        3_000,
        "usd",
        "card",
        "succeeded",
    )
    assert (reversal.financial_account, reversal.received_debit) == (b.fa, rd)
    assert reversal.linked_flows.issuing_dispute == created.id
    assert (
        reversal.status_transitions.completed_at is not None and reversal.metadata.to_dict() == {}
    )

    trxn = b.client.v1.treasury.transactions.retrieve(
        reversal.transaction, params={"expand": ["entries", "flow_details"]}, options=b.o
    )
    assert (trxn.flow_type, trxn.flow, trxn.amount, trxn.status) == (
        "debit_reversal",
        reversal_id,
        3_000,
        "posted",
    )
    assert trxn.balance_impact.to_dict() == {
        "cash": 3_000,
        "inbound_pending": 0,
        "outbound_pending": 0,
    }
    assert trxn.status_transitions.posted_at is not None
    assert (
        trxn.flow_details.type == "debit_reversal"
        and trxn.flow_details.debit_reversal.id == reversal_id
    )
    (entry,) = trxn.entries.data
    assert (entry.type, entry.flow_type, entry.flow) == (
        "debit_reversal",
        "debit_reversal",
        reversal_id,
    )
    assert entry.balance_impact.cash == 3_000

    debit = b.client.v1.treasury.received_debits.retrieve(rd, options=b.o)
    assert debit.linked_flows.debit_reversal == reversal_id
    assert debit.reversal_details.restricted_reason == "already_reversed"

    assert [o["status"] for o in b.event_objects("issuing_dispute.submitted", created.id)] == [
        "submitted"
    ]
    assert [o["status"] for o in b.event_objects("issuing_dispute.closed", created.id)] == ["won"]
    assert [
        o["status"] for o in b.event_objects("issuing_dispute.funds_reinstated", created.id)
    ] == ["won"]
    assert "won" in [o["status"] for o in b.event_objects("issuing_dispute.updated", created.id)]
    assert b.events("issuing_dispute.funds_rescinded") == []
    for suffix, status in (
        ("created", "processing"),
        ("initial_credit_granted", "processing"),
        ("completed", "succeeded"),
    ):
        assert [
            o["status"] for o in b.event_objects(f"treasury.debit_reversal.{suffix}", reversal_id)
        ] == [status]

    listed = b.client.v1.treasury.debit_reversals.list(
        params={"financial_account": b.fa}, options=b.o
    )
    assert [r.id for r in listed.data] == [reversal_id]
    for filters in ({"status": "completed"}, {"resolution": "won"}, {"received_debit": rd}):
        page = b.client.v1.treasury.debit_reversals.list(
            params={"financial_account": b.fa, **filters}, options=b.o
        )
        assert [r.id for r in page.data] == [reversal_id]
    for filters in (
        {"status": "processing"},
        {"resolution": "lost"},
        {"received_debit": "rd_other"},
    ):
        page = b.client.v1.treasury.debit_reversals.list(
            params={"financial_account": b.fa, **filters}, options=b.o
        )
        assert page.data == []

    (closed,) = b.client.v1.events.list(params={"type": "issuing_dispute.closed"}, options=b.o).data
    assert closed.data.object.id == created.id and closed.data.object.status == "won"
    assert set(closed.data.object.to_dict()) == DISPUTE_FIELDS  # private bookkeeping never leaves

    expanded = b.disputes.retrieve(
        created.id, params={"expand": ["transaction", "treasury.debit_reversal"]}, options=b.o
    )
    assert expanded.transaction.id == txn.id and expanded.transaction.dispute == created.id
    assert expanded.treasury.debit_reversal.id == reversal_id
    b.audit_clean()


def test_dispute_by_treasury_received_debit_and_partial_amounts(books):
    b = books
    txn = b.force_capture(5_000)
    rd = txn.treasury.received_debit
    b.check_cash(5_000)

    first = b.disputes.create(
        params={"treasury": {"received_debit": rd}, "amount": 2_000, "evidence": WIN}, options=b.o
    )
    assert (first.transaction, first.amount, first.treasury.received_debit) == (txn.id, 2_000, rd)
    # Not twice at once: the first is still open.
    _refused(_error(b.dispute, txn.id, amount=1_000), 400, "charge_disputed", "transaction")
    b.disputes.submit(first.id, options=b.o)
    b.check_cash(7_000)
    assert (
        b.client.v1.treasury.received_debits.retrieve(
            rd, options=b.o
        ).reversal_details.restricted_reason
        is None
    )

    # Less any earlier dispute: 3,000 remain.
    _refused(_error(b.dispute, txn.id, amount=3_001), 400, "amount_too_large", "amount")
    second = b.dispute(txn.id, evidence=WIN)
    assert second.amount == 3_000
    assert b.client.v1.issuing.transactions.retrieve(txn.id, options=b.o).dispute == second.id
    b.disputes.submit(second.id, options=b.o)
    b.check_cash(10_000)
    _refused(_error(b.dispute, txn.id), 400, "charge_disputed", "transaction")

    reversals = b.client.v1.treasury.debit_reversals.list(
        params={"financial_account": b.fa, "received_debit": rd}, options=b.o
    )
    assert sorted(r.amount for r in reversals.data) == [2_000, 3_000]
    debit = b.client.v1.treasury.received_debits.retrieve(rd, options=b.o)
    assert debit.reversal_details.restricted_reason == "already_reversed"
    assert (
        debit.linked_flows.debit_reversal
        == b.disputes.retrieve(second.id, options=b.o).treasury.debit_reversal
    )
    b.audit_clean()


# --------------------------------------------------------------------------------------------- lost


def test_lost_dispute_moves_nothing(books):
    b = books
    txn = b.purchase(4_000)
    created = b.dispute(txn.id, evidence=LOSE)
    assert b.disputes.submit(created.id, options=b.o).status == "submitted"
    lost = b.disputes.retrieve(created.id, options=b.o)
    assert (lost.status, lost.loss_reason) == ("lost", "other")
    assert lost.treasury.to_dict() == {
        "received_debit": txn.treasury.received_debit,
        "debit_reversal": None,
    }
    b.check_cash(6_000)
    assert (
        b.client.v1.treasury.debit_reversals.list(
            params={"financial_account": b.fa}, options=b.o
        ).data
        == []
    )
    assert [o["status"] for o in b.event_objects("issuing_dispute.closed", created.id)] == ["lost"]
    assert b.event_objects("issuing_dispute.funds_reinstated", created.id) == []
    assert b.events("treasury.debit_reversal.created") == []
    # The network has ruled on the whole amount: it cannot be disputed again.
    _refused(_error(b.dispute, txn.id), 400, "charge_disputed", "transaction")
    b.audit_clean()


def test_outcome_is_won_by_default_and_lost_only_on_losing_evidence(books):
    b = books
    plain = b.dispute(
        b.force_capture(100).id,
        evidence={
            "reason": "other",
            "other": {
                "explanation": "Merchant never answered.",
                "product_type": "service",
                "product_description": "Lessons",
            },
        },
    )
    b.disputes.submit(plain.id, options=b.o)
    assert b.disputes.retrieve(plain.id, options=b.o).status == "won"
    losing = b.dispute(
        b.force_capture(100).id,
        evidence={
            "reason": "other",
            "other": {
                "explanation": "losing_evidence",
                "product_type": "service",
                "product_description": "Lessons",
            },
        },
    )
    b.disputes.submit(losing.id, options=b.o)
    assert b.disputes.retrieve(losing.id, options=b.o).status == "lost"
    b.check_cash(10_000 - 100)


# ----------------------------------------------------------------------------------------- refusals


def test_refusals_on_create(books, client, server):
    b = books
    capture = b.purchase(1_000)
    refund = refund_made(client, capture.id, {"refund_amount": 400}, b.o)
    _refused(_error(b.dispute, refund.id), 400, None, "transaction")
    _refused(_error(b.dispute, capture.id, amount=1_001), 400, "amount_too_large", "amount")
    _refused(_error(b.dispute, capture.id, amount=0), 400, "amount_too_small", "amount")
    _refused(
        _error(b.disputes.create, params={}, options=b.o), 400, "parameter_missing", "transaction"
    )
    _refused(_error(b.dispute, "ipi_missing"), 404, "resource_missing", "transaction")
    _refused(
        _error(
            b.disputes.create, params={"treasury": {"received_debit": "rd_missing"}}, options=b.o
        ),
        404,
        "resource_missing",
        "treasury[received_debit]",
    )
    ach = client.v1.test_helpers.treasury.received_debits.create(
        params={"financial_account": b.fa, "amount": 100, "currency": "usd", "network": "ach"},
        options=b.o,
    )
    _refused(
        _error(b.disputes.create, params={"treasury": {"received_debit": ach.id}}, options=b.o),
        400,
        None,
        "treasury[received_debit]",
    )
    other = b.force_capture(50)
    _refused(
        _error(
            b.disputes.create,
            params={
                "transaction": other.id,
                "treasury": {"received_debit": capture.treasury.received_debit},
            },
            options=b.o,
        ),
        400,
        None,
        "transaction",
    )

    # Only in the owning connected account: elsewhere the transaction and the dispute do not exist.
    stranger = Books(client, server, fund=0)
    _refused(_error(stranger.dispute, capture.id), 404, "resource_missing", "transaction")
    _refused(
        _error(client.v1.issuing.disputes.create, params={"transaction": capture.id}),
        404,
        "resource_missing",
        "transaction",
    )
    mine = b.dispute(capture.id)
    _refused(
        _error(stranger.disputes.retrieve, mine.id, options=stranger.o),
        404,
        "resource_missing",
        "id",
    )
    _refused(
        _error(stranger.disputes.submit, mine.id, options=stranger.o), 404, "resource_missing", "id"
    )
    assert stranger.disputes.list(options=stranger.o).data == []
    b.check_cash(10_000 - 1_000 + 400 - 100 - 50)
    b.audit_clean()


def test_update_while_unsubmitted_then_only_metadata(books):
    b = books
    txn = b.purchase(2_000)
    created = b.dispute(txn.id, metadata={"a": "1"})
    assert created.evidence.reason == "other"
    assert created.evidence.other.to_dict() == {
        "additional_documentation": None,
        "explanation": None,
        "product_description": None,
        "product_type": None,
    }

    updated = b.disputes.update(
        created.id,
        params={
            "amount": 1_500,
            "metadata": {"b": "2"},
            "evidence": {
                "reason": "not_received",
                "not_received": {
                    "explanation": "Never arrived",
                    "product_type": "merchandise",
                    "product_description": "A lamp",
                    "expected_at": 1_700_000_000,
                    "additional_documentation": "file_receipt",
                },
            },
        },
        options=b.o,
    )
    assert updated.amount == 1_500 and updated.metadata.to_dict() == {"a": "1", "b": "2"}
    assert updated.evidence.reason == "not_received"
    assert (
        updated.evidence.not_received.additional_documentation == "file_receipt"
    )  # a plain file id
    assert updated.evidence.not_received.expected_at == 1_700_000_000
    (event,) = [
        e for e in b.events("issuing_dispute.updated") if e["data"]["object"]["id"] == created.id
    ]
    assert event["data"]["previous_attributes"]["amount"] == 2_000

    cleared = b.disputes.update(
        created.id,
        params={"evidence": {"not_received": {"additional_documentation": ""}, "other": ""}},
        options=b.o,
    )
    assert cleared.evidence.not_received.additional_documentation is None
    assert (
        cleared.evidence.not_received.explanation == "Never arrived"
        and cleared.evidence.other is None
    )
    _refused(
        _error(b.disputes.update, created.id, params={"amount": 2_001}, options=b.o),
        400,
        "amount_too_large",
        "amount",
    )
    assert b.disputes.update(created.id, params={"amount": 2_000}, options=b.o).amount == 2_000

    b.disputes.submit(created.id, params={"metadata": {"submitted": "yes"}}, options=b.o)
    for params, param in (
        ({"amount": 100}, "amount"),
        ({"evidence": {"reason": "fraudulent"}}, "evidence"),
    ):
        _refused(
            _error(b.disputes.update, created.id, params=params, options=b.o),
            400,
            "status_transition_invalid",
            param,
        )
    later = b.disputes.update(created.id, params={"metadata": {"a": ""}}, options=b.o)
    assert later.metadata.to_dict() == {"b": "2", "submitted": "yes"} and later.status == "won"
    _refused(
        _error(b.disputes.submit, created.id, options=b.o), 400, "status_transition_invalid", None
    )
    b.check_cash(10_000)
    b.audit_clean()


# ------------------------------------------------------------------------------ evidence per reason

# For each reason, the evidence it needs, in the order submit asks for it.
REQUIRED = {
    "canceled": [
        ("explanation", "Canceled before delivery"),
        ("product_type", "merchandise"),
        ("product_description", "A chair"),
        ("canceled_at", 1_700_000_000),
        ("cancellation_reason", "Changed my mind"),
        ("return_status", "successful"),
        ("returned_at", 1_700_100_000),
    ],
    "duplicate": [("explanation", "Charged twice"), ("original_transaction", None)],
    "fraudulent": [("explanation", "Card stolen")],
    "merchandise_not_as_described": [
        ("explanation", "Broken"),
        ("received_at", 1_700_000_000),
        ("return_status", "merchant_rejected"),
        ("returned_at", 1_700_100_000),
    ],
    "no_valid_authorization": [("explanation", "Never authorized")],
    "not_received": [
        ("explanation", "Never arrived"),
        ("product_type", "merchandise"),
        ("product_description", "A lamp"),
        ("expected_at", 1_700_000_000),
    ],
    "other": [
        ("explanation", "Something else"),
        ("product_type", "service"),
        ("product_description", "Lessons"),
    ],
    "service_not_as_described": [
        ("explanation", "Bad service"),
        ("received_at", 1_700_000_000),
        ("canceled_at", 1_700_050_000),
        ("cancellation_reason", "Poor quality"),
    ],
}


@pytest.mark.parametrize("reason", REASONS)
def test_submit_requires_each_reasons_evidence(books, reason):
    b = books
    original = b.force_capture(300)
    txn = b.force_capture(700)
    created = b.dispute(txn.id, evidence={"reason": reason})
    assert created.evidence[reason] is not None  # the chosen reason's object, every field null
    for name, value in REQUIRED[reason]:
        error = _error(b.disputes.submit, created.id, options=b.o)
        _refused(error, 400, "parameter_missing", f"evidence[{reason}][{name}]")
        value = original.id if name == "original_transaction" else value
        b.disputes.update(created.id, params={"evidence": {reason: {name: value}}}, options=b.o)
    assert b.disputes.submit(created.id, options=b.o).status == "submitted"
    assert b.disputes.retrieve(created.id, options=b.o).status == "won"
    b.check_cash(10_000 - 300)


def test_evidence_edge_cases(books):
    b = books
    # Canceled services need no return details.
    service = b.dispute(
        b.force_capture(100).id,
        evidence={
            "canceled": {
                "explanation": "Canceled",
                "product_type": "service",
                "product_description": "Gym",
                "canceled_at": 1_700_000_000,
                "cancellation_reason": "Moved away",
                "cancellation_policy_provided": False,
            }
        },
    )
    assert service.evidence.reason == "canceled"  # inferred from the only evidence given
    assert b.disputes.submit(service.id, options=b.o).status == "submitted"
    # A blank explanation is no explanation.
    blank = b.dispute(b.force_capture(100).id, evidence={"fraudulent": {"explanation": "   "}})
    _refused(
        _error(b.disputes.submit, blank.id, options=b.o),
        400,
        "parameter_missing",
        "evidence[fraudulent][explanation]",
    )
    # Several reasons' evidence and no reason: ambiguous.
    txn = b.force_capture(100)
    _refused(
        _error(
            b.dispute,
            txn.id,
            evidence={"fraudulent": {"explanation": "x"}, "other": {"explanation": "y"}},
        ),
        400,
        "parameter_missing",
        "evidence[reason]",
    )
    # A duplicate must name another, existing transaction.
    dup = b.dispute(
        txn.id, evidence={"duplicate": {"explanation": "Twice", "original_transaction": txn.id}}
    )
    _refused(
        _error(b.disputes.submit, dup.id, options=b.o),
        400,
        None,
        "evidence[duplicate][original_transaction]",
    )
    b.disputes.update(
        dup.id,
        params={"evidence": {"duplicate": {"original_transaction": "ipi_nope"}}},
        options=b.o,
    )
    _refused(
        _error(b.disputes.submit, dup.id, options=b.o),
        404,
        "resource_missing",
        "evidence[duplicate][original_transaction]",
    )
    _refused(
        _error(b.dispute, txn.id, evidence={"reason": "nonsense"}), 400, None, "evidence[reason]"
    )


# ------------------------------------------------------------------------------------------- expiry


def test_unsubmitted_dispute_expires_after_the_deadline(books, server):
    b = books
    txn = b.purchase(1_000)
    late = b.dispute(txn.id)
    server.clock.advance(109 * DAY)
    assert b.disputes.retrieve(late.id, options=b.o).status == "unsubmitted"
    fresh = b.dispute(b.force_capture(500).id, evidence=WIN)
    server.clock.advance(1 * DAY + 1)

    listed = b.disputes.list(params={"status": "expired"}, options=b.o)  # listing expires lazily
    assert [d.id for d in listed.data] == [late.id]
    expired = b.disputes.retrieve(late.id, options=b.o)
    assert expired.status == "expired" and expired.loss_reason is None
    assert [o["status"] for o in b.event_objects("issuing_dispute.closed", late.id)] == ["expired"]
    assert "expired" in [o["status"] for o in b.event_objects("issuing_dispute.updated", late.id)]
    _refused(
        _error(b.disputes.submit, late.id, options=b.o), 400, "status_transition_invalid", None
    )
    _refused(
        _error(b.disputes.update, late.id, params={"amount": 10}, options=b.o),
        400,
        "status_transition_invalid",
        "amount",
    )
    assert (
        b.disputes.update(late.id, params={"metadata": {"k": "v"}}, options=b.o).metadata.k == "v"
    )
    _refused(_error(b.dispute, txn.id), 400, None, "transaction")  # past the window for good

    # The other dispute's transaction is younger: still open, and it can be won.
    assert b.disputes.retrieve(fresh.id, options=b.o).status == "unsubmitted"
    b.disputes.submit(fresh.id, options=b.o)
    assert b.disputes.retrieve(fresh.id, options=b.o).status == "won"
    b.check_cash(10_000 - 1_000)
    b.audit_clean()


# --------------------------------------------------------------------------------------------- list


def test_list_filters_and_pagination(books):
    b = books
    first_txn, second_txn = b.force_capture(100), b.force_capture(200)
    first = b.dispute(first_txn.id, evidence=WIN)
    second = b.dispute(second_txn.id)
    b.disputes.submit(first.id, options=b.o)

    everything = b.disputes.list(options=b.o)
    assert [d.id for d in everything.data] == [
        second.id,
        first.id,
    ] and everything.url == "/v1/issuing/disputes"
    assert [d.id for d in b.disputes.list(params={"status": "won"}, options=b.o).data] == [first.id]
    assert [d.id for d in b.disputes.list(params={"status": "unsubmitted"}, options=b.o).data] == [
        second.id
    ]
    assert [
        d.id for d in b.disputes.list(params={"transaction": second_txn.id}, options=b.o).data
    ] == [second.id]
    assert b.disputes.list(params={"created": {"gt": second.created}}, options=b.o).data == []
    assert len(b.disputes.list(params={"created": {"gte": first.created}}, options=b.o).data) == 2
    page = b.disputes.list(params={"limit": 1}, options=b.o)
    assert [d.id for d in page.data] == [second.id] and page.has_more is True
    after = b.disputes.list(params={"limit": 1, "starting_after": second.id}, options=b.o)
    assert [d.id for d in after.data] == [first.id] and after.has_more is False
    _refused(_error(b.disputes.list, params={"status": "open"}, options=b.o), 400, None, "status")


# ----------------------------------------------------------------------------- ACH debit reversals


def test_debit_reversal_of_an_ach_received_debit(books, client, server):
    b = books
    reversals = client.v1.treasury.debit_reversals
    debit = client.v1.test_helpers.treasury.received_debits.create(
        params={"financial_account": b.fa, "amount": 4_000, "currency": "usd", "network": "ach"},
        options=b.o,
    )
    b.check_cash(6_000)

    reversal = reversals.create(
        params={"received_debit": debit.id, "metadata": {"why": "unauthorized"}}, options=b.o
    )
    assert set(reversal.to_dict()) == DEBIT_REVERSAL_FIELDS
    assert (reversal.amount, reversal.network, reversal.status, reversal.received_debit) == (
        4_000,
        "ach",
        "succeeded",
        debit.id,
    )
    assert reversal.linked_flows.issuing_dispute is None and reversal.metadata.to_dict() == {
        "why": "unauthorized"
    }
    b.check_cash(10_000)
    trxn = client.v1.treasury.transactions.retrieve(reversal.transaction, options=b.o)
    assert (trxn.flow_type, trxn.amount, trxn.status) == ("debit_reversal", 4_000, "posted")
    assert (
        b.event_objects("treasury.debit_reversal.completed", reversal.id)[0]["status"]
        == "succeeded"
    )
    fetched = client.v1.treasury.received_debits.retrieve(debit.id, options=b.o)
    assert fetched.linked_flows.debit_reversal == reversal.id
    assert fetched.reversal_details.restricted_reason == "already_reversed"

    _refused(
        _error(reversals.create, params={"received_debit": debit.id}, options=b.o),
        400,
        None,
        "received_debit",
    )
    card_debit = b.purchase(500).treasury.received_debit
    error = _error(reversals.create, params={"received_debit": card_debit}, options=b.o)
    _refused(error, 400, None, "received_debit")
    assert "/v1/issuing/disputes" in error.user_message
    _refused(
        _error(reversals.create, params={"received_debit": "rd_missing"}, options=b.o),
        404,
        "resource_missing",
        "received_debit",
    )
    _refused(
        _error(reversals.list, params={}, options=b.o),
        400,
        "parameter_missing",
        "financial_account",
    )
    _refused(
        _error(reversals.retrieve, "debrev_missing", options=b.o), 404, "resource_missing", "id"
    )
    stranger = Books(client, server, fund=0)
    _refused(
        _error(reversals.retrieve, reversal.id, options=stranger.o), 404, "resource_missing", "id"
    )
    _refused(
        _error(reversals.list, params={"financial_account": b.fa}, options=stranger.o),
        404,
        "resource_missing",
        "financial_account",
    )
    b.check_cash(9_500)
    b.audit_clean()
