"""Ids: base-62 digits in ASCII order, so ids sort by creation."""

from __future__ import annotations

from hypothesis import given
from hypothesis import strategies as st

from openissuing import ids


def _reference(value: int, width: int) -> str:
    digits = []
    for _ in range(width):
        value, digit = divmod(value, 62)
        digits.append(ids.ALPHABET[digit])
    return "".join(reversed(digits))


@given(st.integers(min_value=0, max_value=2**100), st.integers(min_value=0, max_value=16))
def test_base62_is_the_plain_digit_by_digit_conversion(value, width):
    assert ids._base62(value, width) == _reference(value, width)


def test_new_ids_sort_by_creation_and_differ():
    made = [ids.new_id("ic") for _ in range(2_000)]
    assert made == sorted(made) and len(set(made)) == len(made)
    assert all(len(i) == len("ic_") + 24 for i in made)
