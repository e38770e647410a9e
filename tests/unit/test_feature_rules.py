"""The pure rules behind financial account features and the FA record."""

import pytest

from openissuing.domain.errors import InvalidRequest, ParameterInvalid
from openissuing.domain.treasury import features as rules
from openissuing.domain.treasury import financial_accounts as fa_rules

ACTIVE = {"card_issuing": "active", "treasury": "active", "transfers": "active"}


def detail(code, resolution=None, restriction=None):
    return {"code": code, "resolution": resolution, "restriction": restriction}


@pytest.mark.parametrize(
    ("capability", "status", "details"),
    [
        ("active", "active", []),
        ("pending", "pending", [detail("requirements_pending_verification")]),
        ("inactive", "restricted", [detail("requirements_past_due", "provide_information")]),
        ("unrequested", "restricted", [detail("capability_not_requested")]),
        (None, "restricted", [detail("capability_not_requested")]),
        ("disabled", "restricted", [detail("rejected_other", "contact_stripe")]),
        ("something_new", "restricted", [detail("restricted_other", "contact_stripe")]),
    ],
)
def test_card_issuing_follows_the_card_issuing_capability(capability, status, details):
    capabilities = {"treasury": "active"}
    if capability is not None:
        capabilities["card_issuing"] = capability
    setting = rules.evaluate("card_issuing", capabilities, None)
    assert setting == {"requested": True, "status": status, "status_details": details}


def test_card_issuing_ignores_the_treasury_capability():
    assert (
        rules.evaluate("card_issuing", {"card_issuing": "active", "treasury": "inactive"}, None)[
            "status"
        ]
        == "active"
    )


@pytest.mark.parametrize("feature", [f for f in rules.FEATURES if f != "card_issuing"])
def test_other_features_follow_the_treasury_capability(feature):
    assert rules.evaluate(feature, {"treasury": "active"}, None)["status"] == "active"
    assert (
        rules.evaluate(feature, {"treasury": "pending", "card_issuing": "active"}, None)["status"]
        == "pending"
    )
    assert rules.evaluate(feature, {"card_issuing": "active"}, None)["status_details"] == [
        detail("capability_not_requested")
    ]


def test_capability_given_as_object_is_read_by_status():
    assert rules.capability_status({"treasury": {"status": "active"}}, "treasury") == "active"
    assert not rules.is_requested({}, "treasury")
    assert rules.is_requested({"treasury": "inactive"}, "treasury")


@pytest.mark.parametrize(
    ("feature", "flag"),
    [
        ("outbound_payments.ach", "outbound_flows"),
        ("outbound_payments.us_domestic_wire", "outbound_flows"),
        ("outbound_transfers.ach", "outbound_flows"),
        ("outbound_transfers.us_domestic_wire", "outbound_flows"),
        ("inbound_transfers.ach", "inbound_flows"),
    ],
)
def test_platform_restrictions_restrict_money_flows(feature, flag):
    setting = rules.evaluate(feature, ACTIVE, {flag: "restricted"})
    assert setting["status"] == "restricted"
    assert setting["status_details"] == [
        detail("restricted_by_platform", "remove_restriction", flag)
    ]
    other = "inbound_flows" if flag == "outbound_flows" else "outbound_flows"
    assert (
        rules.evaluate(feature, ACTIVE, {other: "restricted", flag: "unrestricted"})["status"]
        == "active"
    )


@pytest.mark.parametrize(
    "feature",
    ["card_issuing", "deposit_insurance", "financial_addresses.aba", "intra_stripe_flows"],
)
def test_platform_restrictions_leave_other_features_alone(feature):
    restrictions = {"inbound_flows": "restricted", "outbound_flows": "restricted"}
    assert rules.evaluate(feature, ACTIVE, restrictions)["status"] == "active"


def test_every_reason_is_listed_and_the_worst_sets_the_status():
    setting = rules.evaluate(
        "outbound_payments.ach", {"treasury": "pending"}, {"outbound_flows": "restricted"}
    )
    assert setting["status"] == "restricted"
    assert [d["code"] for d in setting["status_details"]] == [
        "requirements_pending_verification",
        "restricted_by_platform",
    ]


def test_closed_account_restricts_everything():
    setting = rules.evaluate("card_issuing", ACTIVE, None, closed=True)
    assert setting == {
        "requested": True,
        "status": "restricted",
        "status_details": [detail("financial_account_closed")],
    }


def test_requests_are_flattened_and_applied_in_canonical_order():
    params = {
        "outbound_payments": {"us_domestic_wire": {"requested": True}},
        "financial_addresses": {"aba": {"requested": True}},
        "card_issuing": {"requested": False},
    }
    requests = rules.requests_from_params(params)
    assert requests == {
        "card_issuing": False,
        "financial_addresses.aba": True,
        "outbound_payments.us_domestic_wire": True,
    }
    after = rules.requested_after(["card_issuing", "intra_stripe_flows"], requests)
    assert after == [
        "financial_addresses.aba",
        "intra_stripe_flows",
        "outbound_payments.us_domestic_wire",
    ]
    assert rules.requests_from_params(None) == {}


def test_status_lists_mirror_the_statuses():
    flat = rules.evaluate_all(
        ["outbound_transfers.ach", "card_issuing", "financial_addresses.aba"],
        {"card_issuing": "inactive", "treasury": "active"},
        {"outbound_flows": "restricted"},
    )
    assert list(flat) == ["card_issuing", "financial_addresses.aba", "outbound_transfers.ach"]
    assert rules.status_lists(flat) == {
        "active_features": ["financial_addresses.aba"],
        "pending_features": [],
        "restricted_features": ["card_issuing", "outbound_transfers.ach"],
    }


def test_features_object_has_every_group_and_round_trips():
    flat = rules.evaluate_all(["outbound_payments.ach", "card_issuing"], ACTIVE, None)
    obj = rules.to_object(flat)
    assert obj["object"] == "treasury.financial_account_features"
    assert obj["card_issuing"] == {"requested": True, "status": "active", "status_details": []}
    assert obj["outbound_payments"] == {
        "ach": {"requested": True, "status": "active", "status_details": []},
        "us_domestic_wire": None,
    }
    for group in (
        "deposit_insurance",
        "financial_addresses",
        "inbound_transfers",
        "intra_stripe_flows",
        "outbound_transfers",
    ):
        assert obj[group] is None
    assert rules.from_object(obj) == flat
    assert rules.to_object({}) == {"object": rules.OBJECT, **{g: None for g in rules.GROUPS}}


# --- the financial account record ---------------------------------------------------------


def new_fa(params=None, capabilities=ACTIVE):
    params = {"supported_currencies": ["usd"], **(params or {})}
    record = fa_rules.new("fa_1", 100, params, is_default=True)
    return fa_rules.with_features(
        record, capabilities, rules.requests_from_params(params.get("features"))
    )


def test_supported_currencies_only_usd():
    assert fa_rules.supported_currencies(["USD", "usd"]) == ["usd"]
    with pytest.raises(ParameterInvalid) as raised:
        fa_rules.supported_currencies(["usd", "eur"])
    assert raised.value.param == "supported_currencies"
    assert "eur" in raised.value.message
    with pytest.raises(ParameterInvalid):
        fa_rules.supported_currencies([])


def test_new_record_mirrors_features_and_addresses():
    record = new_fa(
        {
            "features": {
                "card_issuing": {"requested": True},
                "financial_addresses": {"aba": {"requested": True}},
            }
        }
    )
    assert record["active_features"] == ["card_issuing", "financial_addresses.aba"]
    assert record["status"] == "open" and record["status_details"] == {"closed": None}
    assert record["platform_restrictions"] == {"inbound_flows": None, "outbound_flows": None}
    assert fa_rules.needs_aba_number(record)
    assert record["financial_addresses"] == []  # no number issued yet
    record = fa_rules.with_aba_number(record, "sealed", "6789", "Jenny Rosen")
    assert not fa_rules.needs_aba_number(record)
    aba = record["financial_addresses"][0]["aba"]
    assert aba == {
        "account_holder_name": "Jenny Rosen",
        "account_number": None,
        "account_number_last4": "6789",
        "bank_name": "Stripe Test Bank",
        "routing_number": "101000091",
    }
    removed = fa_rules.with_features(record, ACTIVE, {"financial_addresses.aba": False})
    assert removed["financial_addresses"] == [] and removed["active_features"] == ["card_issuing"]
    assert removed["features"]["financial_addresses"] is None


def test_card_issuing_usable():
    record = new_fa({"features": {"card_issuing": {"requested": True}}})
    assert fa_rules.card_issuing_usable(record)
    assert not fa_rules.card_issuing_usable(
        new_fa({"features": {"card_issuing": {"requested": True}}}, {"card_issuing": "inactive"})
    )
    closed = fa_rules.close(record, ACTIVE, "closed_by_platform")
    assert not fa_rules.card_issuing_usable(closed)
    assert closed["restricted_features"] == ["card_issuing"]
    assert closed["status_details"] == {"closed": {"reasons": ["closed_by_platform"]}}


def test_update_and_close_rules():
    record = new_fa()
    updated = fa_rules.update(
        record,
        {
            "nickname": "Ops",
            "metadata": {"a": "1"},
            "platform_restrictions": {"outbound_flows": "restricted"},
        },
    )
    assert updated["nickname"] == "Ops" and updated["metadata"] == {"a": "1"}
    assert updated["platform_restrictions"] == {
        "inbound_flows": None,
        "outbound_flows": "restricted",
    }
    assert fa_rules.update(updated, {"nickname": ""})["nickname"] is None
    zero = {"cash": {"usd": 0}, "inbound_pending": {"usd": 0}, "outbound_pending": {"usd": 0}}
    fa_rules.check_can_close(record, zero, [])
    with pytest.raises(InvalidRequest, match="zero balance"):
        fa_rules.check_can_close(record, {**zero, "cash": {"usd": 5}}, [])
    with pytest.raises(InvalidRequest, match="ic_1"):
        fa_rules.check_can_close(record, zero, ["ic_1"])
    closed = fa_rules.close(record, ACTIVE, "closed_by_platform")
    with pytest.raises(InvalidRequest, match="closed"):
        fa_rules.update(closed, {"nickname": "x"})
    with pytest.raises(InvalidRequest, match="closed"):
        fa_rules.check_can_close(closed, zero, [])


def test_holder_name_and_rejection():
    assert fa_rules.account_holder_name({"business_profile": {"name": "Acme"}}) == "Acme"
    assert (
        fa_rules.account_holder_name({"individual": {"first_name": "Jenny", "last_name": "Rosen"}})
        == "Jenny Rosen"
    )
    assert fa_rules.account_holder_name({"id": "acct_1"}) == "acct_1"
    assert fa_rules.account_rejected({"requirements": {"disabled_reason": "rejected.fraud"}})
    assert not fa_rules.account_rejected({"requirements": {"disabled_reason": None}})
