"""Browser tests of the dashboard: Playwright for Python driving the system's Chromium.

No browser is downloaded: ``scripts/test`` installs Debian's ``chromium`` where it is
missing, and the tests launch ``/usr/bin/chromium`` (or ``OPENISSUING_CHROMIUM``).
Screenshots go to ``tests/artifacts/dashboard/`` (git-ignored); the session prints where.
"""

from __future__ import annotations

import os
import re
from dataclasses import dataclass
from pathlib import Path

import pytest

from openissuing import fixtures
from openissuing.commands.client import Api

CHROMIUM = os.environ.get("OPENISSUING_CHROMIUM", "/usr/bin/chromium")
CHROMIUM_ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]
LAPTOP = {"width": 1366, "height": 768}
PHONE = {"width": 390, "height": 844}
SCREENSHOTS = Path(__file__).resolve().parent.parent / "artifacts" / "dashboard"


@pytest.fixture(scope="session")
def browser():
    from playwright.sync_api import sync_playwright

    if not Path(CHROMIUM).exists():
        pytest.fail(f"{CHROMIUM} is missing: scripts/test installs Debian's chromium")
    with sync_playwright() as playwright:
        launched = playwright.chromium.launch(
            executable_path=CHROMIUM, args=CHROMIUM_ARGS, headless=True, timeout=60_000
        )
        yield launched
        launched.close()


@pytest.fixture(scope="session")
def screenshots() -> Path:
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    print(f"\ndashboard screenshots: {SCREENSHOTS}")
    return SCREENSHOTS


@dataclass
class World:
    """A connected account with a funded financial account, a cardholder and an active card."""

    api: Api
    account: str
    fa: str
    cardholder: str
    card: str

    def authorize(self, amount: int, **extra) -> dict:
        return self.api.post(
            "/v1/test_helpers/issuing/authorizations",
            {"card": self.card, "amount": amount, **extra},
            account=self.account,
        )

    def cash(self) -> int:
        fa = self.api.get(f"/v1/treasury/financial_accounts/{self.fa}", account=self.account)
        return fa["balance"]["cash"]["usd"]


@pytest.fixture()
def world(server) -> World:
    api = Api(server.url, server.api_key)
    account = api.post("/v1/accounts", fixtures.onboarded_account_params())["id"]
    fa = api.post(
        "/v1/treasury/financial_accounts",
        {"supported_currencies": ["usd"], "features": {"card_issuing": {"requested": True}}},
        account=account,
    )["id"]
    api.post(
        "/v1/test_helpers/treasury/received_credits",
        {"financial_account": fa, "amount": 10_000, "currency": "usd", "network": "ach"},
        account=account,
    )
    holder = api.post("/v1/issuing/cardholders", fixtures.cardholder_params(), account=account)
    card = api.post(
        "/v1/issuing/cards",
        {
            "cardholder": holder["id"],
            "financial_account": fa,
            "currency": "usd",
            "type": "virtual",
            "status": "active",
        },
        account=account,
    )
    yield World(api, account, fa, holder["id"], card["id"])
    api.close()


class Dashboard:
    """A browser page on the dashboard of one test's sandbox."""

    def __init__(self, page, server) -> None:
        self.page = page
        self.base = server.url + "/dashboard"
        self.server = server

    def url(self, path: str = "/") -> str:
        return self.base + path

    def goto(self, path: str = "/"):
        answer = self.page.goto(self.url(path))
        assert answer is not None and answer.status == 200, (path, answer and answer.status)
        return answer

    def sign_in(self, key: str | None = None) -> None:
        self.page.goto(self.url("/signin"))
        self.page.fill("input[name=api_key]", key or self.server.api_key)
        self.page.click("button[type=submit]")

    def account_path(self, account: str, rest: str = "") -> str:
        return f"/accounts/{account}{rest}"

    def flash(self) -> str:
        return self.page.locator(".flash").first.inner_text()

    def current_id(self, prefix: str) -> str:
        found = re.search(rf"({prefix}_[A-Za-z0-9]+)", self.page.url)
        assert found, self.page.url
        return found.group(1)


@pytest.fixture()
def dash(browser, server):
    context = browser.new_context(viewport=LAPTOP)
    context.set_default_timeout(15_000)
    page = context.new_page()
    yield Dashboard(page, server)
    context.close()


@pytest.fixture()
def signed_in(dash) -> Dashboard:
    dash.sign_in()
    dash.page.wait_for_url(dash.url("/"))
    return dash


@pytest.fixture()
def open_page(browser, server):
    """``open_page(viewport)``: another signed-in page at a given size (closed after the test)."""
    contexts = []

    def make(viewport: dict) -> Dashboard:
        context = browser.new_context(viewport=viewport)
        context.set_default_timeout(15_000)
        contexts.append(context)
        made = Dashboard(context.new_page(), server)
        made.sign_in()
        made.page.wait_for_url(made.url("/"))
        return made

    yield make
    for context in contexts:
        context.close()


@pytest.fixture()
def viewports() -> dict[str, dict]:
    return {"laptop": LAPTOP, "phone": PHONE}
