import pytest
import stripe


def test_treasury_backed_issuing_has_no_balance_transactions(client):
    listed = client.v1.balance_transactions.list(params={"limit": 3})
    assert (listed.object, listed.data, listed.has_more) == ("list", [], False)
    assert listed.url == "/v1/balance_transactions"
    with pytest.raises(stripe.InvalidRequestError) as raised:
        client.v1.balance_transactions.retrieve("txn_nothing")
    assert (raised.value.http_status, raised.value.code) == (404, "resource_missing")


def test_fraud_challenge_respond_on_unknown_authorization_is_404(client):
    with pytest.raises(stripe.InvalidRequestError) as raised:
        client.v1.test_helpers.issuing.authorizations.respond(
            "iauth_nothing", params={"confirmed": True}
        )
    assert raised.value.http_status == 404
