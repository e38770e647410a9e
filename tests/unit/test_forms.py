"""Form decoding: raw pairs -> nested params, as Stripe clients send them."""

from __future__ import annotations

from urllib.parse import urlencode

import pytest
from hypothesis import given
from hypothesis import strategies as st

from openissuing.api.forms import FormList, decode, flatten, parse_pairs
from openissuing.domain.errors import InvalidRequest


def parse(raw: str | bytes) -> dict:
    return decode(parse_pairs(raw))


# -- parse_pairs ---------------------------------------------------------


def test_parse_pairs_percent_decodes_and_keeps_order():
    assert parse_pairs("a=1&b%5Bc%5D=x%20y&a=2") == [("a", "1"), ("b[c]", "x y"), ("a", "2")]


def test_parse_pairs_plus_is_space_and_encoded_plus_is_plus():
    assert parse_pairs("q=a+b&r=1%2B1") == [("q", "a b"), ("r", "1+1")]


def test_parse_pairs_keeps_blank_values_and_skips_empty_segments():
    assert parse_pairs("a=&&b&c=1") == [("a", ""), ("b", ""), ("c", "1")]


def test_parse_pairs_accepts_bytes_and_utf8():
    assert parse_pairs("name=J%C3%BCrgen&city=Köln".encode()) == [
        ("name", "Jürgen"),
        ("city", "Köln"),
    ]


def test_parse_pairs_rejects_invalid_utf8():
    with pytest.raises(InvalidRequest):
        parse_pairs(b"name=\xff")
    with pytest.raises(InvalidRequest):
        parse_pairs("name=%FF")


def test_value_may_contain_equals_sign():
    assert parse_pairs("a=b=c") == [("a", "b=c")]


# -- decode: nesting -----------------------------------------------------


def test_plain_keys_stay_strings():
    assert parse("currency=usd&amount=100") == {"currency": "usd", "amount": "100"}


def test_nested_hashes():
    assert parse("billing[address][city]=X&billing[address][line1]=1 Main") == {
        "billing": {"address": {"city": "X", "line1": "1 Main"}}
    }


def test_percent_encoded_brackets_nest_like_raw_ones():
    assert parse("expand%5B0%5D=data.cardholder&a%5Bb%5D=1") == {
        "expand": ["data.cardholder"],
        "a": {"b": "1"},
    }


def test_indexed_array_orders_by_index():
    assert parse("a[1]=y&a[0]=x&a[2]=z") == {"a": ["x", "y", "z"]}


def test_unindexed_array_appends_in_order():
    assert parse("expand[]=a&expand[]=b") == {"expand": ["a", "b"]}


def test_sparse_indexes_are_compacted_but_remember_what_was_sent():
    decoded = parse("a[0]=x&a[5]=z&a[2]=y")
    assert decoded == {"a": ["x", "y", "z"]}
    assert isinstance(decoded["a"], FormList)
    assert decoded["a"].indexes == ("0", "2", "5")


def test_indexed_array_of_objects():
    raw = (
        "spending_controls[spending_limits][0][amount]=5000"
        "&spending_controls[spending_limits][0][interval]=daily"
        "&spending_controls[spending_limits][1][amount]=100"
        "&spending_controls[spending_limits][1][interval]=per_authorization"
        "&spending_controls[spending_limits][1][categories][0]=bakeries"
    )
    assert parse(raw) == {
        "spending_controls": {
            "spending_limits": [
                {"amount": "5000", "interval": "daily"},
                {"amount": "100", "interval": "per_authorization", "categories": ["bakeries"]},
            ]
        }
    }


def test_unindexed_array_of_objects_groups_until_a_key_repeats():
    raw = "l[][amount]=5&l[][interval]=daily&l[][amount]=6&l[][interval]=weekly"
    assert parse(raw) == {
        "l": [{"amount": "5", "interval": "daily"}, {"amount": "6", "interval": "weekly"}]
    }


def test_empty_value_stays_empty_string_at_any_depth():
    assert parse("metadata=&description=") == {"metadata": "", "description": ""}
    assert parse("metadata[k]=&metadata[j]=v") == {"metadata": {"k": "", "j": "v"}}


def test_repeated_plain_key_last_wins():
    assert parse("a=1&a=2") == {"a": "2"}
    assert parse("a[b]=1&a[b]=2") == {"a": {"b": "2"}}
    assert parse("a[0]=1&a[0]=2") == {"a": ["2"]}


def test_malformed_key_is_kept_verbatim_for_the_validator_to_reject():
    assert parse("a[b=1&c]d=2") == {"a[b": "1", "c]d": "2"}


# -- decode: conflicting shapes ------------------------------------------


@pytest.mark.parametrize(
    ("raw", "param"),
    [
        ("a=1&a[b]=2", "a"),
        ("a[b]=2&a=1", "a"),
        ("a[0]=x&a[x]=y", "a"),
        ("a[x]=y&a[0]=x", "a"),
        ("a[]=x&a[k]=y", "a"),
        ("a[b]=1&a[b][c]=2", "a[b]"),
        ("a[0][b]=1&a[0]=2", "a[0]"),
    ],
)
def test_conflicting_shapes_are_rejected_naming_the_param(raw, param):
    with pytest.raises(InvalidRequest) as info:
        parse(raw)
    assert info.value.param == param
    assert param in info.value.message


def test_absurd_nesting_is_rejected():
    with pytest.raises(InvalidRequest):
        parse("a" + "[b]" * 100 + "=1")


# -- flatten -------------------------------------------------------------


def test_flatten_matches_the_sdk_wire_format():
    params = {
        "cardholder": "ich_1",
        "spending_controls": {
            "spending_limits": [{"amount": 5000, "interval": "daily"}],
            "blocked_categories": ["bakeries"],
        },
        "metadata": {"k": "v"},
        "active": True,
        "skipped": None,
        "empty_list": [],
    }
    assert flatten(params) == [
        ("cardholder", "ich_1"),
        ("spending_controls[spending_limits][0][amount]", "5000"),
        ("spending_controls[spending_limits][0][interval]", "daily"),
        ("spending_controls[blocked_categories][0]", "bakeries"),
        ("metadata[k]", "v"),
        ("active", "true"),
    ]


def test_flatten_refuses_floats():
    with pytest.raises(TypeError):
        flatten({"amount": 1.5})


# -- round trip property -------------------------------------------------

# Keys that decode cannot mistake for something else: non-empty, no
# brackets/&/=, not digit-only (digit-only keys would be read as indexes).
_keys = st.from_regex(r"[a-z_][a-z0-9_]{0,8}", fullmatch=True)
# Any text but NUL, which parse_pairs refuses on purpose (issue 11: PostgreSQL cannot store it).
_leaves = st.text(
    st.characters(blacklist_categories=("Cs",), blacklist_characters="\x00"), max_size=10
)
_trees = st.recursive(
    _leaves,
    lambda children: st.one_of(
        st.lists(children, min_size=1, max_size=4),
        st.dictionaries(_keys, children, min_size=1, max_size=4),
    ),
    max_leaves=20,
)


@given(st.dictionaries(_keys, _trees, max_size=5))
def test_decode_inverts_flatten(params):
    assert decode(flatten(params)) == params


@pytest.mark.parametrize("body", ["name=a%00", "a%00=x", "metadata[%00]=1", b"x=\x00"])
def test_a_nul_anywhere_is_refused_naming_the_param(body):
    with pytest.raises(InvalidRequest, match="NUL") as refused:
        parse_pairs(body)
    assert refused.value.param in ("name", "a\\u0000", "metadata[\\u0000]", "x")


@given(st.dictionaries(_keys, _trees, max_size=5))
def test_decode_inverts_flatten_through_the_wire(params):
    body = urlencode(flatten(params))
    assert decode(parse_pairs(body)) == params
    assert decode(parse_pairs(body.encode())) == params
