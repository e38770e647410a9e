import pytest
import stripe

ADDRESS = {
    "line1": "1 Main St",
    "city": "San Francisco",
    "state": "CA",
    "postal_code": "94111",
    "country": "US",
}


def test_create_retrieve_update_list_cardholder(client):
    created = client.v1.issuing.cardholders.create(
        params={
            "name": "Jenny Rosen",
            "email": "jenny@example.com",
            "phone_number": "+18008675309",
            "type": "individual",
            "individual": {
                "first_name": "Jenny",
                "last_name": "Rosen",
                "dob": {"day": 1, "month": 11, "year": 1981},
            },
            "billing": {"address": ADDRESS},
            "metadata": {"team": "a"},
        }
    )
    assert created.id.startswith("ich_")
    assert created.object == "issuing.cardholder"
    assert created.status == "active"
    assert created.requirements.past_due == []
    assert created.billing.address.city == "San Francisco"
    assert created.individual.dob.year == 1981
    assert created.spending_controls.spending_limits_currency is None

    fetched = client.v1.issuing.cardholders.retrieve(created.id)
    assert fetched.to_dict() == created.to_dict()

    updated = client.v1.issuing.cardholders.update(
        created.id, params={"status": "inactive", "metadata": {"team": "", "x": "y"}}
    )
    assert updated.status == "inactive"
    assert updated.metadata.to_dict() == {"x": "y"}

    listed = client.v1.issuing.cardholders.list(params={"email": "jenny@example.com", "limit": 100})
    assert created.id in [c.id for c in listed.data]


def test_cardholder_missing_required_params(client):
    with pytest.raises(stripe.InvalidRequestError) as raised:
        client.v1.issuing.cardholders.create(params={"name": "No Billing"})
    assert raised.value.http_status == 400
    assert raised.value.code == "parameter_missing"
    assert raised.value.param == "billing"


def test_unknown_cardholder_is_404(client):
    with pytest.raises(stripe.InvalidRequestError) as raised:
        client.v1.issuing.cardholders.retrieve("ich_doesnotexist")
    assert raised.value.http_status == 404
    assert raised.value.code == "resource_missing"
