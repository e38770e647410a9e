"""The dashboard in a real browser: sign-in, every page, the actions, and what they move."""

from __future__ import annotations

import re

import httpx
from playwright.sync_api import expect

DAY = 86400


def test_a_wrong_key_is_refused_with_a_clear_message(dash):
    dash.sign_in("sk_test_not_a_key_of_this_server")
    expect(dash.page.locator("#signin-error")).to_contain_text("That key was refused")
    assert dash.page.url.endswith("/dashboard/signin")
    # Still signed out: a page sends us back to the sign-in form.
    dash.page.goto(dash.url("/"))
    assert dash.page.url.endswith("/dashboard/signin")


def test_root_redirects_to_the_dashboard_and_the_key_stays_out_of_urls(signed_in, server):
    page = signed_in.page
    page.goto(server.url + "/")
    assert page.url == signed_in.url("/")
    cookies = {c["name"]: c for c in page.context.cookies()}
    session = cookies["oi_dashboard"]
    assert session["httpOnly"] is True and session["sameSite"] == "Strict"
    assert server.api_key not in session["value"]
    assert server.api_key not in page.content()
    page.click("nav >> text=Sign out")
    page.wait_for_url(signed_in.url("/signin"))
    assert "oi_dashboard" not in {c["name"] for c in page.context.cookies()}
    page.goto(signed_in.url("/sandbox"))
    assert page.url == signed_in.url("/signin")


def test_every_page_renders_and_links_by_id(signed_in, world):
    w = world
    auth = w.authorize(1_500)
    d = signed_in
    d.goto("/")
    expect(d.page.locator("body")).to_contain_text(w.account)
    d.page.click(f"a[href$='/accounts/{w.account}']")
    expect(d.page.locator("h1")).to_contain_text(w.account)
    expect(d.page.locator("body")).to_contain_text("Requirements currently due")
    d.page.click(f"a[href$='/financial_accounts/{w.fa}']")
    expect(d.page.locator("h1")).to_contain_text(w.fa)
    expect(d.page.locator("#cash-chart svg")).to_be_visible()
    d.page.click(f"a[href$='/cards/{w.card}']")
    expect(d.page.locator("#card-number")).to_contain_text("••••")
    d.page.click(f"a[href$='/cardholders/{w.cardholder}']")
    expect(d.page.locator("h1")).to_contain_text("Jenny Rosen")
    d.page.click(f"a[href$='/cards/{w.card}']")
    d.page.click(f"a[href$='/authorizations/{auth['id']}']")
    expect(d.page.locator("#timeline")).to_contain_text("Hold placed: $15.00")
    d.goto("/?error=Your+key+expired&flash=Sign+in+elsewhere")  # a link cannot put words here
    expect(d.page.locator(".flash")).to_have_count(0)
    for path in ("/authorizations", "/disputes", "/events", "/sandbox"):
        d.goto(path)
        expect(d.page.locator(".flash.error")).to_have_count(0)
    d.page.click("nav >> text=Events")
    d.page.locator("#events a").first.click()
    expect(d.page.locator("pre.json")).to_contain_text('"object": "event"')


def test_a_simulated_purchase_is_approved_and_moves_the_balance(signed_in, world):
    d, w = signed_in, world
    d.goto(d.account_path(w.account, f"/cards/{w.card}"))
    d.page.fill("#purchase-form input[name=amount]", "25.00")
    d.page.fill("#purchase-form input[name=merchant_category]", "eating_places_restaurants")
    d.page.fill("#purchase-form input[name=merchant_country]", "US")
    d.page.select_option("#purchase-form select[name=authorization_method]", "chip")
    d.page.click("#simulate")
    d.page.wait_for_url(re.compile(r".*/authorizations/iauth_\w+.*"))
    expect(d.page.locator(".flash")).to_contain_text("Purchase approved (card active)")
    expect(d.page.locator("h1")).to_contain_text("approved")
    auth_id = d.current_id("iauth")
    auth = w.api.get(f"/v1/issuing/authorizations/{auth_id}", account=w.account)
    assert auth["approved"] and auth["amount"] == 2_500
    assert auth["merchant_data"]["category"] == "eating_places_restaurants"
    assert auth["card_presence"] == "present"
    assert w.cash() == 7_500
    d.goto(d.account_path(w.account, f"/financial_accounts/{w.fa}"))
    expect(d.page.locator("[data-balance=cash]").first).to_have_text("$75.00")
    expect(d.page.locator("[data-balance=outbound_pending]").first).to_have_text("$25.00")
    expect(d.page.locator("#treasury-transactions")).to_contain_text(auth_id)


def test_a_declined_purchase_shows_its_reason(signed_in, world):
    d, w = signed_in, world
    d.goto(d.account_path(w.account, f"/cards/{w.card}"))
    d.page.fill("#purchase-form input[name=amount]", "500.00")
    d.page.click("#simulate")
    d.page.wait_for_url(re.compile(r".*/authorizations/iauth_\w+.*"))
    expect(d.page.locator(".flash")).to_contain_text("Purchase declined (insufficient funds)")
    expect(d.page.locator("#timeline")).to_contain_text("insufficient funds")
    assert w.cash() == 10_000
    d.goto(f"/authorizations?decision=declined&account={w.account}")
    declined_id = w.api.get("/v1/issuing/authorizations", account=w.account)["data"][0]["id"]
    expect(d.page.locator("table")).to_contain_text(declined_id)
    held = w.authorize(1_000)
    d.goto(f"/authorizations?card={w.card}&status=pending")
    expect(d.page.locator("table")).to_contain_text(held["id"])
    expect(d.page.locator("table")).not_to_contain_text(declined_id)
    d.goto(f"/authorizations?card={w.card}&decision=declined")
    expect(d.page.locator("table")).to_contain_text(declined_id)
    expect(d.page.locator("table")).not_to_contain_text(held["id"])


def test_capture_refund_and_a_won_dispute_from_the_timeline(signed_in, world):
    d, w = signed_in, world
    auth = w.authorize(4_000)
    d.goto(d.account_path(w.account, f"/authorizations/{auth['id']}"))
    d.page.fill("form[action$='/capture'] input[name=amount]", "30.00")
    d.page.click("#capture")
    expect(d.page.locator("#timeline")).to_contain_text("Capture: $30.00")
    assert w.cash() == 7_000
    refund = d.page.locator("form[action$='/refund']").first
    refund.locator("input[name=amount]").fill("5.00")
    refund.locator("button").click()
    expect(d.page.locator("#timeline")).to_contain_text("Refund: $5.00")
    assert w.cash() == 7_500
    d.page.locator("form[action$='/dispute'] button").first.click()
    d.page.wait_for_url(re.compile(r".*/disputes/idp_\w+.*"))
    d.page.select_option("select[name=outcome]", "won")
    d.page.click("#submit-dispute")
    expect(d.page.locator("#dispute-status")).to_contain_text("won")
    expect(d.page.locator("#money-moved")).to_contain_text("$30.00 back to")
    assert w.cash() == 10_500


def test_reverse_and_fund_from_the_pages(signed_in, world):
    d, w = signed_in, world
    auth = w.authorize(2_000)
    d.goto(d.account_path(w.account, f"/authorizations/{auth['id']}"))
    d.page.click("#reverse")
    expect(d.page.locator("#timeline")).to_contain_text("Reversed")
    assert w.cash() == 10_000
    d.goto(d.account_path(w.account, f"/financial_accounts/{w.fa}"))
    d.page.fill("input[name=amount]", "12.34")
    d.page.click("text=Send received credit")
    expect(d.page.locator(".flash")).to_contain_text("Funds received")
    expect(d.page.locator("[data-balance=cash]").first).to_have_text("$112.34")
    assert w.cash() == 11_234


def test_reveal_shows_the_full_number_and_cvc_only_on_request(signed_in, world):
    d, w = signed_in, world
    full = w.api.get(
        f"/v1/issuing/cards/{w.card}", {"expand": ["number", "cvc"]}, account=w.account
    )
    d.goto(d.account_path(w.account, f"/cards/{w.card}"))
    assert full["number"] not in d.page.content()
    d.page.click("#reveal")
    expect(d.page.locator("#card-number")).to_have_text(
        " ".join(full["number"][i : i + 4] for i in range(0, 16, 4))
    )
    expect(d.page.locator("#card-cvc")).to_contain_text(full["cvc"])
    assert full["number"] not in d.page.url


def test_advancing_the_clock_expires_a_hold(signed_in, world):
    d, w = signed_in, world
    auth = w.authorize(3_000)
    assert w.cash() == 7_000
    d.goto(d.account_path(w.account, f"/authorizations/{auth['id']}"))
    d.page.select_option("form[action$='/sandbox/clock'] select[name=span]", "8d")
    d.page.click("#advance")
    expect(d.page.locator(".flash")).to_contain_text("Clock advanced by 8d")
    expect(d.page.locator("#timeline")).to_contain_text("Expired")
    expect(d.page.locator("#timeline")).to_contain_text("Hold released: $30.00")
    assert (
        w.api.get(f"/v1/issuing/authorizations/{auth['id']}", account=w.account)["status"]
        == "expired"
    )
    assert w.cash() == 10_000


def test_sandbox_page_adds_and_clears_faults_and_resets(signed_in, world, server):
    d = signed_in
    d.goto("/sandbox")
    d.page.fill("input[name=path]", "/v1/issuing/cards*")
    d.page.fill("input[name=count]", "3")
    d.page.click("#add-fault")
    expect(d.page.locator("#faults")).to_contain_text("rate_limit")
    d.page.click("text=Clear every fault")
    expect(d.page.locator("#faults")).to_contain_text("No active faults")
    d.page.fill("input[name=confirm]", "reset")
    d.page.click("text=Reset sandbox")
    expect(d.page.locator(".flash")).to_contain_text("Sandbox reset")
    assert world.api.get("/v1/accounts")["data"] == []


def _session_client(dash, server) -> httpx.Client:
    cookies = {c["name"]: c["value"] for c in dash.page.context.cookies()}
    return httpx.Client(base_url=server.url, cookies=cookies, timeout=30)


def test_a_post_without_the_csrf_token_is_refused(signed_in, world, server):
    w = world
    with _session_client(signed_in, server) as raw:
        path = f"/dashboard/accounts/{w.account}/cards/{w.card}/purchase"
        refused = raw.post(path, data={"amount": "10.00"})
        assert refused.status_code == 403
        wrong = raw.post(path, data={"amount": "10.00", "csrf_token": "forged"})
        assert wrong.status_code == 403
        reveal = raw.post(f"/dashboard/accounts/{w.account}/cards/{w.card}/reveal")
        assert reveal.status_code == 403
        clock = raw.post("/dashboard/sandbox/clock", data={"span": "8d"})
        assert clock.status_code == 403
    with httpx.Client(base_url=server.url, timeout=30) as stranger:
        assert (
            stranger.post("/dashboard/signin", data={"api_key": server.api_key}).status_code == 403
        )
    assert w.api.get("/v1/issuing/authorizations", account=w.account)["data"] == []
    assert w.cash() == 10_000


def _snapshot(w, server) -> dict:
    events = [e["id"] for e in w.api.get("/v1/events", {"limit": 100}, account=w.account)["data"]]
    platform_events = w.api.get("/v1/events", {"limit": 100})["data"]
    clock = w.api.get("/_openissuing/sandboxes/current/clock")
    auths = w.api.get("/v1/issuing/authorizations", account=w.account)["data"]
    return {
        "events": events,
        "platform_events": [e["id"] for e in platform_events],
        "cash": w.cash(),
        "offset": clock["offset_seconds"],
        "auths": [(a["id"], a["status"]) for a in auths],
    }


def test_reading_pages_changes_nothing(signed_in, world, server):
    w = world
    w.authorize(1_000)
    before = _snapshot(w, server)
    d = signed_in
    auth_id = before["auths"][0][0]
    for path in (
        "/",
        d.account_path(w.account),
        d.account_path(w.account, f"/financial_accounts/{w.fa}"),
        d.account_path(w.account, f"/cards/{w.card}"),
        d.account_path(w.account, f"/cardholders/{w.cardholder}"),
        d.account_path(w.account, f"/authorizations/{auth_id}"),
        "/authorizations",
        "/disputes",
        "/events",
        "/events/feed",
        "/sandbox",
    ):
        d.goto(path)
    assert _snapshot(w, server) == before


def test_the_events_page_tails_new_events(signed_in, world):
    d, w = signed_in, world
    d.goto(f"/events?account={w.account}")
    rows = d.page.locator("#events tbody tr[data-id]")
    count = rows.count()
    made = w.authorize(700)
    expect(d.page.locator("#events")).to_contain_text(
        "issuing_authorization.created", timeout=10_000
    )
    expect(rows).to_have_count(count + 1, timeout=10_000)
    assert made["id"] in d.page.locator("#events").inner_text()


def test_an_event_shows_its_deliveries_and_resend_sends_it_again(signed_in, world, server):
    from tests.webhook_receiver import WebhookReceiver

    d, w = signed_in, world
    with WebhookReceiver() as receiver:
        endpoint = w.api.post(
            "/v1/webhook_endpoints", {"url": receiver.url, "enabled_events": ["*"]}
        )
        receiver.secret = endpoint["secret"]
        holder = w.api.post("/v1/issuing/cardholders", {"name": "Platform Person",
            "type": "individual", "billing": {"address": {"line1": "1 Main St",
            "city": "San Francisco", "state": "CA", "postal_code": "94111",
            "country": "US"}}})  # fmt: skip
        receiver.wait_for(1, timeout=20)
        event = w.api.get("/v1/events", {"type": "issuing_cardholder.created"})["data"][0]
        assert event["data"]["object"]["id"] == holder["id"]
        d.goto(f"/accounts/{server.platform_id}/events/{event['id']}")
        expect(d.page.locator(".delivery")).to_contain_text("succeeded")
        expect(d.page.locator(".delivery")).to_contain_text("1 attempt(s)")
        expect(d.page.locator(".delivery table")).to_contain_text("200")
        d.page.click(".delivery >> text=Resend")
        expect(d.page.locator(".flash")).to_contain_text("Delivery queued again")
        delivered = receiver.wait_for(2, timeout=20)
        assert [r.json()["id"] for r in delivered] == [event["id"], event["id"]]
        for _ in range(100):
            d.page.reload()
            if "2 attempt(s)" in d.page.locator(".delivery").inner_text():
                break
            d.page.wait_for_timeout(100)
        expect(d.page.locator(".delivery")).to_contain_text("2 attempt(s)")


def test_a_physical_card_shows_its_shipping_and_moves_it(signed_in, world):
    d, w = signed_in, world
    card = w.api.post(
        "/v1/issuing/cards",
        {
            "cardholder": w.cardholder,
            "financial_account": w.fa,
            "currency": "usd",
            "type": "physical",
            "shipping": {
                "name": "Jenny Rosen",
                "address": {"line1": "1 Main St", "city": "San Francisco", "state": "CA",
                            "postal_code": "94111", "country": "US"},
            },
        },
        account=w.account,
    )  # fmt: skip
    d.goto(d.account_path(w.account, f"/cards/{card['id']}"))
    expect(d.page.locator("body")).to_contain_text("Shipping")
    expect(d.page.locator("body")).to_contain_text("1 Main St")
    d.page.select_option("select[name=step]", "ship")
    d.page.click("#shipping-step")
    expect(d.page.locator(".flash")).to_contain_text("Shipping is now shipped")
    shipped = w.api.get(f"/v1/issuing/cards/{card['id']}", account=w.account)
    assert shipped["shipping"]["status"] == "shipped"


def test_an_account_page_lists_what_is_missing_for_card_issuing(signed_in, world):
    d, w = signed_in, world
    bare = w.api.post(
        "/v1/accounts",
        {"type": "custom", "country": "US", "capabilities": {"card_issuing": {"requested": True}}},
    )
    assert bare["requirements"]["currently_due"], bare["requirements"]
    d.goto(d.account_path(bare["id"]))
    expect(d.page.locator("ul.due")).to_contain_text(bare["requirements"]["currently_due"][0])
    expect(d.page.locator("body")).to_contain_text("card issuing")
    d.goto("/")
    expect(d.page.locator("body")).to_contain_text(bare["id"])
