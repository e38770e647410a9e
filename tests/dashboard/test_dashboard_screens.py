"""Screenshots at a laptop and a phone width, for a person to look at (tests/artifacts/)."""

from __future__ import annotations

from playwright.sync_api import expect

DAY = 86400


def _history(w, server) -> str:
    """A little history: funding, purchases approved and declined, a capture and a refund."""
    w.api.post(
        "/v1/test_helpers/treasury/received_credits",
        {"financial_account": w.fa, "amount": 25_000, "currency": "usd", "network": "ach"},
        account=w.account,
    )
    server.clock.advance(DAY)
    first = w.authorize(4_250, merchant_data={"category": "eating_places_restaurants"})
    w.api.post(
        f"/v1/test_helpers/issuing/authorizations/{first['id']}/capture",
        {"capture_amount": 3_900},
        account=w.account,
    )
    txn = w.api.get(f"/v1/issuing/authorizations/{first['id']}", account=w.account)
    w.api.post(
        f"/v1/test_helpers/issuing/transactions/{txn['transactions'][0]['id']}/refund",
        {"refund_amount": 900},
        account=w.account,
    )
    server.clock.advance(DAY)
    server.clock.advance(DAY)
    w.authorize(1_000_000)  # declined: insufficient funds
    w.authorize(12_000, merchant_data={"category": "airlines_air_carriers"})
    w.api.post(
        "/v1/test_helpers/treasury/received_credits",
        {"financial_account": w.fa, "amount": 5_000, "currency": "usd", "network": "ach"},
        account=w.account,
    )
    return first["id"]


def test_screenshots_of_overview_timeline_and_financial_account(
    open_page, world, server, screenshots, viewports
):
    w = world
    auth_id = _history(w, server)
    taken = []
    for name, viewport in viewports.items():
        d = open_page(viewport)
        pages = {
            "overview": "/",
            "authorization": d.account_path(w.account, f"/authorizations/{auth_id}"),
            "financial_account": d.account_path(w.account, f"/financial_accounts/{w.fa}"),
            "card": d.account_path(w.account, f"/cards/{w.card}"),
            "events": "/events",
            "sandbox": "/sandbox",
        }
        for page_name, path in pages.items():
            d.goto(path)
            expect(d.page.locator(".flash.error")).to_have_count(0)
            if page_name == "financial_account":
                expect(d.page.locator("#cash-chart svg circle")).to_have_count(
                    8
                )  # each ledger-backed entry is a point
            target = screenshots / f"{page_name}-{name}.png"
            d.page.screenshot(path=str(target), full_page=True)
            taken.append(target)
            # Nothing wider than the screen: tables scroll inside their own box.
            overflow = d.page.evaluate(
                "document.documentElement.scrollWidth - document.documentElement.clientWidth"
            )
            assert overflow <= 0, (page_name, name, overflow)
    print("\n".join(["", *map(str, taken)]))
    assert all(p.stat().st_size > 10_000 for p in taken)
