"""``wire.pretty`` writes exactly what ``json.dumps(payload, indent=2)`` writes: a webhook's
signature covers those bytes, so "faster" may not mean "different"."""

from __future__ import annotations

import json

from hypothesis import given, settings
from hypothesis import strategies as st

from openissuing import wire

scalars = (
    st.none()
    | st.booleans()
    | st.integers(min_value=-(2**70), max_value=2**70)
    | st.floats(allow_nan=False, allow_infinity=False)
    | st.text()
    | st.sampled_from(["ic_1e5", "1E+9", "é", "\\u0000", "\x00", "\u2028", "😀", ""])
)
values = st.recursive(
    scalars,
    lambda inner: st.lists(inner, max_size=5) | st.dictionaries(st.text(), inner, max_size=5),
    max_leaves=40,
)


@settings(max_examples=600, deadline=None)
@given(values)
def test_pretty_is_json_dumps_indent_2_byte_for_byte(value):
    assert wire.pretty(value) == json.dumps(value, indent=2)


def test_an_event_like_payload():
    payload = {
        "id": "evt_1",
        "object": "event",
        "data": {"object": {"amount": 1000, "metadata": {}, "request_history": [], "x": None}},
        "quantity": 1.5,
        "tiny": 1e-05,
        "name": "Zoë",
    }
    assert wire.pretty(payload) == json.dumps(payload, indent=2)


def test_an_ascii_payload_without_floats_never_reaches_the_standard_library(monkeypatch):
    payload = {"id": "evt_1", "data": {"object": {"amount": 1000, "list": [1, "a", None, True]}}}
    expected = json.dumps(payload, indent=2)

    def refuse(*args, **kwargs):
        raise AssertionError("took the slow path")

    monkeypatch.setattr(wire.json, "dumps", refuse)
    assert wire.pretty(payload) == expected
