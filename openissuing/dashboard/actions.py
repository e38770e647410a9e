"""The actions (POST, CSRF-checked): each one POSTs to the same API endpoint a user would."""

from __future__ import annotations

import time
from typing import Any

from starlette.concurrency import run_in_threadpool
from starlette.routing import Route

from openissuing.dashboard import fmt
from openissuing.dashboard.pages import A, card_view, delivery_log
from openissuing.dashboard.paths import PREFIX
from openissuing.dashboard.web import Ctx, Guard, redirect, safe_back

PRESENCE_METHODS = {"online", "keyed_in", "chip", "contactless", "swipe"}
OUTCOMES = {"won": "winning_evidence", "lost": "losing_evidence"}


def minor_units(text: str | None, currency: str, *, required: bool = True) -> int | None:
    """``"12.34"`` -> 1234 for two-decimal currencies (exact, no float); blank -> None."""
    text = (text or "").strip().replace(",", "")
    if not text:
        if required:
            raise ValueError("Enter an amount.")
        return None
    whole, _, fraction = text.partition(".")
    digits = 0 if currency.lower() in fmt.ZERO_DECIMAL else 2
    if not whole.isdigit() and whole != "" or (fraction and not fraction.isdigit()):
        raise ValueError(f"Not an amount: {text!r}.")
    if len(fraction) > digits:
        raise ValueError(f"{currency.upper()} amounts have at most {digits} decimals.")
    value = int(whole or "0") * 10**digits + int((fraction or "0").ljust(digits, "0") or "0")
    if value <= 0:
        raise ValueError("The amount must be greater than 0.")
    return value


def _where(ctx: Ctx) -> tuple[str, str]:
    account = ctx.path("account")
    return account, f"{PREFIX}/accounts/{account}"


async def reveal(ctx: Ctx, form: dict[str, str]):
    account_id, card_id = ctx.path("account"), ctx.path("card")
    revealed = await ctx.api.get(
        f"/v1/issuing/cards/{card_id}", {"expand": ["number", "cvc"]}, account=account_id
    )
    return await card_view(ctx, revealed={"number": revealed["number"], "cvc": revealed["cvc"]})


SHIPPING_STEPS = ("submit", "ship", "deliver", "fail", "return")


async def shipping(ctx: Ctx, form: dict[str, str]):
    """A physical card's shipment moves one step (the card-shipping test helpers)."""
    account, base = _where(ctx)
    step = form.get("step")
    if step not in SHIPPING_STEPS:
        raise ValueError(f"Choose a shipping step: {', '.join(SHIPPING_STEPS)}.")
    card_id = ctx.path("card")
    moved = await ctx.api.post(
        f"/v1/test_helpers/issuing/cards/{card_id}/shipping/{step}", {}, account
    )
    status = fmt.label((moved.get("shipping") or {}).get("status"))
    return redirect(f"{base}/cards/{card_id}", flash=f"Shipping is now {status}.")


async def purchase(ctx: Ctx, form: dict[str, str]):
    account, base = _where(ctx)
    currency = (form.get("currency") or "usd").lower()
    method = form.get("authorization_method") or "online"
    if method not in PRESENCE_METHODS:
        raise ValueError(f"Unknown authorization method {method!r}.")
    params: dict[str, Any] = {
        "card": ctx.path("card"),
        "amount": minor_units(form.get("amount"), currency),
        "currency": currency,
        "authorization_method": method,
        "merchant_data": {
            "category": form.get("merchant_category") or None,
            "country": (form.get("merchant_country") or "").upper() or None,
            "name": form.get("merchant_name") or None,
        },
    }
    made = await ctx.api.post("/v1/test_helpers/issuing/authorizations", params, account)
    decision = "approved" if made["approved"] else "declined"
    reason = fmt.label(made["request_history"][-1]["reason"]) if made["request_history"] else ""
    return redirect(
        f"{base}/authorizations/{made['id']}",
        flash=f"Purchase {decision} ({reason}).",
    )


async def capture(ctx: Ctx, form: dict[str, str]):
    account, base = _where(ctx)
    auth_id = ctx.path("authorization")
    auth = await ctx.api.get(f"/v1/issuing/authorizations/{auth_id}", account=account)
    amount = minor_units(form.get("amount"), auth["currency"], required=False)
    params = {"capture_amount": amount} if amount is not None else {}
    await ctx.api.post(
        f"/v1/test_helpers/issuing/authorizations/{auth_id}/capture", params, account
    )
    return redirect(f"{base}/authorizations/{auth_id}", flash="Captured.")


async def reverse(ctx: Ctx, form: dict[str, str]):
    account, base = _where(ctx)
    auth_id = ctx.path("authorization")
    auth = await ctx.api.get(f"/v1/issuing/authorizations/{auth_id}", account=account)
    amount = minor_units(form.get("amount"), auth["currency"], required=False)
    params = {"reverse_amount": amount} if amount is not None else {}
    await ctx.api.post(
        f"/v1/test_helpers/issuing/authorizations/{auth_id}/reverse", params, account
    )
    return redirect(f"{base}/authorizations/{auth_id}", flash="Reversed.")


async def refund(ctx: Ctx, form: dict[str, str]):
    account, base = _where(ctx)
    txn_id = ctx.path("transaction")
    txn = await ctx.api.get(f"/v1/issuing/transactions/{txn_id}", account=account)
    amount = minor_units(form.get("amount"), txn["currency"], required=False)
    params = {"refund_amount": amount} if amount is not None else {}
    await ctx.api.post(f"/v1/test_helpers/issuing/transactions/{txn_id}/refund", params, account)
    target = f"{base}/authorizations/{txn['authorization']}" if txn["authorization"] else base
    return redirect(target, flash="Refunded.")


async def open_dispute(ctx: Ctx, form: dict[str, str]):
    account, base = _where(ctx)
    reason = form.get("reason") or "fraudulent"
    if reason not in ("fraudulent", "no_valid_authorization"):
        raise ValueError("Choose fraudulent or no valid authorization.")
    explanation = form.get("explanation") or "The cardholder does not recognise this purchase."
    made = await ctx.api.post(
        "/v1/issuing/disputes",
        {
            "transaction": ctx.path("transaction"),
            "evidence": {"reason": reason, reason: {"explanation": explanation}},
        },
        account,
    )
    return redirect(f"{base}/disputes/{made['id']}", flash="Dispute opened.")


async def submit_dispute(ctx: Ctx, form: dict[str, str]):
    """Write the test-mode outcome into the explanation, then submit (README: disputes)."""
    account, base = _where(ctx)
    dispute_id = ctx.path("dispute")
    outcome = form.get("outcome")
    if outcome not in OUTCOMES:
        raise ValueError("Choose an outcome: won or lost.")
    dispute = await ctx.api.get(f"/v1/issuing/disputes/{dispute_id}", account=account)
    reason = dispute["evidence"]["reason"]
    current = (dispute["evidence"].get(reason) or {}).get("explanation") or ""
    explanation = f"{current} {OUTCOMES[outcome]}".strip()
    await ctx.api.post(
        f"/v1/issuing/disputes/{dispute_id}",
        {"evidence": {"reason": reason, reason: {"explanation": explanation}}},
        account,
    )
    await ctx.api.post(f"/v1/issuing/disputes/{dispute_id}/submit", {}, account)
    return redirect(f"{base}/disputes/{dispute_id}", flash=f"Submitted to be {outcome}.")


async def fund(ctx: Ctx, form: dict[str, str]):
    account, base = _where(ctx)
    fa_id = ctx.path("fa")
    currency = (form.get("currency") or "usd").lower()
    network = form.get("network") if form.get("network") in ("ach", "us_domestic_wire") else "ach"
    await ctx.api.post(
        "/v1/test_helpers/treasury/received_credits",
        {
            "financial_account": fa_id,
            "amount": minor_units(form.get("amount"), currency),
            "currency": currency,
            "network": network,
        },
        account,
    )
    return redirect(f"{base}/financial_accounts/{fa_id}", flash="Funds received.")


def resend_for(runtime: Any):
    async def resend(ctx: Ctx, form: dict[str, str]):
        account, base = _where(ctx)
        event_id, delivery_id = ctx.path("event"), ctx.path("delivery")
        # Through the API first: the event must be one this key can see.
        await ctx.api.get(f"/v1/events/{event_id}", account=account)
        await run_in_threadpool(_requeue, runtime, event_id, delivery_id)
        return redirect(f"{base}/events/{event_id}", flash="Delivery queued again.")

    return resend


def _requeue(runtime: Any, event_id: str, delivery_id: str) -> None:
    from openissuing.services import deliveries
    from openissuing.storage.uow import transaction

    found, _ = delivery_log(runtime, event_id)
    if delivery_id not in {d["id"] for d in found}:
        raise ValueError(f"No delivery {delivery_id} of {event_id}.")
    now_ms = time.time_ns() // 1_000_000
    transaction(runtime.engine, lambda uow: deliveries.resend(uow, delivery_id, now_ms))


SANDBOX = "/_openissuing/sandboxes/current"


async def reset(ctx: Ctx, form: dict[str, str]):
    if form.get("confirm") != "reset":
        raise ValueError("Type reset to confirm.")
    await ctx.api.post(f"{SANDBOX}/reset")
    return redirect(f"{PREFIX}/sandbox", flash="Sandbox reset: every object is gone.")


async def advance(ctx: Ctx, form: dict[str, str]):
    span = (form.get("custom") or form.get("span") or "").strip()
    if not span:
        raise ValueError("Choose how far to advance the clock.")
    moved = await ctx.api.post(f"{SANDBOX}/clock", {"advance": span})
    return redirect(
        safe_back(form.get("back"), f"{PREFIX}/sandbox"),
        flash=f"Clock advanced by {span}: now {fmt.when(moved['now'])}.",
    )


async def add_fault(ctx: Ctx, form: dict[str, str]):
    params = {
        "kind": form.get("kind"),
        "method": form.get("method") or None,
        "path": form.get("path") or None,
        "count": form.get("count") or None,
    }
    made = await ctx.api.post(f"{SANDBOX}/faults", params)
    return redirect(f"{PREFIX}/sandbox", flash=f"Fault {made['id']} added.")


async def remove_fault(ctx: Ctx, form: dict[str, str]):
    await ctx.api.delete(f"{SANDBOX}/faults/{ctx.path('fault')}")
    return redirect(f"{PREFIX}/sandbox", flash="Fault removed.")


async def clear_faults(ctx: Ctx, form: dict[str, str]):
    await ctx.api.delete(f"{SANDBOX}/faults")
    return redirect(f"{PREFIX}/sandbox", flash="Every fault cleared.")


def routes(guard: Guard, runtime: Any) -> list[Route]:
    act = guard.action

    def post(path: str, handler) -> Route:
        return Route(path, act(handler), methods=["POST"])

    return [
        post(A + "/cards/{card}/reveal", reveal),
        post(A + "/cards/{card}/purchase", purchase),
        post(A + "/cards/{card}/shipping", shipping),
        post(A + "/authorizations/{authorization}/capture", capture),
        post(A + "/authorizations/{authorization}/reverse", reverse),
        post(A + "/transactions/{transaction}/refund", refund),
        post(A + "/transactions/{transaction}/dispute", open_dispute),
        post(A + "/disputes/{dispute}/submit", submit_dispute),
        post(A + "/financial_accounts/{fa}/fund", fund),
        post(A + "/events/{event}/deliveries/{delivery}/resend", resend_for(runtime)),
        post("/sandbox/reset", reset),
        post("/sandbox/clock", advance),
        post("/sandbox/faults", add_fault),
        post("/sandbox/faults/clear", clear_faults),
        post("/sandbox/faults/{fault}/delete", remove_fault),
    ]
