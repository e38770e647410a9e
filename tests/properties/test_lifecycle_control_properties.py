"""Random purchases on a card with lifecycle controls, against a reference model of the count.

Each example issues a fresh funded card that cancels itself after 1 to 3 payments, then runs
random steps: authorizations of amounts around the 1 USD line, captures of open ones, force
captures and reversals. After every step the card's status, each authorization's approval and
the financial account's books agree with the model (``lifecycle_controls``'s rules read off
Stripe's guide: > 1 USD counts on approval, <= 1 USD on its first capture, a force capture
counts, at most ``payment_count`` uncaptured small authorizations, canceled at the count).
"""

from __future__ import annotations

from dataclasses import dataclass, field

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from tests.flows import assert_books, fund, issuing_financial_account
from tests.properties.test_ledger_properties import EXAMPLES, Shared, onboard

FUNDS = 1_000_000
AMOUNTS = [1, 100, 101, 2_500]


@dataclass
class Model:
    limit: int
    payments: int = 0
    canceled: bool = False
    cash: int = FUNDS
    held: int = 0
    # open authorizations: id -> (amount, small and not yet counted)
    open: dict[str, tuple[int, bool]] = field(default_factory=dict)
    # small authorizations reversed without a capture: uncaptured for good
    stale_small: int = 0

    @property
    def uncaptured_small(self) -> int:
        pending = sum(1 for _, small in self.open.values() if small)
        return pending + self.stale_small

    def count(self) -> None:
        self.payments += 1
        self.canceled = self.canceled or self.payments >= self.limit


@pytest.fixture(scope="module")
def shared(module_server) -> Shared:
    return onboard(module_server)


steps = st.lists(
    st.one_of(
        st.tuples(st.just("authorize"), st.sampled_from(AMOUNTS)),
        st.tuples(st.just("capture"), st.integers(0, 5)),
        st.tuples(st.just("reverse"), st.integers(0, 5)),
        st.tuples(st.just("force_capture"), st.sampled_from(AMOUNTS)),
    ),
    min_size=1,
    max_size=8,
)


@settings(max_examples=EXAMPLES, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(limit=st.integers(1, 3), plan=steps)
def test_a_card_cancels_exactly_at_its_payment_count(shared, limit, plan):
    client, o = shared.client, shared.o
    fa = issuing_financial_account(client, shared.acct)
    fund(client, shared.acct, fa, FUNDS)
    card = client.v1.issuing.cards.create(
        params={
            "cardholder": shared.cardholder,
            "financial_account": fa,
            "currency": "usd",
            "type": "virtual",
            "status": "active",
            "lifecycle_controls": {"cancel_after": {"payment_count": limit}},
        },
        options=o,
    ).id
    model = Model(limit)
    helpers = client.v1.test_helpers.issuing
    for kind, arg in plan:
        if kind == "authorize":
            auth = helpers.authorizations.create(params={"card": card, "amount": arg}, options=o)
            small = arg <= 100
            expected = not model.canceled and not (small and model.uncaptured_small >= limit)
            assert auth.approved is expected, (kind, arg, model)
            if expected:
                model.open[auth.id] = (arg, small)
                model.cash -= arg
                model.held += arg
                if not small:
                    model.count()
        elif kind in ("capture", "reverse") and model.open:
            auth_id = sorted(model.open)[arg % len(model.open)]
            amount, pending_small = model.open.pop(auth_id)
            model.held -= amount
            if kind == "capture":
                helpers.authorizations.capture(auth_id, options=o)
                if pending_small:
                    model.count()
            else:
                helpers.authorizations.reverse(auth_id, options=o)
                model.cash += amount
                if pending_small:  # never captured: it stays an uncaptured small one
                    model.stale_small += 1
        elif kind == "force_capture":
            helpers.transactions.create_force_capture(
                params={"card": card, "amount": arg}, options=o
            )
            model.cash -= arg
            model.count()
        status = client.v1.issuing.cards.retrieve(card, options=o).status
        assert (status == "canceled") is model.canceled, (kind, arg, model)
    assert_books(client, shared.acct, fa, cash=model.cash, outbound_pending=model.held)
