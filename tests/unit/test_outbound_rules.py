"""The outbound flows' pure rules (domain.treasury.outbound), table-driven, in milliseconds.

Every action from every status is planned; each legal plan is then run as ledger batches
(``domain.ledger.money``) through the ledger's own checks and arithmetic, so the money each
final status leaves behind is the ledger's answer, not the plan's claim.
"""

from __future__ import annotations

import calendar
import datetime

import pytest

from openissuing.domain import ledger
from openissuing.domain.errors import (
    FeatureNotEnabled,
    FinancialAccountNotOpen,
    InvalidRequest,
    InvalidStatusTransition,
)
from openissuing.domain.ledger import Account, Impact, Kind, Result, Totals
from openissuing.domain.ledger import money as movements
from openissuing.domain.treasury import outbound as rules

PAYMENT, TRANSFER = rules.PAYMENT, rules.TRANSFER
AMOUNT = 700


def _record(status: str = "processing", network: str = "ach", object_type: str = PAYMENT):
    destination = (
        rules.financial_account_destination("fa_dest")
        if network == rules.STRIPE
        else rules.bank_destination({}, network)
    )
    record = rules.new_record(
        object_type,
        "obp_1",
        {"amount": AMOUNT, "financial_account": "fa_src"},
        currency="usd",
        destination=destination,
        payment_method=None,
        meta={},
        now=1_700_000_000,
    )
    record["status"] = status
    record["cancelable"] = rules.cancelable(status, network)
    return record


# ------------------------------------------------------------------ the transition table

LEGAL = {
    ("processing", "post"): "posted",
    ("processing", "fail"): "failed",
    ("processing", "cancel"): "canceled",
    ("processing", "return"): "returned",
    ("posted", "return"): "returned",
}


@pytest.mark.parametrize("status", rules.STATUSES)
@pytest.mark.parametrize("action", sorted(rules.ACTIONS))
@pytest.mark.parametrize("object_type", [PAYMENT, TRANSFER])
def test_every_action_from_every_status(status, action, object_type):
    record = _record(status, object_type=object_type)
    expected = LEGAL.get((status, action))
    if expected is None:
        with pytest.raises(InvalidStatusTransition) as refused:
            rules.plan(record, object_type, action)
        assert refused.value.code == "status_transition_invalid"
        assert rules.NOUNS[object_type] in refused.value.message
        return
    step = rules.plan(record, object_type, action)
    assert step.status == expected and step.event == expected
    assert step.settle == (status == "processing" and expected in ("posted", "returned"))
    assert step.release == (expected in ("failed", "canceled"))
    assert step.credit_back == (expected == "returned")
    assert not (step.settle and step.release)


@pytest.mark.parametrize("action", sorted(rules.ACTIONS))
def test_a_stripe_network_flow_never_moves_again(action):
    posted = _record("posted", network=rules.STRIPE)
    assert posted["cancelable"] is False
    with pytest.raises(InvalidStatusTransition):
        rules.plan(posted, PAYMENT, action)


def test_cancel_needs_cancelable():
    record = _record()
    record["cancelable"] = False
    with pytest.raises(InvalidStatusTransition, match="no longer be canceled"):
        rules.plan(record, PAYMENT, "cancel")
    assert rules.plan(record, PAYMENT, "fail").status == "failed"


@pytest.mark.parametrize(
    ("status", "network", "cancelable"),
    [
        ("processing", "ach", True),
        ("processing", "us_domestic_wire", True),
        ("processing", rules.STRIPE, False),
        ("posted", "ach", False),
        ("failed", "ach", False),
        ("canceled", "ach", False),
        ("returned", "ach", False),
    ],
)
def test_cancelable(status, network, cancelable):
    assert rules.cancelable(status, network) is cancelable


def test_apply_sets_status_timestamps_and_cancelable():
    record = _record()
    rules.apply(record, rules.plan(record, PAYMENT, "return"), 99)
    assert record["status"] == "returned" and record["cancelable"] is False
    assert record["status_transitions"] == {
        "canceled_at": None,
        "failed_at": None,
        "posted_at": 99,  # a return from processing settles first
        "returned_at": 99,
    }
    failed = _record()
    rules.apply(failed, rules.plan(failed, TRANSFER, "fail"), 5)
    assert failed["status_transitions"]["failed_at"] == 5
    assert failed["status_transitions"]["posted_at"] is None


# ------------------------------------------------------------------ the money, on the ledger


class Books:
    """A two-account in-memory ledger, applied with the domain's own check and effect."""

    def __init__(self, cash: int) -> None:
        self.pair = movements.Pair("fa", "ext", "usd")
        self.accounts = {
            "fa": Account("fa", "usd", Totals(credits_posted=cash)),
            "ext": Account("ext", "usd", Totals(debits_posted=cash)),
        }
        self.transfers: dict[str, ledger.Transfer] = {}
        self.resolved: set[str] = set()

    def run(self, batch: movements.Batch) -> Result:
        for transfer in batch.transfers:
            pending = self.transfers.get(transfer.pending_id or "")
            result = ledger.check(
                transfer,
                self.accounts[transfer.debit_account],
                self.accounts[transfer.credit_account],
                self.transfers.get(transfer.id),
                pending,
                (transfer.pending_id or "") in self.resolved,
            )
            if result is not Result.OK:
                return result
            debit_delta, credit_delta = ledger.effect(transfer, pending)
            deltas = (
                (transfer.debit_account, debit_delta),
                (transfer.credit_account, credit_delta),
            )
            for name, delta in deltas:
                account = self.accounts[name]
                self.accounts[name] = Account(name, "usd", ledger.add(account.totals, delta))
            self.transfers[transfer.id] = transfer
            if transfer.pending_id:
                self.resolved.add(transfer.pending_id)
        return Result.OK

    @property
    def balance(self) -> Impact:
        return ledger.balance_of(self.accounts["fa"].totals)


def _carry_out(books: Books, step: rules.Plan) -> None:
    live = movements.Hold("obp_1:hold", AMOUNT)
    if step.settle:
        assert books.run(movements.settle(books.pair, live, AMOUNT, "obp_1")) is Result.OK
    if step.release:
        assert books.run(movements.release(books.pair, live, "obp_1")) is Result.OK
    if step.credit_back:
        assert books.run(movements.credit(books.pair, "obp_1:return", AMOUNT, "obp_1")) is Result.OK


# What each path leaves on a financial account that had 1,000 of cash.
PATHS = [
    ((), Impact(cash=300, outbound_pending=700)),
    (("post",), Impact(cash=300)),
    (("fail",), Impact(cash=1_000)),
    (("cancel",), Impact(cash=1_000)),
    (("return",), Impact(cash=1_000)),
    (("post", "return"), Impact(cash=1_000)),
]


@pytest.mark.parametrize(("actions", "left"), PATHS)
def test_each_path_leaves_the_money_the_ledger_says(actions, left):
    books = Books(1_000)
    hold = movements.hold(books.pair, "obp_1:hold", AMOUNT, "obp_1", require_available=True)
    assert books.run(hold) is Result.OK
    record = _record()
    for action in actions:
        step = rules.plan(record, PAYMENT, action)
        _carry_out(books, step)
        rules.apply(record, step, 1)
    assert books.balance == left
    assert books.accounts["fa"].totals.credits_pending == 0


def test_a_hold_beyond_the_cash_is_refused_by_the_ledger():
    books = Books(699)
    hold = movements.hold(books.pair, "obp_1:hold", AMOUNT, "obp_1", require_available=True)
    assert books.run(hold) is Result.EXCEEDS_AVAILABLE
    assert books.balance == Impact(cash=699)


# ------------------------------------------------------------------ gating


def _fa(features=(), status="open", outbound=None, inbound=None, fa_id="fa_1"):
    return {
        "id": fa_id,
        "status": status,
        "active_features": list(features),
        "platform_restrictions": {"inbound_flows": inbound, "outbound_flows": outbound},
        "supported_currencies": ["usd"],
    }


@pytest.mark.parametrize(
    ("flow_type", "network", "feature"),
    [
        ("outbound_payment", "ach", "outbound_payments.ach"),
        ("outbound_payment", "us_domestic_wire", "outbound_payments.us_domestic_wire"),
        ("outbound_transfer", "ach", "outbound_transfers.ach"),
        ("outbound_transfer", "us_domestic_wire", "outbound_transfers.us_domestic_wire"),
        ("outbound_payment", rules.STRIPE, "intra_stripe_flows"),
        ("outbound_transfer", rules.STRIPE, "intra_stripe_flows"),
    ],
)
def test_the_feature_each_flow_needs(flow_type, network, feature):
    assert rules.feature_for(flow_type, network) == feature


@pytest.mark.parametrize(
    ("fa", "error", "code"),
    [
        (_fa(["outbound_payments.ach"]), None, None),
        (_fa(), FeatureNotEnabled, "feature_not_enabled"),
        (_fa(["outbound_payments.us_domestic_wire"]), FeatureNotEnabled, "feature_not_enabled"),
        (_fa(["outbound_payments.ach"], outbound="restricted"), FeatureNotEnabled, None),
        (_fa(["outbound_payments.ach"], outbound="unrestricted"), None, None),
        (_fa(["outbound_payments.ach"], inbound="restricted"), None, None),
        (_fa(["outbound_payments.ach"], status="closed"), FinancialAccountNotOpen, None),
    ],
)
def test_check_source(fa, error, code):
    if error is None:
        rules.check_source(fa, "outbound_payments.ach")
        return
    with pytest.raises(error) as refused:
        rules.check_source(fa, "outbound_payments.ach")
    assert refused.value.param == "financial_account"
    if code:
        assert refused.value.code == code


@pytest.mark.parametrize(
    ("fa", "error"),
    [
        (_fa(["intra_stripe_flows"], fa_id="fa_2"), None),
        (_fa(["intra_stripe_flows"], fa_id="fa_2", outbound="restricted"), None),
        (_fa(fa_id="fa_2"), FeatureNotEnabled),
        (_fa(["intra_stripe_flows"], fa_id="fa_2", inbound="restricted"), FeatureNotEnabled),
        (_fa(["intra_stripe_flows"], fa_id="fa_2", status="closed"), FinancialAccountNotOpen),
        (_fa(["intra_stripe_flows"], fa_id="fa_1"), InvalidRequest),  # the source itself
    ],
)
def test_check_destination(fa, error):
    if error is None:
        rules.check_destination(fa, "fa_1", "usd", "p")
        return
    with pytest.raises(error) as refused:
        rules.check_destination(fa, "fa_1", "usd", "p")
    assert refused.value.param == "p"


def test_a_destination_without_the_currency_is_refused():
    with pytest.raises(InvalidRequest, match="currency"):
        rules.check_destination(_fa(["intra_stripe_flows"], fa_id="fa_2"), "fa_1", "eur", "p")


# ------------------------------------------------------------------ dates and shapes


def _at(year, month, day, hour=12):
    return calendar.timegm(datetime.datetime(year, month, day, hour).timetuple())


@pytest.mark.parametrize(
    ("network", "sent", "arrives"),
    [
        ("ach", _at(2023, 4, 5), _at(2023, 4, 7, 0)),  # Wednesday -> Friday (Stripe's example)
        ("ach", _at(2023, 4, 6), _at(2023, 4, 10, 0)),  # Thursday -> Monday
        ("ach", _at(2023, 4, 8), _at(2023, 4, 11, 0)),  # Saturday -> Tuesday
        ("us_domestic_wire", _at(2023, 4, 7), _at(2023, 4, 10, 0)),  # Friday -> Monday
        ("us_domestic_wire", _at(2023, 4, 5), _at(2023, 4, 6, 0)),
        (rules.STRIPE, _at(2023, 4, 8), _at(2023, 4, 8)),  # instant
    ],
)
def test_expected_arrival(network, sent, arrives):
    assert rules.expected_arrival(network, sent) == arrives


def test_the_bank_destination_fills_the_test_bank_where_nothing_is_known():
    details = rules.bank_destination({}, "ach")
    bank = details["us_bank_account"]
    assert (bank["routing_number"], bank["last4"], bank["bank_name"]) == (
        "110000000",
        "6789",
        "STRIPE TEST BANK",
    )
    assert details["financial_account"] is None and details["type"] == "us_bank_account"
    assert set(details["billing_details"]["address"]) == {
        "city",
        "country",
        "line1",
        "line2",
        "postal_code",
        "state",
    }
    same = rules.bank_destination({"routing_number": "110000000"}, "ach")
    assert same["us_bank_account"]["fingerprint"] == bank["fingerprint"]
    other = rules.bank_destination({"account_number": "99999999"}, "ach")
    assert other["us_bank_account"]["fingerprint"] != bank["fingerprint"]
    assert other["us_bank_account"]["last4"] == "9999"


@pytest.mark.parametrize(
    ("given", "expected"),
    [
        (
            {"type": "ach", "ach": {"trace_id": "T1"}},
            {"ach": {"trace_id": "T1"}, "type": "ach", "us_domestic_wire": None},
        ),
        (
            {"type": "us_domestic_wire", "us_domestic_wire": {"imad": "I"}},
            {
                "ach": None,
                "type": "us_domestic_wire",
                "us_domestic_wire": {"chips": None, "imad": "I", "omad": None},
            },
        ),
    ],
)
def test_tracking_details(given, expected):
    assert rules.tracking_details(given) == expected


@pytest.mark.parametrize("kind", ["ach", "us_domestic_wire"])
def test_tracking_details_need_their_networks_part(kind):
    with pytest.raises(InvalidRequest) as refused:
        rules.tracking_details({"type": kind})
    assert refused.value.param == f"tracking_details[{kind}]"


def test_a_new_record_carries_every_field():
    payment = _record()
    transfer = _record(object_type=TRANSFER)
    assert {"customer", "end_user_details"} <= set(payment)
    assert not {"customer", "end_user_details"} & set(transfer)
    assert payment["statement_descriptor"] == "payment"
    assert transfer["statement_descriptor"] == "transfer"
    assert payment["end_user_details"] == {"ip_address": None, "present": False}
    assert rules.entry_type("outbound_payment", "") == "outbound_payment"
    assert rules.entry_type("outbound_transfer", "return") == "outbound_transfer_return"
    assert Kind.PENDING.value == "pending"


def test_a_reversed_stripe_credit_returns_its_posted_flow():
    posted = _record("posted", network=rules.STRIPE)
    step = rules.plan_reversal_return(posted, PAYMENT)
    assert (step.status, step.settle, step.release, step.credit_back) == (
        "returned",
        False,
        False,
        True,
    )
    rules.apply(posted, step, 7)
    assert posted["status_transitions"]["returned_at"] == 7
    with pytest.raises(InvalidStatusTransition):
        rules.plan_reversal_return(posted, PAYMENT)  # returned already
