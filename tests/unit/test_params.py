"""Schema-driven coercion/validation of decoded params (stripe-mock's coercer)."""

from __future__ import annotations

import json
from importlib import resources

import pytest

from openissuing.api.forms import decode, parse_pairs
from openissuing.api.params import bracket, spec_for, validate
from openissuing.domain.errors import (
    InvalidRequest,
    ParameterInvalid,
    ParameterMissing,
    ParameterUnknown,
)

CARDHOLDER_CREATE = "POST /v1/issuing/cardholders"
CARDHOLDER_LIST = "GET /v1/issuing/cardholders"
ACCOUNT_CREATE = "POST /v1/accounts"
BILLING = (
    "name=Jenny+Rosen"
    "&billing[address][line1]=1+Main&billing[address][city]=SF"
    "&billing[address][postal_code]=94111&billing[address][country]=US"
)


def check(endpoint: str, raw: str) -> dict:
    return validate(endpoint, decode(parse_pairs(raw)))


def error_for(endpoint: str, raw: str) -> InvalidRequest:
    with pytest.raises(InvalidRequest) as info:
        check(endpoint, raw)
    return info.value


# -- the spec file ---------------------------------------------------------


def test_spec_covers_every_endpoint_the_sdk_exposes_in_scope():
    import sys
    from pathlib import Path

    sys.path.insert(0, str(Path(__file__).resolve().parents[2] / "tools"))
    import sdk_surface

    spec = json.loads(resources.files("openissuing.api").joinpath("param_spec.json").read_text())
    assert {endpoint.key for endpoint in sdk_surface.endpoints()} <= set(spec["endpoints"])
    assert len(spec["endpoints"]) >= 134
    assert all(node["type"] == "object" for node in spec["endpoints"].values())


def test_spec_omits_expand_and_sdk_request_options():
    fields = spec_for(CARDHOLDER_CREATE)["fields"]
    assert "expand" not in fields
    assert not {"api_key", "stripe_account", "idempotency_key", "headers"} & set(fields)


def test_unknown_endpoint_is_a_programming_error():
    with pytest.raises(KeyError):
        validate("POST /v1/nope", {})


def test_bracket():
    assert bracket(("a", "b", 0, "c")) == "a[b][0][c]"
    assert bracket(("a",)) == "a"


# -- real endpoints --------------------------------------------------------


def test_cardholder_create_coerces_nested_values():
    raw = (
        BILLING
        + "&type=individual&spending_controls[spending_limits][0][amount]=5000"
        + "&spending_controls[spending_limits][0][interval]=daily"
        + "&spending_controls[blocked_categories][]=bakeries&metadata[k]=v"
    )
    assert check(CARDHOLDER_CREATE, raw) == {
        "name": "Jenny Rosen",
        "billing": {
            "address": {"line1": "1 Main", "city": "SF", "postal_code": "94111", "country": "US"}
        },
        "type": "individual",
        "spending_controls": {
            "spending_limits": [{"amount": 5000, "interval": "daily"}],
            "blocked_categories": ["bakeries"],
        },
        "metadata": {"k": "v"},
    }


def test_cardholder_create_requires_billing_address_city():
    raw = (
        "name=J&billing[address][line1]=1&billing[address][postal_code]=1&"
        "billing[address][country]=US"
    )
    error = error_for(CARDHOLDER_CREATE, raw)
    assert isinstance(error, ParameterMissing)
    assert error.param == "billing[address][city]"
    assert error.code == "parameter_missing"


def test_missing_top_level_required_param():
    error = error_for(CARDHOLDER_CREATE, "name=J")
    assert isinstance(error, ParameterMissing)
    assert error.param == "billing"


def test_account_capabilities_requested_becomes_bool():
    result = check(ACCOUNT_CREATE, "type=custom&capabilities[card_issuing][requested]=true")
    assert result == {"type": "custom", "capabilities": {"card_issuing": {"requested": True}}}
    result = check(ACCOUNT_CREATE, "capabilities[treasury][requested]=false")
    assert result["capabilities"]["treasury"]["requested"] is False


def test_external_account_union_picks_the_object_shape_by_its_tag():
    raw = (
        "external_account[object]=bank_account&external_account[country]=US&"
        "external_account[account_number]=0001"
    )
    result = check(ACCOUNT_CREATE, raw)
    assert result["external_account"]["object"] == "bank_account"
    assert check(ACCOUNT_CREATE, "external_account=btok_1") == {"external_account": "btok_1"}
    error = error_for(ACCOUNT_CREATE, "external_account[object]=card&external_account[exp_month]=1")
    assert isinstance(error, ParameterMissing)
    assert error.param == "external_account[exp_year]"


def test_number_fields_never_become_floats():
    raw = "individual[relationship][percent_ownership]="
    assert check("POST /v1/accounts/{account}/persons", "relationship[percent_ownership]=25") == {
        "relationship": {"percent_ownership": 25}
    }
    result = check("POST /v1/accounts/{account}/persons", "relationship[percent_ownership]=12.5")
    assert result == {"relationship": {"percent_ownership": "12.5"}}
    assert check(ACCOUNT_CREATE, raw) == {"individual": {"relationship": {"percent_ownership": ""}}}


def test_decimal_fields_stay_validated_text():
    endpoint = "POST /v1/test_helpers/issuing/authorizations"
    result = check(endpoint, "card=ic_1&fuel[unit_cost_decimal]=3.059&fuel[quantity_decimal]=10")
    assert result["fuel"] == {"unit_cost_decimal": "3.059", "quantity_decimal": "10"}
    for bad in ("abc", "1e5", "NaN", "Infinity"):
        error = error_for(endpoint, f"card=ic_1&fuel[unit_cost_decimal]={bad}")
        assert (error.code, error.param) == ("parameter_invalid_decimal", "fuel[unit_cost_decimal]")


# -- unknown ---------------------------------------------------------------


@pytest.mark.parametrize(
    ("extra", "param"),
    [
        ("foo=1", "foo"),
        ("individual[foo]=1", "individual[foo]"),
        (
            "spending_controls[spending_limits][0][bar]=1",
            "spending_controls[spending_limits][0][bar]",
        ),
        ("billing[address][zip]=1", "billing[address][zip]"),
        ("stripe_account=acct_1", "stripe_account"),
    ],
)
def test_unknown_params_are_named_by_bracket_path(extra, param):
    error = error_for(CARDHOLDER_CREATE, f"{BILLING}&{extra}")
    assert isinstance(error, ParameterUnknown)
    assert (error.code, error.param) == ("parameter_unknown", param)
    assert error.message == f"Received unknown parameter: {param}"


def test_unknown_index_is_reported_as_sent_not_as_compacted():
    raw = (
        f"{BILLING}&spending_controls[spending_limits][3][interval]=daily&"
        "spending_controls[spending_limits][3][x]=1"
    )
    assert error_for(CARDHOLDER_CREATE, raw).param == "spending_controls[spending_limits][3][x]"


def test_unknown_wins_over_missing_anywhere():
    error = error_for(CARDHOLDER_CREATE, "billing[address][line1]=1&zzz=1")
    assert isinstance(error, ParameterUnknown)
    assert error.param == "zzz"
    # an unknown found after a sibling's missing field still wins
    raw = "name=J&billing[address][line1]=1&spending_controls[foo]=1"
    assert error_for(CARDHOLDER_CREATE, raw).param == "spending_controls[foo]"


# -- invalid values --------------------------------------------------------


@pytest.mark.parametrize("bad", ["abc", "12.5", "1e3", "", "99999999999999999999999"])
def test_invalid_integer(bad):
    error = error_for(CARDHOLDER_LIST, f"limit={bad}")
    assert isinstance(error, ParameterInvalid)
    assert error.param == "limit"
    if bad:
        assert error.code == "parameter_invalid_integer"
        assert error.message == f"Invalid integer: {bad}"


def test_integers_accept_sign():
    assert check(CARDHOLDER_LIST, "limit=-12&created[gt]=%2B5") == {
        "limit": -12,
        "created": {"gt": 5},
    }


def test_invalid_integer_nested_in_array_of_objects():
    raw = (
        f"{BILLING}&spending_controls[spending_limits][0][amount]=ten&"
        "spending_controls[spending_limits][0][interval]=daily"
    )
    error = error_for(CARDHOLDER_CREATE, raw)
    assert (error.code, error.param) == (
        "parameter_invalid_integer",
        "spending_controls[spending_limits][0][amount]",
    )


@pytest.mark.parametrize("bad", ["yes", "True", "1"])
def test_invalid_boolean(bad):
    error = error_for(ACCOUNT_CREATE, f"capabilities[card_issuing][requested]={bad}")
    assert (error.code, error.param) == (
        "parameter_invalid_boolean",
        "capabilities[card_issuing][requested]",
    )
    assert error.message == f"Invalid boolean: {bad}"


def test_invalid_enum_has_message_and_param_but_no_code():
    error = error_for(ACCOUNT_CREATE, "type=premium")
    assert isinstance(error, ParameterInvalid)
    assert error.code is None
    assert error.param == "type"
    assert error.message == "Invalid type: must be one of custom, express, or standard"
    error = error_for(CARDHOLDER_CREATE, f"{BILLING}&status=frozen")
    assert error.message == "Invalid status: must be one of active or inactive"


def test_invalid_enum_inside_array():
    error = error_for(CARDHOLDER_CREATE, f"{BILLING}&spending_controls[blocked_categories][0]=nope")
    assert error.param == "spending_controls[blocked_categories][0]"
    assert error.code is None


def test_object_where_a_string_is_expected():
    error = error_for(CARDHOLDER_CREATE, f"{BILLING}&email[x]=1")
    assert isinstance(error, ParameterInvalid)
    assert (error.code, error.param) == ("parameter_invalid_string", "email")


def test_string_where_an_object_or_array_is_expected():
    error = error_for(CARDHOLDER_CREATE, f"{BILLING}&individual=bob")
    assert (type(error), error.message, error.param) == (
        InvalidRequest,
        "Invalid object",
        "individual",
    )
    error = error_for(
        CARDHOLDER_CREATE, f"{BILLING}&spending_controls[blocked_categories]=bakeries"
    )
    assert (error.message, error.param) == (
        "Invalid array",
        "spending_controls[blocked_categories]",
    )


# -- empty strings ---------------------------------------------------------


def test_empty_string_clears_where_the_schema_allows_it():
    result = check("POST /v1/issuing/cardholders/{cardholder}", "metadata=&phone_number=")
    assert result == {"metadata": "", "phone_number": ""}
    result = check("POST /v1/accounts/{account}", "individual[dob]=&business_profile[support_url]=")
    assert result == {"individual": {"dob": ""}, "business_profile": {"support_url": ""}}


def test_empty_string_for_an_object_that_cannot_be_unset():
    error = error_for("POST /v1/issuing/cardholders/{cardholder}", "individual[dob]=")
    assert (error.code, error.param) == ("parameter_invalid_empty", "individual[dob]")


def test_metadata_key_deletion_is_kept():
    result = check("POST /v1/issuing/cardholders/{cardholder}", "metadata[gone]=&metadata[kept]=v")
    assert result == {"metadata": {"gone": "", "kept": "v"}}


def test_metadata_with_digit_keys_stays_a_map():
    result = check("POST /v1/issuing/cardholders/{cardholder}", "metadata[7]=a&metadata[12]=b")
    assert result == {"metadata": {"7": "a", "12": "b"}}


def test_empty_string_for_plain_string_is_kept():
    assert check(CARDHOLDER_LIST, "email=") == {"email": ""}


@pytest.mark.parametrize(
    ("raw", "param"),
    [
        ("limit=", "limit"),
        ("status=", "status"),
        ("created=", "created"),
        ("created[gte]=", "created[gte]"),
    ],
)
def test_empty_string_where_it_cannot_unset(raw, param):
    error = error_for(CARDHOLDER_LIST, raw)
    assert (error.code, error.param) == ("parameter_invalid_empty", param)
    assert error.message == (
        f"You passed an empty string for '{param}'. We assume empty values are an attempt to unset "
        f"a parameter; however '{param}' cannot be unset. You should remove '{param}' from your "
        "request or supply a non-empty value."
    )


def test_empty_string_for_a_required_object():
    error = error_for(CARDHOLDER_CREATE, "name=J&billing=")
    assert (error.code, error.param) == ("parameter_invalid_empty", "billing")


# -- unions ------------------------------------------------------------------


def test_created_accepts_integer_or_range():
    assert check(CARDHOLDER_LIST, "created=1700000000") == {"created": 1700000000}
    assert check(CARDHOLDER_LIST, "created[gte]=1&created[lt]=2") == {
        "created": {"gte": 1, "lt": 2}
    }
    error = error_for(CARDHOLDER_LIST, "created[between]=1")
    assert (type(error), error.param) == (ParameterUnknown, "created[between]")
    error = error_for(CARDHOLDER_LIST, "created=soon")
    assert (error.code, error.param) == ("parameter_invalid_integer", "created")


def test_enum_or_integer_union():
    fields = "settings[payouts][schedule][delay_days]"
    assert check(ACCOUNT_CREATE, f"{fields}=minimum")["settings"]["payouts"]["schedule"] == {
        "delay_days": "minimum"
    }
    assert check(ACCOUNT_CREATE, f"{fields}=3")["settings"]["payouts"]["schedule"] == {
        "delay_days": 3
    }
    assert error_for(ACCOUNT_CREATE, f"{fields}=soon").param == fields


# -- expand ----------------------------------------------------------------


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        ("expand[]=data.cardholder&expand[]=data.card", ["data.cardholder", "data.card"]),
        ("expand%5B0%5D=data.cardholder", ["data.cardholder"]),
        ("expand=data.cardholder", ["data.cardholder"]),
    ],
)
def test_expand_passes_through_on_every_endpoint(raw, expected):
    assert check(CARDHOLDER_LIST, raw) == {"expand": expected}
    assert check("GET /v1/issuing/cardholders/{cardholder}", raw) == {"expand": expected}


def test_expand_must_be_strings():
    error = error_for(CARDHOLDER_LIST, "expand[0][x]=1")
    assert error.param == "expand[0]"
    assert error_for(CARDHOLDER_LIST, "expand[x]=1").param == "expand"


def test_endpoint_without_params_rejects_anything_but_expand():
    assert check("GET /v1/account", "expand[]=settings") == {"expand": ["settings"]}
    assert error_for("GET /v1/account", "foo=1").param == "foo"


def test_validate_does_not_mutate_its_input():
    params = decode(parse_pairs("limit=3&expand[]=x"))
    validate(CARDHOLDER_LIST, params)
    assert params == {"limit": "3", "expand": ["x"]}


def test_empty_string_clears_an_optional_list_but_not_a_required_one():
    cleared = validate(
        "POST /v1/issuing/cards/{card}", {"spending_controls": {"blocked_categories": ""}}
    )
    assert cleared == {"spending_controls": {"blocked_categories": ""}}
    with pytest.raises(ParameterInvalid) as raised:
        validate("POST /v1/webhook_endpoints", {"url": "https://example.com", "enabled_events": ""})
    assert (raised.value.code, raised.value.param) == ("parameter_invalid_empty", "enabled_events")
