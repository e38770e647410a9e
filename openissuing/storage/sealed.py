"""Every secret the database holds sealed, by place: the SQL behind ``openissuing.keyring``
(re-sealing under a new key, in batches) and the sealed idempotent answers.

A place yields ``(primary key, [tokens])`` batches in primary-key order after a cursor, and
writes a row's tokens back. Tokens are Fernet tokens (bytes).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import orjson
from sqlalchemy import select, tuple_, update
from sqlalchemy.engine import Connection

from openissuing.storage.tables import (
    card_secrets,
    idempotency_keys,
    objects,
    server_settings,
    webhook_endpoint_secrets,
)

# A stored idempotent answer that carries a secret is kept as this prefix + a Fernet token.
SEALED_BODY_PREFIX = "fernet:"
FINANCIAL_ACCOUNT = "treasury.financial_account"

Row = tuple[object, list[bytes]]


@dataclass(frozen=True)
class Place:
    name: str
    batch: Callable[[Connection, object, int], list[Row]]
    write: Callable[[Connection, object, list[bytes]], None]


def _cards(conn: Connection, after: Any, limit: int) -> list[Any]:
    query = select(
        card_secrets.c.card_id, card_secrets.c.number_encrypted, card_secrets.c.cvc_encrypted
    )
    if after is not None:
        query = query.where(card_secrets.c.card_id > after)
    rows = conn.execute(query.order_by(card_secrets.c.card_id).limit(limit))
    return [(row[0], [bytes(row[1]), bytes(row[2])]) for row in rows]


def _write_card(conn: Connection, card_id: Any, tokens: list[bytes]) -> None:
    conn.execute(
        update(card_secrets)
        .where(card_secrets.c.card_id == card_id)
        .values(number_encrypted=tokens[0], cvc_encrypted=tokens[1])
    )


def _endpoints(conn: Connection, after: Any, limit: int) -> list[Any]:
    table = webhook_endpoint_secrets
    query = select(table.c.endpoint_id, table.c.secret_encrypted)
    if after is not None:
        query = query.where(table.c.endpoint_id > after)
    rows = conn.execute(query.order_by(table.c.endpoint_id).limit(limit))
    return [(row[0], [bytes(row[1])]) for row in rows]


def _write_endpoint(conn: Connection, endpoint_id: Any, tokens: list[bytes]) -> None:
    table = webhook_endpoint_secrets
    conn.execute(
        update(table).where(table.c.endpoint_id == endpoint_id).values(secret_encrypted=tokens[0])
    )


def _financial_accounts(conn: Connection, after: Any, limit: int) -> list[Any]:
    query = select(objects.c.id, objects.c.data).where(objects.c.type == FINANCIAL_ACCOUNT)
    if after is not None:
        query = query.where(objects.c.id > after)
    out: list[Row] = []
    for object_id, data in conn.execute(query.order_by(objects.c.id).limit(limit)):
        aba = orjson.loads(data).get("_aba") or {}
        sealed = aba.get("account_number_sealed")
        out.append((object_id, [sealed.encode()] if sealed else []))
    return out


def _write_financial_account(conn: Connection, object_id: Any, tokens: list[bytes]) -> None:
    data = conn.execute(
        select(objects.c.data).where(objects.c.id == object_id).with_for_update()
    ).scalar_one()
    record = orjson.loads(data)
    record["_aba"]["account_number_sealed"] = tokens[0].decode()
    conn.execute(
        update(objects).where(objects.c.id == object_id).values(data=orjson.dumps(record).decode())
    )


def _answers(conn: Connection, after: Any, limit: int) -> list[Any]:
    table = idempotency_keys
    query = select(table.c.scope, table.c.key, table.c.response_body).where(
        table.c.response_body.like(SEALED_BODY_PREFIX + "%")
    )
    if after is not None:
        query = query.where(tuple_(table.c.scope, table.c.key) > tuple_(*after))
    rows = conn.execute(query.order_by(table.c.scope, table.c.key).limit(limit))
    return [((row[0], row[1]), [row[2][len(SEALED_BODY_PREFIX) :].encode()]) for row in rows]


def _write_answer(conn: Connection, pk: Any, tokens: list[bytes]) -> None:
    table = idempotency_keys
    conn.execute(
        update(table)
        .where(table.c.scope == pk[0], table.c.key == pk[1])
        .values(response_body=SEALED_BODY_PREFIX + tokens[0].decode())
    )


PLACES = (
    Place("card numbers and CVCs", _cards, _write_card),
    Place("webhook endpoint secrets", _endpoints, _write_endpoint),
    Place("financial account numbers", _financial_accounts, _write_financial_account),
    Place("idempotent answers with secrets", _answers, _write_answer),
)


def any_token(conn: Connection) -> bytes | None:
    """One sealed secret, if the database holds any (to test a key against)."""
    for place in PLACES:
        for _, tokens in place.batch(conn, None, 50):
            if tokens:
                return tokens[0]
    return None


def plaintext_answers_with_secrets(conn: Connection, limit: int) -> list[tuple[str, str, str]]:
    """Stored answers written before they were sealed that carry a webhook signing secret."""
    table = idempotency_keys
    rows = conn.execute(
        select(table.c.scope, table.c.key, table.c.response_body)
        .where(table.c.response_body.like('%"secret":"whsec\\_%', escape="\\"))
        .limit(limit)
    )
    return [tuple(row) for row in rows]


def setting(conn: Connection, name: str) -> str | None:
    return conn.execute(
        select(server_settings.c.value).where(server_settings.c.name == name)
    ).scalar_one_or_none()


def put_setting(conn: Connection, name: str, value: str) -> None:
    if setting(conn, name) is None:
        conn.execute(server_settings.insert().values(name=name, value=value))
    else:
        conn.execute(
            update(server_settings).where(server_settings.c.name == name).values(value=value)
        )
