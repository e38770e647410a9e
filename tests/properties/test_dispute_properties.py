"""Random sequences weighted towards Issuing disputes, against the same reference model.

``test_ledger_properties`` mixes disputes into every kind of money movement; with at most
12 steps an example there rarely gets past one dispute. Here every example starts funded and
with one force capture (something to dispute), and the steps are mostly purchases (authorize
+ capture, force captures), refunds and disputes: opened for all, part, more than or none of
what is left disputable (or on a refund), updated, submitted to be won or lost, re-submitted
or edited once closed (refused), or left unsubmitted while the clock moves past the 110-day
deadline. The model, the properties checked after every step and the end-of-example
reconciliation are ``Runner``'s (see that module).
"""

from __future__ import annotations

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from tests.properties.test_ledger_properties import EXAMPLES, Shared, onboard, ops, run

DISPUTE_OP_NAMES = [
    "fund",
    "authorize",
    "authorize",
    "capture",
    "capture",
    "force_capture",
    "force_capture",
    "refund",
    "unlinked_refund",
    "reverse",
    "advance_clock",
    "dispute",
    "dispute",
    "dispute",
    "dispute",
    "submit_dispute",
    "submit_dispute",
    "submit_dispute",
    "dispute_deadline",
]


@pytest.fixture(scope="module")
def shared(module_server) -> Shared:
    return onboard(module_server)


@settings(max_examples=EXAMPLES, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    opening=st.integers(min_value=1, max_value=20_000),
    first=st.integers(min_value=1, max_value=6_000),
    ops=ops(DISPUTE_OP_NAMES),
)
def test_random_disputes_keep_the_books(shared, opening, first, ops):
    run(shared, opening, [("force_capture", first, 0, 0)] + ops)
