from sqlalchemy import func, insert, select

from openissuing.maintenance import prune_idempotency_keys
from openissuing.storage.db import make_engine
from openissuing.storage.migrate import upgrade
from openissuing.storage.tables import idempotency_keys


def test_keys_older_than_the_retention_are_pruned_in_batches(tmp_path):
    engine = make_engine(f"sqlite:///{tmp_path / 'keys.sqlite3'}")
    upgrade(engine)
    day = 86400
    with engine.begin() as conn:
        rows = [
            {
                "scope": "acct_1",
                "key": f"old-{i}",
                "request_hash": "h",
                "created": 1_000,
                "response_status": 200,
                "response_body": "{}",
            }
            for i in range(2500)
        ]
        rows.append(
            {
                "scope": "acct_1",
                "key": "fresh",
                "request_hash": "h",
                "created": 1_000 + day,
                "response_status": 200,
                "response_body": "{}",
            }
        )
        conn.execute(insert(idempotency_keys), rows)
    removed = prune_idempotency_keys(engine, now=1_000 + day + 10, retention_seconds=day)
    assert removed == 2500
    with engine.connect() as conn:
        left = conn.execute(select(idempotency_keys.c.key)).scalars().all()
        assert left == ["fresh"]
        assert conn.execute(select(func.count()).select_from(idempotency_keys)).scalar_one() == 1
    engine.dispose()
