"""Stripe-style object ids that sort by creation time.

``ich_1PgafTB7WZ01zgkW...``: a prefix, then 10 base-62 characters of a
microsecond counter that never goes backwards in this process, then random
characters. Because the alphabet is in ASCII order, sorting ids (with a binary
collation) sorts objects by creation, which is what cursor pagination needs.

Stripe object types name their prefix in ``openissuing.wire.registry`` (``id_for``);
``new_id`` here takes the prefix of internal rows (requests, deliveries, ledger accounts).
"""

from __future__ import annotations

import secrets
import threading
import time

ALPHABET = "0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz"
_TIME_WIDTH = 10
_RANDOM_WIDTH = 14

_lock = threading.Lock()
_last = 0


def monotonic_micros() -> int:
    global _last
    with _lock:
        now = time.time_ns() // 1000
        _last = now if now > _last else _last + 1
        return _last


# Two digits per step (ten ids an authorization, each 24 digits): the same string, half the work.
_PAIRS = [high + low for high in ALPHABET for low in ALPHABET]


def _base62(value: int, width: int) -> str:
    """``value`` in base 62, the last ``width`` digits, most significant first."""
    chars = []
    for _ in range(width // 2):
        value, pair = divmod(value, 3844)
        chars.append(_PAIRS[pair])
    if width % 2:
        chars.append(ALPHABET[value % 62])
    return "".join(reversed(chars))


def _random_part(width: int) -> str:
    # One call for all the randomness; 62**14 > 2**83 so 11 bytes suffice for 14 characters.
    value = int.from_bytes(secrets.token_bytes(12), "big")
    return _base62(value, width)


def new_id(prefix: str) -> str:
    random_part = _random_part(_RANDOM_WIDTH)
    return f"{prefix}_{_base62(monotonic_micros(), _TIME_WIDTH)}{random_part}"


def new_secret(prefix: str, length: int = 32) -> str:
    return prefix + "".join(secrets.choice(ALPHABET) for _ in range(length))
