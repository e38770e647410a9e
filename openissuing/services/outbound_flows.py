"""Outbound payments and outbound transfers: money leaving a financial account.

One module serves both object types (their lifecycle, money and test helpers are the same;
``domain.treasury.outbound`` holds the rules). Every action is: load and lock, ask the rules
for a plan (everything checked), move the money through the money primitive (the one step
that can still refuse: ``InsufficientFunds`` on create), then write the record and its
events, all in the caller's transaction.

Destinations:

* a US bank account — ``destination_payment_method`` (an id; see
  ``destination_bank_account``) or, for payments, ``destination_payment_method_data`` of
  type ``us_bank_account``; network ``ach`` (default) or ``us_domestic_wire``
  (``destination_payment_method_options[us_bank_account][network]``);
* another financial account — ``destination_payment_method_data[type]=financial_account``:
  network ``stripe``. A transfer may only reach a financial account of the same account; a
  payment any financial account under the same platform. The money arrives there at once, in
  this same transaction, as a ``treasury.received_credit`` (network ``stripe``,
  ``linked_flows.source_flow`` naming this flow), and the flow is posted when created. If the
  receiver reverses that credit, the flow is returned to its sender
  (``return_reversed_credit``).
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass
from typing import Any

from openissuing.domain import metadata
from openissuing.domain.errors import (
    AmountNotPositive,
    InsufficientFunds,
    InvalidRequest,
    InvalidStatusTransition,
    ParameterMissing,
    ResourceMissing,
)
from openissuing.domain.ledger import money as movements
from openissuing.domain.treasury import outbound as rules
from openissuing.services import events, money, received_flows
from openissuing.services.scope import Scope
from openissuing.storage.uow import UnitOfWork
from openissuing.wire import registry

PAYMENT, TRANSFER = rules.PAYMENT, rules.TRANSFER
FINANCIAL_ACCOUNT = received_flows.FINANCIAL_ACCOUNT
# Connect external accounts (``ba_…``) are stored under this type.
BANK_ACCOUNT = "bank_account"
DESTINATION_FA_PARAM = "destination_payment_method_data[financial_account]"


@dataclass(frozen=True)
class Route:
    """Where the money goes: the wire details, and the receiving financial account if any."""

    details: dict[str, Any]
    network: str
    payment_method: str | None = None
    fa: dict[str, Any] | None = None
    owner: str | None = None  # the account the receiving financial account lives in


def destination_bank_account(uow: UnitOfWork, scope: Scope, payment_method: str) -> dict[str, Any]:
    """What is known of the bank account a ``destination_payment_method`` id names.

    There is no PaymentMethods API here. An id naming a ``bank_account`` object of the acting
    account (a Connect external account) gives that account's details; any other id is taken
    as Stripe's US test bank account (routing 110000000, account number ending 6789). This is
    the one place to change when payment methods exist.
    """
    found = uow.docs.get(BANK_ACCOUNT, payment_method, scope.account)
    if found is None:
        return {}
    fields = (
        "account_holder_name",
        "account_holder_type",
        "account_type",
        "bank_name",
        "fingerprint",
        "last4",
        "routing_number",
    )
    return {name: found.get(name) for name in fields}


# ------------------------------------------------------------------ create


def create(
    uow: UnitOfWork, scope: Scope, object_type: str, params: dict[str, Any]
) -> dict[str, Any]:
    """POST /v1/treasury/outbound_payments | outbound_transfers."""
    AmountNotPositive.check(params["amount"], "amount")
    fa = received_flows.load_financial_account(uow, scope, params["financial_account"])
    currency = _currency(fa, params["currency"])
    route = _route(uow, scope, object_type, params)
    flow_type = rules.FLOW_TYPES[object_type]
    rules.check_source(fa, rules.feature_for(flow_type, route.network))
    if route.fa is not None:
        rules.check_destination(route.fa, fa["id"], currency, DESTINATION_FA_PARAM)
    meta = metadata.apply({}, params.get("metadata"))
    now = scope.now()
    record = rules.new_record(
        object_type,
        registry.id_for(object_type),
        params,
        currency=currency,
        destination=route.details,
        payment_method=route.payment_method,
        meta=meta,
        now=now,
    )
    # Validated: from here only the hold can refuse, and it writes nothing when it does.
    record["transaction"] = _hold(uow, scope, record, route.network, now)["id"]
    uow.docs.insert(object_type, scope.account, record, rules.filter_keys(record))
    events.record(uow, scope, f"treasury.{flow_type}.created", object_type, record)
    if route.fa is not None:
        _carry_out(uow, scope, object_type, record, rules.INSTANT, now)
        _arrive(uow, scope, record, route.fa["id"], route.owner or scope.account)
    return record


def _currency(fa: dict[str, Any], currency: str) -> str:
    currency = currency.lower()
    if currency not in fa.get("supported_currencies", []):
        raise InvalidRequest(
            f"The financial account does not support the currency '{currency}'.", param="currency"
        )
    return currency


def _network(params: dict[str, Any]) -> str:
    options = params.get("destination_payment_method_options") or {}
    return (options.get("us_bank_account") or {}).get("network") or "ach"


def _route(uow: UnitOfWork, scope: Scope, object_type: str, params: dict[str, Any]) -> Route:
    payment_method = params.get("destination_payment_method")
    data = params.get("destination_payment_method_data")
    if payment_method and data:
        raise InvalidRequest(
            "You may pass only one of destination_payment_method and "
            "destination_payment_method_data.",
            param="destination_payment_method_data",
        )
    if payment_method:
        bank = destination_bank_account(uow, scope, payment_method)
        network = _network(params)
        return Route(rules.bank_destination(bank, network), network, payment_method)
    if not data:
        raise ParameterMissing("destination_payment_method")
    if data["type"] == "financial_account":
        fa_id = data.get("financial_account")
        if not fa_id:
            raise ParameterMissing(DESTINATION_FA_PARAM)
        destination, owner = _receiving_account(uow, scope, object_type, fa_id)
        details = rules.financial_account_destination(fa_id, data.get("billing_details"))
        return Route(details, rules.STRIPE, None, destination, owner)
    return _bank_data(data, _network(params))


def _bank_data(data: dict[str, Any], network: str) -> Route:
    """``destination_payment_method_data`` of type ``us_bank_account`` (payments only)."""
    bank = data.get("us_bank_account")
    if not bank:
        raise ParameterMissing("destination_payment_method_data[us_bank_account]")
    prefix = "destination_payment_method_data[us_bank_account]"
    routing = bank.get("routing_number") or ""
    number = bank.get("account_number") or ""
    if not (len(routing) == 9 and routing.isdigit()):
        raise InvalidRequest(
            "Routing number must have 9 digits.", param=f"{prefix}[routing_number]"
        )
    if not (4 <= len(number) <= 17 and number.isdigit()):
        raise InvalidRequest(
            "Account number must have between 4 and 17 digits.",
            param=f"{prefix}[account_number]",
        )
    billing = data.get("billing_details") or {}
    details = rules.bank_destination({**bank, "account_holder_name": None}, network, billing)
    return Route(details, network)


def _receiving_account(
    uow: UnitOfWork, scope: Scope, object_type: str, fa_id: str
) -> tuple[dict[str, Any], str]:
    """The destination financial account and its account: the acting account's own for a
    transfer; any account's under the same platform for a payment (else 404)."""
    found = uow.docs.owner_of(fa_id)
    owner = found[1] if found and found[0] == FINANCIAL_ACCOUNT else None
    in_platform = owner is not None and (
        owner in (scope.account, scope.platform)
        or uow.docs.get("account", owner, scope.platform) is not None
    )
    if owner is None or not in_platform:
        raise ResourceMissing(FINANCIAL_ACCOUNT, fa_id, param=DESTINATION_FA_PARAM)
    if object_type == TRANSFER and owner != scope.account:
        raise InvalidRequest(
            "An OutboundTransfer can only send money to a financial account of the same "
            "account; use an OutboundPayment to pay another account's financial account.",
            param=DESTINATION_FA_PARAM,
        )
    return uow.docs.require(FINANCIAL_ACCOUNT, fa_id, owner, param=DESTINATION_FA_PARAM), owner


def _pair(uow: UnitOfWork, owner: str, record: dict[str, Any], network: str, now: int):
    return money.pair(uow, owner, record["financial_account"], record["currency"], network, now)


def _hold(
    uow: UnitOfWork, scope: Scope, record: dict[str, Any], network: str, now: int
) -> dict[str, Any]:
    """Cash down, outbound_pending up; the flow's Treasury transaction, open."""
    flow_type = rules.FLOW_TYPES[record["object"]]
    pair = _pair(uow, scope.account, record, network, now)
    flow, amount = record["id"], record["amount"]
    batch = movements.hold(pair, f"{flow}:hold", amount, flow, require_available=True)
    try:
        impact = money.execute(uow, pair, batch, now)
    except InsufficientFunds:
        raise InsufficientFunds(param="amount") from None
    trail = money.Trail(
        scope.account,
        record["financial_account"],
        flow_type,
        flow,
        _description(record),
        rules.entry_type(flow_type, ""),
    )
    return money.open_transaction(uow, trail, pair, impact, now, posted=False)


def _description(record: dict[str, Any]) -> str:
    return record["description"] or rules.NOUNS[record["object"]]


def _arrive(uow: UnitOfWork, scope: Scope, record: dict[str, Any], fa_id: str, owner: str) -> None:
    """The stripe network: the money lands in the destination as a received credit, now."""
    receiving = dataclasses.replace(scope, account=owner)
    initiating = {
        "balance": None,
        "billing_details": rules.billing_details(None),
        "financial_account": {"id": record["financial_account"], "network": rules.STRIPE},
        "issuing_card": None,
        "type": "financial_account",
        "us_bank_account": None,
    }
    received_flows.create_credit(
        uow,
        receiving,
        {
            "amount": record["amount"],
            "currency": record["currency"],
            "financial_account": fa_id,
            "description": _description(record),
        },
        linked={
            "source_flow": record["id"],
            "source_flow_type": rules.FLOW_TYPES[record["object"]],
        },
        network=rules.STRIPE,
        initiating=initiating,
    )


# ------------------------------------------------------------------ later steps


def load(
    uow: UnitOfWork, scope: Scope, object_type: str, flow_id: str, *, for_update: bool = False
) -> dict[str, Any]:
    return uow.docs.require(object_type, flow_id, scope.account, for_update=for_update)


def act(
    uow: UnitOfWork,
    scope: Scope,
    object_type: str,
    flow_id: str,
    action: str,
    params: dict[str, Any] | None = None,
) -> dict[str, Any]:
    """cancel, and the test helpers post, fail and return."""
    record = load(uow, scope, object_type, flow_id, for_update=True)
    step = rules.plan(record, object_type, action)
    code = ((params or {}).get("returned_details") or {}).get("code")
    _carry_out(uow, scope, object_type, record, step, scope.now(), return_code=code)
    return record


def _carry_out(
    uow: UnitOfWork,
    scope: Scope,
    object_type: str,
    record: dict[str, Any],
    step: rules.Plan,
    now: int,
    *,
    return_code: str | None = None,
) -> None:
    """Move the money of ``step``, then write the record and its events."""
    flow_type = rules.FLOW_TYPES[object_type]
    network = rules.network_of(record)
    _move(uow, scope, record, step, network, now, return_code)
    before = record["expected_arrival_date"]
    rules.apply(record, step, now)
    later = rules.expected_arrival(network, now)
    moved = step.status == "posted" and later > before
    if moved:  # posted later than first planned: the money arrives later too
        record["expected_arrival_date"] = later
    uow.docs.update(record, rules.filter_keys(record))
    events.record(uow, scope, f"treasury.{flow_type}.{step.event}", object_type, record)
    if moved:
        events.record(
            uow,
            scope,
            f"treasury.{flow_type}.expected_arrival_date_updated",
            object_type,
            record,
            previous_attributes={"expected_arrival_date": before},
        )


def _move(
    uow: UnitOfWork,
    scope: Scope,
    record: dict[str, Any],
    step: rules.Plan,
    network: str,
    now: int,
    return_code: str | None,
) -> None:
    """The plan's ledger steps, each with its Treasury entry: settle or release the hold on
    the flow's transaction, then (a return) a new posted credit with its own transaction."""
    flow_type = rules.FLOW_TYPES[record["object"]]
    pair = _pair(uow, scope.account, record, network, now)
    flow, amount = record["id"], record["amount"]
    live = movements.Hold(f"{flow}:hold", amount)
    if step.settle or step.release:
        kind = "posting" if step.settle else rules.RELEASE_ENTRY[step.status]
        entry = rules.entry_type(flow_type, kind)
        batch = (
            movements.settle(pair, live, amount, flow)
            if step.settle
            else movements.release(pair, live, flow)
        )
        money.step(
            uow,
            scope.account,
            record["transaction"],
            pair,
            batch,
            now,
            held=entry,
            released=entry,
            posting=step.settle,
            closing=step.release,
        )
    if step.credit_back:
        trail = money.Trail(
            scope.account,
            record["financial_account"],
            flow_type,
            flow,
            f"Return | {_description(record)}",
            rules.entry_type(flow_type, "return"),
        )
        credit = movements.credit(pair, f"{flow}:return", amount, flow)
        trxn = money.post(uow, trail, pair, credit, now)
        record["returned_details"] = {
            "code": return_code or rules.DEFAULT_RETURN_CODE,
            "transaction": trxn["id"],
        }


def return_reversed_credit(uow: UnitOfWork, scope: Scope, credit: dict[str, Any]) -> None:
    """The receiver reversed ``credit`` (services.credit_reversals): if a stripe-network
    outbound payment or transfer made it, that flow is returned to its sender — status
    ``returned``, ``returned_details.code=declined``, the amount credited back to the sending
    financial account with its own Treasury transaction — in this same transaction."""
    linked = credit.get("linked_flows") or {}
    flow_id = linked.get("source_flow")
    object_type = {flow: name for name, flow in rules.FLOW_TYPES.items()}.get(
        linked.get("source_flow_type") or ""
    )
    found = uow.docs.owner_of(flow_id) if flow_id else None
    if object_type is None or found is None or found[0] != object_type:
        return
    sender = dataclasses.replace(scope, account=found[1])
    record = load(uow, sender, object_type, flow_id, for_update=True)
    step = rules.plan_reversal_return(record, object_type)
    _carry_out(
        uow, sender, object_type, record, step, scope.now(), return_code=rules.REVERSED_RETURN_CODE
    )


def update_tracking(
    uow: UnitOfWork, scope: Scope, object_type: str, flow_id: str, params: dict[str, Any]
) -> dict[str, Any]:
    """The test helper ``POST …/{id}``: set ``tracking_details``.

    Stripe's rule: the flow must not be cancelable, nor canceled or failed; and the tracking
    type must be the network the money travels on.
    """
    record = load(uow, scope, object_type, flow_id, for_update=True)
    noun = rules.NOUNS[object_type]
    if record["cancelable"] or record["status"] in ("canceled", "failed"):
        raise InvalidStatusTransition(
            f"Tracking details can only be set on a {noun} that is no longer cancelable and "
            f"neither canceled nor failed (its status is {record['status']})."
        )
    given = params["tracking_details"]
    network = rules.network_of(record)
    if given["type"] != network:
        raise InvalidRequest(
            f"This {noun} was sent over the {network} network; tracking details of type "
            f"{given['type']} do not apply.",
            param="tracking_details[type]",
        )
    before = record["tracking_details"]
    record["tracking_details"] = rules.tracking_details(given)
    uow.docs.update(record)
    flow_type = rules.FLOW_TYPES[object_type]
    events.record(
        uow,
        scope,
        f"treasury.{flow_type}.tracking_details_updated",
        object_type,
        record,
        previous_attributes={"tracking_details": before},
    )
    return record


def list_(uow: UnitOfWork, scope: Scope, object_type: str, params: dict[str, Any], **page: Any):
    received_flows.load_financial_account(uow, scope, params["financial_account"])
    filters = {"financial_account": params["financial_account"]}
    for name in ("status", "customer"):
        if params.get(name):
            filters[name] = params[name]
    return uow.docs.list(object_type, scope.account, filters=filters, **page)
