"""Kraken Futures request signing.

REST: ``Authent`` = base64(HMAC-SHA512(base64-decoded secret, SHA-256(postData + Nonce +
endpointPath))). ``postData`` is the url-encoded parameter string *as sent* (Kraken's current
rule: ``greeting=hello%20world``, not the decoded text), ``Nonce`` is an increasing integer sent in
the optional ``Nonce`` header (empty when the header is omitted), and ``endpointPath`` is the URL
path without the ``/derivatives`` prefix (``/api/v3/sendorder`` for
``https://futures.kraken.com/derivatives/api/v3/sendorder``). Headers: ``APIKey``, ``Authent``,
``Nonce``.

WebSocket: private feeds need a signed challenge: send ``{"event": "challenge", "api_key": ...}``,
then sign the returned UUID as base64(HMAC-SHA512(base64-decoded secret, SHA-256(challenge))) and
include ``original_challenge`` and ``signed_challenge`` in each private subscribe message.

Sources
-------
- https://docs.kraken.com/api/docs/guides/futures-rest (Generate authentication strings;
  Upcoming Changes: hash the url-encoded form)
- https://docs.kraken.com/api/docs/guides/futures-websockets (Sign challenge; the published
  example ``c100b894-...`` / ``4JEpF3ix...``)
"""

from __future__ import annotations

import base64
import hashlib
import json
import logging
from collections.abc import Sequence
from typing import Final

from rentrade.credentials import Credentials
from rentrade.signing import Params, ServerClock, SignedRequest, encode_query
from rentrade.venues.kraken_futures import urls

__all__ = [
    "SERVER_CLOCK",
    "VENUE",
    "authent",
    "endpoint_path",
    "sign_challenge",
    "sign_request",
    "ws_auth_message",
    "ws_challenge_request",
]

VENUE: Final = "kraken_futures"
SERVER_CLOCK: Final = ServerClock()
"""Offset of Kraken Futures' clock, used for nonces."""

_log = logging.getLogger(__name__)


class _Nonces:
    """Millisecond nonces that never repeat or go backwards within this process.

    Two requests in the same millisecond would otherwise share a nonce and the second would be
    rejected as ``nonceDuplicate``; bumping by one keeps the sequence strictly increasing.
    """

    __slots__ = ("_last",)

    def __init__(self) -> None:
        self._last = 0

    def next(self, now_ms: int) -> int:
        self._last = now_ms if now_ms > self._last else self._last + 1
        return self._last


_NONCES: Final = _Nonces()


def endpoint_path(path: str) -> str:
    """The ``endpointPath`` Kraken signs: the URL path without the ``/derivatives`` prefix."""
    return path[len(urls.API_PREFIX) :] if path.startswith(urls.API_PREFIX + "/") else path


def authent(credentials: Credentials, post_data: str, nonce: str, path: str) -> str:
    """``Authent`` for ``post_data + nonce + endpoint_path(path)``; see the module docstring."""
    digest = hashlib.sha256(f"{post_data}{nonce}{endpoint_path(path)}".encode()).digest()
    return base64.b64encode(credentials.hmac_sha512_b64key(digest)).decode("ascii")


def sign_request(  # noqa: PLR0917 (one positional shape for every venue, fixed by the design)
    credentials: Credentials,
    method: str,
    path: str,
    params: Params | None = None,
    body: Params | None = None,
    timestamp_ms: int | None = None,
    *,
    base_url: str = urls.REST_URL,
    clock: ServerClock = SERVER_CLOCK,
) -> SignedRequest:
    """Sign a Kraken Futures private REST request.

    Parameters
    ----------
    credentials
        HMAC credentials with the base64 secret as Kraken issues it.
    method
        HTTP method.
    path
        Full URL path, e.g. ``"/derivatives/api/v3/sendorder"``.
    params
        Parameters sent in the query string (Kraken's own examples send order parameters this
        way, for POST too); they are the signed ``postData``.
    body
        Parameters sent instead as a form body; then they are the signed ``postData``.
    timestamp_ms
        The nonce, used exactly as given. By default ``clock.now_ms()``, bumped so that nonces
        from this process strictly increase.
    base_url
        Scheme and host.
    clock
        Server clock used when ``timestamp_ms`` is ``None``.

    Raises
    ------
    ValueError
        If both ``params`` and ``body`` are given (Kraken signs one ``postData``).
    """
    credentials.require("hmac", venue="Kraken Futures")
    if params and body:
        raise ValueError("Kraken Futures signs one postData: pass params (query) or body (form), not both")
    nonce = str(_NONCES.next(clock.now_ms()) if timestamp_ms is None else timestamp_ms)
    query = encode_query(params) if params else ""
    form = encode_query(body) if body else ""
    headers = {
        "APIKey": credentials.api_key,
        "Authent": authent(credentials, query or form, nonce, path),
        "Nonce": nonce,
    }
    if form:
        headers["Content-Type"] = "application/x-www-form-urlencoded"
    url = f"{base_url}{path}?{query}" if query else f"{base_url}{path}"
    if _log.isEnabledFor(logging.DEBUG):
        _log.debug("kraken futures signed %s %s", method, path)
    return SignedRequest(method.upper(), url, headers, form.encode("ascii"))


def sign_challenge(credentials: Credentials, challenge: str) -> str:
    """The ``signed_challenge`` for a WebSocket challenge UUID."""
    credentials.require("hmac", venue="Kraken Futures")
    return base64.b64encode(
        credentials.hmac_sha512_b64key(hashlib.sha256(challenge.encode("utf-8")).digest())
    ).decode("ascii")


def ws_challenge_request(credentials: Credentials) -> bytes:
    """JSON text of the request for a challenge (the first step of WebSocket authentication)."""
    return json.dumps({"event": "challenge", "api_key": credentials.api_key}, separators=(",", ":")).encode()


def ws_auth_message(
    credentials: Credentials,
    challenge: str,
    feed: str,
    product_ids: Sequence[str] | None = None,
    *,
    event: str = "subscribe",
) -> bytes:
    """JSON text of a private-feed ``subscribe`` (or ``unsubscribe``) carrying the signed challenge.

    Parameters
    ----------
    credentials
        HMAC credentials.
    challenge
        The UUID the server returned for :func:`ws_challenge_request`.
    feed
        Private feed, e.g. ``"open_orders"`` or ``"fills"``.
    product_ids
        Optional products for feeds that take them.
    event
        ``"subscribe"`` or ``"unsubscribe"``.
    """
    message: dict[str, object] = {
        "event": event,
        "feed": feed,
        "api_key": credentials.api_key,
        "original_challenge": challenge,
        "signed_challenge": sign_challenge(credentials, challenge),
    }
    if product_ids is not None:
        message["product_ids"] = list(product_ids)
    return json.dumps(message, separators=(",", ":")).encode("utf-8")
