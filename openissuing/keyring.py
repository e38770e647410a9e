"""Which keys seal this database's secrets: checked at every start, changed by rotate-key.

The key used to live only in a file in the server's working folder, so a second server
started elsewhere on the same PostgreSQL database silently made a key of its own and
could not open what the first had sealed (revealing a card answered 500). Now the
database records the fingerprints (``secrets_box.fingerprint``, never the keys) of every
key that may have sealed something in it, and a server refuses to start — in one line,
before it creates any key file — unless it is given all of them.

Keys are given newest first (``OPENISSUING_ENCRYPTION_KEY=new,old``): the newest seals,
any opens. To rotate: start every server with ``new,old``, run ``openissuing rotate-key``
(re-seals everything still under an older key, in batches, each its own transaction, so
it can be stopped and run again), then drop ``old``.
"""

from __future__ import annotations

import logging
from collections.abc import Callable

from openissuing.secrets_box import (
    InvalidToken,
    SecretBox,
    create_key_file,
    parse_keys,
    read_key_file,
)
from openissuing.storage import sealed
from openissuing.storage.uow import UnitOfWork, transaction

log = logging.getLogger("openissuing.keyring")

FINGERPRINTS = "encryption_key_fingerprints"
HOW = (
    "set OPENISSUING_ENCRYPTION_KEY (comma-separated, newest first) or "
    "OPENISSUING_ENCRYPTION_KEY_FILE to the key(s) it was sealed with"
)


class KeyProblem(Exception):
    """The configured keys cannot open this database's secrets (a one-line explanation)."""


def _recorded(uow: UnitOfWork) -> list[str]:
    value = sealed.setting(uow.conn, FINGERPRINTS)
    return [part for part in (value or "").split(",") if part]


def _configured(settings) -> list[str] | None:
    if settings.encryption_key:
        return parse_keys(settings.encryption_key)
    return read_key_file(settings.encryption_key_file)


def open_box(engine, settings) -> SecretBox:
    """The server's SecretBox, once the database agrees it holds the right keys."""
    keys = _configured(settings)
    if keys is None:
        recorded = transaction(engine, _recorded, write=False)
        if recorded:
            raise KeyProblem(
                f"this database's secrets are sealed with encryption key {', '.join(recorded)} "
                f"and no key is configured (no {settings.encryption_key_file}); {HOW}"
            )
        keys = create_key_file(settings.encryption_key_file)
        log.warning("created encryption key file %s: back it up", settings.encryption_key_file)
    box = SecretBox(keys)
    transaction(engine, lambda uow: _check_and_record(uow, box))
    seal_plaintext_answers(engine, box)
    return box


def _check_and_record(uow: UnitOfWork, box: SecretBox) -> None:
    recorded = _recorded(uow)
    if not recorded:
        # A database from before fingerprints: the keys must open what it already holds.
        token = sealed.any_token(uow.conn)
        if token is not None:
            try:
                box.open(token)
            except InvalidToken:
                raise KeyProblem(
                    "this database holds secrets sealed with a key that is not configured "
                    f"(configured: {', '.join(box.fingerprints)}); {HOW}"
                ) from None
        sealed.put_setting(uow.conn, FINGERPRINTS, box.primary_fingerprint)
        return
    missing = [fp for fp in recorded if fp not in box.fingerprints]
    if missing:
        raise KeyProblem(
            f"this database's secrets are sealed with encryption key {', '.join(missing)}, "
            f"which the configured key(s) {', '.join(box.fingerprints)} do not include; {HOW}"
        )
    if box.primary_fingerprint not in recorded:
        # From now on this server seals with its newest key: the database may hold both.
        sealed.put_setting(uow.conn, FINGERPRINTS, ",".join([box.primary_fingerprint, *recorded]))


def seal_plaintext_answers(engine, box: SecretBox, batch: int = 200) -> int:
    """Stored idempotent answers from before they were sealed that carry a webhook signing
    secret (the create response): seal them in place. Runs at start; a no-op once done."""
    done = 0
    while True:

        def work(uow: UnitOfWork) -> int:
            rows = sealed.plaintext_answers_with_secrets(uow.conn, batch)
            for scope, key, body in rows:
                token = box.seal(body)
                sealed.PLACES[-1].write(uow.conn, (scope, key), [token])
            return len(rows)

        count = transaction(engine, work)
        done += count
        if count < batch:
            return done


def rotate(
    engine, box: SecretBox, batch: int = 500, progress: Callable[[str], None] = print
) -> int:
    """Re-seal every secret not sealed with the newest key; returns how many rows changed.

    Each batch is its own short transaction, and a row already under the newest key is
    skipped, so an interrupted run is simply run again. Passes repeat until one changes
    nothing (a server with an older newest key may have sealed something meanwhile);
    only then does the database forget the older fingerprints."""
    total = 0
    for _ in range(5):
        changed = sum(_rotate_place(engine, box, place, batch, progress) for place in sealed.PLACES)
        total += changed
        if changed == 0:
            transaction(
                engine,
                lambda uow: sealed.put_setting(uow.conn, FINGERPRINTS, box.primary_fingerprint),
            )
            return total
    raise KeyProblem("secrets kept being sealed with an older key; restart every server first")


def _rotate_place(engine, box: SecretBox, place: sealed.Place, batch: int, progress) -> int:
    after, changed = None, 0
    while True:

        def work(uow: UnitOfWork, after=after) -> tuple[object, int, int]:
            rows = place.batch(uow.conn, after, batch)
            moved = 0
            for pk, tokens in rows:
                if tokens and not all(box.is_current(t) for t in tokens):
                    try:
                        fresh = [t if box.is_current(t) else box.reseal(t) for t in tokens]
                    except InvalidToken:
                        raise KeyProblem(
                            f"no configured key opens the {place.name} of {pk}; {HOW}"
                        ) from None
                    place.write(uow.conn, pk, fresh)
                    moved += 1
            return (rows[-1][0] if rows else None), len(rows), moved

        after, seen, moved = transaction(engine, work)
        changed += moved
        if moved:
            progress(f"openissuing: re-sealed {moved} of {seen} {place.name}")
        if seen < batch:
            return changed
