"""The one registry of Stripe object types: type string, id prefix, serializer, event types.

Every object the server stores or renders has exactly one entry here, so a new type is
added in one place, and ``tests/unit/test_registry.py`` fails (rather than a request, at run
time) when code names a type, an id prefix or an event type that has no entry.
"""

from __future__ import annotations

from dataclasses import dataclass

from openissuing import ids
from openissuing.wire import (
    Serializer,
    View,
    accounts,
    balances,
    base,
    cardholders,
    cards,
    disputes,
    events,
    external_accounts,
    financial_accounts,
    issuing_extra,
    issuing_money,
    treasury_flows,
    treasury_inbound,
    treasury_outbound,
    webhook_endpoints,
)


@dataclass(frozen=True)
class ObjectType:
    name: str
    # None: the object has no id of its own (a capability is named, features live on their FA).
    prefix: str | None
    serializer: Serializer
    # The event types whose data.object is this type (services.events.record checks them).
    events: tuple[str, ...] = ()


def _plain(object_type: str) -> Serializer:
    def serialize(record: dict, view: View) -> dict:
        return base(record, object_type)

    return serialize


# An external account's events: the same types whether it is a bank account or a debit card.
SHARED_EVENTS = (
    "account.external_account.created",
    "account.external_account.updated",
    "account.external_account.deleted",
)

_ENTRIES = (
    ObjectType("account", "acct", accounts.account, ("account.updated",)),
    ObjectType("capability", None, accounts.capability, ("capability.updated",)),
    ObjectType("bank_account", "ba", external_accounts.bank_account, SHARED_EVENTS),
    ObjectType("card", "card", external_accounts.card, SHARED_EVENTS),
    ObjectType("login_link", None, accounts.login_link),
    ObjectType("account_link", None, accounts.account_link),
    ObjectType(
        "person",
        "person",
        accounts.person,
        ("person.created", "person.updated", "person.deleted"),
    ),
    ObjectType("event", "evt", events.event),
    ObjectType("webhook_endpoint", "we", webhook_endpoints.webhook_endpoint),
    ObjectType(
        "issuing.cardholder",
        "ich",
        cardholders.cardholder,
        ("issuing_cardholder.created", "issuing_cardholder.updated"),
    ),
    ObjectType("issuing.card", "ic", cards.card, ("issuing_card.created", "issuing_card.updated")),
    ObjectType(
        "issuing.authorization",
        "iauth",
        issuing_money.authorization,
        (
            "issuing_authorization.request",
            "issuing_authorization.created",
            "issuing_authorization.updated",
        ),
    ),
    ObjectType(
        "issuing.transaction",
        "ipi",
        issuing_money.transaction,
        ("issuing_transaction.created", "issuing_transaction.updated"),
    ),
    ObjectType(
        "issuing.dispute",
        "idp",
        disputes.dispute,
        (
            "issuing_dispute.created",
            "issuing_dispute.updated",
            "issuing_dispute.submitted",
            "issuing_dispute.closed",
            "issuing_dispute.funds_reinstated",
        ),
    ),
    ObjectType(
        "treasury.financial_account",
        "fa",
        financial_accounts.financial_account,
        (
            "treasury.financial_account.created",
            "treasury.financial_account.closed",
            "treasury.financial_account.features_status_updated",
        ),
    ),
    ObjectType(financial_accounts.FEATURES_TYPE, None, financial_accounts.features),
    ObjectType("treasury.transaction", "trxn", treasury_flows.transaction),
    ObjectType("treasury.transaction_entry", "trxne", treasury_flows.transaction_entry),
    ObjectType(
        "treasury.received_credit",
        "rc",
        treasury_flows.received_credit,
        (
            "treasury.received_credit.created",
            "treasury.received_credit.succeeded",
            "treasury.received_credit.failed",
        ),
    ),
    ObjectType(
        "treasury.received_debit",
        "rd",
        treasury_flows.received_debit,
        ("treasury.received_debit.created",),
    ),
    ObjectType(
        "treasury.debit_reversal",
        "debrev",
        disputes.debit_reversal,
        (
            "treasury.debit_reversal.created",
            "treasury.debit_reversal.initial_credit_granted",
            "treasury.debit_reversal.completed",
        ),
    ),
    ObjectType(
        "treasury.outbound_payment",
        "obp",
        treasury_outbound.outbound_payment,
        (
            "treasury.outbound_payment.created",
            "treasury.outbound_payment.canceled",
            "treasury.outbound_payment.failed",
            "treasury.outbound_payment.posted",
            "treasury.outbound_payment.returned",
            "treasury.outbound_payment.expected_arrival_date_updated",
            "treasury.outbound_payment.tracking_details_updated",
        ),
    ),
    ObjectType(
        "treasury.outbound_transfer",
        "obt",
        treasury_outbound.outbound_transfer,
        (
            "treasury.outbound_transfer.created",
            "treasury.outbound_transfer.canceled",
            "treasury.outbound_transfer.failed",
            "treasury.outbound_transfer.posted",
            "treasury.outbound_transfer.returned",
            "treasury.outbound_transfer.expected_arrival_date_updated",
            "treasury.outbound_transfer.tracking_details_updated",
        ),
    ),
    ObjectType(
        "issuing.token",
        "intok",
        issuing_extra.token,
        ("issuing_token.created", "issuing_token.updated"),
    ),
    ObjectType(
        "issuing.personalization_design",
        "ipcd",
        issuing_extra.personalization_design,
        (
            "issuing_personalization_design.activated",
            "issuing_personalization_design.deactivated",
            "issuing_personalization_design.rejected",
            "issuing_personalization_design.updated",
        ),
    ),
    ObjectType("issuing.physical_bundle", "ics", issuing_extra.physical_bundle),
    ObjectType("ephemeral_key", "ephkey", issuing_extra.ephemeral_key),
    # What Stripe.js's createEphemeralKeyNonce returns: the public nonce is its id.
    ObjectType("ephemeral_key_nonce", "ekn", issuing_extra.ephemeral_key_nonce),
    ObjectType(
        "treasury.inbound_transfer",
        "ibt",
        treasury_inbound.inbound_transfer,
        (
            "treasury.inbound_transfer.created",
            "treasury.inbound_transfer.succeeded",
            "treasury.inbound_transfer.failed",
            "treasury.inbound_transfer.canceled",
        ),
    ),
    ObjectType(
        "treasury.credit_reversal",
        "credrev",
        treasury_inbound.credit_reversal,
        ("treasury.credit_reversal.created", "treasury.credit_reversal.posted"),
    ),
    ObjectType("balance_transaction", "txn", balances.balance_transaction),
    ObjectType("balance", None, balances.balance, ("balance.available",)),
    ObjectType(
        "topup",
        "tu",
        balances.topup,
        ("topup.created", "topup.succeeded", "topup.failed", "topup.canceled"),
    ),
    ObjectType("funding_instructions", "fundins", balances.funding_instructions),
)

TYPES: dict[str, ObjectType] = {entry.name: entry for entry in _ENTRIES}
# Every event type the server emits, with the object types its data.object may be: one, except
# the external-account events, whose object is a bank_account or a card.
EVENT_OBJECT_TYPES: dict[str, tuple[str, ...]] = {}
for _entry in _ENTRIES:
    for _event in _entry.events:
        EVENT_OBJECT_TYPES[_event] = (*EVENT_OBJECT_TYPES.get(_event, ()), _entry.name)
# Every event type with the (first) object type of its data.object.
EVENT_TYPES: dict[str, str] = {event: types[0] for event, types in EVENT_OBJECT_TYPES.items()}


def _check() -> None:
    """Duplicate names, prefixes or event types are a programming error: refuse to import."""
    prefixes = [entry.prefix for entry in _ENTRIES if entry.prefix is not None]
    if len(TYPES) != len(_ENTRIES) or len(set(prefixes)) != len(prefixes):
        raise RuntimeError("object type registry: a type name or id prefix appears twice")
    shared = {event for event, types in EVENT_OBJECT_TYPES.items() if len(types) > 1}
    within = any(len(set(entry.events)) != len(entry.events) for entry in _ENTRIES)
    if within or not shared <= set(SHARED_EVENTS):
        raise RuntimeError("object type registry: an event type appears twice")


_check()


def id_for(object_type: str) -> str:
    """A new time-ordered id for an object of a registered type (``ich_…``)."""
    prefix = TYPES[object_type].prefix
    if prefix is None:
        raise ValueError(f"{object_type} objects have no id of their own")
    return ids.new_id(prefix)


def serializer(object_type: str) -> Serializer:
    return TYPES[object_type].serializer
