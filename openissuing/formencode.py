"""Stripe's form encoding, for openissuing's own clients (the commands, the dashboard).

The inverse of ``api.forms``' decoding: nested dicts and lists become bracketed keys.
"""

from __future__ import annotations

from typing import Any


def encode(params: dict[str, Any], prefix: str = "") -> list[tuple[str, str]]:
    """Stripe's form encoding: ``a[b][0][c]=v``; booleans as true/false; None left out."""
    pairs: list[tuple[str, str]] = []
    for key, value in params.items():
        name = f"{prefix}[{key}]" if prefix else str(key)
        if value is None:
            continue
        if isinstance(value, dict):
            pairs += encode(value, name)
        elif isinstance(value, list | tuple):
            for index, item in enumerate(value):
                item_name = f"{name}[{index}]"
                if isinstance(item, dict):
                    pairs += encode(item, item_name)
                else:
                    pairs.append((item_name, _scalar(item)))
        else:
            pairs.append((name, _scalar(value)))
    return pairs


def _scalar(value: Any) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    return str(value)
