"""Card credentials: Luhn-valid numbers in our test range, CVCs, expiry dates.

Randomness is injected (``randbelow``) so tests can make numbers predictable;
production uses ``secrets.randbelow``. A generated ``CardSecret`` never shows
its digits in a repr, so it cannot leak into logs or tracebacks by accident.
"""

from __future__ import annotations

import secrets
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime

# A Visa test range ("4" = Visa). Eight-digit BIN, seven random digits and a
# Luhn check digit make a 16-digit number with ten million possibilities per
# range, so accidental duplicates stay rare without a uniqueness lookup
# (numbers are stored encrypted, so they cannot be compared in SQL).
TEST_BIN = "40000099"
NUMBER_LENGTH = 16
CVC_LENGTH = 3
VALID_YEARS = 3

RandBelow = Callable[[int], int]


@dataclass(frozen=True)
class CardSecret:
    number: str = field(repr=False)
    cvc: str = field(repr=False)

    @property
    def last4(self) -> str:
        return self.number[-4:]

    def __repr__(self) -> str:
        return "CardSecret(<hidden>)"


def luhn_check_digit(payload: str) -> str:
    """The digit that makes ``payload + digit`` pass the Luhn check."""
    total = 0
    # Walking right to left, the digit next to the (future) check digit is doubled.
    for index, char in enumerate(reversed(payload)):
        digit = int(char)
        if index % 2 == 0:
            digit *= 2
            if digit > 9:
                digit -= 9
        total += digit
    return str((10 - total % 10) % 10)


def luhn_valid(number: str) -> bool:
    if not number.isdigit() or len(number) < 2:
        return False
    return luhn_check_digit(number[:-1]) == number[-1]


def _digits(count: int, randbelow: RandBelow) -> str:
    return "".join(str(randbelow(10)) for _ in range(count))


def generate(randbelow: RandBelow = secrets.randbelow) -> CardSecret:
    payload = TEST_BIN + _digits(NUMBER_LENGTH - len(TEST_BIN) - 1, randbelow)
    return CardSecret(payload + luhn_check_digit(payload), _digits(CVC_LENGTH, randbelow))


def reissue(number: str, randbelow: RandBelow = secrets.randbelow) -> CardSecret:
    """The same number with a new CVC: a replacement for an expired or damaged card."""
    return CardSecret(number, _digits(CVC_LENGTH, randbelow))


def default_expiry(now: int, years: int = VALID_YEARS) -> tuple[int, int]:
    """(exp_month, exp_year): the current UTC month, ``years`` years on."""
    today = datetime.fromtimestamp(now, tz=UTC)
    return today.month, today.year + years


def current_month(now: int) -> tuple[int, int]:
    today = datetime.fromtimestamp(now, tz=UTC)
    return today.month, today.year
