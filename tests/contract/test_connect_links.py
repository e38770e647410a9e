"""Account links and login links, through the SDK, and the hosted pages they open (over HTTP)."""

from __future__ import annotations

import re
from urllib.parse import urlsplit

import httpx
import pytest
import stripe

from tests.contract.test_persons import company_account
from tests.flows import activated_account, onboarded_account_params

RETURN = "https://platform.example/return"
REFRESH = "https://platform.example/refresh"
LINK = {"type": "account_onboarding", "refresh_url": REFRESH, "return_url": RETURN}


def _form_token(html: str) -> str:
    found = re.search(r'name="form_token" value="([^"]+)"', html)
    assert found, html[:500]
    return found.group(1)


def _inputs(html: str) -> list[str]:
    return re.findall(r'<(?:input|select)\b[^>]*?\bname="([^"]+)"', html)


def test_account_link_shape_and_rules(server, client):
    before = server.clock.now()
    acct = client.v1.accounts.create(params={"type": "custom"}).id
    link = client.v1.account_links.create(params={"account": acct, **LINK})
    assert link.object == "account_link"
    assert before <= link.created <= before + 5 and link.expires_at == link.created + 300
    assert link.url.startswith(server.url + "/connect/setup/")
    assert set(link.to_dict()) == {"object", "created", "expires_at", "url"}
    for params, param in (
        ({"account": "acct_nope", **LINK}, "account"),
        ({"account": acct, **LINK, "return_url": "not a url"}, "return_url"),
        ({"account": acct, "type": "account_onboarding", "return_url": RETURN}, "refresh_url"),
    ):
        with pytest.raises(stripe.InvalidRequestError) as bad:
            client.v1.account_links.create(params=params)
        assert bad.value.param == param
    standard = client.v1.accounts.create(params={"type": "standard"}).id
    with pytest.raises(stripe.InvalidRequestError) as update:
        client.v1.account_links.create(
            params={"account": standard, **LINK, "type": "account_update"}
        )
    assert update.value.param == "type"
    assert client.v1.account_links.create(
        params={"account": acct, **LINK, "type": "account_update", "collect": "eventually_due"}
    ).url
    # A connected account cannot make links, another platform cannot see the account.
    with pytest.raises(stripe.PermissionError):
        server.client(stripe_account=acct).v1.account_links.create(params={"account": acct, **LINK})


def test_account_link_is_single_use_and_expires(server, client):
    acct = activated_account(client)
    with httpx.Client(follow_redirects=False, timeout=30) as http:
        link = client.v1.account_links.create(params={"account": acct, **LINK})
        first = http.get(link.url)
        assert first.status_code == 200 and "Set up your account" in first.text
        assert first.headers["cache-control"] == "no-store"
        assert (
            "form-action 'self' https://platform.example"
            in first.headers["content-security-policy"]
        )
        again = http.get(link.url)
        assert again.status_code == 303 and again.headers["location"] == REFRESH

        late = client.v1.account_links.create(params={"account": acct, **LINK})
        server.clock.advance(301)
        expired = http.get(late.url)
        assert expired.status_code == 303 and expired.headers["location"] == REFRESH

        unknown = http.get(server.url + "/connect/setup/nope")
        assert unknown.status_code == 404
        # A form post without its one-time token is refused.
        fresh = client.v1.account_links.create(params={"account": acct, **LINK})
        assert http.get(fresh.url).status_code == 200
        forged = http.post(fresh.url, data={"form_token": "guess"})
        assert forged.status_code == 403


def test_the_form_fills_a_company_until_its_capabilities_are_active(server, client):
    account = company_account(client)
    with httpx.Client(follow_redirects=False, timeout=30) as http:
        link = client.v1.account_links.create(params={"account": account.id, **LINK})
        page = http.get(link.url)
        names = _inputs(page.text)
        assert "company.owners_provided" in names and "representative.dob" in names
        assert "representative.ssn_last_4" in names and "representative.first_name" in names
        token = _form_token(page.text)
        # A refused value shows the form again; nothing is kept.
        bad = http.post(link.url, data={"form_token": token, "representative.email": "nope"})
        assert bad.status_code == 400 and "Invalid email address" in bad.text
        assert client.v1.accounts.persons.list(account.id).data == []
        done = http.post(
            link.url,
            data={
                "form_token": token,
                "representative.first_name": "Jane",
                "representative.last_name": "Diaz",
                "representative.email": "jane@example.com",
                "representative.dob": "1980-07-04",
                "representative.address.line1": "2 Market St",
                "representative.address.city": "San Francisco",
                "representative.address.postal_code": "94105",
                "representative.ssn_last_4": "0000",
                "representative.relationship.title": "CEO",
                "representative.relationship.executive": "yes",
                "company.owners_provided": "yes",
            },
        )
        assert done.status_code == 303 and done.headers["location"] == RETURN
        # The form is spent too.
        assert http.post(link.url, data={"form_token": token}).headers["location"] == REFRESH
    account = client.v1.accounts.retrieve(account.id)
    assert account.requirements.currently_due == []
    assert account.capabilities.to_dict() == {
        "card_issuing": "active",
        "transfers": "active",
        "treasury": "active",
    }
    (rep,) = client.v1.accounts.persons.list(account.id).data
    assert rep.relationship.representative and rep.relationship.title == "CEO"
    assert rep.dob.to_dict() == {"day": 4, "month": 7, "year": 1980}
    assert rep.ssn_last_4_provided is True


def test_the_form_fills_terms_and_an_individual(server, client):
    params = onboarded_account_params()
    del params["individual"]["email"]
    del params["tos_acceptance"]
    account = client.v1.accounts.create(params=params)
    assert "tos_acceptance.date" in account.requirements.currently_due
    with httpx.Client(follow_redirects=False, timeout=30) as http:
        link = client.v1.account_links.create(params={"account": account.id, **LINK})
        page = http.get(link.url)
        assert _inputs(page.text) == ["form_token", "individual.email", "tos_acceptance"]
        done = http.post(
            link.url,
            data={
                "form_token": _form_token(page.text),
                "individual.email": "jenny@example.com",
                "tos_acceptance": "yes",
            },
        )
        assert done.status_code == 303
    account = client.v1.accounts.retrieve(account.id)
    assert account.requirements.currently_due == []
    assert account.tos_acceptance.ip == "127.0.0.1" and account.tos_acceptance.date
    assert account.individual.email == "jenny@example.com"


def test_login_links_only_for_express_dashboard_accounts(server, client):
    express = client.v1.accounts.create(params={"type": "express"}).id
    login = client.v1.accounts.login_links.create(express)
    assert login.object == "login_link" and set(login.to_dict()) == {"object", "created", "url"}
    assert urlsplit(login.url).path.startswith("/connect/express/")
    with httpx.Client(follow_redirects=False, timeout=30) as http:
        page = http.get(login.url)
        assert page.status_code == 200 and express in page.text
        assert http.get(login.url).status_code == 410  # single-use
    for kind in ("custom", "standard"):
        other = client.v1.accounts.create(params={"type": kind}).id
        with pytest.raises(stripe.InvalidRequestError) as refused:
            client.v1.accounts.login_links.create(other)
        assert refused.value.http_status == 400 and refused.value.param == "account"
    with pytest.raises(stripe.InvalidRequestError) as missing:
        client.v1.accounts.login_links.create("acct_nope")
    assert missing.value.http_status == 404


def test_links_are_isolated(client, make_sandbox):
    acct = client.v1.accounts.create(params={"type": "express"}).id
    other = make_sandbox("other").client()
    with pytest.raises(stripe.InvalidRequestError) as missing:
        other.v1.account_links.create(params={"account": acct, **LINK})
    assert missing.value.http_status == 404
    with pytest.raises(stripe.InvalidRequestError) as missing:
        other.v1.accounts.login_links.create(acct)
    assert missing.value.http_status == 404
