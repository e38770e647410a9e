"""Encryption at rest for card numbers, CVCs, account numbers and webhook signing secrets
(Fernet: AES-128-CBC + HMAC-SHA256).

A box holds one or more keys, newest first (``MultiFernet``): it seals with the newest
and opens with any, which is how a key is rotated (``openissuing rotate-key``). Which
keys a database's secrets were sealed with is recorded in the database as
fingerprints (``openissuing.keyring``), never the keys. Plaintext and keys never reach
logs: ``SecretBox`` has no ``__repr__`` that shows a key.

Keys come from settings (``OPENISSUING_ENCRYPTION_KEY``, comma-separated, newest first);
for a zero-setup start one is generated once into a key file (mode 0600).
"""

from __future__ import annotations

import hashlib
import hmac
import os
from collections.abc import Sequence
from pathlib import Path

from cryptography.fernet import Fernet, InvalidToken, MultiFernet

__all__ = ["SecretBox", "InvalidToken", "fingerprint", "parse_keys", "read_key_file"]


def fingerprint(key: str | bytes) -> str:
    """A short public name for a key: an HMAC of a fixed label under the key, so it says
    which key sealed a database without revealing anything about the key."""
    raw = key.encode() if isinstance(key, str) else key
    return hmac.new(raw, b"openissuing encryption key fingerprint", hashlib.sha256).hexdigest()[:16]


def parse_keys(text: str) -> list[str]:
    """``"new,old"`` (or one per line) -> ``["new", "old"]``; each must be a Fernet key."""
    keys = [part.strip() for part in text.replace("\n", ",").split(",") if part.strip()]
    for key in keys:
        Fernet(key)  # ValueError for anything that is not a urlsafe-base64 32-byte key
    return keys


def read_key_file(path: str) -> list[str] | None:
    file = Path(path)
    return parse_keys(file.read_text()) if file.exists() else None


def create_key_file(path: str) -> list[str]:
    new_key = Fernet.generate_key().decode()
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    with os.fdopen(fd, "w") as handle:
        handle.write(new_key + "\n")
    return [new_key]


class SecretBox:
    def __init__(self, keys: str | bytes | Sequence[str | bytes]) -> None:
        if isinstance(keys, (str, bytes)):
            keys = [keys]
        if not keys:
            raise ValueError("a SecretBox needs at least one key")
        self._primary = Fernet(keys[0])
        self._fernet = MultiFernet([Fernet(key) for key in keys])
        self.fingerprints: tuple[str, ...] = tuple(fingerprint(key) for key in keys)

    def __repr__(self) -> str:
        return f"SecretBox(<{len(self.fingerprints)} key(s) hidden>)"

    @property
    def primary_fingerprint(self) -> str:
        return self.fingerprints[0]

    def seal(self, plaintext: str) -> bytes:
        return self._fernet.encrypt(plaintext.encode())

    def open(self, token: bytes) -> str:
        return self._fernet.decrypt(token).decode()

    def is_current(self, token: bytes) -> bool:
        """Whether the newest key sealed ``token`` (so rotation can skip it)."""
        try:
            self._primary.decrypt(token)
        except InvalidToken:
            return False
        return True

    def reseal(self, token: bytes) -> bytes:
        """The same secret sealed with the newest key (InvalidToken if no key opens it)."""
        return self._fernet.rotate(token)
