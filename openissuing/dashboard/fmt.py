"""Presentation helpers: money in minor units, masked card numbers, timestamps."""

from __future__ import annotations

import datetime as dt
from typing import Any

# ISO 4217 currencies without minor units (Stripe's zero-decimal list).
ZERO_DECIMAL = {
    "bif", "clp", "djf", "gnf", "jpy", "kmf", "krw", "mga", "pyg", "rwf", "ugx", "vnd", "vuv",
    "xaf", "xof", "xpf",
}  # fmt: skip
SYMBOLS = {"usd": "$", "eur": "€", "gbp": "£", "jpy": "¥", "cad": "CA$", "aud": "A$"}


def money(amount: Any, currency: Any = "usd") -> str:
    """``-1234, "usd"`` -> ``-$12.34``; integer arithmetic only (no float in money)."""
    if amount is None:
        return "—"
    amount = int(amount)
    code = str(currency or "usd").lower()
    sign = "-" if amount < 0 else ""
    value = abs(amount)
    if code in ZERO_DECIMAL:
        text = f"{value:,}"
    else:
        text = f"{value // 100:,}.{value % 100:02d}"
    symbol = SYMBOLS.get(code)
    return f"{sign}{symbol}{text}" if symbol else f"{sign}{text} {code.upper()}"


def masked(last4: Any) -> str:
    return f"•••• {last4}" if last4 else "••••"


def grouped(number: Any) -> str:
    text = str(number or "")
    return " ".join(text[i : i + 4] for i in range(0, len(text), 4))


def when(timestamp: Any) -> str:
    if timestamp is None or timestamp == "":
        return "—"
    moment = dt.datetime.fromtimestamp(int(timestamp), tz=dt.UTC)
    return moment.strftime("%Y-%m-%d %H:%M:%S UTC")


def day(timestamp: Any) -> str:
    return dt.datetime.fromtimestamp(int(timestamp), tz=dt.UTC).strftime("%b %d %H:%M")


def start_of_day(timestamp: int) -> int:
    return timestamp - timestamp % 86400


def label(value: Any) -> str:
    return str(value or "").replace("_", " ")


def span(seconds: int) -> str:
    if seconds % 86400 == 0 and seconds:
        return f"{seconds // 86400}d"
    if seconds % 3600 == 0 and seconds:
        return f"{seconds // 3600}h"
    return f"{seconds}s"
