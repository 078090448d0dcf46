"""Pieces every venue's signing shares: the signed request, query encoding, and server time.

Each venue's ``rentrade.venues.<venue>.signing`` module builds a :class:`SignedRequest` from the
exact bytes it signed, so what is signed is what is sent. This module holds the one
implementation of:

* :class:`SignedRequest`: method, final URL (with query), headers, and body bytes.
* :func:`encode_query`: ``k=v&k=v`` with RFC 3986 percent-encoding, exact number formatting.
* :class:`ServerClock`: the offset of a venue's clock from ours, as the median of samples.
* :func:`is_timestamp_error` and :func:`send_with_timestamp_recovery`: recognise a venue's
  "timestamp outside the receive window" rejection, resynchronise, re-sign, and retry.
"""

from __future__ import annotations

import json
import statistics
import time
from collections import deque
from collections.abc import Awaitable, Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass
from decimal import Decimal
from typing import Final, Literal, TypeVar
from urllib.parse import quote

__all__ = [
    "JsonBody",
    "ParamValue",
    "Params",
    "ServerClock",
    "SignedRequest",
    "TimestampWindowError",
    "VenueName",
    "encode_query",
    "format_param",
    "is_timestamp_error",
    "json_body",
    "send_with_timestamp_recovery",
]

ParamValue = str | int | bool | Decimal
"""A request parameter value. Floats are refused: prices and sizes must be exact text."""

Params = Mapping[str, ParamValue] | Iterable[tuple[str, ParamValue]]
"""Request parameters in the order they are sent (and signed)."""

JsonBody = Mapping[str, object] | Sequence[Mapping[str, object]]
"""A JSON request body (object, or array of objects for batch endpoints) before encoding."""

VenueName = Literal["binance", "bybit", "okx", "coinbase", "kraken_futures"]

_REDACTED_HEADERS: Final = frozenset({"authorization", "ok-access-passphrase"})


@dataclass(slots=True, repr=False)
class SignedRequest:
    """A request ready to send; ``body`` is the exact byte string the signature covers.

    Attributes
    ----------
    method
        HTTP method in upper case.
    url
        Absolute URL including the query string, exactly as signed.
    headers
        Headers to send, including the venue's key and signature headers.
    body
        Body bytes to send unchanged (``b""`` for none).

    Notes
    -----
    Treat it as immutable: the signature covers ``url`` and ``body`` as they are. (It is not
    ``frozen`` only because a frozen dataclass costs about a microsecond more to build.)
    ``repr`` hides bearer tokens (Coinbase JWT) and the OKX passphrase header, so logging a
    request does not leak a reusable credential.
    """

    method: str
    url: str
    headers: dict[str, str]
    body: bytes

    def __repr__(self) -> str:
        shown = {k: ("<redacted>" if k.lower() in _REDACTED_HEADERS else v) for k, v in self.headers.items()}
        return (
            f"SignedRequest(method={self.method!r}, url={self.url!r}, headers={shown!r}, body={self.body!r})"
        )


# ---------------------------------------------------------------------- query strings

# Unreserved characters (RFC 3986) that never need escaping; '=' and '&' are the separators.
_UNRESERVED: Final = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-._~"
# What deleting every unreserved byte must leave of a safe n-pair query: "=", "=&=", "=&=&=", ...
_SEPARATORS: Final = tuple(b"" if n == 0 else b"=" + b"&=" * (n - 1) for n in range(257))


def format_param(value: ParamValue) -> str:
    """Text of one parameter value: ``str`` as is, ``int`` in decimal, ``bool`` as ``true``/``false``,
    ``Decimal`` in plain notation (no exponent).

    Raises
    ------
    TypeError
        For ``float`` (binary floats cannot state an exact price) and other types.
    ValueError
        For a non-finite ``Decimal``.
    """
    if isinstance(value, str):
        return value
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, int):
        return str(value)
    if isinstance(value, Decimal):
        if not value.is_finite():
            raise ValueError(f"parameter value {value} is not a finite number")
        return format(value, "f")
    if isinstance(value, float):
        raise TypeError("float parameters are refused: pass prices and sizes as str or Decimal")
    raise TypeError(f"unsupported parameter type {type(value).__name__}: use str, int, bool or Decimal")


def encode_query(params: Params) -> str:
    """Encode parameters as ``k=v&k=v`` in the given order, percent-encoding per RFC 3986.

    Unreserved characters (``A-Z a-z 0-9 - . _ ~``) stay as they are; everything else, including
    non-ASCII text (as UTF-8), ``/``, ``+`` and space (``%20``), is percent-encoded. Binance
    requires non-ASCII to be encoded before signing; Kraken Futures signs the encoded form.

    Parameters
    ----------
    params
        Mapping or sequence of ``(name, value)`` pairs; see :func:`format_param` for values.

    Returns
    -------
    str
        The query string without a leading ``?`` (``""`` for no parameters).

    Notes
    -----
    When every value is already a ``str`` of unreserved characters (the usual order), the cost is
    one C-level join and one ``bytes.translate`` scan; anything else takes the general path.
    """
    if type(params) is dict:
        # The usual call (a dict of str): no ABC isinstance check and no list copy, about a third of
        # this function's cost. Anything the safety check below refuses takes the general path.
        try:
            fast = "&".join(map("=".join, params.items()))
        except TypeError:
            pass
        else:
            count = len(params)
            if (
                count < len(_SEPARATORS)
                and fast.encode("utf-8").translate(None, _UNRESERVED) == _SEPARATORS[count]
            ):
                return fast
    pairs = list(params.items()) if isinstance(params, Mapping) else list(params)
    n = len(pairs)
    joined: str | None
    try:
        joined = "&".join(map("=".join, pairs))  # TypeError unless every name and value is a str
    except TypeError:
        joined = None
    if joined is None:  # outside the except block, so a refusal below is not a chained traceback
        pairs = [(str(k), v if type(v) is str else format_param(v)) for k, v in pairs]
        joined = "&".join(map("=".join, pairs))
    # Deleting the unreserved bytes must leave exactly the separators, or something needs escaping
    # (including a '=' or '&' inside a value).
    if n < len(_SEPARATORS) and joined.encode("utf-8").translate(None, _UNRESERVED) == _SEPARATORS[n]:
        return joined
    return "&".join(f"{quote(str(k), safe='')}={quote(format_param(v), safe='')}" for k, v in pairs)


def _exact_json(value: object) -> object:
    if isinstance(value, str | bool | int) or value is None:
        return value
    if isinstance(value, Decimal):
        return format_param(value)
    if isinstance(value, Mapping):
        return {str(k): _exact_json(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [_exact_json(v) for v in value]
    if isinstance(value, float):
        raise TypeError("float values are refused in JSON bodies: pass prices and sizes as str or Decimal")
    raise TypeError(f"unsupported JSON body value type {type(value).__name__}")


def json_body(body: JsonBody | bytes | str) -> bytes:
    """Compact JSON bytes of a request body (``bytes``/``str`` are taken as already encoded).

    ``Decimal`` values become JSON strings in plain notation; ``float`` is refused so that no
    price is rounded through binary floating point. Output is ASCII (``ensure_ascii``).

    Raises
    ------
    TypeError
        For a ``float`` or an unsupported type anywhere in the body.
    """
    if isinstance(body, bytes):
        return body
    if isinstance(body, str):
        return body.encode("utf-8")
    return json.dumps(_exact_json(body), separators=(",", ":")).encode("ascii")


# ---------------------------------------------------------------------- server time


class ServerClock:
    """A venue's clock, estimated as our clock plus the median offset of recent samples.

    Each sample is one round trip to the venue's server-time endpoint: the local time just before
    sending, the server's millisecond timestamp, and the local time on receipt. The server read
    its clock somewhere in between, so the sample's offset is ``server - midpoint``; the median
    of several discards the ones a slow or asymmetric round trip spoiled.

    Parameters
    ----------
    max_samples
        How many recent samples the median is taken over.
    time_ns
        The local clock (``time.time_ns`` by default; injectable for tests).

    Notes
    -----
    With no samples the offset is 0, i.e. the local clock is trusted. :meth:`now_ms` costs one
    clock read and an addition; the median is recomputed only when a sample is added.
    """

    __slots__ = ("_offset_ns", "_samples", "_time_ns")

    def __init__(self, max_samples: int = 7, time_ns: Callable[[], int] = time.time_ns) -> None:
        if max_samples < 1:
            raise ValueError("max_samples must be at least 1")
        self._samples: deque[int] = deque(maxlen=max_samples)
        self._offset_ns = 0
        self._time_ns = time_ns

    def add_sample(self, server_time_ms: int, sent_ns: int, received_ns: int) -> int:
        """Record one round trip and return that sample's offset in nanoseconds.

        Parameters
        ----------
        server_time_ms
            The server's timestamp in the response, in milliseconds since the epoch.
        sent_ns, received_ns
            Local ``time_ns`` readings just before sending and just after receiving.

        Raises
        ------
        ValueError
            If ``received_ns`` is earlier than ``sent_ns``.
        """
        if received_ns < sent_ns:
            raise ValueError("received_ns is earlier than sent_ns: take both from the same clock, in order")
        midpoint_ns = sent_ns + (received_ns - sent_ns) // 2
        # The server truncates to whole milliseconds; its true time lies in [ms, ms + 1).
        offset_ns = server_time_ms * 1_000_000 + 500_000 - midpoint_ns
        self._samples.append(offset_ns)
        self._offset_ns = int(statistics.median_low(self._samples))
        return offset_ns

    def clear(self) -> None:
        """Forget all samples; the offset returns to 0."""
        self._samples.clear()
        self._offset_ns = 0

    @property
    def offset_ns(self) -> int:
        """Median offset, server minus local, in nanoseconds (0 without samples)."""
        return self._offset_ns

    @property
    def sample_count(self) -> int:
        """Number of samples the median is currently taken over."""
        return len(self._samples)

    def now_ns(self) -> int:
        """Estimated server time in nanoseconds since the epoch."""
        return self._time_ns() + self._offset_ns

    def now_ms(self) -> int:
        """Estimated server time in whole milliseconds since the epoch."""
        return (self._time_ns() + self._offset_ns) // 1_000_000


# ---------------------------------------------------------------------- timestamp-window errors

# Codes each venue returns when a request's timestamp falls outside its receive window.
# Binance -1021 INVALID_TIMESTAMP; Bybit 10002 "The request time exceeds the time window range.";
# OKX 50102 "Timestamp request expired"; Kraken Futures nonceBelowThreshold / nonceDuplicate.
# Coinbase has no distinct code (an expired JWT is a plain 401), so it is not recognised here.
_TIMESTAMP_ERRORS: Final[Mapping[str, frozenset[str]]] = {
    "binance": frozenset({"-1021"}),
    "bybit": frozenset({"10002"}),
    "okx": frozenset({"50102"}),
    "kraken_futures": frozenset({"nonceBelowThreshold", "nonceDuplicate"}),
    "coinbase": frozenset(),
}


def is_timestamp_error(venue: VenueName, code: object) -> bool:
    """Whether ``code`` (a venue's error code or error name) means "timestamp outside window".

    Parameters
    ----------
    venue
        One of ``"binance"``, ``"bybit"``, ``"okx"``, ``"coinbase"``, ``"kraken_futures"``.
    code
        The error code as the venue returns it (``int`` or ``str``), e.g. ``-1021``.
    """
    return str(code) in _TIMESTAMP_ERRORS[venue]


class TimestampWindowError(RuntimeError):
    """The venue kept rejecting the request's timestamp after resynchronising the clock."""

    def __init__(self, venue: str, code: object, attempts: int) -> None:
        super().__init__(
            f"{venue} rejected the request timestamp {attempts} times (code {code}) even after "
            "resynchronising with its server time: check that this host's clock is NTP-synced, "
            "or allow a larger receive window"
        )
        self.venue = venue
        self.code = code
        self.attempts = attempts


R = TypeVar("R")


async def send_with_timestamp_recovery(
    attempt: Callable[[int], Awaitable[R]],
    *,
    venue: VenueName,
    error_code: Callable[[R], object],
    clock: ServerClock,
    resync: Callable[[], Awaitable[None]],
    max_retries: int = 1,
) -> R:
    """Sign and send with the clock's timestamp; on a timestamp-window rejection, resync and retry.

    Parameters
    ----------
    attempt
        Signs a request with the given ``timestamp_ms`` and sends it, returning the response.
        It is called again for each retry, so every retry is freshly signed.
    venue
        Venue name for :func:`is_timestamp_error`.
    error_code
        Extracts the venue's error code from a response (``None`` when it succeeded).
    clock
        The venue's :class:`ServerClock`; timestamps come from :meth:`ServerClock.now_ms`.
    resync
        Refreshes ``clock`` (e.g. samples the server-time endpoint a few times).
    max_retries
        Retries after the first rejection (default 1).

    Returns
    -------
    R
        The first response that is not a timestamp rejection.

    Raises
    ------
    TimestampWindowError
        If every attempt was rejected for its timestamp.
    """
    response = await attempt(clock.now_ms())
    for _ in range(max_retries):
        code = error_code(response)
        if not is_timestamp_error(venue, code):
            return response
        await resync()
        response = await attempt(clock.now_ms())
    code = error_code(response)
    if is_timestamp_error(venue, code):
        raise TimestampWindowError(venue, code, max_retries + 1)
    return response
