"""A limit on the size of request bodies (uploads), as plain ASGI middleware.

The limit must hold before the multipart parser spools anything to disk, so it is
checked on the declared Content-Length and again on the bytes actually received
(a client may send a chunked body without a length). A request over the limit gets
the response of ``too_large`` (a Dutch 413 page or JSON). The rest of the body is
read and thrown away up to ``drain_limit`` bytes first, because browsers show a
"connection reset" error instead of the answer when the server closes the
connection while they are still sending.
"""

from __future__ import annotations

from typing import Callable

from starlette.responses import Response
from starlette.types import ASGIApp, Message, Receive, Scope, Send


class BodyTooLarge(Exception):
    """Raised from ``receive`` once the body passes the limit."""


class BodySizeLimit:
    def __init__(self, app: ASGIApp, max_bytes: int, too_large: Callable[[Scope], Response],
                 drain_limit: int | None = None):
        self.app = app
        self.max_bytes = max_bytes
        self.too_large = too_large
        self.drain_limit = drain_limit if drain_limit is not None else 8 * max_bytes

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or scope["method"] in ("GET", "HEAD", "OPTIONS"):
            await self.app(scope, receive, send)
            return
        if _declared_length(scope) > self.max_bytes:
            await self._refuse(scope, receive, send, received=0, more=True)
            return

        received = 0
        more = True
        started = False

        async def counting_receive() -> Message:
            nonlocal received, more
            message = await receive()
            if message["type"] == "http.request":
                received += len(message.get("body", b""))
                more = message.get("more_body", False)
                if received > self.max_bytes:
                    raise BodyTooLarge()
            return message

        async def tracking_send(message: Message) -> None:
            nonlocal started
            started = started or message["type"] == "http.response.start"
            await send(message)

        try:
            await self.app(scope, counting_receive, tracking_send)
        except BodyTooLarge:
            if started:  # cannot happen for our routes (they read the body first)
                raise
            await self._refuse(scope, receive, send, received=received, more=more)

    async def _refuse(self, scope: Scope, receive: Receive, send: Send, received: int, more: bool) -> None:
        # Asking for more after the last part would wait for the client to hang up.
        while more and received <= self.drain_limit:
            message = await receive()
            if message["type"] != "http.request":
                break
            received += len(message.get("body", b""))
            more = message.get("more_body", False)
        response = self.too_large(scope)
        await response(scope, receive, send)


def _declared_length(scope: Scope) -> int:
    for key, value in scope.get("headers", ()):
        if key == b"content-length":
            try:
                return int(value)
            except ValueError:
                return 0
    return 0
