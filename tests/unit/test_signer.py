"""The Stripe-Signature header, checked against the official SDK's verifier."""

from __future__ import annotations

import time

import pytest
import stripe

from openissuing.webhooks import signer
from openissuing.webhooks.dispatcher import (
    DEFAULT_RETRY_SCHEDULE,
    THREE_DAYS_SECONDS,
    parse_schedule,
)

SECRET = "whsec_test_secret_0123456789abcdef"
BODY = (
    '{\n  "id": "evt_1",\n  "object": "event",\n  "type": "issuing_cardholder.created",\n'
    '  "data": {"object": {"name": "Zoë"}}\n}'
)


def test_header_shape_matches_the_sdk_generator():
    timestamp = 1_700_000_000
    assert signer.header(
        BODY, SECRET, timestamp
    ) == stripe.WebhookSignature.generate_signature_header(BODY, SECRET, timestamp)
    assert signer.header(BODY, SECRET, timestamp).startswith(f"t={timestamp},v1=")


def test_sdk_accepts_our_signature_and_builds_the_event():
    header = signer.header(BODY.encode("utf-8"), SECRET, int(time.time()))
    event = stripe.Webhook.construct_event(BODY, header, SECRET)
    assert event.id == "evt_1"
    assert event.data.object.name == "Zoë"


@pytest.mark.parametrize(
    "body, secret, age",
    [(BODY.replace("evt_1", "evt_2"), SECRET, 0), (BODY, SECRET + "x", 0), (BODY, SECRET, 301)],
    ids=["tampered body", "wrong secret", "too old"],
)
def test_sdk_rejects_tampering_wrong_secret_and_replays(body, secret, age):
    header = signer.header(BODY, SECRET, int(time.time()) - age)
    with pytest.raises(stripe.SignatureVerificationError):
        stripe.Webhook.construct_event(body, header, secret)


def test_retry_schedule_parsing():
    assert parse_schedule("1,1,2") == (1.0, 1.0, 2.0)
    assert parse_schedule(" 0.5 , 0 ") == (0.5, 0.0)
    assert parse_schedule(None) == parse_schedule("") == DEFAULT_RETRY_SCHEDULE
    for bad in ("1,x", "-1", "inf", "1,,2"):
        with pytest.raises(ValueError):
            parse_schedule(bad)


def test_default_schedule_is_exponential_from_a_minute_for_about_three_days():
    assert DEFAULT_RETRY_SCHEDULE[:3] == (60.0, 120.0, 240.0)
    assert max(DEFAULT_RETRY_SCHEDULE) == 8 * 3600
    assert 2 * 24 * 3600 < sum(DEFAULT_RETRY_SCHEDULE) <= THREE_DAYS_SECONDS
