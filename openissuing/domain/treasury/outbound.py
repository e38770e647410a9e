"""Money out of a financial account: outbound payments and outbound transfers (pure rules).

Both flows share one lifecycle (Stripe's ``status`` and ``status_transitions``)::

    processing ──post──▶ posted ──return──▶ returned
        │  └─────────────return────────────▶ returned   (settled, then credited back)
        ├──fail────▶ failed
        └──cancel──▶ canceled                 (only while ``cancelable``)

and one money story (docs/ARCHITECTURE.md, "Writing the next flow"): creating holds the
amount (cash down, ``outbound_pending`` up); posting settles the hold (the money has left);
failing or canceling releases it (the cash comes back); a return is a *new* posted credit
with its own Treasury transaction (``returned_details.transaction``). ``plan`` says, for one
action on one record, which of those movements happen, after checking the action is legal;
the service carries the plan out.

A destination that is another financial account travels over Stripe's own network
(``stripe``, the ``intra_stripe_flows`` feature): the money arrives at once as a received
credit there, so such a flow is posted when it is created and no test helper may move it
again (there is nothing left in flight to fail, cancel or return). Only the receiver can
send it back, by reversing that received credit (a CreditReversal): the flow is then
``returned`` to its sender (``plan_reversal_return``).

Everything here is pure: gating (which feature a flow needs and whether the financial
accounts allow it), expected arrival dates, and the wire shapes of the nested objects.
"""

from __future__ import annotations

import hashlib
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from openissuing.domain.errors import (
    FeatureNotEnabled,
    FinancialAccountNotOpen,
    InvalidRequest,
    InvalidStatusTransition,
)

Record = dict[str, Any]

PAYMENT = "treasury.outbound_payment"
TRANSFER = "treasury.outbound_transfer"
# Treasury flow_type (and the stem of the entry types) of each object type.
FLOW_TYPES = {PAYMENT: "outbound_payment", TRANSFER: "outbound_transfer"}
# How Stripe names each in messages.
NOUNS = {PAYMENT: "OutboundPayment", TRANSFER: "OutboundTransfer"}

STRIPE = "stripe"  # the network between financial accounts
BANK_NETWORKS = ("ach", "us_domestic_wire")
STATUSES = ("processing", "posted", "failed", "canceled", "returned")
RETURN_CODES = (
    "account_closed",
    "account_frozen",
    "bank_account_restricted",
    "bank_ownership_changed",
    "declined",
    "incorrect_account_holder_name",
    "invalid_account_number",
    "invalid_currency",
    "no_account",
    "other",
)
DEFAULT_RETURN_CODE = "declined"

# The one table of legal status changes.
TRANSITIONS: dict[str, frozenset[str]] = {
    "processing": frozenset({"posted", "failed", "canceled", "returned"}),
    "posted": frozenset({"returned"}),
}
# action -> (status it leads to, status_transitions field, verb for messages)
ACTIONS: dict[str, tuple[str, str, str]] = {
    "post": ("posted", "posted_at", "posted"),
    "fail": ("failed", "failed_at", "failed"),
    "cancel": ("canceled", "canceled_at", "canceled"),
    "return": ("returned", "returned_at", "returned"),
}


@dataclass(frozen=True)
class Plan:
    """What one action does to a flow: the new status and the money movements, in order."""

    status: str
    timestamp_field: str
    settle: bool  # post the hold in full: the money has left (entry ``…_posting``)
    release: bool  # void the hold: the cash comes back (entry ``…_failure|_cancellation``)
    credit_back: bool  # a new posted credit of the whole amount (``…_return``)
    event: str  # the event's suffix: treasury.outbound_payment.<event>


# A flow over the stripe network: its money arrives as it is sent, so creating it posts it.
INSTANT = Plan("posted", "posted_at", settle=True, release=False, credit_back=False, event="posted")


# The receiver reversed the received credit a stripe-network flow made (a CreditReversal):
# the flow is returned to its sender, the money credited back there.
REVERSED = Plan(
    "returned", "returned_at", settle=False, release=False, credit_back=True, event="returned"
)
REVERSED_RETURN_CODE = "declined"


def plan_reversal_return(record: Mapping[str, Any], object_type: str) -> Plan:
    """The plan when the credit a stripe-network flow made is reversed by its receiver."""
    transition(record, "returned", NOUNS[object_type], "returned")
    return REVERSED


def transition(record: Mapping[str, Any], status: str, noun: str, verb: str) -> None:
    """Refuse a status change the table does not allow (``status_transition_invalid``)."""
    current = record["status"]
    if status not in TRANSITIONS.get(current, frozenset()):
        raise InvalidStatusTransition(
            f"This {noun} cannot be {verb} because its status is {current}.",
        )


def plan(record: Mapping[str, Any], object_type: str, action: str) -> Plan:
    """Check ``action`` is legal for ``record`` now, and say what it does."""
    status, field, verb = ACTIONS[action]
    noun = NOUNS[object_type]
    if network_of(record) == STRIPE:
        raise InvalidStatusTransition(
            f"This {noun} was sent over the stripe network to another financial account and "
            f"posted at once; it cannot be {verb}.",
        )
    transition(record, status, noun, verb)
    if action == "cancel" and not record["cancelable"]:
        raise InvalidStatusTransition(f"This {noun} can no longer be canceled.")
    in_flight = record["status"] == "processing"
    return Plan(
        status=status,
        timestamp_field=field,
        settle=in_flight and status in ("posted", "returned"),
        release=status in ("failed", "canceled"),
        credit_back=status == "returned",
        event=status,
    )


def cancelable(status: str, network: str) -> bool:
    """Test mode: a bank flow can be canceled for as long as it is processing."""
    return status == "processing" and network != STRIPE


def network_of(record: Mapping[str, Any]) -> str:
    details = record.get("destination_payment_method_details") or {}
    if details.get("type") == "financial_account":
        return STRIPE
    return (details.get("us_bank_account") or {}).get("network") or "ach"


def entry_type(flow_type: str, step: str) -> str:
    """The Treasury entry type of a step: ``""`` (the hold), posting, failure, cancellation,
    return."""
    return flow_type if not step else f"{flow_type}_{step}"


RELEASE_ENTRY = {"failed": "failure", "canceled": "cancellation"}


# ------------------------------------------------------------------ gating


def feature_for(flow_type: str, network: str) -> str:
    """The financial account feature a flow needs: ``outbound_payments.ach``, …, or
    ``intra_stripe_flows`` for a financial account destination."""
    if network == STRIPE:
        return "intra_stripe_flows"
    return f"{flow_type}s.{network}"


def check_source(fa: Mapping[str, Any], feature: str) -> None:
    """The source financial account may send this flow (else a 400 naming
    ``financial_account``).

    As for card authorizations: the account must be open, its
    ``platform_restrictions.outbound_flows`` not restricted, and the feature active.
    """
    if fa.get("status") != "open":
        raise FinancialAccountNotOpen(fa["id"], param="financial_account")
    if (fa.get("platform_restrictions") or {}).get("outbound_flows") == "restricted":
        raise FeatureNotEnabled(
            f"Outbound flows are restricted on the financial account {fa['id']} "
            "(platform_restrictions.outbound_flows).",
            param="financial_account",
        )
    if feature not in (fa.get("active_features") or []):
        raise FeatureNotEnabled(
            f"The financial account {fa['id']} does not have the {feature} feature active.",
            param="financial_account",
        )


def check_destination(fa: Mapping[str, Any], source_id: str, currency: str, param: str) -> None:
    """A receiving financial account must be open, accept inbound flows, have
    ``intra_stripe_flows`` active and hold the currency; checked before any money moves."""
    if fa["id"] == source_id:
        raise InvalidRequest(
            "The destination financial account must differ from the source financial account.",
            param=param,
        )
    if fa.get("status") != "open":
        raise FinancialAccountNotOpen(fa["id"], param=param)
    if (fa.get("platform_restrictions") or {}).get("inbound_flows") == "restricted":
        raise FeatureNotEnabled(
            f"Inbound flows are restricted on the destination financial account {fa['id']} "
            "(platform_restrictions.inbound_flows).",
            param=param,
        )
    if "intra_stripe_flows" not in (fa.get("active_features") or []):
        raise FeatureNotEnabled(
            f"The destination financial account {fa['id']} does not have the "
            "intra_stripe_flows feature active.",
            param=param,
        )
    if currency not in (fa.get("supported_currencies") or []):
        raise InvalidRequest(
            f"The destination financial account does not support the currency '{currency}'.",
            param=param,
        )


# ------------------------------------------------------------------ dates

DAY_SECONDS = 86400
# Business days until the money is expected at the destination, by network (midnight UTC of
# that day); the stripe network is instant (Stripe's money movement timelines).
ARRIVAL_BUSINESS_DAYS = {"ach": 2, "us_domestic_wire": 1}


def expected_arrival(network: str, at: int) -> int:
    """When money sent at ``at`` over ``network`` is expected to arrive."""
    days = ARRIVAL_BUSINESS_DAYS.get(network)
    if days is None:
        return at
    day = at // DAY_SECONDS
    while days:
        day += 1
        if (day + 3) % 7 < 5:  # 1970-01-01 was a Thursday: (day + 3) % 7 is 0 on Mondays
            days -= 1
    return day * DAY_SECONDS


# ------------------------------------------------------------------ wire shapes

_ADDRESS_FIELDS = ("city", "country", "line1", "line2", "postal_code", "state")
TEST_ROUTING_NUMBER = "110000000"
TEST_ACCOUNT_NUMBER = "000123456789"
TEST_BANK_NAME = "STRIPE TEST BANK"


def billing_details(given: Mapping[str, Any] | None) -> Record:
    given = given or {}
    address = given.get("address") or {}
    return {
        "address": {k: address.get(k) or None for k in _ADDRESS_FIELDS},
        "email": given.get("email") or None,
        "name": given.get("name") or None,
    }


def fingerprint(routing_number: str, account_number: str) -> str:
    """Same bank account, same fingerprint (Stripe's promise), without storing the number."""
    return hashlib.sha256(f"{routing_number}:{account_number}".encode()).hexdigest()[:16]


def bank_destination(
    bank: Mapping[str, Any], network: str, billing: Mapping[str, Any] | None = None
) -> Record:
    """``destination_payment_method_details`` of a US bank account.

    ``bank`` holds what is known of it: ``routing_number``, ``account_number`` or ``last4``,
    ``account_holder_type``, ``account_type``, ``bank_name``, ``fingerprint``,
    ``account_holder_name`` (any may be missing: Stripe's test bank fills the gaps).
    """
    routing = bank.get("routing_number") or TEST_ROUTING_NUMBER
    number = bank.get("account_number") or ""
    last4 = bank.get("last4") or (number[-4:] if number else TEST_ACCOUNT_NUMBER[-4:])
    details = billing_details(billing)
    if details["name"] is None and bank.get("account_holder_name"):
        details["name"] = bank["account_holder_name"]
    return {
        "billing_details": details,
        "financial_account": None,
        "type": "us_bank_account",
        "us_bank_account": {
            "account_holder_type": bank.get("account_holder_type") or "individual",
            "account_type": bank.get("account_type") or "checking",
            "bank_name": bank.get("bank_name") or TEST_BANK_NAME,
            "fingerprint": bank.get("fingerprint")
            or fingerprint(routing, number or TEST_ACCOUNT_NUMBER),
            "last4": last4,
            "mandate": None,
            "network": network,
            "routing_number": routing,
        },
    }


def financial_account_destination(fa_id: str, billing: Mapping[str, Any] | None = None) -> Record:
    return {
        "billing_details": billing_details(billing),
        "financial_account": {"id": fa_id, "network": STRIPE},
        "type": "financial_account",
        "us_bank_account": None,
    }


def tracking_details(given: Mapping[str, Any]) -> Record:
    """The full ``tracking_details`` object from the test helper's parameters.

    The parameter of the network named by ``type`` is required (Stripe's test helper rule):
    ``ach[trace_id]`` for ach, ``us_domestic_wire`` (any of chips/imad/omad) for wires.
    """
    kind = given["type"]
    if not given.get(kind):
        raise InvalidRequest(
            f"tracking_details[{kind}] is required when tracking_details[type] is {kind}.",
            param=f"tracking_details[{kind}]",
        )
    wire = given.get("us_domestic_wire") if kind == "us_domestic_wire" else None
    return {
        "ach": {"trace_id": given["ach"]["trace_id"]} if kind == "ach" else None,
        "type": kind,
        "us_domestic_wire": None
        if wire is None
        else {name: wire.get(name) or None for name in ("chips", "imad", "omad")},
    }


def new_record(
    object_type: str,
    flow_id: str,
    params: Mapping[str, Any],
    *,
    currency: str,
    destination: Record,
    payment_method: str | None,
    meta: dict[str, str],
    now: int,
) -> Record:
    """The flow as created: processing, its hold not yet placed (``transaction`` is set after)."""
    network = network_of({"destination_payment_method_details": destination})
    noun = "payment" if object_type == PAYMENT else "transfer"
    record: Record = {
        "id": flow_id,
        "object": object_type,
        "amount": params["amount"],
        "cancelable": cancelable("processing", network),
        "created": now,
        "currency": currency,
        "description": params.get("description") or None,
        "destination_payment_method": payment_method,
        "destination_payment_method_details": destination,
        "expected_arrival_date": expected_arrival(network, now),
        "financial_account": params["financial_account"],
        "hosted_regulatory_receipt_url": None,
        "livemode": False,
        "metadata": meta,
        "returned_details": None,
        "statement_descriptor": params.get("statement_descriptor") or noun,
        "status": "processing",
        "status_transitions": {
            "canceled_at": None,
            "failed_at": None,
            "posted_at": None,
            "returned_at": None,
        },
        "tracking_details": None,
        "transaction": None,
    }
    if object_type == PAYMENT:
        end_user = params.get("end_user_details") or {}
        record["customer"] = params.get("customer") or None
        record["end_user_details"] = {
            "ip_address": end_user.get("ip_address") or None,
            "present": bool(end_user.get("present", False)),
        }
    return record


def apply(record: Record, step: Plan, now: int) -> Record:
    """The record after ``step`` (in place; returns it): status, timestamp, cancelable."""
    record["status"] = step.status
    if step.settle:
        record["status_transitions"]["posted_at"] = now
    record["status_transitions"][step.timestamp_field] = now
    record["cancelable"] = cancelable(step.status, network_of(record))
    return record


def filter_keys(record: Mapping[str, Any]) -> dict[str, str | None]:
    return {
        "financial_account": record["financial_account"],
        "status": record["status"],
        "customer": record.get("customer"),
    }
