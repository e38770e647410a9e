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
    base,
    cardholders,
    cards,
    disputes,
    events,
    financial_accounts,
    issuing_extra,
    issuing_money,
    treasury_flows,
    treasury_inbound,
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


_ENTRIES = (
    ObjectType("account", "acct", accounts.account, ("account.updated",)),
    ObjectType("capability", None, accounts.capability, ("capability.updated",)),
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
    ObjectType("balance_transaction", "txn", _plain("balance_transaction")),
)

TYPES: dict[str, ObjectType] = {entry.name: entry for entry in _ENTRIES}
# Every event type the server emits, with the object type of its data.object.
EVENT_TYPES: dict[str, str] = {event: entry.name for entry in _ENTRIES for event in entry.events}


def _check() -> None:
    """Duplicate names, prefixes or event types are a programming error: refuse to import."""
    prefixes = [entry.prefix for entry in _ENTRIES if entry.prefix is not None]
    events_listed = [event for entry in _ENTRIES for event in entry.events]
    if len(TYPES) != len(_ENTRIES) or len(set(prefixes)) != len(prefixes):
        raise RuntimeError("object type registry: a type name or id prefix appears twice")
    if len(EVENT_TYPES) != len(events_listed):
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
