"""Events are snapshots: ``data.object`` is the object as it was when the event happened.

One connected account walks through every event type the server emits (the list is the
registry's, ``wire.registry.EVENT_TYPES``: a new type fails here until the walk covers it).
Then every object those events name is changed behind the events' backs (its stored document
is edited directly, and more money arrives), and the events are read again from
``/v1/events`` and from webhook deliveries sent only after the change: every one still shows
the old state, while retrieving the object shows the new one.
"""

from __future__ import annotations

import json
import threading

import httpx
import pytest

from openissuing.storage.uow import transaction
from openissuing.wire import registry
from tests.contract.test_financial_accounts import account_without_card_issuing_terms
from tests.outbound import walk_outbound_events
from tests.webhook_fixtures import eventually
from tests.webhook_receiver import Reply, WebhookReceiver

ADDRESS = {
    "line1": "1 Main St",
    "city": "Austin",
    "state": "TX",
    "postal_code": "78701",
    "country": "US",
}
TOS = {"date": 1_700_000_000, "ip": "203.0.113.7"}
WIN = {"reason": "fraudulent", "fraudulent": {"explanation": "Card reported stolen."}}
CHANGED = "changed after the event"
# How to retrieve the object an event names, per object type.
RETRIEVE = {
    "account": "/v1/accounts/{id}",
    "capability": "/v1/accounts/{acct}/capabilities/{id}",
    "issuing.cardholder": "/v1/issuing/cardholders/{id}",
    "issuing.card": "/v1/issuing/cards/{id}",
    "issuing.authorization": "/v1/issuing/authorizations/{id}",
    "issuing.transaction": "/v1/issuing/transactions/{id}",
    "issuing.dispute": "/v1/issuing/disputes/{id}",
    "treasury.financial_account": "/v1/treasury/financial_accounts/{id}",
    "treasury.received_credit": "/v1/treasury/received_credits/{id}",
    "treasury.received_debit": "/v1/treasury/received_debits/{id}",
    "treasury.debit_reversal": "/v1/treasury/debit_reversals/{id}",
    "person": "/v1/accounts/{acct}/persons/{id}",
    "bank_account": "/v1/accounts/{acct}/external_accounts/{id}",
    "treasury.outbound_payment": "/v1/treasury/outbound_payments/{id}",
    "treasury.outbound_transfer": "/v1/treasury/outbound_transfers/{id}",
    "issuing.token": "/v1/issuing/tokens/{id}",
    "issuing.personalization_design": "/v1/issuing/personalization_designs/{id}",
    "treasury.inbound_transfer": "/v1/treasury/inbound_transfers/{id}",
    "treasury.credit_reversal": "/v1/treasury/credit_reversals/{id}",
    "topup": "/v1/topups/{id}",
    "balance": "/v1/balance",  # no id: the account's balance, computed when read
}
REPRESENTATIVE = {
    "first_name": "Snap",
    "last_name": "Shot",
    "email": "snap@example.com",
    "dob": {"day": 1, "month": 2, "year": 1980},
    "address": ADDRESS,
    "ssn_last_4": "0000",
    "relationship": {"representative": True, "executive": True, "title": "CEO"},
}
# Objects with no document of their own to edit: they change when money moves.
COMPUTED = {"balance"}


@pytest.fixture()
def decider():
    """The platform's real-time decision endpoint: approves every authorization request."""
    with WebhookReceiver() as running:
        running.responder = lambda request: Reply(200, b'{"approved": true}')
        yield running


@pytest.fixture()
def api(server):
    with httpx.Client(
        base_url=server.url, headers={"Authorization": f"Bearer {server.api_key}"}
    ) as session:
        yield session


def _walk_every_event_type(client, endpoints, decider, clock) -> dict:
    """Emit every event type once at least, in one connected account."""
    acct = account_without_card_issuing_terms(client)  # account + capability events
    o = {"stripe_account": acct}
    features = {"card_issuing": {"requested": True}}
    fa = client.v1.treasury.financial_accounts.create(
        params={"supported_currencies": ["usd"], "features": features}, options=o
    )
    # Accepting the Issuing terms: account.updated, capability.updated, features_status_updated.
    client.v1.accounts.update(acct, params={"settings": {"card_issuing": {"tos_acceptance": TOS}}})
    client.v1.accounts.update(acct, params={"metadata": {"step": "onboarded"}})
    holder = client.v1.issuing.cardholders.create(
        params={
            "name": "Snap Shot",
            "billing": {"address": ADDRESS},
            "individual": {"first_name": "Snap", "last_name": "Shot"},
        },
        options=o,
    )
    client.v1.issuing.cardholders.update(holder.id, params={"metadata": {"k": "v"}}, options=o)
    card = client.v1.issuing.cards.create(
        params={
            "cardholder": holder.id,
            "financial_account": fa.id,
            "currency": "usd",
            "type": "virtual",
            "status": "active",
        },
        options=o,
    )
    client.v1.issuing.cards.update(card.id, params={"metadata": {"k": "v"}}, options=o)
    money = client.v1.test_helpers.treasury
    money.received_credits.create(
        params={"financial_account": fa.id, "amount": 10_000, "currency": "usd", "network": "ach"},
        options=o,
    )
    money.received_debits.create(
        params={"financial_account": fa.id, "amount": 1_000, "currency": "usd", "network": "ach"},
        options=o,
    )
    helpers = client.v1.test_helpers.issuing.authorizations
    auth = helpers.create(params={"card": card.id, "amount": 2_500}, options=o)
    client.v1.issuing.authorizations.update(auth.id, params={"metadata": {"k": "v"}}, options=o)
    txn = helpers.capture(auth.id, options=o).transactions[0]
    client.v1.issuing.transactions.update(txn.id, params={"metadata": {"k": "v"}}, options=o)
    dispute = client.v1.issuing.disputes.create(
        params={"transaction": txn.id, "evidence": WIN}, options=o
    )
    client.v1.issuing.disputes.update(dispute.id, params={"metadata": {"k": "v"}}, options=o)
    client.v1.issuing.disputes.submit(dispute.id, options=o)
    client.v1.issuing.disputes.retrieve(dispute.id, options=o)  # won: the debit reversal
    # A wallet purchase provisions a network token; suspending it updates it.
    token = helpers.create(
        params={"card": card.id, "amount": 100, "wallet": "apple_pay"}, options=o
    ).token
    client.v1.issuing.tokens.update(token, params={"status": "suspended"}, options=o)
    # A personalization design through Stripe's review: every design event.
    designs = client.v1.issuing.personalization_designs
    review = client.v1.test_helpers.issuing.personalization_designs
    design = designs.create(params={"physical_bundle": "ics_standard_black"}, options=o)
    review.activate(design.id, options=o)
    review.deactivate(design.id, options=o)
    designs.update(design.id, params={"card_logo": "file_snapshot"}, options=o)
    review.reject(design.id, params={"rejection_reasons": {"card_logo": ["other"]}}, options=o)
    # A real-time decision: the request event is sent synchronously, while the purchase waits.
    endpoint = endpoints(decider, events=["issuing_authorization.request"], account=acct)
    helpers.create(params={"card": card.id, "amount": 300}, options=o)
    client.v1.webhook_endpoints.delete(endpoint.id, options=o)
    _walk_money_in(client, o, fa.id)
    # A second financial account, closed; a credit to it fails.
    other = client.v1.treasury.financial_accounts.create(
        params={"supported_currencies": ["usd"], "features": features}, options=o
    )
    client.v1.treasury.financial_accounts.close(other.id, options=o)
    money.received_credits.create(
        params={"financial_account": other.id, "amount": 100, "currency": "usd", "network": "ach"},
        options=o,
    )
    walk_outbound_events(client, clock, acct)  # money out: payments and transfers
    # The Issuing balance: a top-up that succeeds (and balance.available), one that fails, and
    # one canceled while pending (created an hour "ahead", so not yet due).
    client.v1.topups.create(
        params={"amount": 5_000, "currency": "usd", "destination_balance": "issuing"}, options=o
    )
    client.v1.topups.create(
        params={"amount": 100, "currency": "usd", "source": "btok_us_verified_accountClosed"},
        options=o,
    )
    clock.advance(3_600)
    pending = client.v1.topups.create(params={"amount": 200, "currency": "usd"}, options=o)
    clock.advance(-3_600)
    client.v1.topups.cancel(pending.id, options=o)
    _walk_connect(client, acct)
    return {"acct": acct, "fa": fa.id}


def _walk_connect(client, acct: str) -> None:
    """Persons and external accounts: the account becomes a company and is completed again."""
    company = {
        "name": "Snap Co",
        "tax_id": "000000000",
        "address": ADDRESS,
        "owners_provided": True,
    }
    client.v1.accounts.update(acct, params={"business_type": "company", "company": company})
    person = client.v1.accounts.persons.create(acct, params={"first_name": "Snap"})
    client.v1.accounts.persons.update(acct, person.id, params=REPRESENTATIVE)
    gone = client.v1.accounts.persons.create(acct, params={"first_name": "Gone"})
    client.v1.accounts.persons.delete(acct, gone.id)
    first = client.v1.accounts.external_accounts.create(
        acct, params={"external_account": "btok_us_verified"}
    )
    client.v1.accounts.external_accounts.create(
        acct, params={"external_account": "btok_us_verified", "default_for_currency": True}
    )
    client.v1.accounts.external_accounts.delete(acct, first.id)  # no longer the default


def _walk_money_in(client, o: dict, fa: str) -> None:
    """Inbound transfers (succeeded then returned, failed, canceled) and a credit reversal."""
    client.v1.treasury.financial_accounts.update(
        fa, params={"features": {"inbound_transfers": {"ach": {"requested": True}}}}, options=o
    )
    transfers = client.v1.treasury.inbound_transfers
    helpers = client.v1.test_helpers.treasury.inbound_transfers
    params = {"financial_account": fa, "currency": "usd", "origin_payment_method": "pm_snap"}
    succeeded = transfers.create(params={**params, "amount": 700}, options=o)
    helpers.succeed(succeeded.id, options=o)
    helpers.return_inbound_transfer(succeeded.id, options=o)
    helpers.fail(transfers.create(params={**params, "amount": 800}, options=o).id, options=o)
    transfers.cancel(transfers.create(params={**params, "amount": 900}, options=o).id, options=o)
    credit = client.v1.test_helpers.treasury.received_credits.create(
        params={"financial_account": fa, "amount": 600, "currency": "usd", "network": "ach"},
        options=o,
    )
    client.v1.treasury.credit_reversals.create(params={"received_credit": credit.id}, options=o)


def _key(obj: dict) -> tuple[str, str | None]:
    return obj["object"], obj.get("id")


def _events(api, acct: str) -> dict[str, dict]:
    """Every event of the account, by id, as /v1/events shows it (raw JSON)."""
    found: dict[str, dict] = {}
    after = None
    while True:
        query = {"limit": 100, **({"starting_after": after} if after else {})}
        page = api.get("/v1/events", params=query, headers={"Stripe-Account": acct}).json()
        found.update({event["id"]: event for event in page["data"]})
        if not page["has_more"]:
            return found
        after = page["data"][-1]["id"]


def _change_behind_the_events(server, objects: set[tuple[str, str]]) -> None:
    """Edit every named object's stored document directly (no event is recorded for it)."""

    def edit(uow):
        for object_type, object_id in sorted(objects, key=str):
            if object_type == "capability" or object_type in COMPUTED:
                continue  # derived from the account; the terms acceptance already changed it
            _, owner = uow.docs.owner_of(object_id)
            record = uow.docs.get(object_type, object_id, owner)
            if "metadata" in record:
                record["metadata"] = {**(record["metadata"] or {}), "snapshot": CHANGED}
            else:
                # A free-text field the object declares (the suite checks every body it reads
                # against the SDK's classes: a field the object has not would fail there).
                field = next(f for f in ("description", "device_fingerprint") if f in record)
                record[field] = CHANGED
            uow.docs.update(record)

    transaction(server.runtime.engine, edit)


def _current(api, acct: str, object_type: str, object_id: str | None) -> dict:
    path = RETRIEVE[object_type].format(id=object_id, acct=acct)  # (balance: no id)
    response = api.get(path, headers={"Stripe-Account": acct})
    assert response.status_code == 200, response.text
    return response.json()


def test_every_event_type_shows_the_object_as_it_was(
    server,
    client,
    api,
    dispatchers,
    receiver,
    endpoints,
    decider,
):
    dispatcher = dispatchers(start=False)  # deliveries wait until the objects have changed
    endpoints(receiver, connect=True)  # the platform's Connect endpoint hears the account
    walked = _walk_every_event_type(client, endpoints, decider, server.clock)
    acct = walked["acct"]

    before = _events(api, acct)
    by_type: dict[str, list[dict]] = {}
    for event in before.values():
        by_type.setdefault(event["type"], []).append(event)
    assert set(by_type) == set(registry.EVENT_TYPES), "every emitted type walked, none unknown"
    for event_type, events in by_type.items():
        expected = registry.EVENT_TYPES[event_type]
        assert all(e["data"]["object"]["object"] == expected for e in events), event_type

    # The measured bug: the financial account's creation showed the balance of today.
    (created,) = [
        e
        for e in by_type["treasury.financial_account.created"]
        if e["data"]["object"]["id"] == walked["fa"]
    ]
    assert created["data"]["object"]["balance"]["cash"] == {"usd": 0}

    # Now change everything the events name (and still exists), and move more money.
    deleted = {e["data"]["object"]["id"] for e in before.values() if e["type"].endswith(".deleted")}
    named = {
        _key(e["data"]["object"])
        for e in before.values()
        if e["data"]["object"].get("id") not in deleted
    }
    _change_behind_the_events(server, named)
    client.v1.test_helpers.treasury.received_credits.create(
        params={"financial_account": walked["fa"], "amount": 4_242, "currency": "usd"}
        | {"network": "ach"},
        options={"stripe_account": acct},
    )
    # More money into the Stripe balance (it settles on the next read below).
    client.v1.topups.create(
        params={"amount": 4_242, "currency": "usd", "destination_balance": "issuing"},
        options={"stripe_account": acct},
    )
    current = {key: _current(api, acct, *key) for key in named}
    assert current[("treasury.financial_account", walked["fa"])]["balance"]["cash"]["usd"] > 0
    for (object_type, _), shown in current.items():
        if object_type != "capability" and object_type not in COMPUTED:
            assert CHANGED in json.dumps(shown), f"the change is visible on the {object_type}"

    # Read back: /v1/events, and webhooks delivered only now, both show the old objects.
    after = _events(api, acct)
    queued = [e for e in before.values() if e["type"] != "issuing_authorization.request"]
    dispatcher.start()
    eventually(lambda: len(receiver.requests) >= len(queued), timeout=30)
    delivered = {
        event.id: event.to_dict()
        for event in receiver.events()
        if getattr(event, "account", None) == acct
    }
    # (the 4,242 credit's own two events were delivered too)
    assert set(delivered) >= {e["id"] for e in queued}
    (request,) = by_type["issuing_authorization.request"]
    sent_in_real_time = json.loads(decider.requests[0].text)
    assert sent_in_real_time["data"]["object"] == request["data"]["object"]
    delivered[request["id"]] = sent_in_real_time

    for event_type, events in by_type.items():
        old_state_seen = False
        for event in events:
            then = event["data"]["object"]
            assert after[event["id"]]["data"]["object"] == then, event_type
            assert delivered[event["id"]]["data"]["object"] == then, event_type
            # (a deleted object is gone now: None, which differs from what the event shows)
            now = current[_key(then)] if then.get("id") not in deleted else None
            old_state_seen = old_state_seen or now != then
            assert CHANGED not in json.dumps(then), event_type
        assert old_state_seen, f"{event_type}: no event of the type differs from the object now"


def test_an_authorization_is_rendered_once_for_its_event_and_its_response(
    server, client, monkeypatch
):
    """The hot path renders the authorization for its ``created`` event, then answers with that
    same rendering (the same bytes, serialized once); and rendering reads nothing again: the
    card and cardholder the decision loaded come from the transaction's identity map."""
    from openissuing.api import pipeline
    from openissuing.services import presenter
    from openissuing.storage.raw import Raw
    from openissuing.wire import registry

    acct = account_without_card_issuing_terms(client)
    o = {"stripe_account": acct}
    client.v1.accounts.update(acct, params={"settings": {"card_issuing": {"tos_acceptance": TOS}}})
    fa = client.v1.treasury.financial_accounts.create(
        params={"supported_currencies": ["usd"], "features": {"card_issuing": {"requested": True}}},
        options=o,
    )
    client.v1.test_helpers.treasury.received_credits.create(
        params={"financial_account": fa.id, "amount": 5_000, "currency": "usd", "network": "ach"},
        options=o,
    )
    holder = client.v1.issuing.cardholders.create(
        params={
            "name": "Once Only",
            "billing": {"address": ADDRESS},
            "individual": {"first_name": "Once", "last_name": "Only"},
        },
        options=o,
    )
    card = client.v1.issuing.cards.create(
        params={
            "cardholder": holder.id,
            "financial_account": fa.id,
            "currency": "usd",
            "type": "virtual",
            "status": "active",
        },
        options=o,
    )
    statements: list[str] = []
    renderings: list[str] = []
    original = Raw.execute
    serializer = registry.serializer
    original_execute = pipeline._execute
    # Only the request's own unit of work is counted: the dispatcher's polls, the housekeeper and
    # a key-cache miss (the sandbox lookup before the request runs) are other threads' or other
    # calls' statements, and a loaded machine makes them land inside the window at random.
    in_request = threading.local()

    def counting(self, sql, params=(), **options):
        if getattr(in_request, "active", False):
            statements.append(sql)
        return original(self, sql, params, **options)

    def execute_counted(*args, **kwargs):
        in_request.active = True
        try:
            return original_execute(*args, **kwargs)
        finally:
            in_request.active = False

    def counting_serializer(object_type):
        if object_type == "issuing.authorization":
            renderings.append(object_type)
        return serializer(object_type)

    def authorize() -> tuple[int, int, dict]:
        statements.clear()
        renderings.clear()
        monkeypatch.setattr(Raw, "execute", counting)
        monkeypatch.setattr(registry, "serializer", counting_serializer)
        monkeypatch.setattr(pipeline, "_execute", execute_counted)
        try:
            auth = client.v1.test_helpers.issuing.authorizations.create(
                params={"card": card.id, "amount": 100}, options=o
            )
        finally:
            monkeypatch.setattr(Raw, "execute", original)
            monkeypatch.setattr(registry, "serializer", serializer)
            monkeypatch.setattr(pipeline, "_execute", original_execute)
        return len(statements), len(renderings), auth

    authorize()  # the first purchase also creates the account's card network ledger account
    once, rendered_once, auth = authorize()
    assert rendered_once == 1
    monkeypatch.setattr(presenter, "_reuse", lambda *args: None)
    twice, rendered_twice, _ = authorize()
    assert rendered_twice == 2
    # Rendering again reads nothing: the card and cardholder are already in the identity map.
    assert twice == once
    event = client.v1.events.list(params={"type": "issuing_authorization.created"}, options=o)
    assert event.data[0].data.object.to_dict() != auth.to_dict()  # the second one's
    shown = next(e for e in event.data if e.data.object.id == auth.id)
    assert shown.data.object.to_dict() == auth.to_dict()
