"""Stripe's metadata rules: merge on update, ``""`` deletes a key, ``metadata=""`` clears all."""

from __future__ import annotations

from typing import Any

from openissuing.domain.errors import InvalidRequest

MAX_KEYS = 50
MAX_KEY_LENGTH = 40
MAX_VALUE_LENGTH = 500


def apply(existing: dict[str, str], update: Any) -> dict[str, str]:
    if update is None:
        return dict(existing)
    if update == "":
        return {}
    merged = dict(existing)
    for key, value in update.items():
        if value == "" or value is None:
            merged.pop(key, None)
        else:
            merged[key] = str(value)
    _check(merged)
    return merged


def _check(metadata: dict[str, str]) -> None:
    if len(metadata) > MAX_KEYS:
        raise InvalidRequest(
            f"Invalid metadata: must have at most {MAX_KEYS} keys.", param="metadata"
        )
    for key, value in metadata.items():
        if len(key) > MAX_KEY_LENGTH:
            raise InvalidRequest(
                f"Metadata keys can have up to {MAX_KEY_LENGTH} characters.",
                param=f"metadata[{key}]",
            )
        if len(value) > MAX_VALUE_LENGTH:
            raise InvalidRequest(
                f"Metadata values can have up to {MAX_VALUE_LENGTH} characters.",
                param=f"metadata[{key}]",
            )
