"""Money in (pure rules): an inbound transfer's lifecycle, and which received credits can be
reversed.

Inbound transfers (Stripe's "Moving money with Treasury using InboundTransfer objects"): an ACH
debit of the user's own external bank account into a financial account. Created ``processing``
(the amount is the account's ``inbound_pending``, not spendable), then, through the test
helpers, ``succeeded`` (the money becomes cash), ``failed`` or ``canceled`` (the pending amount
goes away). A succeeded one may be ``returned`` once: its bank took the money back.

Credit reversals (Stripe's "Moving money with Treasury using CreditReversal objects"): whether a
received credit can be reversed is its ``reversal_details.restricted_reason``, derived here from
its network, source flow, deadline and links (Stripe's table):

=========================  ==================  ==========================================
restricted_reason          deadline            when
=========================  ==================  ==========================================
``already_reversed``       kept if it had one  a credit reversal exists for it (at most one)
``other``                  as below            the received credit failed (no money arrived)
``source_flow_restricted`` null                ``stripe`` network, source flow not an
                                               OutboundPayment
``network_restricted``     null                wire, RTP or card network credits
``deadline_passed``        the deadline        ``ach`` credit, its deadline is behind us
null                       the deadline        ``ach`` credit still inside its window
null                       null                ``stripe`` credit from an OutboundPayment
=========================  ==================  ==========================================
"""

from __future__ import annotations

import copy
import re
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from openissuing.domain.errors import (
    FeatureNotEnabled,
    FinancialAccountNotOpen,
    InvalidRequest,
    InvalidStatusTransition,
    ReversalRestricted,
)

Record = dict[str, Any]

FEATURE = "inbound_transfers.ach"
NETWORK = "ach"
# How long an ACH received credit (or debit) stays reversible through the API. Stripe gives a
# deadline without saying how far; five days covers its "a few business days".
ACH_REVERSAL_WINDOW_SECONDS = 5 * 86400
DEFAULT_STATEMENT_DESCRIPTOR = "transfer"
_DESCRIPTOR = re.compile(r"[A-Za-z0-9 \-#.$&*]{1,10}\Z")

# ------------------------------------------------------------------ inbound transfers


def check_can_receive(fa: Mapping[str, Any], currency: str) -> str:
    """The financial account may take an inbound transfer in ``currency`` (lower-cased back).

    The same gates as every inbound flow: the account is open, and its
    ``inbound_transfers.ach`` feature is active (the feature is restricted while
    ``platform_restrictions.inbound_flows`` is, see ``features.RESTRICTED_BY``).
    """
    if fa.get("status") != "open":
        raise FinancialAccountNotOpen(fa["id"])
    if FEATURE not in (fa.get("active_features") or []):
        raise FeatureNotEnabled(_why_inactive(fa))
    currency = currency.lower()
    if currency not in (fa.get("supported_currencies") or []):
        raise InvalidRequest(
            f"The financial account does not support the currency '{currency}'.", param="currency"
        )
    return currency


def _why_inactive(fa: Mapping[str, Any]) -> str:
    head = f"The financial account {fa['id']} cannot receive inbound transfers: its `{FEATURE}`"
    if (fa.get("platform_restrictions") or {}).get("inbound_flows") == "restricted":
        return (
            f"{head} feature is restricted by the platform "
            "(`platform_restrictions[inbound_flows]=restricted`)."
        )
    if FEATURE in (fa.get("pending_features") or []):
        return f"{head} feature is still pending."
    if FEATURE in (fa.get("restricted_features") or []):
        return f"{head} feature is restricted (see `features.inbound_transfers.ach`)."
    return (
        f"{head} feature is not requested "
        "(request it with `features[inbound_transfers][ach][requested]=true`)."
    )


def statement_descriptor(value: str | None) -> str:
    """Stripe's rule: at most 10 characters, letters, digits, spaces and ``-#.$&*``."""
    if value is None or value == "":
        return DEFAULT_STATEMENT_DESCRIPTOR
    if not _DESCRIPTOR.match(value):
        raise InvalidRequest(
            "The statement descriptor must be at most 10 characters and contain only letters, "
            "digits, spaces and the characters -#.$&*.",
            param="statement_descriptor",
        )
    return value


@dataclass(frozen=True)
class Step:
    """What an action does to an inbound transfer: its new status and its money."""

    action: str
    status: str
    # "settle" (inbound_pending -> cash), "release" (inbound_pending goes away),
    # "return" (the cash goes back out as a received debit)
    money: str


# action -> (the status it needs, the status it leaves, the money it moves)
_ACTIONS: dict[str, tuple[str, str, str]] = {
    "succeed": ("processing", "succeeded", "settle"),
    "fail": ("processing", "failed", "release"),
    "cancel": ("processing", "canceled", "release"),
    "return": ("succeeded", "succeeded", "return"),
}
# The status_transitions timestamp each new status sets.
_STAMP = {"succeeded": "succeeded_at", "failed": "failed_at", "canceled": "canceled_at"}


def plan(record: Mapping[str, Any], action: str) -> Step:
    """Check that ``action`` is allowed now (``InvalidStatusTransition`` otherwise)."""
    needed, status, moves = _ACTIONS[action]
    current = record["status"]
    if action == "cancel" and not record.get("cancelable"):
        raise InvalidStatusTransition(
            f"The InboundTransfer {record['id']} cannot be canceled: it is {current} "
            "(only a processing InboundTransfer is cancelable)."
        )
    if current != needed:
        raise InvalidStatusTransition(
            f"The InboundTransfer {record['id']} cannot be {_DONE[action]}: it is {current}, "
            f"and only a {needed} InboundTransfer can."
        )
    if action == "return" and record.get("returned"):
        raise InvalidStatusTransition(
            f"The InboundTransfer {record['id']} has already been returned."
        )
    return Step(action, status, moves)


_DONE = {"succeed": "succeeded", "fail": "failed", "cancel": "canceled", "return": "returned"}


def carry_out(
    record: Mapping[str, Any],
    step: Step,
    now: int,
    *,
    failure_code: str | None = None,
    received_debit: str | None = None,
) -> Record:
    """The inbound transfer after ``step`` (a new record; the money moved already)."""
    after = copy.deepcopy(dict(record))
    after["status"] = step.status
    after["cancelable"] = step.status == "processing"
    stamp = _STAMP.get(step.status)
    if stamp and step.action != "return":
        after["status_transitions"][stamp] = now
    if step.action == "fail":
        after["failure_details"] = {"code": failure_code or "other"}
    if step.action == "return":
        after["returned"] = True
        after["linked_flows"]["received_debit"] = received_debit
    return after


# ------------------------------------------------------------------ reversing received credits


def reversal_details(credit: Mapping[str, Any], now: int) -> Record:
    """``reversal_details`` of a received credit at ``now`` (see the module's table)."""
    stored = credit.get("reversal_details") or {}
    deadline = stored.get("deadline") if credit.get("network") == NETWORK else None
    return {"deadline": deadline, "restricted_reason": restricted_reason(credit, now)}


def restricted_reason(credit: Mapping[str, Any], now: int) -> str | None:
    """Why the received credit cannot be reversed at ``now``; None if it can."""
    if (credit.get("linked_flows") or {}).get("credit_reversal"):
        return "already_reversed"
    if credit.get("status") != "succeeded":
        return "other"
    network = credit.get("network")
    if network == "stripe":
        source = (credit.get("linked_flows") or {}).get("source_flow_type")
        return None if source == "outbound_payment" else "source_flow_restricted"
    if network != NETWORK:
        return "network_restricted"
    deadline = (credit.get("reversal_details") or {}).get("deadline")
    if deadline is not None and now > deadline:
        return "deadline_passed"
    return None


_REFUSALS = {
    "already_reversed": "This ReceivedCredit has already been reversed.",
    "other": "Only a succeeded ReceivedCredit can be reversed.",
    "source_flow_restricted": (
        "This ReceivedCredit cannot be reversed: on the stripe network only credits from an "
        "OutboundPayment can be."
    ),
    "network_restricted": "ReceivedCredits on the {network} network cannot be reversed.",
    "deadline_passed": "The deadline to reverse this ReceivedCredit has passed.",
}


def check_reversible(credit: Mapping[str, Any], now: int) -> None:
    """Refuse (``ReversalRestricted``, naming the reason) unless the credit can be reversed."""
    reason = restricted_reason(credit, now)
    if reason is not None:
        message = _REFUSALS[reason].format(network=credit.get("network"))
        raise ReversalRestricted(message, reason, param="received_credit")
