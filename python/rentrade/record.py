"""Record raw market-data frames with their local receive times: ``rentrade record``.

File format (``.rtrec``), version 1. The whole file is one zstd stream (any zstd tool decompresses
it); the decompressed bytes are::

    magic    8 bytes   b"RTREC\\x00\\x01\\n"   (format name, NUL, version 1, newline)
    hlen     u32 LE    length of the header
    header   hlen bytes of UTF-8 JSON: {"format": "rentrade-record", "version": 1, "venue": ...,
                       "created_ns": ..., "ws_url": ..., "rest_url": ..., "symbols": [...],
                       "channels": [...]}
    records, each:
      kind        u8      1 = WebSocket frame received, 2 = REST response body, 3 = connect, 4 = sent
      conn        u16 LE  connection index (0 for REST; ``rentrade record`` writes 0 for every frame:
                          the session's frame hook does not say which connection a frame came on)
      ts_local_ns i64 LE  local receive time, ns since the Unix epoch (time.time_ns())
      url_len     u16 LE  length of the URL (REST request URL, connect URL; 0 for frames)
      data_len    u32 LE  length of the payload
      url         url_len bytes (UTF-8)
      data        data_len bytes: the frame or body exactly as received

Records are in the order they were received. Frames are written before anything parses them, so a
recording holds what the venue sent, malformed frames included. :func:`read_rtrec` streams a file
back as :class:`rentrade.recordings.RecordedFrame`; ``rentrade.recordings.open_recording`` detects the
format, so ``rentrade replay`` and :func:`~rentrade.venues.binance_usdm.replay.replay_binance` read
these files like the recordings in ``../shared/data``.
"""

from __future__ import annotations

import contextlib
import os
import struct
import time
from collections.abc import Iterator, Mapping
from types import TracebackType
from typing import IO, Any, Final

import orjson

from rentrade.recordings import Direction, RecordedFrame, RecordingError

__all__ = [
    "KIND_CONNECT",
    "KIND_FRAME",
    "KIND_REST",
    "KIND_SENT",
    "MAGIC",
    "Recorder",
    "read_rtrec",
    "read_rtrec_header",
]

StrPath = str | os.PathLike[str]

MAGIC: Final = b"RTREC\x00\x01\n"
KIND_FRAME: Final = 1
KIND_REST: Final = 2
KIND_CONNECT: Final = 3
KIND_SENT: Final = 4
_RECORD: Final = struct.Struct("<BHqHI")
_HLEN: Final = struct.Struct("<I")
_DIRECTIONS: Final = {
    KIND_FRAME: Direction.RECEIVED,
    KIND_REST: Direction.HTTP,
    KIND_CONNECT: Direction.CONNECT,
    KIND_SENT: Direction.SENT,
}


def _zstd() -> Any:
    try:
        import zstandard
    except ImportError:  # pragma: no cover - a declared dependency
        raise RecordingError("recording needs the 'zstandard' package: pip install zstandard") from None
    return zstandard


class Recorder:
    """Writes a ``.rtrec`` file (see the module docstring).

    Parameters
    ----------
    path : str or os.PathLike
        The file to create (overwritten).
    header : mapping
        Extra header fields (venue, URLs, symbols...); ``format``, ``version`` and ``created_ns``
        are added.
    level : int
        zstd compression level (3 is fast and about 10x on JSON frames).

    Notes
    -----
    Cost per record: one ``struct.pack`` and a buffered compressor write, about 1 µs.
    """

    def __init__(self, path: StrPath, header: Mapping[str, Any] | None = None, level: int = 3) -> None:
        zstandard = _zstd()
        self.path = os.fspath(path)
        self._raw: IO[bytes] = open(self.path, "wb")  # noqa: SIM115 - closed in close()
        self._out = zstandard.ZstdCompressor(level=level).stream_writer(self._raw)
        head = orjson.dumps(
            {"format": "rentrade-record", "version": 1, "created_ns": time.time_ns(), **dict(header or {})}
        )
        self._out.write(MAGIC + _HLEN.pack(len(head)) + head)
        self.records = 0
        self.bytes = 0

    def write(self, kind: int, data: bytes, ts_local_ns: int, conn: int = 0, url: str = "") -> None:
        """Append one record."""
        url_bytes = url.encode()
        self._out.write(_RECORD.pack(kind, conn, ts_local_ns, len(url_bytes), len(data)) + url_bytes + data)
        self.records += 1
        self.bytes += len(data)

    def frame(self, data: bytes, ts_local_ns: int, conn: int = 0) -> None:
        """Append a received WebSocket frame."""
        self.write(KIND_FRAME, data, ts_local_ns, conn)

    def rest(self, url: str, body: bytes, ts_local_ns: int) -> None:
        """Append a REST response body with its request URL."""
        self.write(KIND_REST, body, ts_local_ns, 0, url)

    def close(self) -> None:
        """Finish the zstd stream and close the file."""
        if self._raw.closed:
            return
        self._out.close()  # closes the underlying file too
        self._raw.close()

    def __enter__(self) -> Recorder:
        return self

    def __exit__(
        self, kind: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        self.close()


def _exact(stream: IO[bytes], size: int, path: StrPath, what: str) -> bytes:
    data = stream.read(size)
    if len(data) != size:
        raise RecordingError(f"{os.fspath(path)}: truncated {what} ({len(data)} of {size} bytes)")
    return bytes(data)


def read_rtrec_header(path: StrPath) -> dict[str, Any]:
    """Return the JSON header of a ``.rtrec`` file."""
    with open(path, "rb") as fh:
        reader = _zstd().ZstdDecompressor().stream_reader(fh)
        return _header(reader, path)


def _header(reader: IO[bytes], path: StrPath) -> dict[str, Any]:
    if _exact(reader, len(MAGIC), path, "magic") != MAGIC:
        raise RecordingError(f"{os.fspath(path)} is not a rentrade recording (bad magic)")
    (hlen,) = _HLEN.unpack(_exact(reader, _HLEN.size, path, "header length"))
    header = orjson.loads(_exact(reader, hlen, path, "header"))
    if not isinstance(header, dict) or header.get("version") != 1:
        raise RecordingError(f"{os.fspath(path)}: unsupported rentrade recording header {header!r}")
    return header


def read_rtrec(path: StrPath) -> Iterator[RecordedFrame]:
    """Stream the records of a ``.rtrec`` file as :class:`~rentrade.recordings.RecordedFrame`.

    ``line`` is the 1-based record number; ``conn`` the connection index as text.

    Raises
    ------
    RecordingError
        On a bad magic, an unknown record kind or a truncated file.
    """
    with open(path, "rb") as fh:
        reader = _zstd().ZstdDecompressor().stream_reader(fh)
        _header(reader, path)
        number = 0
        while True:
            head = reader.read(_RECORD.size)
            if not head:
                return
            if len(head) != _RECORD.size:
                raise RecordingError(f"{os.fspath(path)}: truncated record {number + 1}")
            number += 1
            kind, conn, ts_local_ns, url_len, data_len = _RECORD.unpack(head)
            if kind not in _DIRECTIONS:
                raise RecordingError(f"{os.fspath(path)}: record {number} has unknown kind {kind}")
            url = _exact(reader, url_len, path, f"record {number} url").decode() if url_len else None
            data = _exact(reader, data_len, path, f"record {number} data")
            yield RecordedFrame(ts_local_ns, data, _DIRECTIONS[kind], url, str(conn), number)


async def record_session(
    path: StrPath,
    symbols: list[str],
    *,
    ws_url: str,
    rest_url: str,
    channels: tuple[str, ...] = ("depth@100ms", "bookTicker", "trade"),
    duration_s: float = 10.0,
    max_frames: int | None = None,
) -> dict[str, Any]:
    """Run a :class:`~rentrade.venues.binance_usdm.session.BinanceUsdmSession` and record it.

    Every received frame and every REST response (exchangeInfo, depth snapshots) is written with its
    local receive time. The session keeps its books in sync meanwhile (so the recording contains the
    snapshots a replay needs).

    Returns
    -------
    dict
        ``records``, ``bytes`` (payload bytes before compression), ``file_bytes`` and the session stats.
    """
    import asyncio

    from rentrade.venues.binance_usdm.session import BinanceUsdmSession

    recorder = Recorder(
        path,
        {
            "venue": "binance_usdm",
            "ws_url": ws_url,
            "rest_url": rest_url,
            "symbols": symbols,
            "channels": channels,
        },
    )
    done = asyncio.Event()

    def on_frame(data: bytes, ts_local_ns: int, status: int) -> None:
        recorder.frame(data, ts_local_ns)
        if max_frames is not None and recorder.records >= max_frames:
            done.set()

    session = BinanceUsdmSession(
        symbols, channels=channels, ws_url=ws_url, rest_url=rest_url, on_frame=on_frame, on_rest=recorder.rest
    )
    try:
        await session.start()
        with contextlib.suppress(asyncio.TimeoutError):
            await asyncio.wait_for(done.wait(), duration_s)
        stats = session.stats()
    finally:
        await session.stop()
        recorder.close()
    return {
        "records": recorder.records,
        "bytes": recorder.bytes,
        "file_bytes": os.path.getsize(path),
        "session": stats,
    }
