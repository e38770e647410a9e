"""The read-only pages (GET). Each reads through the API with the session's key."""

from __future__ import annotations

from typing import Any

from markupsafe import Markup
from starlette.concurrency import run_in_threadpool
from starlette.responses import JSONResponse
from starlette.routing import Route

from openissuing.dashboard import chart, fmt
from openissuing.dashboard.api_client import Api, ApiFailure
from openissuing.dashboard.web import Ctx, Guard

A = "/accounts/{account}"


async def accounts_of(api: Api) -> tuple[dict[str, Any], list[dict[str, Any]]]:
    """The platform and its connected accounts (the first 100)."""
    platform = await api.get("/v1/account")
    return platform, await api.all("/v1/accounts")


async def clock_now(api: Api) -> int:
    return (await api.get("/_openissuing/sandboxes/current"))["clock"]["now"]


async def account_object(ctx: Ctx, account: str) -> dict[str, Any]:
    if account == ctx.session.platform:
        return await ctx.api.get("/v1/account")
    return await ctx.api.get(f"/v1/accounts/{account}")


def holder_of(card: dict[str, Any]) -> str:
    holder = card.get("cardholder")
    return holder.get("name") if isinstance(holder, dict) else str(holder or "")


async def overview(ctx: Ctx):
    api = ctx.api
    platform, connected = await accounts_of(api)
    now = await clock_now(api)
    since = fmt.start_of_day(now)
    rows, approved, declined, events = [], 0, 0, []
    for account in [platform, *connected]:
        fas = await api.all("/v1/treasury/financial_accounts", account=account["id"])
        today = await api.all(
            "/v1/issuing/authorizations", {"created": {"gte": since}}, account=account["id"]
        )
        approved += sum(1 for a in today if a["approved"])
        declined += sum(1 for a in today if not a["approved"])
        events += await api.all("/v1/events", {"limit": 10}, account=account["id"])
        rows.append({"account": account, "financial_accounts": fas})
    events.sort(key=lambda e: (e["created"], e["id"]), reverse=True)
    return ctx.render(
        "overview.html",
        rows=rows,
        platform=platform,
        approved=approved,
        declined=declined,
        events=events[:12],
        now=now,
    )


async def account_page(ctx: Ctx):
    account_id = ctx.path("account")
    api = ctx.api
    account = await account_object(ctx, account_id)
    fas = await api.all("/v1/treasury/financial_accounts", account=account_id)
    holders = await api.all("/v1/issuing/cardholders", account=account_id)
    cards = await api.all("/v1/issuing/cards", account=account_id)
    auths = await api.all("/v1/issuing/authorizations", {"limit": 10}, account=account_id)
    return ctx.render(
        "account.html",
        account=account,
        account_id=account_id,
        financial_accounts=fas,
        cardholders=holders,
        cards=cards,
        authorizations=auths,
        holder_of=holder_of,
    )


async def financial_account_page(ctx: Ctx):
    account_id, fa_id = ctx.path("account"), ctx.path("fa")
    api = ctx.api
    fa = await api.get(f"/v1/treasury/financial_accounts/{fa_id}", account=account_id)
    transactions = await api.all(
        "/v1/treasury/transactions",
        {"financial_account": fa_id, "expand": ["data.entries"]},
        account=account_id,
    )
    entries = await api.all(
        "/v1/treasury/transaction_entries", {"financial_account": fa_id}, account=account_id
    )
    currency = (fa.get("supported_currencies") or ["usd"])[0]
    cash = fa["balance"]["cash"].get(currency, 0)
    points = chart.cash_points(entries, cash, currency)
    cards = await api.all("/v1/issuing/cards", account=account_id)
    return ctx.render(
        "financial_account.html",
        fa=fa,
        account_id=account_id,
        currency=currency,
        transactions=transactions,
        chart=Markup(chart.svg(points, currency, await clock_now(api))),
        points=points,
        cards=[c for c in cards if c.get("financial_account") == fa_id],
    )


async def cardholder_page(ctx: Ctx):
    account_id, holder_id = ctx.path("account"), ctx.path("cardholder")
    holder = await ctx.api.get(f"/v1/issuing/cardholders/{holder_id}", account=account_id)
    cards = await ctx.api.all("/v1/issuing/cards", {"cardholder": holder_id}, account=account_id)
    return ctx.render("cardholder.html", holder=holder, cards=cards, account_id=account_id)


async def card_view(ctx: Ctx, revealed: dict[str, Any] | None = None):
    account_id, card_id = ctx.path("account"), ctx.path("card")
    card = await ctx.api.get(f"/v1/issuing/cards/{card_id}", account=account_id)
    auths = await ctx.api.all(
        "/v1/issuing/authorizations", {"card": card_id, "limit": 20}, account=account_id
    )
    return ctx.render(
        "card.html", card=card, account_id=account_id, authorizations=auths, revealed=revealed
    )


async def card_page(ctx: Ctx):
    return await card_view(ctx)


AUTH_STATUSES = ("pending", "closed", "reversed", "expired")


async def authorizations_page(ctx: Ctx):
    query = ctx.request.query_params
    account_id = query.get("account") or None
    card = query.get("card") or None
    status = query.get("status") if query.get("status") in AUTH_STATUSES else None
    decision = query.get("decision") if query.get("decision") in ("approved", "declined") else None
    platform, connected = await accounts_of(ctx.api)
    scanned = [a for a in [platform, *connected] if account_id in (None, a["id"])]
    found = []
    for account in scanned:
        try:
            listed = await ctx.api.all(
                "/v1/issuing/authorizations",
                {"card": card, "status": status},
                account=account["id"],
            )
        except ApiFailure:
            if card is None:
                raise
            continue  # the card lives in another account
        found += [(account["id"], a) for a in listed]
    if decision:
        found = [(acct, a) for acct, a in found if a["approved"] == (decision == "approved")]
    found.sort(key=lambda pair: (pair[1]["created"], pair[1]["id"]), reverse=True)
    return ctx.render(
        "authorizations.html",
        found=found,
        accounts=[platform, *connected],
        filters={"account": account_id, "card": card, "status": status, "decision": decision},
        statuses=AUTH_STATUSES,
    )


def timeline(auth: dict[str, Any], treasury_txn: dict[str, Any] | None) -> list[dict[str, Any]]:
    """What happened to an authorization, oldest first: requests, holds, captures, refunds."""
    items: list[dict[str, Any]] = []
    for index, req in enumerate(auth["request_history"]):
        kind = "approved" if req["approved"] else "declined"
        items.append(
            {
                "at": req["created"],
                "order": (0, index),
                "kind": kind,
                "title": f"Request {kind}: {fmt.money(req['amount'], req['currency'])}",
                "detail": fmt.label(req.get("reason"))
                + (f" — {req['reason_message']}" if req.get("reason_message") else ""),
                "reason": req.get("reason"),
            }
        )
    entries = ((treasury_txn or {}).get("entries") or {}).get("data") or []
    for index, entry in enumerate(sorted(entries, key=lambda e: (e["created"], e["id"]))):
        hold = entry["balance_impact"]["outbound_pending"]
        placed = entry["type"] == "issuing_authorization_hold"
        items.append(
            {
                "at": entry["created"],
                "order": (1, index),
                "kind": "hold" if placed else "release",
                "title": ("Hold placed: " if placed else "Hold released: ")
                + fmt.money(abs(hold), entry["currency"]),
                "detail": f"cash {fmt.money(entry['balance_impact']['cash'], entry['currency'])}",
            }
        )
    for index, txn in enumerate(auth.get("transactions") or []):
        kind = txn["type"]
        items.append(
            {
                "at": txn["created"],
                "order": (2, index),
                "kind": kind,
                "title": f"{kind.capitalize()}: {fmt.money(abs(txn['amount']), txn['currency'])}",
                "detail": txn["id"],
                "transaction": txn,
            }
        )
    if auth["status"] in ("expired", "reversed"):
        last = max((i["at"] for i in items), default=auth["created"])
        items.append(
            {
                "at": last,
                "order": (3, 0),
                "kind": auth["status"],
                "title": "Expired: the hold lapsed"
                if auth["status"] == "expired"
                else "Reversed: the merchant released the hold",
                "detail": "",
            }
        )
    items.sort(key=lambda i: (i["at"], i["order"]))
    return items


async def authorization_page(ctx: Ctx):
    account_id, auth_id = ctx.path("account"), ctx.path("authorization")
    auth = await ctx.api.get(f"/v1/issuing/authorizations/{auth_id}", account=account_id)
    txn_id = (auth.get("treasury") or {}).get("transaction")
    treasury_txn = None
    if txn_id:
        treasury_txn = await ctx.api.get(
            f"/v1/treasury/transactions/{txn_id}", {"expand": ["entries"]}, account=account_id
        )
    disputes = await ctx.api.all("/v1/issuing/disputes", account=account_id)
    mine = {t["id"] for t in auth.get("transactions") or []}
    return ctx.render(
        "authorization.html",
        auth=auth,
        account_id=account_id,
        items=timeline(auth, treasury_txn),
        treasury_txn=treasury_txn,
        disputes=[d for d in disputes if d["transaction"] in mine],
    )


async def disputes_page(ctx: Ctx):
    platform, connected = await accounts_of(ctx.api)
    found = []
    for account in [platform, *connected]:
        listed = await ctx.api.all("/v1/issuing/disputes", account=account["id"])
        found += [(account["id"], d) for d in listed]
    found.sort(key=lambda pair: (pair[1]["created"], pair[1]["id"]), reverse=True)
    return ctx.render("disputes.html", found=found)


async def dispute_page(ctx: Ctx):
    account_id, dispute_id = ctx.path("account"), ctx.path("dispute")
    dispute = await ctx.api.get(f"/v1/issuing/disputes/{dispute_id}", account=account_id)
    reversal_id = (dispute.get("treasury") or {}).get("debit_reversal")
    reversal = None
    if reversal_id:
        reversal = await ctx.api.get(
            f"/v1/treasury/debit_reversals/{reversal_id}", account=account_id
        )
    transaction = await ctx.api.get(
        f"/v1/issuing/transactions/{dispute['transaction']}", account=account_id
    )
    evidence = dispute["evidence"]
    details = evidence.get(evidence["reason"]) or {}
    return ctx.render(
        "dispute.html",
        dispute=dispute,
        account_id=account_id,
        reversal=reversal,
        transaction=transaction,
        details={k: v for k, v in details.items() if v not in (None, "", [])},
    )


async def merged_events(ctx: Ctx, account_id: str | None, limit: int) -> list[dict[str, Any]]:
    platform, connected = await accounts_of(ctx.api)
    events: list[dict[str, Any]] = []
    for account in [platform, *connected]:
        if account_id in (None, account["id"]):
            events += await ctx.api.all("/v1/events", {"limit": limit}, account=account["id"])
    events.sort(key=lambda e: (e["created"], e["id"]), reverse=True)
    return events[:limit]


def _event_owner(event: dict[str, Any], platform: str) -> str:
    return event.get("account") or platform


async def events_page(ctx: Ctx):
    account_id = ctx.request.query_params.get("account") or None
    events = await merged_events(ctx, account_id, 50)
    return ctx.render(
        "events.html",
        events=events,
        account_filter=account_id or "",
        owner=lambda e: _event_owner(e, ctx.session.platform),
    )


async def events_feed(ctx: Ctx):
    """The live tail's poll: the newest events, as JSON rows ready to show."""
    account_id = ctx.request.query_params.get("account") or None
    events = await merged_events(ctx, account_id, 50)
    rows = [
        {
            "id": e["id"],
            "type": e["type"],
            "created": fmt.when(e["created"]),
            "object": (e["data"]["object"] or {}).get("id"),
            "href": f"/dashboard/accounts/{_event_owner(e, ctx.session.platform)}/events/{e['id']}",
            "pending_webhooks": e["pending_webhooks"],
        }
        for e in events
    ]
    return JSONResponse({"data": rows}, headers={"Cache-Control": "no-store"})


def delivery_log(runtime: Any, event_id: str) -> tuple[list[dict], list[dict]]:
    """Webhook deliveries and attempts of one event: there is no API endpoint for these."""
    from openissuing.services import deliveries
    from openissuing.storage.uow import transaction

    def work(uow):
        return (
            deliveries.deliveries(uow, event_id=event_id),
            deliveries.attempt_log(uow, event_id=event_id, limit=200),
        )

    return transaction(runtime.engine, work, write=False)


def event_page_for(runtime: Any):
    async def event_page(ctx: Ctx):
        account_id, event_id = ctx.path("account"), ctx.path("event")
        event = await ctx.api.get(f"/v1/events/{event_id}", account=account_id)
        found, attempts = await run_in_threadpool(delivery_log, runtime, event["id"])
        by_delivery: dict[str, list[dict]] = {}
        for attempt in attempts:
            by_delivery.setdefault(attempt["delivery_id"], []).append(attempt)
        return ctx.render(
            "event.html",
            event=event,
            account_id=account_id,
            deliveries=found,
            attempts=by_delivery,
        )

    return event_page


async def sandbox_page(ctx: Ctx):
    sandbox = await ctx.api.get("/_openissuing/sandboxes/current")
    faults = await ctx.api.get("/_openissuing/sandboxes/current/faults")
    return ctx.render("sandbox.html", box=sandbox, faults=faults["data"])


def routes(guard: Guard, runtime: Any) -> list[Route]:
    page = guard.page
    return [
        Route("/", page(overview), methods=["GET"]),
        Route(A, page(account_page), methods=["GET"]),
        Route(A + "/financial_accounts/{fa}", page(financial_account_page), methods=["GET"]),
        Route(A + "/cardholders/{cardholder}", page(cardholder_page), methods=["GET"]),
        Route(A + "/cards/{card}", page(card_page), methods=["GET"]),
        Route("/authorizations", page(authorizations_page), methods=["GET"]),
        Route(A + "/authorizations/{authorization}", page(authorization_page), methods=["GET"]),
        Route("/disputes", page(disputes_page), methods=["GET"]),
        Route(A + "/disputes/{dispute}", page(dispute_page), methods=["GET"]),
        Route("/events", page(events_page), methods=["GET"]),
        Route("/events/feed", page(events_feed), methods=["GET"]),
        Route(A + "/events/{event}", page(event_page_for(runtime)), methods=["GET"]),
        Route("/sandbox", page(sandbox_page), methods=["GET"]),
    ]
