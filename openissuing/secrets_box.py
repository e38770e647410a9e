"""Encryption at rest for card numbers and CVCs (Fernet: AES-128-CBC + HMAC-SHA256).

The key comes from settings; for a zero-setup start it is generated once into a
key file (mode 0600) beside the working folder. Plaintext never reaches logs:
``SecretBox`` has no ``__repr__`` that shows the key.
"""

from __future__ import annotations

import os
from pathlib import Path

from cryptography.fernet import Fernet


class SecretBox:
    def __init__(self, key: str | bytes) -> None:
        self._fernet = Fernet(key)

    def __repr__(self) -> str:
        return "SecretBox(<key hidden>)"

    def seal(self, plaintext: str) -> bytes:
        return self._fernet.encrypt(plaintext.encode())

    def open(self, token: bytes) -> str:
        return self._fernet.decrypt(token).decode()


def load_or_create_key(key: str | None, key_file: str) -> str:
    if key:
        return key
    path = Path(key_file)
    if path.exists():
        return path.read_text().strip()
    new_key = Fernet.generate_key().decode()
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    with os.fdopen(fd, "w") as handle:
        handle.write(new_key + "\n")
    return new_key
