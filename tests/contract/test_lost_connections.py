"""PostgreSQL connections the server lost (a restart, an idle timeout, an administrator's
``pg_terminate_backend``): the pool does not ping before each checkout, so the first statement
on a dead connection fails; the unit of work runs again on a fresh one, and the client never
sees it. A write runs once."""

from __future__ import annotations

import psycopg
import pytest

ADDRESS = {"line1": "1 Main St", "city": "San Francisco", "postal_code": "94111", "country": "US"}


def new_cardholder(client, name: str = "Before The Restart"):
    params = {"name": name, "billing": {"address": ADDRESS}, "type": "individual"}
    return client.v1.issuing.cardholders.create(params=params)


def _kill_the_servers_connections(server) -> int:
    """Every connection to the suite's database but this one, as a restart would."""
    url = server.database_url.replace("postgresql+psycopg://", "postgresql://")
    with psycopg.connect(url, autocommit=True) as admin:
        return len(
            admin.execute(
                "SELECT pg_terminate_backend(pid) FROM pg_stat_activity"
                " WHERE datname = current_database() AND pid <> pg_backend_pid()"
            ).fetchall()
        )


@pytest.fixture()
def postgres(server):
    if not server.database_url.startswith("postgres"):
        pytest.skip("SQLite has no server to lose")
    return server


def test_reads_and_writes_go_on_after_the_connections_are_killed(postgres, client):
    holder = new_cardholder(client)
    for _ in range(5):  # several idle connections in the pool
        client.v1.issuing.cardholders.retrieve(holder.id)
    assert _kill_the_servers_connections(postgres) >= 1
    assert client.v1.issuing.cardholders.retrieve(holder.id).id == holder.id
    _kill_the_servers_connections(postgres)
    created = new_cardholder(client, name="After The Restart")
    listed = client.v1.issuing.cardholders.list(params={"limit": 100}).data
    assert [c.id for c in listed].count(created.id) == 1
    assert {c.id for c in listed} == {holder.id, created.id}
