"""The authorization lifecycle as a state machine (pure; no I/O).

An authorization is born ``pending`` (approved) or ``closed`` (declined) and
leaves ``pending`` exactly once::

    (new) --decide--> pending | closed
    pending --increment / finalize / partial reverse / partial capture--> pending
    pending --capture (closing) / reverse (all, after a capture)--> closed
    pending --reverse (all, nothing captured)--> reversed
    pending --expire--> expired

Each operation is a function from the authorization's ``State`` and the
request to a ``Plan``: the record's new values, the hold's change as a value
(``HoldChange``, executed by the money primitive), the spend to count, and
whether the step closes the pending window. Every check runs here, before the
service writes anything; the service loads and locks, asks, and applies.
``transition`` is the one place that says which status changes are legal.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from openissuing.domain.errors import AmountNotPositive, AmountTooLarge, InvalidStatusTransition
from openissuing.domain.issuing.authorizations import INSUFFICIENT_FUNDS, Decision
from openissuing.domain.ledger.money import Hold

PENDING, CLOSED, REVERSED, EXPIRED = "pending", "closed", "reversed", "expired"
# status -> the statuses it may become; a new authorization starts from None.
TRANSITIONS: dict[str | None, frozenset[str]] = {
    None: frozenset({PENDING, CLOSED}),
    PENDING: frozenset({PENDING, CLOSED, REVERSED, EXPIRED}),
    CLOSED: frozenset(),
    REVERSED: frozenset(),
    EXPIRED: frozenset(),
}


def transition(current: str | None, new: str) -> str:
    """``new`` if ``current`` may become it, else the one named error."""
    if new not in TRANSITIONS.get(current, frozenset()):
        raise InvalidStatusTransition(
            f"This authorization is {current}; only pending authorizations can be changed.",
            param="authorization",
        )
    return new


def require_pending(status: str | None) -> None:
    transition(status, PENDING)


@dataclass(frozen=True)
class State:
    """What the lifecycle needs of a stored authorization."""

    id: str
    status: str | None
    amount: int
    held: int
    hold_id: str | None
    hold_seq: int
    captured: int
    merchant_amount: int

    @classmethod
    def of(cls, record: dict[str, Any], *, new: bool = False) -> State:
        """The state of ``record``; ``new``: not stored yet (no status to leave)."""
        return cls(
            record["id"],
            None if new else record["status"],
            record["amount"],
            record["_held"],
            record["_hold_id"],
            record["_hold_seq"],
            record["_captured"],
            record["merchant_amount"],
        )

    @property
    def live(self) -> Hold | None:
        return None if self.hold_id is None else Hold(self.hold_id, self.held)


@dataclass(frozen=True)
class HoldChange:
    """Replace the live hold (``live``) by ``new`` (None: release it)."""

    live: Hold | None
    new: Hold | None
    require_available: bool = False


@dataclass(frozen=True)
class Plan:
    status: str
    amount: int
    merchant_amount: int
    captured: int
    hold: HoldChange | None  # None: the hold is untouched
    hold_seq: int
    spend: int  # signed change of the amount counted against spending limits
    closing: bool  # the step may void the Treasury transaction (nothing left on hold)
    decision: Decision | None = None  # the request_history entry's decision (requests only)


def _resize(
    state: State, amount: int, *, require_available: bool = False
) -> tuple[HoldChange, int]:
    """The hold change to ``amount``; hold ids are ``<authorization>:hold:<n>``, never reused."""
    if amount <= 0:
        return HoldChange(state.live, None), state.hold_seq
    seq = state.hold_seq + 1
    return HoldChange(state.live, Hold(f"{state.id}:hold:{seq}", amount), require_available), seq


def _plan(state: State, **changes: Any) -> Plan:
    values = {
        "status": state.status,
        "amount": state.amount,
        "merchant_amount": state.merchant_amount,
        "captured": state.captured,
        "hold": None,
        "hold_seq": state.hold_seq,
        "spend": 0,
        "closing": False,
        **changes,
    }
    values["status"] = transition(state.status, values["status"])
    return Plan(**values)


def approve(
    state: State, amount: int, decision: Decision, *, require_available: bool = True
) -> Plan:
    """The decision approved ``amount``: the first hold (its final funds check is the ledger's).

    ``state`` is a new authorization, or one stored ``pending`` while the platform decided in
    real time (``authorizations.conclude``).
    """
    hold, seq = _resize(state, amount, require_available=require_available)
    return _plan(
        state,
        status=PENDING,
        amount=amount,
        hold=hold,
        hold_seq=seq,
        spend=amount,
        decision=decision,
    )


def stand_in(state: State, amount: int, decision: Decision) -> Plan:
    """The card network answered for Stripe (``network_fallback``): an approval is held with no
    funds check, since the network cannot see the balance; a decline is an ordinary one."""
    if not decision.approved:
        return decline(state, amount, decision)
    return approve(state, amount, decision, require_available=False)


def decline(state: State, requested: int, decision: Decision) -> Plan:
    """The decision declined: closed at once, for the requested amount, nothing held."""
    return _plan(state, status=CLOSED, amount=requested, decision=decision)


def decide(state: State, decision: Decision, amount: int, requested: int) -> Plan:
    """A request's answer as a plan: ``amount`` held if approved, ``requested`` shown if not."""
    if decision.approved:
        return approve(state, amount, decision)
    return decline(state, requested, decision)


def conclude(state: State, decision: Decision, amount: int, requested: int, available: int) -> Plan:
    """The real-time conclusion: the platform's decision, unless the cash went while it thought.

    ``available`` is the same unlocked pre-check a purchase makes (the hold's check under the
    lock stays the final one).
    """
    if decision.approved and available < amount:
        decision = INSUFFICIENT_FUNDS
    return decide(state, decision, amount, requested)


def reverse(state: State, amount: int | None) -> Plan:
    require_pending(state.status)
    amount = state.held if amount is None else amount
    AmountNotPositive.check(amount, "reverse_amount")
    if amount > state.held:
        raise AmountTooLarge("reverse_amount", state.held)
    remaining = state.held - amount
    hold, seq = _resize(state, remaining)
    status = PENDING if remaining else (REVERSED if state.captured == 0 else CLOSED)
    return _plan(
        state,
        status=status,
        amount=state.captured + remaining,
        hold=hold,
        hold_seq=seq,
        spend=-amount,
        closing=remaining == 0,
    )


def increment(state: State, added: int, decision: Decision) -> Plan:
    """An incremental request; ``decision`` is the controls' (then the ledger's) answer."""
    require_pending(state.status)
    AmountNotPositive.check(added, "increment_amount")
    if not decision.approved:
        return _plan(state, decision=decision)
    hold, seq = _resize(state, state.held + added, require_available=True)
    return _plan(
        state,
        amount=state.amount + added,
        merchant_amount=state.merchant_amount + added,
        hold=hold,
        hold_seq=seq,
        spend=added,
        decision=decision,
    )


def finalize(state: State, final: int) -> Plan:
    """Fuel: the real amount replaces the estimate; a larger one must be covered by cash."""
    require_pending(state.status)
    AmountNotPositive.check(final, "final_amount")
    delta = final - state.held
    hold, seq = _resize(state, final, require_available=delta > 0)
    return _plan(
        state,
        amount=state.captured + final,
        merchant_amount=final,
        hold=hold,
        hold_seq=seq,
        spend=delta,
    )


def expire(state: State) -> Plan:
    require_pending(state.status)
    hold, seq = _resize(state, 0)
    return _plan(state, status=EXPIRED, hold=hold, hold_seq=seq, spend=-state.held, closing=True)


def capture(state: State, amount: int | None, close: bool) -> Plan:
    """A capture: the money moves as a received debit; here, what happens to the hold."""
    require_pending(state.status)
    amount = state.held if amount is None else amount
    AmountNotPositive.check(amount, "capture_amount")
    remaining = 0 if close else max(state.held - amount, 0)
    # Capturing all that is held closes the authorization even with close_authorization=false.
    closing = close or remaining == 0
    hold, seq = _resize(state, remaining)
    return _plan(
        state,
        status=CLOSED if closing else PENDING,
        captured=state.captured + amount,
        hold=hold,
        hold_seq=seq,
        # Spend moves from "held" to "captured": count the capture, uncount what the hold covered.
        spend=amount - (state.held - remaining),
        closing=closing,
    )


def ends_pending(plan: Plan) -> bool:
    """Whether the authorization left ``pending`` (its expiry row goes)."""
    return plan.status != PENDING


def apply(record: dict[str, Any], plan: Plan) -> None:
    """Fold a plan's record changes into the record (after its money moved)."""
    record["status"] = plan.status
    record["amount"] = plan.amount
    record["merchant_amount"] = plan.merchant_amount
    record["_captured"] = plan.captured
    record["_hold_seq"] = plan.hold_seq
    if plan.hold is not None:
        new = plan.hold.new
        record["_hold_id"], record["_held"] = (None, 0) if new is None else (new.id, new.amount)
