"""Issuing dispute rules (pure; no I/O): evidence per reason, amounts, states, test-mode outcome.

Lifecycle (stripe-surface.md §5.5)::

    unsubmitted ──submit──▶ submitted ──network──▶ won | lost
         └──── deadline passes unsubmitted ────▶ expired

* Evidence, amount and metadata are editable while ``unsubmitted``; afterwards only metadata.
* ``submit`` checks that the evidence the reason needs is present (``REQUIRED`` below), the
  first missing field named as ``param`` (``evidence[<reason>][<field>]``), code
  ``parameter_missing``. Creating and updating never require evidence, as on Stripe.
* Deadline: a dispute must be submitted within ``DISPUTE_WINDOW_SECONDS`` (110 days) of the
  disputed transaction's ``created``; after that an unsubmitted dispute becomes ``expired``.
* Test-mode outcome, decided at submission and deterministic: the dispute is **lost** when the
  explanation of the reason's evidence (``evidence[<reason>][explanation]``) contains
  ``losing_evidence`` (``loss_reason`` = ``other``), otherwise **won**; ``winning_evidence``
  says so explicitly. These are the strings Stripe's Dashboard writes for its Won/Lost test
  choices.
* Files (``additional_documentation``, ``card_statement``, ``cash_receipt``, ``check_image``) are
  kept as the plain ids sent: there is no Files API here, so they are not looked up.
"""

from __future__ import annotations

import copy
from typing import Any

from openissuing.domain.errors import AmountTooLarge, InvalidRequest, InvalidStatusTransition

Record = dict[str, Any]

DISPUTE_WINDOW_SECONDS = 110 * 86400
WINNING_TEXT = "winning_evidence"
LOSING_TEXT = "losing_evidence"

UNSUBMITTED, SUBMITTED, WON, LOST, EXPIRED = "unsubmitted", "submitted", "won", "lost", "expired"
# A dispute in these states still claims (part of) its transaction: no second one meanwhile.
OPEN = (UNSUBMITTED, SUBMITTED)
# States whose amount counts against what is left to dispute: an expired dispute claimed nothing.
COUNTED = (UNSUBMITTED, SUBMITTED, WON, LOST)

# Every evidence field of every reason, as the SDK lists them (stripe-surface.md §3.6).
EVIDENCE_FIELDS: dict[str, tuple[str, ...]] = {
    "canceled": (
        "additional_documentation",
        "canceled_at",
        "cancellation_policy_provided",
        "cancellation_reason",
        "expected_at",
        "explanation",
        "product_description",
        "product_type",
        "return_status",
        "returned_at",
    ),
    "duplicate": (
        "additional_documentation",
        "card_statement",
        "cash_receipt",
        "check_image",
        "explanation",
        "original_transaction",
    ),
    "fraudulent": ("additional_documentation", "explanation"),
    "merchandise_not_as_described": (
        "additional_documentation",
        "explanation",
        "received_at",
        "return_description",
        "return_status",
        "returned_at",
    ),
    "no_valid_authorization": ("additional_documentation", "explanation"),
    "not_received": (
        "additional_documentation",
        "expected_at",
        "explanation",
        "product_description",
        "product_type",
    ),
    "other": ("additional_documentation", "explanation", "product_description", "product_type"),
    "service_not_as_described": (
        "additional_documentation",
        "canceled_at",
        "cancellation_reason",
        "explanation",
        "received_at",
    ),
}
REASONS = tuple(sorted(EVIDENCE_FIELDS))

# What each reason needs before it can be submitted (our reading of Stripe's "Dispute reasons
# and evidence"): always an explanation, plus the facts the network asks for that reason.
REQUIRED: dict[str, tuple[str, ...]] = {
    "canceled": (
        "explanation",
        "product_type",
        "product_description",
        "canceled_at",
        "cancellation_reason",
    ),
    "duplicate": ("explanation", "original_transaction"),
    "fraudulent": ("explanation",),
    "merchandise_not_as_described": ("explanation", "received_at", "return_status", "returned_at"),
    "no_valid_authorization": ("explanation",),
    "not_received": ("explanation", "product_type", "product_description", "expected_at"),
    "other": ("explanation", "product_type", "product_description"),
    "service_not_as_described": (
        "explanation",
        "received_at",
        "canceled_at",
        "cancellation_reason",
    ),
}
# Merchandise that was canceled must also say what happened when it was sent back.
REQUIRED_FOR_CANCELED_MERCHANDISE = ("return_status", "returned_at")


def blank(reason: str) -> Record:
    """A reason's evidence object with every field present and unset."""
    return {name: None for name in EVIDENCE_FIELDS[reason]}


def empty_evidence() -> Record:
    """No evidence yet: reason ``other``, whose object ``merge_evidence`` fills in when chosen."""
    evidence: Record = {reason: None for reason in REASONS}
    evidence["reason"] = "other"
    return evidence


def merge_evidence(current: Record | None, update: Record | None, *, creating: bool) -> Record:
    """The evidence after applying request params; ``""`` unsets a field or a reason's object.

    ``reason`` defaults to the current one; on creation, to the only reason whose object was
    sent, else ``other``. The chosen reason's object is always present (fields null when unset).
    """
    evidence = copy.deepcopy(current) if current is not None else empty_evidence()
    update = update or {}
    sent = [reason for reason in REASONS if reason in update]
    for reason in sent:
        value = update[reason]
        if value == "":
            evidence[reason] = None
            continue
        merged = evidence.get(reason) or blank(reason)
        for name, field_value in value.items():
            merged[name] = None if field_value == "" else field_value
        evidence[reason] = merged
    if update.get("reason"):
        evidence["reason"] = update["reason"]
    elif creating:
        given = [reason for reason in sent if update[reason] != ""]
        if len(given) > 1:
            raise InvalidRequest(
                "You provided evidence for several reasons; set evidence[reason] to say which one "
                "applies.",
                code="parameter_missing",
                param="evidence[reason]",
            )
        evidence["reason"] = given[0] if given else "other"
    reason = evidence["reason"]
    if evidence.get(reason) is None:
        evidence[reason] = blank(reason)
    return evidence


def required_fields(evidence: Record) -> tuple[str, ...]:
    reason = evidence["reason"]
    fields = REQUIRED[reason]
    if (
        reason == "canceled"
        and (evidence.get("canceled") or {}).get("product_type") == "merchandise"
    ):
        fields = fields + REQUIRED_FOR_CANCELED_MERCHANDISE
    return fields


def missing_evidence(evidence: Record) -> str | None:
    """The param name of the first required evidence field not provided, or None."""
    reason = evidence["reason"]
    given = evidence.get(reason) or {}
    for name in required_fields(evidence):
        value = given.get(name)
        if value is None or (isinstance(value, str) and not value.strip()):
            return f"evidence[{reason}][{name}]"
    return None


def check_submittable(record: Record) -> None:
    """Raise unless ``record`` may be submitted now (status, then evidence)."""
    if record["status"] != UNSUBMITTED:
        raise InvalidStatusTransition(
            f"This dispute is {record['status']} and can no longer be submitted; only unsubmitted "
            "disputes can be submitted."
        )
    missing = missing_evidence(record["evidence"])
    if missing is not None:
        raise InvalidRequest(
            f"Missing required evidence for reason '{record['evidence']['reason']}': {missing}. "
            "Provide it with an update before submitting the dispute.",
            code="parameter_missing",
            param=missing,
        )


def check_editable(record: Record, params: Record) -> None:
    """Amount and evidence change only while unsubmitted; metadata always may."""
    if record["status"] == UNSUBMITTED:
        return
    for name in ("amount", "evidence"):
        if name in params:
            raise InvalidStatusTransition(
                f"You cannot update the {name} of a dispute that is {record['status']}; only "
                "unsubmitted disputes can be changed (metadata can always be updated).",
                param=name,
            )


def check_amount(amount: int, disputable: int) -> None:
    if amount <= 0:
        raise InvalidRequest(
            "The dispute amount must be greater than 0.", code="amount_too_small", param="amount"
        )
    if amount > disputable:
        raise AmountTooLarge(
            "amount",
            disputable,
            f"The dispute amount ({amount}) is larger than what remains disputable on this "
            f"transaction ({disputable}).",
        )


def disputable_amount(captured: int, other_disputes: list[Record]) -> int:
    """What may still be disputed: the captured amount less the disputes that claim part of it."""
    claimed = sum(int(d["amount"]) for d in other_disputes if d["status"] in COUNTED)
    return max(captured - claimed, 0)


def deadline(transaction_created: int) -> int:
    return transaction_created + DISPUTE_WINDOW_SECONDS


def is_past_deadline(record: Record, now: int) -> bool:
    return bool(record["status"] == UNSUBMITTED and now >= record["_deadline"])


def outcome(evidence: Record) -> tuple[str, str | None]:
    """(status, loss_reason) the test-mode network decides for submitted evidence."""
    explanation = (evidence.get(evidence["reason"]) or {}).get("explanation") or ""
    if LOSING_TEXT in explanation:
        return LOST, "other"
    return WON, None


def new(
    dispute_id: str,
    now: int,
    transaction: Record,
    amount: int,
    evidence: Record,
    metadata: dict[str, str],
    received_debit: str | None,
) -> Record:
    return {
        "id": dispute_id,
        "object": "issuing.dispute",
        "amount": amount,
        "balance_transactions": [],
        "created": now,
        "currency": transaction["currency"],
        "evidence": evidence,
        "livemode": False,
        "loss_reason": None,
        "metadata": metadata,
        "status": UNSUBMITTED,
        "transaction": transaction["id"],
        "treasury": None
        if received_debit is None
        else {"debit_reversal": None, "received_debit": received_debit},
        "_deadline": deadline(transaction["created"]),
        "_submitted_at": None,
    }


def snapshot(record: Record) -> Record:
    return copy.deepcopy(record)
