"""An injectable clock: services ask it for the time, tests freeze and advance it."""

from __future__ import annotations

import threading
import time


class Clock:
    def now(self) -> int:
        """Unix seconds, as Stripe's ``created`` fields are."""
        return int(time.time())


class FrozenClock(Clock):
    """A clock that moves only when told to; thread-safe because the server is threaded."""

    def __init__(self, start: int | None = None) -> None:
        self._now = int(time.time()) if start is None else start
        self._lock = threading.Lock()

    def now(self) -> int:
        with self._lock:
            return self._now

    def advance(self, seconds: int) -> None:
        with self._lock:
            self._now += seconds

    def set(self, when: int) -> None:
        with self._lock:
            self._now = when


class OffsetClock(Clock):
    """Real time plus an offset that tests move forward (expiry, deadlines) without sleeping."""

    def __init__(self) -> None:
        self._offset = 0
        self._lock = threading.Lock()

    def now(self) -> int:
        with self._lock:
            return int(time.time()) + self._offset

    def advance(self, seconds: int) -> None:
        with self._lock:
            self._offset += seconds


class SandboxClock(Clock):
    """A sandbox's own time: the server's clock moved by an offset, or frozen at one instant.

    Built per request from the sandbox's stored clock state, so every service
    in that request reads one consistent notion of "now" for the sandbox.
    """

    __slots__ = ("base", "offset_seconds", "frozen_at")

    def __init__(self, base: Clock, offset_seconds: int = 0, frozen_at: int | None = None) -> None:
        self.base = base
        self.offset_seconds = offset_seconds
        self.frozen_at = frozen_at

    def now(self) -> int:
        if self.frozen_at is not None:
            return self.frozen_at
        return self.base.now() + self.offset_seconds
