"""Streaming readers for recorded exchange frames.

Every reader yields :class:`RecordedFrame` records one at a time, in file order, and never holds more
than one line of the file in memory, so multi-gigabyte recordings replay in constant memory.

Supported formats (see ``../shared/data/MANIFEST.md`` for the recordings themselves):

``hftbacktest``
    gzip text, one ``<ts_local_ns> <raw json>`` per line (nkaz001/hftbacktest collector).
``cryptofeed-v1``
    cryptofeed's raw text format: ``ts: {json}`` received, ``URL <- ts: {json}`` sent,
    ``URL -> ts: {json}`` HTTP responses, ``URL <-> ts`` connects; ``ts`` is decimal seconds.
``cryptofeed-v2``
    cryptofeed's zstd-compressed JSON Lines corpus (``*.jsonl.zst``); needs the optional
    ``zstandard`` package.
``bybit-ob500``
    Bybit's historical ``orderbook.500`` download (a zip of JSON lines), as shipped by nautilus_trader.
``rentrade``
    rentrade's own ``.rtrec`` recordings (``rentrade record``; format in :mod:`rentrade.record`).

:func:`open_recording` detects the format from the file name and its first bytes.
"""

from __future__ import annotations

import base64
import enum
import gzip
import io
import json
import os
import re
import zipfile
from collections.abc import Iterator
from pathlib import Path
from typing import IO, NamedTuple, cast

import orjson

__all__ = [
    "Direction",
    "RecordedFrame",
    "RecordingError",
    "RecordingFormat",
    "UnknownRecordingFormatError",
    "detect_format",
    "open_recording",
    "read_bybit_ob500",
    "read_cryptofeed_v1",
    "read_cryptofeed_v2",
    "read_hftbacktest",
    "seconds_text_to_ns",
]

StrPath = str | os.PathLike[str]


class Direction(enum.Enum):
    """Which way a recorded frame travelled, seen from the recording client."""

    RECEIVED = "recv"
    """A WebSocket frame the client received."""
    SENT = "send"
    """A WebSocket frame the client sent (for example a subscribe request)."""
    HTTP = "http"
    """An HTTP response body; ``url`` is the request URL."""
    CONNECT = "connect"
    """A WebSocket connection was opened to ``url``; the payload is empty."""


class RecordedFrame(NamedTuple):
    """One recorded frame.

    Attributes
    ----------
    ts_local_ns : int
        Local receive (or send) time, ns since the Unix epoch, converted exactly from the recording.
    payload : bytes
        The raw frame or response body, byte-for-byte as recorded.
    direction : Direction
        Received, sent, HTTP response or connect.
    url : str or None
        The WebSocket or HTTP URL when the format records it.
    conn : str or None
        The connection id when the format records one (cryptofeed v2), else None.
    line : int
        1-based line number in the (decompressed) source, for error messages.
    """

    ts_local_ns: int
    payload: bytes
    direction: Direction = Direction.RECEIVED
    url: str | None = None
    conn: str | None = None
    line: int = 0


class RecordingFormat(enum.Enum):
    """The recording formats :func:`open_recording` understands."""

    HFTBACKTEST = "hftbacktest"
    CRYPTOFEED_V1 = "cryptofeed-v1"
    CRYPTOFEED_V2 = "cryptofeed-v2"
    BYBIT_OB500 = "bybit-ob500"
    RENTRADE = "rentrade"


class RecordingError(ValueError):
    """A recording could not be read: the message names the file and line."""


class UnknownRecordingFormatError(RecordingError):
    """:func:`open_recording` could not tell which format a file is in."""


def _bad_line(path: StrPath, line: int, why: str) -> RecordingError:
    return RecordingError(f"bad line {line} in file {os.fspath(path)}: {why}")


# Seconds as plain decimal text. Exponents are refused: no recorder writes them for epoch times, and
# accepting them would need a float or Decimal round trip that the exactness rule forbids.
_SECONDS_RE = re.compile(r"(\d+)(?:\.(\d*))?")
_NS_DIGITS = 9


def seconds_text_to_ns(text: str | bytes) -> int:
    """Convert decimal epoch seconds (``"1626992741.3105128"``) to integer nanoseconds exactly.

    Parameters
    ----------
    text : str or bytes
        Non-negative decimal text with at most 9 fractional digits.

    Returns
    -------
    int
        Nanoseconds since the Unix epoch.

    Raises
    ------
    ValueError
        If the text is not plain decimal seconds, or has sub-nanosecond digits (never rounded).
    """
    s = text.decode("ascii", "replace") if isinstance(text, bytes) else text
    m = _SECONDS_RE.fullmatch(s.strip())
    if m is None:
        raise ValueError(f"timestamp {s!r} is not decimal seconds like '1626992741.3105128'")
    whole, frac = m.group(1), m.group(2) or ""
    if len(frac) > _NS_DIGITS:
        if frac[_NS_DIGITS:].strip("0"):
            raise ValueError(f"timestamp {s!r} has more than 9 fractional digits: finer than 1 ns")
        frac = frac[:_NS_DIGITS]
    return int(whole) * 1_000_000_000 + int(frac.ljust(_NS_DIGITS, "0"))


# --------------------------------------------------------------------------------------------------
# hftbacktest collector: gzip text "<ts_ns> <json>"


def read_hftbacktest(path: StrPath) -> Iterator[RecordedFrame]:
    """Read an hftbacktest collector file (gzip text, ``<ts_local_ns> <raw json>`` per line).

    Parameters
    ----------
    path : str or os.PathLike
        The ``.gz`` file.

    Yields
    ------
    RecordedFrame
        One received frame per line (the in-band REST ``/depth`` snapshot included, as received).

    Raises
    ------
    RecordingError
        On a line that is not ``<integer ns> <payload>``.
    """
    number = 0
    for raw in _gzip_lines(path):
        number += 1
        line = raw.rstrip(b"\r")
        if not line:
            continue
        ts_text, sep, payload = line.partition(b" ")
        if not sep or not ts_text.isdigit() or not payload:
            raise _bad_line(path, number, "expected '<ts_local_ns> <json>'")
        yield RecordedFrame(int(ts_text), payload, Direction.RECEIVED, None, None, number)


def _gzip_lines(path: StrPath, chunk_bytes: int = 1 << 20) -> Iterator[bytes]:
    """The lines of a gzip file without their ``\\n``, read a megabyte at a time.

    Splitting big blocks is several times cheaper than GzipFile's per-line readline; memory stays
    bounded by one block plus the longest line.
    """
    with gzip.open(path, "rb") as fh:
        pending = b""
        while chunk := fh.read(chunk_bytes):
            lines = (pending + chunk).split(b"\n")
            pending = lines.pop()
            yield from lines
        if pending:
            yield pending


# --------------------------------------------------------------------------------------------------
# cryptofeed v1 raw text


_V1_TS = rb"(\d+(?:\.\d*)?)"
_V1_RECEIVED = re.compile(_V1_TS + rb": (.*)", re.DOTALL)
_V1_WITH_URL = re.compile(rb"(\S+) (<-|->) " + _V1_TS + rb": (.*)", re.DOTALL)
_V1_CONNECT = re.compile(rb"(\S+) <-> " + _V1_TS)
_V1_CONFIGURATION = b"configuration: "


def read_cryptofeed_v1(path: StrPath) -> Iterator[RecordedFrame]:
    """Read a cryptofeed v1 raw recording (``NAME.0``, ``NAME.ws.N.0``, ``NAME.http.N.0``).

    Parameters
    ----------
    path : str or os.PathLike
        The text file.

    Yields
    ------
    RecordedFrame
        Received frames, sent frames (with the URL), HTTP responses (with the request URL) and
        connects (empty payload). The trailing ``configuration:`` line is feed configuration, not a
        frame, and is skipped.

    Raises
    ------
    RecordingError
        On a line matching none of the v1 record shapes.
    """
    with open(path, "rb") as fh:
        for number, raw in enumerate(fh, start=1):
            line = raw.rstrip(b"\r\n")
            if not line:
                continue  # the http files end with an empty line
            try:
                frame = _parse_v1_line(line, number)
            except ValueError as exc:
                raise _bad_line(path, number, str(exc)) from None
            if frame is not None:
                yield frame


def _parse_v1_line(line: bytes, number: int) -> RecordedFrame | None:
    if line[:1].isdigit():
        m = _V1_RECEIVED.fullmatch(line)
        if m is not None:
            return RecordedFrame(
                seconds_text_to_ns(m.group(1)), m.group(2), Direction.RECEIVED, None, None, number
            )
    if line.startswith(_V1_CONFIGURATION):
        return None
    m = _V1_WITH_URL.fullmatch(line)
    if m is not None:
        direction = Direction.SENT if m.group(2) == b"<-" else Direction.HTTP
        return RecordedFrame(
            seconds_text_to_ns(m.group(3)), m.group(4), direction, m.group(1).decode(), None, number
        )
    m = _V1_CONNECT.fullmatch(line)
    if m is not None:
        return RecordedFrame(
            seconds_text_to_ns(m.group(2)), b"", Direction.CONNECT, m.group(1).decode(), None, number
        )
    raise ValueError(
        f"not a cryptofeed v1 record (expected 'ts: ...', 'URL <- ts: ...', 'URL -> ts: ...' "
        f"or 'URL <-> ts'): {line[:80]!r}"
    )


# --------------------------------------------------------------------------------------------------
# cryptofeed v2 corpus: zstd JSON Lines


_V2_DIRECTIONS = {
    "recv": Direction.RECEIVED,
    "send": Direction.SENT,
    "http": Direction.HTTP,
    "connect": Direction.CONNECT,
}


def _zstd_reader(path: StrPath, fh: IO[bytes]) -> io.RawIOBase:
    try:
        import zstandard  # optional dependency: only this format needs it
    except ImportError:
        raise ImportError(
            f"reading {os.fspath(path)} needs the 'zstandard' package for the cryptofeed v2 .jsonl.zst "
            "format: pip install 'rentrade[test]' or pip install zstandard"
        ) from None
    # The reader implements readinto(), which is all io.BufferedReader needs to split lines.
    return cast(io.RawIOBase, zstandard.ZstdDecompressor().stream_reader(fh))


def read_cryptofeed_v2(path: StrPath) -> Iterator[RecordedFrame]:
    """Read a cryptofeed v2 corpus (``*.jsonl.zst``), decompressing as it goes.

    Records are yielded in file order, which interleaves connections and is not strictly sorted by
    time. ``header`` records carry no frame and are skipped.

    Parameters
    ----------
    path : str or os.PathLike
        The ``.jsonl.zst`` file.

    Yields
    ------
    RecordedFrame
        With ``conn`` set to the record's connection id and ``url`` to its ``url`` or ``addr``.
        Binary frames (``b64``) are decoded to their bytes.

    Raises
    ------
    ImportError
        If ``zstandard`` is not installed.
    RecordingError
        On a record that is not valid JSON or lacks ``t``/``ts``.
    """
    # recv records carry no address of their own: they inherit their connection's (from its connect)
    conn_urls: dict[str, str] = {}
    with open(path, "rb") as raw_fh, _zstd_reader(path, raw_fh) as zfh:
        for number, raw in enumerate(io.BufferedReader(zfh), start=1):
            if not raw.strip():
                continue
            try:
                # The stdlib parser keeps ``ts`` as its decimal text (parse_float=str): orjson would
                # hand back a float and lose the exact digits.
                record = json.loads(raw, parse_float=str)
            except ValueError as exc:
                raise _bad_line(path, number, f"not JSON ({exc})") from None
            if not isinstance(record, dict):
                raise _bad_line(path, number, "expected a JSON object")
            kind = record.get("t")
            if kind == "header":
                continue
            direction = _V2_DIRECTIONS.get(kind) if isinstance(kind, str) else None
            if direction is None:
                raise _bad_line(path, number, f"unknown record type t={kind!r}")
            ts = record.get("ts")
            if not isinstance(ts, (str, int)):
                raise _bad_line(path, number, "missing numeric 'ts'")
            try:
                ts_ns = seconds_text_to_ns(str(ts))
            except ValueError as exc:
                raise _bad_line(path, number, str(exc)) from None
            if "data" in record:
                data = record["data"]
                payload = data.encode() if isinstance(data, str) else orjson.dumps(data)
            elif "b64" in record:
                payload = base64.b64decode(record["b64"])
            else:
                payload = b""
            conn = record.get("conn")
            url = record.get("url") or record.get("addr")
            if isinstance(conn, str):
                if isinstance(url, str):
                    conn_urls.setdefault(conn, url)
                else:
                    url = conn_urls.get(conn)
            yield RecordedFrame(
                ts_ns,
                payload,
                direction,
                url if isinstance(url, str) else None,
                conn if isinstance(conn, str) else None,
                number,
            )


# --------------------------------------------------------------------------------------------------
# Bybit historical orderbook.500 zip


def read_bybit_ob500(path: StrPath) -> Iterator[RecordedFrame]:
    """Read a Bybit historical ``ob500`` zip: each line one raw v5 ``orderbook.500`` message.

    The historical download records no receive time, so the message's own exchange ``ts`` (ms) stands
    in for ``ts_local_ns``.

    Parameters
    ----------
    path : str or os.PathLike
        The ``.zip`` file; every member is read, in archive order.

    Yields
    ------
    RecordedFrame
        One received frame per line.

    Raises
    ------
    RecordingError
        On a line that is not a JSON object with an integer ``ts``.
    """
    with zipfile.ZipFile(path) as archive:
        for member in archive.infolist():
            if member.is_dir():
                continue
            where = f"{os.fspath(path)}:{member.filename}"
            with archive.open(member) as fh:
                for number, raw in enumerate(fh, start=1):
                    line = raw.rstrip(b"\r\n")
                    if not line:
                        continue
                    try:
                        ts_ms = orjson.loads(line)["ts"]
                    except (orjson.JSONDecodeError, KeyError, TypeError):
                        raise _bad_line(where, number, "expected a JSON object with 'ts'") from None
                    if not isinstance(ts_ms, int):
                        raise _bad_line(where, number, f"'ts' must be integer ms, got {ts_ms!r}")
                    yield RecordedFrame(ts_ms * 1_000_000, line, Direction.RECEIVED, None, None, number)


# --------------------------------------------------------------------------------------------------
# detection


_GZIP_MAGIC = b"\x1f\x8b"
_ZSTD_MAGIC = b"\x28\xb5\x2f\xfd"
_ZIP_MAGIC = b"PK\x03\x04"
_HFT_FIRST_LINE = re.compile(rb"\d{16,20} [{\[]")


def _read_rentrade(path: StrPath) -> Iterator[RecordedFrame]:
    from rentrade.record import read_rtrec

    return read_rtrec(path)


_READERS = {
    RecordingFormat.HFTBACKTEST: read_hftbacktest,
    RecordingFormat.CRYPTOFEED_V1: read_cryptofeed_v1,
    RecordingFormat.CRYPTOFEED_V2: read_cryptofeed_v2,
    RecordingFormat.BYBIT_OB500: read_bybit_ob500,
    RecordingFormat.RENTRADE: _read_rentrade,
}
_SUPPORTED = ", ".join(f.value for f in RecordingFormat)


def detect_format(path: StrPath) -> RecordingFormat:
    """Tell which recording format a file is in, from its first bytes (and name where they agree).

    Parameters
    ----------
    path : str or os.PathLike
        The recording.

    Returns
    -------
    RecordingFormat

    Raises
    ------
    FileNotFoundError
        If the file does not exist.
    UnknownRecordingFormatError
        If the content matches none of the supported formats.
    """
    p = Path(path)
    with open(p, "rb") as fh:
        head = fh.read(4096)
    if head.startswith(_ZSTD_MAGIC):
        from rentrade.record import MAGIC

        with open(p, "rb") as fh:
            first = _zstd_reader(p, fh).read(len(MAGIC))
        return RecordingFormat.RENTRADE if first == MAGIC else RecordingFormat.CRYPTOFEED_V2
    if head.startswith(_ZIP_MAGIC):
        return RecordingFormat.BYBIT_OB500
    if head.startswith(_GZIP_MAGIC):
        with gzip.open(p, "rb") as gz:
            try:
                first = gz.readline(4096)
            except (OSError, EOFError) as exc:
                raise UnknownRecordingFormatError(f"{p}: gzip file cannot be read ({exc})") from None
        if _HFT_FIRST_LINE.match(first):
            return RecordingFormat.HFTBACKTEST
        raise UnknownRecordingFormatError(
            f"{p}: gzip file whose first line is not '<ts_ns> <json>' (hftbacktest); supported formats: "
            f"{_SUPPORTED}"
        )
    first_line = head.split(b"\n", 1)[0].rstrip(b"\r")
    if first_line and (
        _V1_RECEIVED.fullmatch(first_line)
        or _V1_WITH_URL.fullmatch(first_line)
        or _V1_CONNECT.fullmatch(first_line)
        # a long first line is cut at 4096 bytes: match its prefix only
        or _V1_WITH_URL.match(first_line)
        or _V1_RECEIVED.match(first_line)
    ):
        return RecordingFormat.CRYPTOFEED_V1
    raise UnknownRecordingFormatError(
        f"{p}: unknown recording format (first bytes {head[:40]!r}); supported formats: {_SUPPORTED}"
    )


def open_recording(path: StrPath, fmt: RecordingFormat | None = None) -> Iterator[RecordedFrame]:
    """Stream the frames of a recording in any supported format.

    Parameters
    ----------
    path : str or os.PathLike
        The recording file.
    fmt : RecordingFormat, optional
        Skip detection and read as this format.

    Returns
    -------
    Iterator[RecordedFrame]
        A lazy iterator; the file is opened on the first ``next()``.

    Raises
    ------
    UnknownRecordingFormatError
        If ``fmt`` is not given and the format cannot be detected.
    """
    return _READERS[fmt if fmt is not None else detect_format(path)](path)
