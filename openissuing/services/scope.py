"""Who is acting, and with what: passed to every service function."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from openissuing.clock import Clock
from openissuing.secrets_box import SecretBox


@dataclass(frozen=True)
class Scope:
    # The account whose objects this request sees and creates (platform or connected).
    account: str
    platform: str
    clock: Clock
    box: SecretBox
    request_id: str | None = None
    idempotency_key: str | None = None
    # The sandbox's faults in force beyond the request itself (late, shuffled or duplicated
    # webhooks; the network standing in; a slow real-time handler); usually none.
    faults: tuple[Any, ...] = ()

    @property
    def is_platform(self) -> bool:
        return self.account == self.platform

    def now(self) -> int:
        return self.clock.now()
