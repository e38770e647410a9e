"""The endpoint registry and what a route handler receives.

Route modules declare endpoints with ``@route(METHOD, PATH)``; the path is
written exactly as in Stripe's reference (``/v1/issuing/cards/{card}``), which
is also the key of its parameter spec. Handlers decode nothing and do no SQL:
they call one service function and render its result.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import Any

from openissuing.api import render as rendering
from openissuing.api.pagination import ListArgs, list_args
from openissuing.services.scope import Scope
from openissuing.storage.documents import Page
from openissuing.storage.uow import UnitOfWork

Json = dict[str, Any]


@dataclass
class Call:
    scope: Scope
    uow: UnitOfWork
    params: dict[str, Any]
    path: dict[str, str]
    expand: list[str]
    url_path: str
    status: int = 200
    # The server's runtime (settings, engine), for handlers that need more than one transaction.
    runtime: Any = None
    # Set when the answer reveals a secret: its stored idempotent copy is then sealed.
    reveals_secrets: bool = False
    # The Stripe-Version header exactly as the request sent it (None when absent).
    stripe_version: str | None = None
    # Where the client reached this server (scheme://host:port): links that point back here.
    base_url: str = ""

    def _ctx(self, reveal_secrets: bool = False) -> rendering.RenderContext:
        return rendering.RenderContext(self.uow, self.scope, reveal_secrets)

    def render(self, object_type: str, record: Json, *, reveal_secrets: bool = False) -> Json:
        self.reveals_secrets = self.reveals_secrets or reveal_secrets
        return rendering.render(object_type, record, self._ctx(reveal_secrets), self.expand)

    def render_list(self, object_type: str, page: Page) -> Json:
        return rendering.render_list(object_type, page, self.url_path, self._ctx(), self.expand)

    def list_args(self) -> ListArgs:
        return list_args(self.params)


@dataclass(frozen=True)
class Continuation:
    """A handler's answer that needs the network before it can finish.

    The pipeline commits the first transaction, runs ``outside()`` with no
    transaction open (never hold a lock across a network call), then runs
    ``inside(call, result)`` in a second transaction whose return is the answer.
    """

    outside: Callable[[], Any]
    inside: Callable[[Call, Any], Json]
    # (kind, object id): how a restarted server concludes this request if the process dies
    # between the two transactions (``api.resume``, ``services.recovery.KINDS``).
    resume: tuple[str, str] | None = None
    # ``outside`` as a coroutine, for a pipeline whose transactions run on the event loop.
    outside_async: Callable[[], Awaitable[Any]] | None = None


Handler = Callable[[Call], "Json | Continuation"]


@dataclass(frozen=True)
class Endpoint:
    method: str
    path: str
    handler: Handler

    @property
    def key(self) -> str:
        return f"{self.method} {self.path}"


ENDPOINTS: list[Endpoint] = []


def route(method: str, path: str) -> Callable[[Handler], Handler]:
    def register(handler: Handler) -> Handler:
        ENDPOINTS.append(Endpoint(method, path, handler))
        return handler

    return register
