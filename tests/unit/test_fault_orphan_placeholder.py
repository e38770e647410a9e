"""Issue 11, fault 3: an idempotency placeholder whose process died does not wedge its key.

A placeholder with a continuation row is concluded (see test_fault_realtime_crash); one
without any (a two-phase request that declared no way to conclude it, or one written by
an older version) is dropped once past the deadline and margin, so the retry runs afresh.
"""

from __future__ import annotations

from types import SimpleNamespace

import pytest

from openissuing.api import resume
from openissuing.clock import FrozenClock
from openissuing.domain.errors import Conflict
from openissuing.storage import idempotency
from openissuing.storage.db import make_engine
from openissuing.storage.migrate import upgrade
from openissuing.storage.uow import transaction

DEADLINE = 2


@pytest.fixture()
def engine(tmp_path):
    engine = make_engine(f"sqlite:///{tmp_path / 'keys.sqlite3'}")
    upgrade(engine)
    yield engine
    engine.dispose()


def _find(engine, runtime) -> idempotency.Replay | None:
    def work(uow):
        return idempotency.find(
            uow.conn,
            "acct_1",
            "k",
            "digest",
            runtime.clock.now(),
            86_400,
            recover=lambda created: resume.stale_answer(runtime, uow, "acct_1", "k", created),
        )

    return transaction(engine, work)


def test_an_orphan_placeholder_is_a_409_until_overdue_then_runs_afresh(engine):
    clock = FrozenClock(1_700_000_000)
    runtime = SimpleNamespace(
        engine=engine, clock=clock, settings=SimpleNamespace(realtime_deadline_seconds=DEADLINE)
    )
    transaction(
        engine,
        lambda uow: idempotency.placeholder(uow.conn, "acct_1", "k", "digest", clock.now()),
    )
    with pytest.raises(Conflict):  # its owner may still be working on it
        _find(engine, runtime)
    clock.advance(DEADLINE + int(resume.MARGIN_SECONDS) + 1)
    assert _find(engine, runtime) is None  # dropped: the retry runs afresh
    with engine.connect() as conn:
        assert conn.exec_driver_sql("SELECT COUNT(*) FROM idempotency_keys").scalar_one() == 0
