"""`serve --workers N`: refused where the processes could not share a database, in one line."""

from __future__ import annotations

import pytest

from openissuing import cli


@pytest.mark.parametrize("url", ["sqlite://", "sqlite:///:memory:", "sqlite:///file:x?mode=memory"])
def test_more_than_one_worker_on_an_in_memory_database_is_one_clear_line(url, capsys):
    assert cli.main(["serve", "--workers", "2", "--database-url", url]) == 2
    captured = capsys.readouterr()
    assert captured.out == ""
    lines = captured.err.strip().splitlines()
    assert len(lines) == 1
    assert "--workers 2" in lines[0] and "in memory" in lines[0]


def test_zero_workers_is_refused(capsys):
    assert cli.main(["serve", "--workers", "0", "--database-url", "sqlite://"]) == 2
    assert "at least 1" in capsys.readouterr().err


def test_the_workers_option_reaches_the_settings():
    args = cli.build_parser().parse_args(["serve", "--workers", "3"])
    assert cli._settings(args).workers == 3
    args = cli.build_parser().parse_args(["serve"])
    assert cli._settings(args).workers == 1
