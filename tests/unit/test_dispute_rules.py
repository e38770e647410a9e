"""Pure Issuing dispute rules: evidence per reason, amounts, deadline, states, test-mode outcome."""

from __future__ import annotations

import json
from importlib import resources

import pytest
import stripe

from openissuing.domain.errors import InvalidRequest
from openissuing.domain.issuing import disputes as rules

NOW = 1_700_000_000
TXN = {"id": "ipi_1", "currency": "usd", "created": NOW, "amount": -1_000}
CLASS_NAMES = {
    "canceled": "Canceled",
    "duplicate": "Duplicate",
    "fraudulent": "Fraudulent",
    "merchandise_not_as_described": "MerchandiseNotAsDescribed",
    "no_valid_authorization": "NoValidAuthorization",
    "not_received": "NotReceived",
    "other": "Other",
    "service_not_as_described": "ServiceNotAsDescribed",
}


def _spec_evidence(endpoint: str) -> dict:
    spec = json.loads(
        resources.files("openissuing.api").joinpath("param_spec.json").read_text("utf-8")
    )
    return spec["endpoints"][endpoint]["fields"]["evidence"]["schema"]["fields"]


def _object_fields(schema: dict) -> set[str]:
    (option,) = [o for o in schema["options"] if o["type"] == "object"]
    return set(option["fields"])


def _dispute(**evidence_update) -> dict:
    evidence = rules.merge_evidence(None, evidence_update, creating=True)
    return rules.new("idp_1", NOW, TXN, 1_000, evidence, {}, "rd_1")


# -- evidence fields ------------------------------------------------------------


@pytest.mark.parametrize(
    "endpoint", ["POST /v1/issuing/disputes", "POST /v1/issuing/disputes/{dispute}"]
)
def test_evidence_fields_match_the_sdk_params(endpoint):
    fields = _spec_evidence(endpoint)
    assert set(fields) == {"reason", *rules.REASONS}
    for reason in rules.REASONS:
        assert _object_fields(fields[reason]["schema"]) == set(rules.EVIDENCE_FIELDS[reason]), (
            reason
        )


def test_evidence_fields_match_the_sdk_object():
    evidence_class = stripe.issuing.Dispute.Evidence
    assert set(evidence_class.__annotations__) == {"reason", *rules.REASONS}
    for reason, class_name in CLASS_NAMES.items():
        assert set(getattr(evidence_class, class_name).__annotations__) == set(
            rules.EVIDENCE_FIELDS[reason]
        )


def test_every_reason_requires_an_explanation_and_only_known_fields():
    assert set(rules.REQUIRED) == set(rules.REASONS)
    for reason, required in rules.REQUIRED.items():
        assert required[0] == "explanation"
        assert set(required) <= set(rules.EVIDENCE_FIELDS[reason])
    assert set(rules.REQUIRED_FOR_CANCELED_MERCHANDISE) <= set(rules.EVIDENCE_FIELDS["canceled"])


# -- merging evidence -------------------------------------------------------------


def test_no_evidence_means_reason_other_with_an_empty_object():
    evidence = rules.merge_evidence(None, None, creating=True)
    assert evidence["reason"] == "other" and evidence["other"] == rules.blank("other")
    assert all(evidence[r] is None for r in rules.REASONS if r != "other")


def test_reason_is_inferred_from_the_only_evidence_given_on_creation():
    evidence = rules.merge_evidence(None, {"fraudulent": {"explanation": "stolen"}}, creating=True)
    assert evidence["reason"] == "fraudulent"
    assert evidence["fraudulent"] == {"additional_documentation": None, "explanation": "stolen"}
    assert evidence["other"] is None


def test_several_reasons_without_a_reason_are_ambiguous():
    with pytest.raises(InvalidRequest) as raised:
        rules.merge_evidence(
            None, {"fraudulent": {"explanation": "a"}, "other": {"explanation": "b"}}, creating=True
        )
    assert (raised.value.code, raised.value.param) == ("parameter_missing", "evidence[reason]")


def test_updates_merge_fields_and_empty_strings_unset():
    start = rules.merge_evidence(
        None,
        {
            "reason": "not_received",
            "not_received": {"explanation": "late", "product_type": "merchandise"},
        },
        creating=True,
    )
    merged = rules.merge_evidence(
        start, {"not_received": {"product_type": "", "expected_at": NOW}}, creating=False
    )
    assert merged["not_received"]["explanation"] == "late"
    assert (
        merged["not_received"]["product_type"] is None
        and merged["not_received"]["expected_at"] == NOW
    )
    assert start["not_received"]["product_type"] == "merchandise"  # the input is not mutated
    # On update the reason stays unless changed; a reason's object can be dropped with "".
    kept = rules.merge_evidence(merged, {"fraudulent": {"explanation": "x"}}, creating=False)
    assert kept["reason"] == "not_received" and kept["fraudulent"]["explanation"] == "x"
    dropped = rules.merge_evidence(kept, {"fraudulent": ""}, creating=False)
    assert dropped["fraudulent"] is None
    # Dropping the chosen reason's object leaves it present and empty.
    emptied = rules.merge_evidence(kept, {"not_received": ""}, creating=False)
    assert emptied["not_received"] == rules.blank("not_received")


# -- submission -------------------------------------------------------------------


@pytest.mark.parametrize("reason", rules.REASONS)
def test_submission_asks_for_each_required_field_in_order(reason):
    record = _dispute(reason=reason)
    for name in rules.REQUIRED[reason]:
        with pytest.raises(InvalidRequest) as raised:
            rules.check_submittable(record)
        assert (raised.value.code, raised.value.param) == (
            "parameter_missing",
            f"evidence[{reason}][{name}]",
        )
        record["evidence"][reason][name] = "merchandise" if name == "product_type" else "given"
    if reason == "canceled":
        for name in rules.REQUIRED_FOR_CANCELED_MERCHANDISE:
            assert rules.missing_evidence(record["evidence"]) == f"evidence[canceled][{name}]"
            record["evidence"]["canceled"][name] = "given"
    rules.check_submittable(record)


def test_canceled_services_need_no_return_details():
    record = _dispute(
        canceled={
            "explanation": "x",
            "product_type": "service",
            "product_description": "gym",
            "canceled_at": NOW,
            "cancellation_reason": "moved",
        }
    )
    assert rules.missing_evidence(record["evidence"]) is None


def test_blank_text_is_missing():
    record = _dispute(fraudulent={"explanation": "  "})
    assert rules.missing_evidence(record["evidence"]) == "evidence[fraudulent][explanation]"


@pytest.mark.parametrize("status", ["submitted", "won", "lost", "expired"])
def test_only_unsubmitted_disputes_are_submitted_or_edited(status):
    record = _dispute(fraudulent={"explanation": "stolen"})
    record["status"] = status
    with pytest.raises(InvalidRequest) as raised:
        rules.check_submittable(record)
    assert raised.value.code == "status_transition_invalid"
    for name in ("amount", "evidence"):
        with pytest.raises(InvalidRequest) as raised:
            rules.check_editable(record, {name: 1})
        assert (raised.value.code, raised.value.param) == ("status_transition_invalid", name)
    rules.check_editable(record, {"metadata": {"k": "v"}})


# -- outcome ----------------------------------------------------------------------


@pytest.mark.parametrize(
    "explanation, expected",
    [
        ("The cardholder never made this purchase.", ("won", None)),
        ("winning_evidence", ("won", None)),
        ("see losing_evidence attached", ("lost", "other")),
    ],
)
def test_outcome_is_decided_by_the_explanation(explanation, expected):
    evidence = rules.merge_evidence(
        None, {"reason": "fraudulent", "fraudulent": {"explanation": explanation}}, creating=True
    )
    assert rules.outcome(evidence) == expected


def test_outcome_reads_only_the_chosen_reasons_explanation():
    evidence = rules.merge_evidence(
        None,
        {
            "reason": "fraudulent",
            "fraudulent": {"explanation": "stolen"},
            "other": {"explanation": "losing_evidence"},
        },
        creating=True,
    )
    assert rules.outcome(evidence) == ("won", None)


# -- amounts and deadline -----------------------------------------------------------


def test_amount_bounds():
    rules.check_amount(1, 1)
    for amount, code in (
        (0, "amount_too_small"),
        (-5, "amount_too_small"),
        (2, "amount_too_large"),
    ):
        with pytest.raises(InvalidRequest) as raised:
            rules.check_amount(amount, 1)
        assert (raised.value.code, raised.value.param) == (code, "amount")


def test_disputable_amount_ignores_expired_disputes():
    others = [
        {"amount": 300, "status": s} for s in ("won", "lost", "unsubmitted", "submitted", "expired")
    ]
    assert rules.disputable_amount(1_500, others) == 1_500 - 4 * 300
    assert rules.disputable_amount(500, others) == 0


def test_deadline_is_110_days_after_the_transaction():
    record = _dispute()
    assert record["_deadline"] == NOW + 110 * 86_400
    assert not rules.is_past_deadline(record, record["_deadline"] - 1)
    assert rules.is_past_deadline(record, record["_deadline"])
    record["status"] = "won"
    assert not rules.is_past_deadline(record, record["_deadline"] + 1)


def test_new_dispute_shape():
    record = _dispute()
    assert (
        record["status"] == "unsubmitted"
        and record["currency"] == "usd"
        and record["transaction"] == "ipi_1"
    )
    assert record["treasury"] == {"debit_reversal": None, "received_debit": "rd_1"}
    assert record["balance_transactions"] == [] and record["loss_reason"] is None
    assert rules.new("idp_2", NOW, TXN, 5, rules.empty_evidence(), {}, None)["treasury"] is None
