"""The commands a platform developer reaches for, run against the real server.

``demo`` walks the guide in a fresh sandbox, ``trigger`` runs each flow and
makes the fixtures it lacks, ``seed`` fills a sandbox, and ``listen`` forwards
events (and real-time authorizations) to a local handler, re-signed with the
secret it prints and verified here with the official SDK.
"""

from __future__ import annotations

import json
import time

import pytest
import stripe

from openissuing import cli
from openissuing.commands.client import Api
from openissuing.commands.listen import Listener
from tests.contract.test_authorizations import make_world
from tests.webhook_receiver import Reply, WebhookReceiver

VERSION_HEADERS = {"Content-Type": "application/json", "Stripe-Version": "2026-10-28.endive"}


def test_demo_walks_the_guide_in_a_fresh_sandbox(live_server, capsys):
    code = cli.main(
        ["demo", "--api-base", live_server.url, "--api-key", live_server.api_key, "--new-sandbox"]
    )
    out = capsys.readouterr().out
    assert code == 0, out
    assert "every step behaved as the guide says" in out
    assert "insufficient_funds" in out and ": won" in out and ": lost" in out
    # The closing table ends where the guide's arithmetic does: 100 − 20 + 5 − 10 + 10 − 15.
    assert out.strip().splitlines()[-3].split()[-2:] == ["$70.00", "$0.00"]


@pytest.mark.parametrize(
    ("event", "expected"),
    [
        ("issuing_authorization.created", ["authorization iauth_"]),
        ("issuing_transaction.created", ["authorization iauth_", "transaction ipi_"]),
        ("issuing_dispute.created", ["transaction ipi_", "dispute idp_"]),
        ("issuing_card.created", ["made card ic_"]),
        ("issuing_cardholder.created", ["made cardholder ich_"]),
    ],
)
def test_trigger_makes_what_is_missing_and_runs_the_flow(server, capsys, event, expected):
    base = ["--api-base", server.url, "--api-key", server.api_key]
    assert cli.main(["trigger", event, "--amount", "1234", *base]) == 0
    out = capsys.readouterr().out
    for fragment in expected:
        assert fragment in out, out
    client = server.client()
    accounts = client.v1.accounts.list().data
    assert len(accounts) == 1
    options = {"stripe_account": accounts[0].id}
    found = {
        "issuing_authorization.created": lambda: client.v1.issuing.authorizations.list(
            options=options
        ),
        "issuing_transaction.created": lambda: client.v1.issuing.transactions.list(options=options),
        "issuing_dispute.created": lambda: client.v1.issuing.disputes.list(options=options),
        "issuing_card.created": lambda: client.v1.issuing.cards.list(options=options),
        "issuing_cardholder.created": lambda: client.v1.issuing.cardholders.list(options=options),
    }[event]().data
    assert len(found) == 1
    events = [e.type for e in client.v1.events.list(params={"limit": 100}, options=options).data]
    assert event in events


def test_trigger_on_a_given_card_uses_its_account(server, capsys):
    w = make_world(server.client(), server, fund=10_000)
    base = ["--api-base", server.url, "--api-key", server.api_key]
    args = ["trigger", "issuing_authorization.created", "--card", w.card, "--amount", "700"]
    args += ["--merchant-category", "eating_places_restaurants", *base]
    assert cli.main(args) == 0
    assert "made" not in capsys.readouterr().out
    auths = w.client.v1.issuing.authorizations.list(params={"card": w.card}, options=w.o).data
    assert [a.amount for a in auths] == [700]
    assert auths[0].merchant_data.category == "eating_places_restaurants"
    w.books(cash=9_300, outbound_pending=700)
    missing = cli.main(["trigger", "issuing_authorization.created", "--card", "ic_nope", *base])
    assert missing == 1 and "no card ic_nope" in capsys.readouterr().err


def test_seed_fills_a_sandbox(server, capsys):
    base = ["--api-base", server.url, "--api-key", server.api_key]
    assert cli.main(["seed", "--accounts", "2", "--purchases", "4", *base]) == 0
    assert "2 accounts, 4 cards, 16 purchases" in capsys.readouterr().out
    client = server.client()
    accounts = client.v1.accounts.list().data
    assert len(accounts) == 2
    for account in accounts:
        options = {"stripe_account": account.id}
        assert len(client.v1.issuing.cards.list(options=options).data) == 2
        assert len(client.v1.issuing.authorizations.list(options=options).data) == 8
        assert client.v1.issuing.transactions.list(options=options).data


def test_listen_forwards_signed_events_and_lets_the_handler_decide(server):
    lines: list[str] = []
    with WebhookReceiver() as handler:
        listener = Listener(
            Api(server.url, server.api_key), handler.url, realtime=True, say=lines.append
        )
        listener.start()
        try:
            handler.secret = listener.secret
            handler.responder = lambda request: (
                Reply(200, json.dumps({"approved": True}).encode(), dict(VERSION_HEADERS))
                if request.json()["type"] == "issuing_authorization.request"
                else None
            )
            w = make_world(server.client(), server, fund=5_000)
            auth = w.authorize(1_200)
            assert auth.approved is True
            assert auth.request_history[-1].reason == "webhook_approved"
            w.books(cash=3_800, outbound_pending=1_200)
            # Every forwarded body verifies with the printed secret, by the SDK's own check.
            # (the world's set-up events come too: capability, account, financial account…)
            deadline = time.time() + 15
            while time.time() < deadline:
                types = [e.type for e in handler.events()]
                if "issuing_authorization.created" in types:
                    break
                time.sleep(0.05)
            assert "issuing_authorization.request" in types
            assert "issuing_authorization.created" in types
            assert "treasury.financial_account.created" in types
            assert any(line.startswith("--> issuing_authorization.request [evt_") for line in lines)
            assert "<-- [200] approved" in lines
            with pytest.raises(stripe.SignatureVerificationError):
                stripe.Webhook.construct_event(
                    handler.requests[0].text,
                    handler.requests[0].headers["stripe-signature"],
                    "whsec_not_the_printed_one",
                )
        finally:
            listener.stop()
    assert server.client().v1.webhook_endpoints.list().data == []


def test_trigger_a_request_reaches_the_platforms_real_time_handler(server, capsys):
    with WebhookReceiver() as handler:
        handler.responder = lambda request: Reply(
            200, json.dumps({"approved": True}).encode(), dict(VERSION_HEADERS)
        )
        made = server.client().v1.webhook_endpoints.create(
            params={
                "url": handler.url,
                "enabled_events": ["issuing_authorization.request"],
                "connect": True,
            }
        )
        handler.secret = made.secret
        base = ["--api-base", server.url, "--api-key", server.api_key]
        assert cli.main(["trigger", "issuing_authorization.request", "--amount", "900", *base]) == 0
        out = capsys.readouterr().out
        assert "approved, reason webhook_approved" in out
        (asked,) = handler.events()  # verified with the SDK, signed with the endpoint's secret
        assert asked.type == "issuing_authorization.request"
        assert asked.data.object.pending_request.amount == 900
