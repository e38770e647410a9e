"""Sandboxes and their clocks, through the control API and the official SDK.

Each test of the suite already runs in its own sandbox (tests/conftest.py);
these tests check what that rests on: isolation between sandboxes, reset,
delete, who may steer what, and a clock that moves one sandbox only and
applies what fell due (authorization expiry) when it moves.
"""

from __future__ import annotations

import json

import httpx
import pytest
import stripe

from tests.contract.test_authorizations import make_world
from tests.flows import activated_account

DAY = 86400
CARDHOLDER = {
    "name": "Jenny Rosen",
    "type": "individual",
    "billing": {
        "address": {
            "line1": "1 Main St",
            "city": "San Francisco",
            "state": "CA",
            "postal_code": "94111",
            "country": "US",
        }
    },
}


def control(server, verb: str, url_path: str, key: str | None = None, **data):
    """A control-API call (``/_openissuing…``) with this sandbox's key unless ``key`` is given."""
    headers = {"Authorization": f"Bearer {key or server.api_key}"}
    return httpx.request(
        verb,
        f"{server.url}/_openissuing{url_path}",
        data=data or None,
        headers=headers,
        timeout=30,
    )


def test_objects_of_one_sandbox_are_invisible_to_another(server, make_sandbox):
    other = make_sandbox("other")
    mine, theirs = server.client(), other.client()
    cardholder = mine.v1.issuing.cardholders.create(params=CARDHOLDER)
    acct = activated_account(mine)
    with pytest.raises(stripe.InvalidRequestError) as missing:
        theirs.v1.issuing.cardholders.retrieve(cardholder.id)
    assert missing.value.http_status == 404 and missing.value.code == "resource_missing"
    assert cardholder.id not in [c.id for c in theirs.v1.issuing.cardholders.list().data]
    assert acct not in [a.id for a in theirs.v1.accounts.list().data]
    with pytest.raises(stripe.PermissionError) as foreign:
        theirs.v1.issuing.cardholders.list(options={"stripe_account": acct})
    assert foreign.value.http_status == 403
    mine_events = {e.data.object.id for e in mine.v1.events.list(params={"limit": 100}).data}
    assert cardholder.id in mine_events
    assert not mine_events & {e.id for e in theirs.v1.events.list(params={"limit": 100}).data}
    assert mine.v1.accounts.retrieve_current().id == server.platform_id
    assert theirs.v1.accounts.retrieve_current().id == other.platform_id != server.platform_id


def test_reset_wipes_every_object_and_keeps_the_key(server):
    client = server.client()
    cardholder = client.v1.issuing.cardholders.create(params=CARDHOLDER)
    w = make_world(client, server, fund=5_000)
    assert w.authorize(1_000).approved is True
    control(server, "POST", "/sandboxes/current/clock", advance="2d").raise_for_status()
    answer = control(server, "POST", "/sandboxes/current/reset")
    assert answer.status_code == 200, answer.text
    reset = answer.json()
    assert reset["id"] == server.sandbox_id and reset["secret_key"] == server.api_key
    assert reset["platform_account"] != server.platform_id
    assert reset["clock"]["offset_seconds"] == 0 and reset["clock"]["frozen"] is False
    # The same key now reaches an empty platform.
    assert client.v1.accounts.retrieve_current().id == reset["platform_account"]
    with pytest.raises(stripe.InvalidRequestError) as gone:
        client.v1.issuing.cardholders.retrieve(cardholder.id)
    assert gone.value.http_status == 404
    assert client.v1.issuing.cardholders.list().data == []
    assert client.v1.accounts.list().data == []
    assert client.v1.events.list().data == []
    # The old connected account is gone for this sandbox's key too.
    with pytest.raises(stripe.PermissionError):
        client.v1.issuing.cards.list(options={"stripe_account": w.acct})
    assert client.v1.issuing.cardholders.create(params=CARDHOLDER).id.startswith("ich_")


def test_delete_revokes_the_key_and_the_default_sandbox_stays(live_server, make_sandbox):
    doomed = make_sandbox("doomed")
    doomed.client().v1.issuing.cardholders.create(params=CARDHOLDER)
    answer = control(live_server, "DELETE", f"/sandboxes/{doomed.sandbox_id}")
    assert answer.status_code == 200 and answer.json() == {
        "id": doomed.sandbox_id,
        "object": "sandbox",
        "deleted": True,
    }
    with pytest.raises(stripe.AuthenticationError) as refused:
        doomed.client().v1.issuing.cardholders.list()
    assert refused.value.http_status == 401
    again = control(live_server, "GET", f"/sandboxes/{doomed.sandbox_id}")
    assert again.status_code == 404 and again.json()["error"]["code"] == "resource_missing"
    default = control(live_server, "DELETE", "/sandboxes/current")
    assert default.status_code == 400 and default.json()["error"]["param"] == "sandbox"


def test_only_the_default_key_sees_and_makes_every_sandbox(live_server, server, make_sandbox):
    other = make_sandbox("other")
    listed = control(live_server, "GET", "/sandboxes").json()
    ids = {s["id"] for s in listed["data"]}
    assert {server.sandbox_id, other.sandbox_id} <= ids
    assert [s["default"] for s in listed["data"]].count(True) == 1
    own = control(server, "GET", "/sandboxes").json()
    assert [s["id"] for s in own["data"]] == [server.sandbox_id]
    made = control(server, "POST", "/sandboxes", name="nope")
    assert made.status_code == 403
    peek = control(server, "GET", f"/sandboxes/{other.sandbox_id}")
    assert peek.status_code == 404
    nobody = httpx.get(f"{server.url}/_openissuing/sandboxes", timeout=30)
    assert nobody.status_code == 401 and nobody.json()["error"]["type"] == "invalid_request_error"
    unknown = control(live_server, "POST", "/sandboxes", name="x", colour="blue")
    assert unknown.status_code == 400 and unknown.json()["error"]["param"] == "colour"


def test_advancing_the_clock_expires_holds_in_that_sandbox_only(server, make_sandbox):
    other = make_sandbox("other")
    here = make_world(server.client(), server, fund=10_000)
    there = make_world(other.client(), other, fund=10_000)
    auth = here.authorize(3_000)
    hotel = here.authorize(2_000, merchant_data={"category": "hotels_motels_and_resorts"})
    theirs = there.authorize(3_000)
    here.books(cash=5_000, outbound_pending=5_000)
    before = control(server, "GET", "/sandboxes/current/clock").json()
    answer = control(server, "POST", "/sandboxes/current/clock", advance="7d1s")
    assert answer.status_code == 200, answer.text
    clock = answer.json()
    assert clock["offset_seconds"] == before["offset_seconds"] + 7 * DAY + 1
    assert clock["now"] >= before["now"] + 7 * DAY + 1
    # Applied when the clock moved, not only when something is read: the event is there.
    types = [e.type for e in here.client.v1.events.list(params={"limit": 100}, options=here.o)]
    assert "issuing_authorization.updated" in types
    assert here.retrieve(auth.id).status == "expired"
    assert here.retrieve(hotel.id).status == "pending"
    here.books(cash=8_000, outbound_pending=2_000)
    assert there.retrieve(theirs.id).status == "pending"
    there.books(cash=7_000, outbound_pending=3_000)
    here.audit_clean()


def test_created_timestamps_follow_a_frozen_or_set_clock(server):
    client = server.client()
    frozen = control(server, "POST", "/sandboxes/current/clock", freeze="true").json()
    assert frozen["frozen"] is True
    first = client.v1.issuing.cardholders.create(params=CARDHOLDER)
    second = client.v1.issuing.cardholders.create(params=CARDHOLDER)
    assert first.created == second.created == frozen["now"]
    target = frozen["now"] + 30 * DAY
    moved = control(server, "POST", "/sandboxes/current/clock", set=str(target)).json()
    assert moved["now"] == target and moved["frozen"] is True
    assert client.v1.issuing.cardholders.create(params=CARDHOLDER).created == target
    running = control(server, "POST", "/sandboxes/current/clock", freeze="false").json()
    assert running["frozen"] is False and running["now"] >= target


@pytest.mark.parametrize(
    ("params", "param"),
    [
        ({"advance": "soon"}, "advance"),
        ({"advance": "0"}, "advance"),
        ({"advance": "-5"}, "advance"),
        ({"set": "1"}, "set"),
        ({"set": "tomorrow"}, "set"),
        ({"freeze": "maybe"}, "freeze"),
        ({}, "advance"),
    ],
)
def test_bad_clock_moves_are_stripe_shaped_400s(server, params, param):
    answer = control(server, "POST", "/sandboxes/current/clock", **params)
    assert answer.status_code == 400, answer.text
    error = answer.json()["error"]
    assert error["type"] == "invalid_request_error" and error["param"] == param
    assert control(server, "GET", "/sandboxes/current/clock").json()["offset_seconds"] == 0


def test_idempotency_keys_expire_by_the_sandbox_clock(server):
    client = server.client()
    key = "sandbox-clock-key"
    first = client.v1.issuing.cardholders.create(
        params=CARDHOLDER, options={"idempotency_key": key}
    )
    replay = client.v1.issuing.cardholders.create(
        params=CARDHOLDER, options={"idempotency_key": key}
    )
    assert replay.id == first.id
    control(server, "POST", "/sandboxes/current/clock", advance="25h").raise_for_status()
    later = client.v1.issuing.cardholders.create(
        params={**CARDHOLDER, "name": "Someone Else"}, options={"idempotency_key": key}
    )
    assert later.id != first.id and later.name == "Someone Else"


def test_the_cli_lists_creates_and_moves_clocks(live_server, server, capsys):
    from openissuing import cli

    base = ["--api-base", live_server.url]
    assert cli.main(["sandbox", "list", *base, "--api-key", live_server.api_key]) == 0
    listed = capsys.readouterr().out
    assert "(default)" in listed and server.sandbox_id in listed and server.api_key in listed
    assert (
        cli.main(
            [
                "sandbox",
                "create",
                "--name",
                "cli-made",
                *base,
                "--api-key",
                live_server.api_key,
                "--json",
            ]
        )
        == 0
    )
    made = json.loads(capsys.readouterr().out)
    assert made["name"] == "cli-made" and made["secret_key"].startswith("sk_test_")
    assert cli.main(["clock", "advance", "8d", *base, "--api-key", made["secret_key"]]) == 0
    assert "+691200 s" in capsys.readouterr().out
    assert cli.main(["clock", "advance", "soon", *base, "--api-key", made["secret_key"]]) == 1
    assert "Invalid span" in capsys.readouterr().err
    assert cli.main(["sandbox", "delete", made["id"], *base, "--api-key", live_server.api_key]) == 0
    assert f"{made['id']} deleted" in capsys.readouterr().out
    assert cli.main(["sandbox", "show", *base, "--api-key", made["secret_key"]]) == 1
    assert "401" in capsys.readouterr().err
