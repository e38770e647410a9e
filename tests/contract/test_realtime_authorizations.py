"""Real-time authorizations: the platform's issuing_authorization.request endpoint decides.

A real HTTP receiver in the test process answers as a platform's handler
would (verifying each request with the official SDK), and every outcome is
checked in request_history and in the financial account's balances.
"""

from __future__ import annotations

import json
import socket

import pytest
import stripe

from openissuing.storage.ledger_audit import audit
from tests.flows import activated_account
from tests.webhook_receiver import Reply, WebhookReceiver

FUNDS = 10_000
ADDRESS = {
    "line1": "1 Main St",
    "city": "Austin",
    "state": "TX",
    "postal_code": "78701",
    "country": "US",
}
VERSION_HEADERS = {"Content-Type": "application/json", "Stripe-Version": "2026-10-28.endive"}


def answer(body: dict) -> Reply:
    return Reply(200, json.dumps(body).encode(), dict(VERSION_HEADERS))


class World:
    def __init__(self, client, server, receiver: WebhookReceiver, **account_overrides):
        self.client, self.server, self.receiver = client, server, receiver
        self.acct = activated_account(client, **account_overrides)
        self.o = {"stripe_account": self.acct}
        self.fa = client.v1.treasury.financial_accounts.create(
            params={
                "supported_currencies": ["usd"],
                "features": {"card_issuing": {"requested": True}},
            },
            options=self.o,
        ).id
        client.v1.test_helpers.treasury.received_credits.create(
            params={
                "financial_account": self.fa,
                "amount": FUNDS,
                "currency": "usd",
                "network": "ach",
            },
            options=self.o,
        )
        holder = client.v1.issuing.cardholders.create(
            params={
                "name": "Real Time",
                "billing": {"address": ADDRESS},
                "individual": {"first_name": "Real", "last_name": "Time"},
            },
            options=self.o,
        )
        self.card = client.v1.issuing.cards.create(
            params={
                "cardholder": holder.id,
                "financial_account": self.fa,
                "currency": "usd",
                "type": "virtual",
                "status": "active",
            },
            options=self.o,
        ).id
        # The account's own endpoint: only this account's purchases reach it.
        endpoint = client.v1.webhook_endpoints.create(
            params={"url": receiver.url, "enabled_events": ["issuing_authorization.request"]},
            options=self.o,
        )
        receiver.secret = endpoint.secret

    def authorize(self, amount: int, **params):
        return self.client.v1.test_helpers.issuing.authorizations.create(
            params={"card": self.card, "amount": amount, **params}, options=self.o
        )

    def balance(self) -> tuple[int, int]:
        balance = self.client.v1.treasury.financial_accounts.retrieve(
            self.fa, options=self.o
        ).balance
        return balance.cash["usd"], balance.outbound_pending["usd"]


@pytest.fixture()
def receiver():
    with WebhookReceiver() as receiver:
        yield receiver


@pytest.fixture()
def deadline(server):
    """A short deadline so timeout tests stay fast; restored afterwards."""
    settings = server.runtime.settings
    before = settings.realtime_deadline_seconds
    settings.realtime_deadline_seconds = 0.5
    yield 0.5
    settings.realtime_deadline_seconds = before


def _books_balance(server):
    with server.runtime.engine.connect() as conn:
        assert audit(conn) == []


def test_webhook_approves_and_sees_a_signed_pending_request(client, server, receiver):
    receiver.responder = lambda request: answer({"approved": True})
    world = World(client, server, receiver)
    auth = world.authorize(2_500)
    assert (auth.status, auth.approved, auth.amount) == ("pending", True, 2_500)
    assert auth.pending_request is None
    assert [(h.approved, h.reason) for h in auth.request_history] == [(True, "webhook_approved")]
    assert world.balance() == (FUNDS - 2_500, 2_500)

    (event,) = receiver.events()  # verified with stripe.Webhook.construct_event
    assert event.type == "issuing_authorization.request"
    assert event.account == world.acct
    sent = event.data.object
    assert (sent.id, sent.status, sent.approved, sent.amount) == (auth.id, "pending", False, 0)
    assert sent.pending_request.amount == 2_500
    assert sent.pending_request.is_amount_controllable is False
    _books_balance(server)


def test_webhook_decline_holds_nothing(client, server, receiver):
    receiver.responder = lambda request: answer({"approved": False, "metadata": {"why": "risky"}})
    world = World(client, server, receiver)
    auth = world.authorize(1_000)
    assert (auth.status, auth.approved) == ("closed", False)
    assert auth.request_history[-1].reason == "webhook_declined"
    assert auth.metadata.to_dict() == {"why": "risky"}
    assert world.balance() == (FUNDS, 0)


def test_partial_approval_only_when_amount_is_controllable(client, server, receiver):
    receiver.responder = lambda request: answer(
        {"approved": True, "amount": 400, "metadata": {"k": "v"}}
    )
    world = World(client, server, receiver)
    partial = world.authorize(1_000, is_amount_controllable=True)
    assert (partial.approved, partial.amount) == (True, 400)
    assert partial.metadata.to_dict() == {"k": "v"}
    assert world.balance() == (FUNDS - 400, 400)
    whole = world.authorize(1_000)  # not controllable: the amount in the answer is ignored
    assert (whole.approved, whole.amount) == (True, 1_000)
    assert world.balance() == (FUNDS - 1_400, 1_400)


def test_legacy_approve_call_during_the_webhook_wins(client, server, receiver):
    world = World(client, server, receiver)

    def handler(request):
        auth_id = json.loads(request.body)["data"]["object"]["id"]
        client.v1.issuing.authorizations.approve(auth_id, options=world.o)
        return answer({"approved": False})  # the API call wins over the answer

    receiver.responder = handler
    auth = world.authorize(700)
    assert (auth.approved, auth.request_history[-1].reason) == (True, "webhook_approved")
    assert world.balance() == (FUNDS - 700, 700)
    with pytest.raises(stripe.InvalidRequestError) as raised:
        client.v1.issuing.authorizations.decline(auth.id, options=world.o)
    assert raised.value.http_status == 400


def test_legacy_decline_call_during_the_webhook(client, server, receiver):
    world = World(client, server, receiver)

    def handler(request):
        client.v1.issuing.authorizations.decline(
            json.loads(request.body)["data"]["object"]["id"], options=world.o
        )
        return Reply(200, b"", {"Stripe-Version": "2026-10-28.endive"})

    receiver.responder = handler
    auth = world.authorize(700)
    assert (auth.approved, auth.status, auth.request_history[-1].reason) == (
        False,
        "closed",
        "webhook_declined",
    )
    assert world.balance() == (FUNDS, 0)


def test_slow_handler_gets_the_timeout_default(client, server, receiver, deadline):
    receiver.responder = lambda request: answer({"approved": True})
    receiver.delay_seconds = deadline + 0.5
    world = World(client, server, receiver)
    auth = world.authorize(900)
    assert (auth.approved, auth.request_history[-1].reason) == (False, "webhook_timeout")
    assert world.balance() == (FUNDS, 0)


def test_timeout_default_can_approve_per_account(client, server, receiver, deadline):
    receiver.responder = lambda request: answer({"approved": False})
    receiver.delay_seconds = deadline + 0.5
    world = World(
        client, server, receiver, metadata={"openissuing_realtime_timeout_decision": "approve"}
    )
    auth = world.authorize(900)
    assert (auth.approved, auth.request_history[-1].reason) == (True, "webhook_timeout")
    assert world.balance() == (FUNDS - 900, 900)


@pytest.mark.parametrize(
    "reply",
    [
        Reply(500, b'{"error": "boom"}', dict(VERSION_HEADERS)),
        Reply(200, b"<html>not json</html>", dict(VERSION_HEADERS)),
        Reply(200, b'{"approved": "yes"}', dict(VERSION_HEADERS)),
        Reply(
            200, b'{"approved": true}', {"Content-Type": "application/json"}
        ),  # no Stripe-Version
    ],
    ids=["http-500", "garbage", "approved-not-boolean", "no-stripe-version"],
)
def test_unusable_answers_are_webhook_errors(client, server, receiver, reply):
    receiver.reply = reply
    world = World(client, server, receiver)
    auth = world.authorize(600)
    last = auth.request_history[-1]
    assert (auth.approved, last.reason) == (False, "webhook_error")
    assert last.reason_message
    assert world.balance() == (FUNDS, 0)


def test_unreachable_handler_is_a_webhook_error(client, server, receiver):
    world = World(client, server, receiver)
    with socket.socket() as sock:  # a port nobody listens on
        sock.bind(("127.0.0.1", 0))
        closed_port = sock.getsockname()[1]
    endpoint = client.v1.webhook_endpoints.list(options=world.o).data[0]
    client.v1.webhook_endpoints.update(
        endpoint.id, params={"url": f"http://127.0.0.1:{closed_port}/hook"}, options=world.o
    )
    auth = world.authorize(600)
    assert (auth.approved, auth.request_history[-1].reason) == (False, "webhook_error")


def test_built_in_declines_never_reach_the_webhook(client, server, receiver):
    receiver.responder = lambda request: answer({"approved": True})
    world = World(client, server, receiver)
    auth = world.authorize(FUNDS + 1)
    assert (auth.approved, auth.request_history[-1].reason) == (False, "insufficient_funds")
    assert receiver.requests == []


def test_funds_spent_while_waiting_are_rechecked_before_the_hold(client, server, receiver):
    world = World(client, server, receiver)

    def handler(request):
        # While the webhook is pending, the same money leaves through a received debit.
        client.v1.test_helpers.treasury.received_debits.create(
            params={
                "financial_account": world.fa,
                "amount": FUNDS - 100,
                "currency": "usd",
                "network": "ach",
            },
            options=world.o,
        )
        return answer({"approved": True})

    receiver.responder = handler
    auth = world.authorize(5_000)
    assert (auth.approved, auth.request_history[-1].reason) == (False, "insufficient_funds")
    assert world.balance() == (100, 0)
    _books_balance(server)


def test_idempotent_retry_of_a_realtime_purchase_replays(client, server, receiver):
    receiver.responder = lambda request: answer({"approved": True})
    world = World(client, server, receiver)
    first = client.v1.test_helpers.issuing.authorizations.create(
        params={"card": world.card, "amount": 300},
        options={**world.o, "idempotency_key": "rt-key-1"},
    )
    again = client.v1.test_helpers.issuing.authorizations.create(
        params={"card": world.card, "amount": 300},
        options={**world.o, "idempotency_key": "rt-key-1"},
    )
    assert first.id == again.id
    assert len(receiver.requests) == 1
    assert world.balance() == (FUNDS - 300, 300)
