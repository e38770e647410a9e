"""The real-time authorization protocol's rules (pure): reading the platform's answer.

Stripe POSTs ``issuing_authorization.request`` to the platform's endpoint and
waits up to the deadline for ``200`` + ``Stripe-Version`` + a JSON body
``{"approved": bool, "amount"?: int, "metadata"?: {...}}``. What decides, in order:

1. an ``approve``/``decline`` API call made while the request was in flight
   (the deprecated path) — "if both are used, the API call wins";
2. a valid answer: ``webhook_approved`` / ``webhook_declined``; ``amount`` only
   counts when ``pending_request.is_amount_controllable`` (a partial approval);
3. no answer in time: the timeout default, reason ``webhook_timeout``;
4. anything else (non-200, no ``Stripe-Version``, not JSON, no boolean
   ``approved``, a bad ``amount``): the same default, reason ``webhook_error``
   with the problem in ``reason_message``.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from typing import Any

from openissuing.domain.issuing.authorizations import Decision


@dataclass(frozen=True)
class Reply:
    """What came back over the network (or why nothing did)."""

    status: int | None = None
    headers: dict[str, str] = field(default_factory=dict)  # lower-case names
    body: bytes = b""
    timed_out: bool = False
    error: str | None = None


@dataclass(frozen=True)
class Outcome:
    decision: Decision
    amount: int
    metadata: dict[str, str] | None = None


def decide(
    reply: Reply,
    api_decision: dict[str, Any] | None,
    *,
    requested: int,
    amount_controllable: bool,
    timeout_approves: bool,
) -> Outcome:
    if api_decision is not None:
        return _from_answer(api_decision, requested, amount_controllable, source="the API call")
    if reply.timed_out:
        return _fallback(
            "webhook_timeout", "No answer within the deadline.", requested, timeout_approves
        )
    problem, answer = _parse(reply)
    if problem is not None:
        return _fallback("webhook_error", problem, requested, timeout_approves)
    return _from_answer(answer, requested, amount_controllable, source="the webhook")


def _fallback(reason: str, message: str, requested: int, approves: bool) -> Outcome:
    decision = "approve" if approves else "decline"
    applied = f"{message.rstrip('.')}; the timeout decision ({decision}) applied."
    return Outcome(Decision(approves, reason, applied), requested)


def _parse(reply: Reply) -> tuple[str | None, dict[str, Any]]:
    if reply.error is not None:
        return f"The issuing_authorization.request endpoint {reply.error}.", {}
    if reply.status != 200:
        return f"The webhook answered HTTP {reply.status}; only 200 is accepted.", {}
    if not reply.headers.get("stripe-version"):
        return "The webhook's answer has no Stripe-Version header.", {}
    try:
        answer = json.loads(reply.body or b"null")
    except (ValueError, UnicodeDecodeError):
        return "The webhook's answer is not JSON.", {}
    if not isinstance(answer, dict) or not isinstance(answer.get("approved"), bool):
        return "The webhook's answer has no boolean 'approved'.", {}
    amount = answer.get("amount")
    if amount is not None and (
        not isinstance(amount, int) or isinstance(amount, bool) or amount <= 0
    ):
        return "The webhook's 'amount' must be a positive integer.", {}
    metadata = answer.get("metadata")
    if metadata is not None and not (
        isinstance(metadata, dict) and all(isinstance(v, str) for v in metadata.values())
    ):
        return "The webhook's 'metadata' must map strings to strings.", {}
    return None, answer


def _from_answer(
    answer: dict[str, Any], requested: int, controllable: bool, *, source: str
) -> Outcome:
    metadata = answer.get("metadata")
    if not answer["approved"]:
        return Outcome(
            Decision(False, "webhook_declined", f"Declined by {source}."), requested, metadata
        )
    amount = answer.get("amount")
    # A partial approval is honoured only where the merchant can take one.
    approved = min(amount, requested) if (controllable and amount) else requested
    return Outcome(Decision(True, "webhook_approved", f"Approved by {source}."), approved, metadata)
