"""The README's settings table names every ``OPENISSUING_*`` setting, and only real ones."""

from __future__ import annotations

import re
from pathlib import Path

from openissuing.settings import Settings

README = Path(__file__).resolve().parents[2] / "README.md"
TEST_COMMAND_VARIABLES = {
    "OPENISSUING_TEST_POSTGRES_URL",
    "OPENISSUING_SKIP_POSTGRES",
    "OPENISSUING_TEST_VENV",
    "OPENISSUING_TEST_DATABASE_URL",
    "OPENISSUING_PROPERTY_EXAMPLES",
    "OPENISSUING_FUZZ_EXAMPLES",
    "OPENISSUING_FUZZ_RANDOM",
    "OPENISSUING_CRASH_ROUNDS",
    "OPENISSUING_TEST_SHAPES_LOG",
}


def test_every_setting_has_a_row_and_every_named_variable_exists():
    text = README.read_text()
    rows = set(re.findall(r"^\| `(OPENISSUING_[A-Z_]+)` \|", text, flags=re.MULTILINE))
    settings = {f"OPENISSUING_{name.upper()}" for name in Settings.model_fields}
    assert rows == settings
    named = set(re.findall(r"OPENISSUING_[A-Z_]+", text))
    assert named <= settings | TEST_COMMAND_VARIABLES, named - settings - TEST_COMMAND_VARIABLES
