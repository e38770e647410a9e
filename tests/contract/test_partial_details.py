"""Requests that send only some keys of a sub-hash get the sub-hash's full shape back.

``merchant_data`` with only a category, ``amount_details`` with only the cashback, ``fuel``
with only its type, a capture's ``purchase_details`` with a few fields of each part: every
object (the response, its events, the webhook bodies, the transaction) carries every field
the SDK declares, null where unset, each value as its declared type. The suite-wide shape
check (tests/shape_hooks.py) checks every body these calls receive; the assertions here
pin the values.
"""

from __future__ import annotations

from decimal import Decimal

from tests.contract.test_authorizations import make_world
from tests.contract.test_realtime_authorizations import World as RealtimeWorld
from tests.contract.test_realtime_authorizations import answer

FLEET_FIELDS = {"cardholder_prompt_data", "purchase_type", "reported_breakdown", "service_type"}


def _events(w, object_id: str, kind: str):
    found = w.client.v1.events.list(params={"type": kind, "limit": 100}, options=w.o).data
    return [e for e in found if e.data.object.id == object_id]


def test_an_authorization_fills_every_sub_hash_it_was_sent_in_part(client, server):
    w = make_world(client, server, fund=10_000)
    auth = w.authorize(
        1_000,
        merchant_data={"category": "automated_fuel_dispensers"},
        amount_details={"cashback_amount": 500},
        fuel={"type": "diesel"},
        fleet={"purchase_type": "fuel_purchase", "cardholder_prompt_data": {"odometer": 1234}},
    )
    assert auth.approved
    merchant = auth.merchant_data.to_dict()
    assert merchant["category"] == "automated_fuel_dispensers"
    assert merchant["category_code"] == "5542"
    assert {"city", "country", "name", "network_id", "postal_code", "state", "url"} <= set(merchant)
    assert auth.amount_details.to_dict() == {"atm_fee": None, "cashback_amount": 500}
    assert auth.request_history[0].amount_details.to_dict() == {
        "atm_fee": None,
        "cashback_amount": 500,
    }
    assert auth.fuel.to_dict() == {
        "industry_product_code": None,
        "quantity_decimal": None,
        "type": "diesel",
        "unit": None,
        "unit_cost_decimal": None,
    }
    fleet = auth.fleet.to_dict()
    assert set(fleet) == FLEET_FIELDS
    assert (fleet["purchase_type"], fleet["service_type"], fleet["reported_breakdown"]) == (
        "fuel_purchase",
        None,
        None,
    )
    assert fleet["cardholder_prompt_data"] == {
        "alphanumeric_id": None,
        "driver_id": None,
        "odometer": 1234,
        "unspecified_id": None,
        "user_id": None,
        "vehicle_number": None,
    }
    (created,) = _events(w, auth.id, "issuing_authorization.created")
    assert created.data.object.fuel.type == "diesel"
    assert created.data.object.amount_details.atm_fee is None
    assert w.retrieve(auth.id).to_dict() == auth.to_dict()


def test_finalize_amount_updates_fleet_and_fuel_key_by_key(client, server):
    w = make_world(client, server, fund=10_000)
    auth = w.authorize(
        8_000,
        merchant_data={"category": "automated_fuel_dispensers"},
        fuel={"type": "unleaded_regular", "unit": "us_gallon"},
    )
    final = w.helpers().finalize_amount(
        auth.id,
        params={
            "final_amount": 4_590,
            "fuel": {"quantity_decimal": "15.000", "unit_cost_decimal": "306"},
            "fleet": {"reported_breakdown": {"tax": {"local_amount_decimal": "12.5"}}},
        },
        options=w.o,
    )
    assert (final.status, final.amount) == ("pending", 4_590)
    # The type and unit sent at authorization stay; the pump's numbers are added, as decimals.
    assert final.fuel.type == "unleaded_regular" and final.fuel.unit == "us_gallon"
    assert final.fuel.quantity_decimal == Decimal("15.000")
    assert final.fuel.unit_cost_decimal == Decimal("306")
    breakdown = final.fleet.reported_breakdown
    assert breakdown.fuel is None and breakdown.non_fuel is None
    assert breakdown.tax.to_dict() == {
        "local_amount_decimal": Decimal("12.5"),
        "national_amount_decimal": None,
    }
    (updated,) = _events(w, auth.id, "issuing_authorization.updated")
    assert updated.data.object.fuel.quantity_decimal == Decimal("15.000")
    w.books(cash=5_410, outbound_pending=4_590)


def test_a_capture_builds_the_full_purchase_details(client, server):
    w = make_world(client, server, fund=10_000)
    auth = w.authorize(3_000)
    captured = w.capture(
        auth.id,
        purchase_details={
            "fleet": {"service_type": "self_service"},
            "flight": {"passenger_name": "Jenny", "segments": [{"carrier": "UA"}]},
            "fuel": {"type": "diesel"},
            "lodging": {"nights": 2},
            "receipt": [{"description": "Coffee", "quantity": "1.5", "unit_cost": 200}],
            "reference": "order-1",
        },
    )
    txn = captured.transactions[0]
    details = w.client.v1.issuing.transactions.retrieve(txn.id, options=w.o).purchase_details
    assert set(details.fleet.to_dict()) == FLEET_FIELDS
    assert details.fleet.service_type == "self_service"
    assert details.fleet.cardholder_prompt_data is None
    flight = details.flight.to_dict()
    assert (flight["passenger_name"], flight["departure_at"], flight["refundable"]) == (
        "Jenny",
        None,
        None,
    )
    assert flight["segments"] == [
        {
            "arrival_airport_code": None,
            "carrier": "UA",
            "departure_airport_code": None,
            "flight_number": None,
            "service_class": None,
            "stopover_allowed": None,
        }
    ]
    # type, unit and unit cost are never null on a transaction's fuel
    assert details.fuel.to_dict() == {
        "industry_product_code": None,
        "quantity_decimal": None,
        "type": "diesel",
        "unit": "other",
        "unit_cost_decimal": Decimal("0"),
    }
    assert details.lodging.to_dict() == {"check_in_at": None, "nights": 2}
    (line,) = details.receipt
    assert line.to_dict() == {
        "description": "Coffee",
        "quantity": 1.5,
        "total": None,
        "unit_cost": 200,
    }
    assert isinstance(line.quantity, float)
    assert details.reference == "order-1"
    (created,) = _events(w, txn.id, "issuing_transaction.created")
    assert created.data.object.purchase_details.receipt[0].quantity == 1.5
    w.books(cash=7_000)


def test_unlinked_transactions_shape_their_purchase_details(client, server):
    w = make_world(client, server, fund=10_000)
    helpers = w.client.v1.test_helpers.issuing.transactions
    forced = helpers.create_force_capture(
        params={
            "card": w.card,
            "amount": 700,
            "merchant_data": {"category": "bakeries"},
            "purchase_details": {"receipt": [{"quantity": "2", "total": 700}]},
        },
        options=w.o,
    )
    assert forced.merchant_data.category == "bakeries"
    assert forced.purchase_details.receipt[0].to_dict() == {
        "description": None,
        "quantity": 2,
        "total": 700,
        "unit_cost": None,
    }
    assert forced.purchase_details.fuel is None and forced.purchase_details.reference is None
    refund = helpers.create_unlinked_refund(
        params={
            "card": w.card,
            "amount": 300,
            "purchase_details": {"lodging": {"check_in_at": 1_700_000_000}},
        },
        options=w.o,
    )
    assert refund.purchase_details.lodging.to_dict() == {
        "check_in_at": 1_700_000_000,
        "nights": None,
    }
    w.books(cash=9_600)


def test_a_real_time_request_carries_the_full_amount_details(client, server, receiver):
    receiver.responder = lambda request: answer({"approved": True})
    world = RealtimeWorld(client, server, receiver)
    auth = world.authorize(2_500, amount_details={"atm_fee": 300}, fuel={"unit": "liter"})
    assert auth.approved
    (event,) = receiver.events()
    pending = event.data.object.pending_request
    assert pending.amount_details.to_dict() == {"atm_fee": 300, "cashback_amount": None}
    assert event.data.object.fuel.unit == "liter" and event.data.object.fuel.type is None
    assert auth.request_history[0].amount_details.to_dict() == {
        "atm_fee": 300,
        "cashback_amount": None,
    }


def test_shaping_adds_no_statement_to_a_purchase(client, server, monkeypatch):
    """The shapes are built from the request alone: a purchase sending every sub-hash in
    part runs exactly the statements of a bare one (the hot path's count stays as it was)."""
    from sqlalchemy import event

    from openissuing.storage.raw import Raw

    w = make_world(client, server, fund=10_000)
    statements: list[str] = []
    original = Raw.execute

    def counting(self, sql, params=(), **options):
        statements.append(sql)
        return original(self, sql, params, **options)

    def through_sqlalchemy(conn, cursor, statement, *args):
        statements.append(statement)

    def count(**params) -> int:
        statements.clear()
        monkeypatch.setattr(Raw, "execute", counting)
        event.listen(server.runtime.engine, "before_cursor_execute", through_sqlalchemy)
        try:
            assert w.authorize(100, **params).approved
        finally:
            event.remove(server.runtime.engine, "before_cursor_execute", through_sqlalchemy)
            monkeypatch.setattr(Raw, "execute", original)
        return len(statements)

    detailed = {
        "merchant_data": {"category": "automated_fuel_dispensers"},
        "amount_details": {"cashback_amount": 5},
        "fuel": {"type": "diesel", "quantity_decimal": "1.5"},
        "fleet": {"cardholder_prompt_data": {"odometer": 9}},
    }
    count()  # the first purchase also creates the account's card network ledger account
    # The fewest of three: the server's background work (the dispatcher's polls) only adds.
    bare = min(count() for _ in range(3))
    assert min(count(**detailed) for _ in range(3)) == bare


def test_cardholders_and_cards_sent_in_part(client, server):
    """Every read below is checked whole by the suite's shape hook; the values are pinned."""
    w = make_world(client, server)
    holder = w.client.v1.issuing.cardholders.create(
        params={
            "name": "Part Sent",
            "billing": {
                "address": {
                    "line1": "1 Main",
                    "city": "SF",
                    "postal_code": "94111",
                    "country": "US",
                }
            },
            "individual": {
                "first_name": "Part",
                "last_name": "Sent",
                "card_issuing": {"user_terms_acceptance": {"date": 1_700_000_000}},
            },
            "spending_controls": {
                "blocked_categories": ["bakeries"],
                "spending_limits": [{"amount": 5_000, "interval": "daily"}],
            },
        },
        options=w.o,
    )
    acceptance = holder.individual.card_issuing.user_terms_acceptance.to_dict()
    assert acceptance == {"date": 1_700_000_000, "ip": None, "user_agent": None}
    assert holder.billing.address.line2 is None and holder.billing.address.state is None
    assert holder.spending_controls.spending_limits[0].categories is None
    card = w.client.v1.issuing.cards.create(
        params={
            "cardholder": holder.id,
            "financial_account": w.fa,
            "currency": "usd",
            "type": "physical",
            "shipping": {
                "name": "Part Sent",
                "address": {
                    "line1": "1 Main",
                    "city": "SF",
                    "postal_code": "94111",
                    "country": "US",
                },
                "customs": {"eori_number": "GB123"},
            },
            "spending_controls": {"allowed_card_presences": ["present"]},
        },
        options=w.o,
    )
    assert card.shipping.customs.eori_number == "GB123"
    assert card.shipping.phone_number is None and card.shipping.tracking_number is None
    w.client.v1.issuing.cards.list(params={"cardholder": holder.id}, options=w.o)
    w.client.v1.events.list(params={"limit": 20}, options=w.o)


def test_accounts_and_financial_accounts_sent_in_part(client, server):
    account = client.v1.accounts.create(
        params={
            "type": "custom",
            "country": "US",
            "business_type": "company",
            "business_profile": {"mcc": "5734"},
            "company": {"name": "Part Sent Inc"},
            "settings": {"card_issuing": {"tos_acceptance": {"date": 1_700_000_000}}},
            "capabilities": {"transfers": {"requested": True}},
        }
    )
    assert account.business_profile.mcc == "5734" and account.business_profile.url is None
    assert account.company.name == "Part Sent Inc" and account.company.phone is None
    terms = account.settings.card_issuing.tos_acceptance
    assert (terms.date, terms.ip, terms.user_agent) == (1_700_000_000, None, None)
    client.v1.accounts.update(account.id, params={"individual": {"email": "a@example.com"}})
    client.v1.accounts.capabilities.list(account.id)
    w = make_world(client, server)
    fa = w.client.v1.treasury.financial_accounts.update(
        w.fa, params={"platform_restrictions": {"inbound_flows": "restricted"}}, options=w.o
    )
    assert fa.platform_restrictions.to_dict() == {
        "inbound_flows": "restricted",
        "outbound_flows": None,
    }
    w.client.v1.treasury.financial_accounts.features.update(
        w.fa, params={"financial_addresses": {"aba": {"requested": True}}}, options=w.o
    )
    w.client.v1.treasury.financial_accounts.retrieve(
        w.fa, params={"expand": ["features"]}, options=w.o
    )
