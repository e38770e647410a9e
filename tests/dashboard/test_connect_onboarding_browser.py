"""An account link's hosted onboarding form, in a real browser (Debian's chromium).

A company account with nothing about its persons: the platform makes an account link, the
browser opens it, fills every input, submits, lands on the platform's return_url, and the
account's capabilities are active. Screenshots go to ``tests/artifacts/connect/``.
"""

from __future__ import annotations

from pathlib import Path

import pytest
from playwright.sync_api import expect

from openissuing import fixtures
from openissuing.commands.client import Api
from tests.dashboard.conftest import LAPTOP, PHONE

SHOTS = Path(__file__).resolve().parent.parent / "artifacts" / "connect"
COMPANY = {
    "name": "Rocket Rides",
    "tax_id": "000000000",
    "address": {"line1": "2 Market St", "city": "San Francisco", "postal_code": "94105"},
}
VALUES = {
    "representative.first_name": "Jane",
    "representative.last_name": "Diaz",
    "representative.email": "jane@example.com",
    "representative.address.line1": "2 Market St",
    "representative.address.city": "San Francisco",
    "representative.address.postal_code": "94105",
    "representative.ssn_last_4": "0000",
    "representative.relationship.title": "CEO",
}


@pytest.fixture()
def api(server):
    made = Api(server.url, server.api_key)
    yield made
    made.close()


def _company(api: Api) -> dict:
    params = fixtures.onboarded_account_params(business_type="company", company=dict(COMPANY))
    del params["individual"]
    return api.post("/v1/accounts", params)


def _link(api: Api, server, account: str) -> dict:
    return api.post(
        "/v1/account_links",
        {
            "account": account,
            "type": "account_onboarding",
            "refresh_url": f"{server.url}/healthz?refresh=1",
            "return_url": f"{server.url}/healthz?returned=1",
        },
    )


@pytest.mark.parametrize("viewport", ["laptop", "phone"])
def test_onboarding_form_completes_a_company(browser, server, api, viewport):
    SHOTS.mkdir(parents=True, exist_ok=True)
    account = _company(api)
    assert account["capabilities"]["card_issuing"] == "inactive"
    link = _link(api, server, account["id"])
    context = browser.new_context(viewport=LAPTOP if viewport == "laptop" else PHONE)
    context.set_default_timeout(15_000)
    page = context.new_page()
    try:
        answer = page.goto(link["url"])
        assert answer is not None and answer.status == 200
        expect(page.locator("h1")).to_have_text("Set up your account")
        expect(page.locator("fieldset[data-section=representative] legend")).to_contain_text(
            "Representative"
        )
        page.screenshot(path=str(SHOTS / f"onboarding-form-{viewport}.png"), full_page=True)

        # A date of birth the server refuses first: the form comes back with the error.
        page.fill("input[name='representative.dob']", "1850-01-01")
        page.click("#setup-submit")
        expect(page.locator("#setup-error")).to_contain_text(
            "date of birth is not a valid date. (representative.dob)"
        )
        # What was entered is still there.
        expect(page.locator("input[name='representative.dob']")).to_have_value("1850-01-01")
        page.screenshot(path=str(SHOTS / f"onboarding-error-{viewport}.png"), full_page=True)

        for name, value in VALUES.items():
            page.fill(f"input[name='{name}']", value)
        page.fill("input[name='representative.dob']", "1980-07-04")
        page.check("input[name='representative.relationship.executive']")
        page.check("input[name='company.owners_provided']")
        page.click("#setup-submit")
        page.wait_for_url(f"{server.url}/healthz?returned=1")
    finally:
        context.close()

    done = api.get(f"/v1/accounts/{account['id']}")
    assert done["requirements"]["currently_due"] == []
    assert done["capabilities"] == {
        "card_issuing": "active",
        "transfers": "active",
        "treasury": "active",
    }
    (rep,) = api.get(f"/v1/accounts/{account['id']}/persons")["data"]
    assert rep["relationship"]["representative"] is True and rep["ssn_last_4_provided"] is True


def test_a_used_link_goes_to_refresh_url_and_a_login_link_shows_the_account(browser, server, api):
    SHOTS.mkdir(parents=True, exist_ok=True)
    account = _company(api)
    link = _link(api, server, account["id"])
    context = browser.new_context(viewport=LAPTOP)
    context.set_default_timeout(15_000)
    page = context.new_page()
    try:
        page.goto(link["url"])
        page.goto(link["url"])
        assert page.url == f"{server.url}/healthz?refresh=1"

        express = api.post("/v1/accounts", {"type": "express", "email": "kai@example.com"})
        api.post(
            f"/v1/accounts/{express['id']}/external_accounts",
            {"external_account": "btok_us_verified"},
        )
        login = api.post(f"/v1/accounts/{express['id']}/login_links")
        answer = page.goto(login["url"])
        assert answer is not None and answer.status == 200
        expect(page.locator("body")).to_contain_text("STRIPE TEST BANK ···· 6789")
        page.screenshot(path=str(SHOTS / "login-link-page.png"), full_page=True)
        answer = page.goto(login["url"])
        assert answer is not None and answer.status == 410
        page.screenshot(path=str(SHOTS / "login-link-used.png"), full_page=True)
    finally:
        context.close()
