"""Sandboxes and their clocks: the pure rules (no I/O).

A sandbox is an isolated platform: its own platform account, secret key,
objects, events, webhook endpoints and clock. Its clock is the server's clock
plus an offset, or frozen at one instant; moving it is a pure computation on
that state, done here so the control API and the CLI agree on every span.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from openissuing.domain.errors import InvalidRequest

# Stripe-CLI-like spans: "90s", "15m", "3h", "8d", "2w", combinable ("1d12h").
_UNITS = {"s": 1, "m": 60, "h": 3600, "d": 86400, "w": 7 * 86400}
_SPAN = re.compile(r"(\d+)([smhdw])")
# A century either way is far beyond any Stripe deadline and keeps ints exact.
MAX_SPAN_SECONDS = 100 * 365 * 86400
NAME_MAX_LENGTH = 100


@dataclass(frozen=True)
class ClockState:
    offset_seconds: int = 0
    frozen_at: int | None = None

    def now(self, real_now: int) -> int:
        return self.frozen_at if self.frozen_at is not None else real_now + self.offset_seconds

    def advanced(self, seconds: int, real_now: int) -> ClockState:
        """Forward only: time-driven effects (expiry, deadlines) are never undone."""
        if seconds <= 0:
            raise InvalidRequest(
                "The clock can only be advanced by a positive span.", param="advance"
            )
        if self.frozen_at is not None:
            return ClockState(self.offset_seconds, self.frozen_at + seconds)
        return ClockState(self.offset_seconds + seconds, None)

    def set_to(self, when: int, real_now: int) -> ClockState:
        current = self.now(real_now)
        if when < current:
            raise InvalidRequest(
                f"The clock cannot move backwards (it reads {current}; asked for {when}).",
                param="set",
            )
        if self.frozen_at is not None:
            return ClockState(self.offset_seconds, when)
        return ClockState(when - real_now, None)

    def frozen(self, real_now: int) -> ClockState:
        return self if self.frozen_at is not None else ClockState(0, self.now(real_now))

    def unfrozen(self, real_now: int) -> ClockState:
        if self.frozen_at is None:
            return self
        return ClockState(self.frozen_at - real_now, None)


def parse_span(text: str, *, param: str = "advance") -> int:
    """``"8d"`` → 691200; a bare integer is seconds. Positive, bounded, or a named 400."""
    value = text.strip().lower()
    if value.isdigit():
        seconds = int(value)
    else:
        parts = _SPAN.findall(value)
        if not parts or "".join(n + u for n, u in parts) != value:
            raise InvalidRequest(
                f"Invalid span: {text!r}. Use seconds or a span like 90s, 15m, 3h, 8d, 2w, 1d12h.",
                param=param,
            )
        seconds = sum(int(number) * _UNITS[unit] for number, unit in parts)
    if not 0 < seconds <= MAX_SPAN_SECONDS:
        raise InvalidRequest(
            f"The span must be between 1 second and {MAX_SPAN_SECONDS} seconds.", param=param
        )
    return seconds


def check_name(name: str | None) -> str | None:
    if name is None:
        return None
    if len(name) > NAME_MAX_LENGTH or "\x00" in name:
        raise InvalidRequest(
            f"A sandbox name has at most {NAME_MAX_LENGTH} characters.", param="name"
        )
    return name


@dataclass(frozen=True)
class Sandbox:
    id: str
    name: str | None
    platform_account_id: str
    api_key: str
    is_default: bool
    clock: ClockState
    created: int
    # Whether any fault is set (requests of a sandbox without faults never look for one).
    has_faults: bool = False
