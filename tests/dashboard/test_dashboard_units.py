"""The dashboard's pure helpers, and that the API path never loads the dashboard."""

from __future__ import annotations

import subprocess
import sys
import textwrap

import pytest

from openissuing.dashboard import chart, fmt
from openissuing.dashboard.actions import minor_units


def test_money_is_formatted_from_minor_units_without_floats():
    assert fmt.money(123456, "usd") == "$1,234.56"
    assert fmt.money(-5, "usd") == "-$0.05"
    assert fmt.money(0, "eur") == "€0.00"
    assert fmt.money(1500, "jpy") == "¥1,500"
    assert fmt.money(1999, "chf") == "19.99 CHF"
    assert fmt.money(None, "usd") == "—"


def test_masked_and_grouped_numbers():
    assert fmt.masked("4242") == "•••• 4242"
    assert fmt.grouped("4000009990000123") == "4000 0099 9000 0123"


@pytest.mark.parametrize(
    ("text", "currency", "expected"),
    [("12.34", "usd", 1234), ("12", "usd", 1200), ("0.5", "usd", 50), ("1,000.00", "usd", 100000),
     ("1500", "jpy", 1500), (".99", "usd", 99)],
)  # fmt: skip
def test_amounts_typed_in_become_exact_minor_units(text, currency, expected):
    assert minor_units(text, currency) == expected


@pytest.mark.parametrize("text", ["1.234", "-5", "abc", "0", "1e3", "12.3.4"])
def test_bad_amounts_are_refused(text):
    with pytest.raises(ValueError):
        minor_units(text, "usd")


def test_a_blank_optional_amount_means_all():
    assert minor_units("", "usd", required=False) is None
    with pytest.raises(ValueError):
        minor_units("", "usd")


def _entry(entry_id: str, at: int, cash: int, currency: str = "usd") -> dict:
    return {
        "id": entry_id,
        "created": at,
        "effective_at": at,
        "currency": currency,
        "balance_impact": {"cash": cash, "inbound_pending": 0, "outbound_pending": -cash},
    }


def test_the_cash_chart_walks_back_from_todays_cash():
    entries = [_entry("e3", 300, -2_500), _entry("e1", 100, 10_000), _entry("e2", 200, 500)]
    entries.append(_entry("x", 150, 99_999, currency="eur"))  # another currency: not drawn
    points = chart.cash_points(entries, cash_now=8_000, currency="usd")
    # 8,000 now; before e3 10,500; before e2 10,000; before e1 0.
    assert [(p.at, p.cash) for p in points] == [
        (100, 0),
        (100, 10_000),
        (200, 10_500),
        (300, 8_000),
    ]


def test_the_cash_chart_starts_from_older_history_it_does_not_see():
    """Only the newest page of entries: the first point is the balance before them, not 0."""
    points = chart.cash_points([_entry("e9", 900, -1_000)], cash_now=4_000, currency="usd")
    assert [(p.at, p.cash) for p in points] == [(900, 5_000), (900, 4_000)]


def test_the_chart_is_an_svg_with_a_point_per_entry_and_money_labels():
    points = chart.cash_points([_entry("e1", 100, 10_000), _entry("e2", 200, -2_500)], 7_500, "usd")
    drawn = chart.svg(points, "usd", now=400)
    assert drawn.startswith("<svg") and drawn.endswith("</svg>")
    assert drawn.count("<circle") == 2
    assert "$100.00" in drawn and "$0.00" in drawn
    assert "No Treasury transactions" in chart.svg([], "usd", now=400)


def test_the_api_path_does_not_load_the_dashboard(tmp_path):
    """Building the app and serving an API request import neither the pages nor Jinja2."""
    script = textwrap.dedent(
        f"""
        import sys, httpx, asyncio
        from openissuing.app import build_runtime, create_app
        from openissuing.settings import Settings
        runtime = build_runtime(Settings(database_url="sqlite:///{tmp_path}/db.sqlite3",
            api_key="sk_test_" + "u" * 30, encryption_key_file="{tmp_path}/key"))
        app = create_app(runtime)
        async def call():
            transport = httpx.ASGITransport(app=app)
            async with httpx.AsyncClient(transport=transport, base_url="http://x") as http:
                answer = await http.get("/v1/accounts",
                    headers={{"Authorization": "Bearer sk_test_" + "u" * 30}})
                assert answer.status_code == 200, answer.text
        asyncio.run(call())
        loaded = [m for m in ("jinja2", "openissuing.dashboard.web",
                              "openissuing.dashboard.pages") if m in sys.modules]
        print("LOADED", loaded)
        """
    )
    done = subprocess.run(
        [sys.executable, "-c", script], capture_output=True, text=True, timeout=120
    )
    assert done.returncode == 0, done.stderr
    assert "LOADED []" in done.stdout, done.stdout
