"""First-start set-up kept in the database: the platform account and its secret key."""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import insert, select

from openissuing import ids
from openissuing.clock import Clock
from openissuing.domain.connect.accounts import platform_account_record
from openissuing.storage.tables import server_settings
from openissuing.storage.uow import UnitOfWork, transaction
from openissuing.wire import registry


@dataclass(frozen=True)
class Platform:
    account_id: str
    api_key: str
    key_was_generated: bool


def _setting(uow: UnitOfWork, name: str) -> str | None:
    return uow.conn.execute(
        select(server_settings.c.value).where(server_settings.c.name == name)
    ).scalar_one_or_none()


def _put(uow: UnitOfWork, name: str, value: str) -> None:
    uow.conn.execute(insert(server_settings).values(name=name, value=value))


def ensure_platform(engine, clock: Clock, api_key: str | None) -> Platform:
    def work(uow: UnitOfWork) -> Platform:
        account_id = _setting(uow, "platform_account_id")
        if account_id is None:
            account_id = registry.id_for("account")
            _put(uow, "platform_account_id", account_id)
            uow.docs.insert("account", account_id, platform_account_record(account_id, clock.now()))
        generated = False
        key = api_key or _setting(uow, "api_key")
        if key is None:
            key = ids.new_secret("sk_test_", 40)
            generated = True
        if _setting(uow, "api_key") is None:
            _put(uow, "api_key", key)
        return Platform(account_id, key, generated)

    return transaction(engine, work)
