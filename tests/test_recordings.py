"""Readers for recorded exchange frames: exact timestamps, every record shape, detection, errors."""

from __future__ import annotations

import gzip
import sys
import zipfile
from collections import Counter
from pathlib import Path

import pytest

from rentrade.recordings import (
    Direction,
    RecordedFrame,
    RecordingError,
    RecordingFormat,
    UnknownRecordingFormatError,
    detect_format,
    open_recording,
    read_bybit_ob500,
    read_cryptofeed_v1,
    read_cryptofeed_v2,
    read_hftbacktest,
    seconds_text_to_ns,
)

# --------------------------------------------------------------------------------------------------
# timestamps


@pytest.mark.parametrize(
    ("text", "ns"),
    [
        ("1626992741.3105128", 1_626_992_741_310_512_800),
        ("1626992740.179554", 1_626_992_740_179_554_000),
        ("1626992740", 1_626_992_740_000_000_000),
        ("1626992740.", 1_626_992_740_000_000_000),
        ("0.000000001", 1),
        ("1786310817.601629", 1_786_310_817_601_629_000),
        ("1.1234567890", 1_123_456_789),  # a trailing zero past ns is still exact
        (b"12.5", 12_500_000_000),
    ],
)
def test_seconds_text_to_ns_is_exact(text: str | bytes, ns: int) -> None:
    assert seconds_text_to_ns(text) == ns


def test_seconds_text_to_ns_differs_from_float_where_float_rounds() -> None:
    # The reason for parsing text: a float cannot hold 1626992741.3105128 to the nanosecond.
    assert int(float("1626992741.3105128") * 1e9) != seconds_text_to_ns("1626992741.3105128")


@pytest.mark.parametrize("text", ["1.0000000001", "1e9", "-1.5", "abc", "", "1.2.3", "nan"])
def test_seconds_text_to_ns_rejects(text: str) -> None:
    with pytest.raises(ValueError, match="timestamp"):
        seconds_text_to_ns(text)


# --------------------------------------------------------------------------------------------------
# synthetic files, one per format


V1_LINES = [
    b"wss://example.test/stream?streams=a <-> 1626992740.179554",
    b'wss://example.test/stream?streams=a <- 1626992740.5: {"method":"SUBSCRIBE"}',
    b'1626992741.06217: {"stream":"a","data":{"x":1}}',
    b'https://example.test/depth?symbol=X -> 1626992741.301402: {"lastUpdateId":5}',
    b"",
    b'configuration: {"l2_book":["X"]}',
]


def test_cryptofeed_v1_every_record_shape(tmp_path: Path) -> None:
    path = tmp_path / "EX.ws.1.0"
    path.write_bytes(b"\n".join(V1_LINES) + b"\n")
    frames = list(read_cryptofeed_v1(path))
    assert [f.direction for f in frames] == [
        Direction.CONNECT,
        Direction.SENT,
        Direction.RECEIVED,
        Direction.HTTP,
    ]
    connect, sent, received, http = frames
    assert connect == RecordedFrame(
        1_626_992_740_179_554_000, b"", Direction.CONNECT, "wss://example.test/stream?streams=a", None, 1
    )
    assert sent.payload == b'{"method":"SUBSCRIBE"}' and sent.ts_local_ns == 1_626_992_740_500_000_000
    assert received.payload == b'{"stream":"a","data":{"x":1}}' and received.url is None
    assert received.line == 3
    assert http.url == "https://example.test/depth?symbol=X" and http.payload == b'{"lastUpdateId":5}'
    assert detect_format(path) is RecordingFormat.CRYPTOFEED_V1


def test_cryptofeed_v1_bad_line_names_file_and_line(tmp_path: Path) -> None:
    path = tmp_path / "EX.ws.1.0"
    path.write_bytes(V1_LINES[2] + b"\nthis is not a record\n")
    with pytest.raises(RecordingError, match=r"bad line 2 in file .*EX\.ws\.1\.0: not a cryptofeed v1"):
        list(read_cryptofeed_v1(path))


def test_cryptofeed_v1_sub_nanosecond_timestamp_is_an_error(tmp_path: Path) -> None:
    path = tmp_path / "EX.ws.1.0"
    path.write_bytes(b'1626992741.0621700001: {"a":1}\n')
    with pytest.raises(RecordingError, match=r"bad line 1 .*finer than 1 ns"):
        list(read_cryptofeed_v1(path))


def test_hftbacktest_reader(tmp_path: Path) -> None:
    path = tmp_path / "btcusdt_20240808.gz"
    with gzip.open(path, "wb") as fh:
        fh.write(b'1723161255030314667 {"stream":"s","data":{}}\n1723161255319702566 {"lastUpdateId":1}\n')
    frames = list(read_hftbacktest(path))
    assert [(f.ts_local_ns, f.payload, f.line) for f in frames] == [
        (1_723_161_255_030_314_667, b'{"stream":"s","data":{}}', 1),
        (1_723_161_255_319_702_566, b'{"lastUpdateId":1}', 2),
    ]
    assert detect_format(path) is RecordingFormat.HFTBACKTEST


def test_hftbacktest_bad_line(tmp_path: Path) -> None:
    path = tmp_path / "x.gz"
    with gzip.open(path, "wb") as fh:
        fh.write(b'1 {"a":1}\n12.5 {"a":1}\n')
    with pytest.raises(RecordingError, match=r"bad line 2 in file .*x\.gz: expected '<ts_local_ns> <json>'"):
        list(read_hftbacktest(path))


def _write_zst(path: Path, lines: list[bytes]) -> None:
    zstandard = pytest.importorskip("zstandard")
    path.write_bytes(zstandard.ZstdCompressor().compress(b"\n".join(lines) + b"\n"))


def test_cryptofeed_v2_reader(tmp_path: Path) -> None:
    path = tmp_path / "EX.jsonl.zst"
    _write_zst(
        path,
        [
            b'{"t":"header","format":2,"exchange":"EX"}',
            b'{"t":"http","conn":"EX.http.1","ts":1786310817.601629,"url":"https://x.test/i","data":"{}"}',
            b'{"t":"connect","conn":"EX.ws.2","ts":1786310818.2235148,"addr":"wss://x.test/ws"}',
            b'{"t":"send","conn":"EX.ws.2","ts":1786310819.228447,"addr":"wss://x.test/ws","data":"sub"}',
            b'{"t":"recv","conn":"EX.ws.2","ts":1786310819.526357,"data":"{\\"a\\":1}"}',
            b'{"t":"recv","conn":"EX.ws.2","ts":1786310820,"b64":"AAEC"}',
        ],
    )
    frames = list(read_cryptofeed_v2(path))
    assert [f.direction for f in frames] == [
        Direction.HTTP,
        Direction.CONNECT,
        Direction.SENT,
        Direction.RECEIVED,
        Direction.RECEIVED,
    ]
    assert frames[0].ts_local_ns == 1_786_310_817_601_629_000 and frames[0].url == "https://x.test/i"
    assert frames[3] == RecordedFrame(
        1_786_310_819_526_357_000, b'{"a":1}', Direction.RECEIVED, "wss://x.test/ws", "EX.ws.2", 5
    )
    assert frames[4].payload == b"\x00\x01\x02" and frames[4].ts_local_ns == 1_786_310_820_000_000_000
    assert detect_format(path) is RecordingFormat.CRYPTOFEED_V2


def test_cryptofeed_v2_bad_record(tmp_path: Path) -> None:
    path = tmp_path / "EX.jsonl.zst"
    _write_zst(path, [b'{"t":"recv","ts":1.5,"data":"x"}', b'{"t":"weird","ts":1}'])
    with pytest.raises(RecordingError, match=r"bad line 2 in file .*: unknown record type t='weird'"):
        list(read_cryptofeed_v2(path))


def test_cryptofeed_v2_without_zstandard_says_what_to_install(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    path = tmp_path / "EX.jsonl.zst"
    path.write_bytes(b"\x28\xb5\x2f\xfd")
    monkeypatch.setitem(sys.modules, "zstandard", None)  # makes `import zstandard` raise ImportError
    with pytest.raises(ImportError, match="needs the 'zstandard' package"):
        next(read_cryptofeed_v2(path))


def test_bybit_ob500_reader(tmp_path: Path) -> None:
    path = tmp_path / "x-ob500.data.zip"
    with zipfile.ZipFile(path, "w") as archive:
        archive.writestr(
            "2024-12-01_XRPUSDT_ob500.data",
            b'{"topic":"orderbook.500.XRPUSDT","ts":1733011200691,"data":{}}\n'
            b'{"topic":"orderbook.500.XRPUSDT","ts":1733011200693,"data":{}}\n',
        )
    frames = list(read_bybit_ob500(path))
    assert [f.ts_local_ns for f in frames] == [1_733_011_200_691_000_000, 1_733_011_200_693_000_000]
    assert detect_format(path) is RecordingFormat.BYBIT_OB500


def test_unknown_format_is_a_clear_error(tmp_path: Path) -> None:
    path = tmp_path / "notes.txt"
    path.write_text("hello world\n")
    with pytest.raises(
        UnknownRecordingFormatError, match=r"unknown recording format .*supported formats: hftbacktest"
    ):
        open_recording(path)
    gz = tmp_path / "other.gz"
    with gzip.open(gz, "wb") as fh:
        fh.write(b"a,b,c\n")
    with pytest.raises(UnknownRecordingFormatError, match="not '<ts_ns> <json>'"):
        open_recording(gz)


def test_readers_stream_lazily(tmp_path: Path) -> None:
    path = tmp_path / "big.gz"
    with gzip.open(path, "wb") as fh:
        fh.write(b'1723161255030314667 {"a":1}\n' + b"garbage\n")
    frames = open_recording(path)
    first = next(frames)  # the bad second line is not read yet: nothing is loaded up front
    assert first.payload == b'{"a":1}'
    with pytest.raises(RecordingError, match="bad line 2"):
        next(frames)


# --------------------------------------------------------------------------------------------------
# the real recordings (counts from ../shared/data/MANIFEST.md)


@pytest.mark.recordings
@pytest.mark.parametrize(
    ("relative", "fmt", "expected"),
    [
        (
            "cryptofeed-master/sample_data/BINANCE_FUTURES.ws.1.0",
            RecordingFormat.CRYPTOFEED_V1,
            {Direction.CONNECT: 1, Direction.RECEIVED: 1535},
        ),
        (
            "cryptofeed-master/sample_data/BINANCE_FUTURES.http.0.0",
            RecordingFormat.CRYPTOFEED_V1,
            {Direction.HTTP: 4},
        ),
        (
            "cryptofeed-master/sample_data/BINANCE_FUTURES.0",
            RecordingFormat.CRYPTOFEED_V1,
            {Direction.HTTP: 1},
        ),
        (
            "cryptofeed-master/sample_data/OKX.ws.1.0",
            RecordingFormat.CRYPTOFEED_V1,
            {Direction.CONNECT: 1, Direction.SENT: 3, Direction.RECEIVED: 410},
        ),
        (
            "cryptofeed-master/sample_data/KRAKEN_FUTURES.ws.1.0",
            RecordingFormat.CRYPTOFEED_V1,
            {Direction.CONNECT: 1, Direction.SENT: 3, Direction.RECEIVED: 7175},
        ),
        (
            "hftbacktest/examples/usdm/btcusdt_20240808.gz",
            RecordingFormat.HFTBACKTEST,
            {Direction.RECEIVED: 93954},
        ),
        (
            "hftbacktest/examples/usdm/ethusdt_20240808.gz",
            RecordingFormat.HFTBACKTEST,
            {Direction.RECEIVED: 74655},
        ),
        (
            "hftbacktest/examples/spot/btcusdt_20240808.gz",
            RecordingFormat.HFTBACKTEST,
            {Direction.RECEIVED: 41249},
        ),
        (
            "cryptofeed-v3/sample_data/BYBIT.jsonl.zst",
            RecordingFormat.CRYPTOFEED_V2,
            {Direction.HTTP: 2, Direction.CONNECT: 2, Direction.SENT: 24, Direction.RECEIVED: 3227},
        ),
        (
            "cryptofeed-v3/sample_data/COINBASE.jsonl.zst",
            RecordingFormat.CRYPTOFEED_V2,
            {Direction.HTTP: 1, Direction.CONNECT: 1, Direction.SENT: 5, Direction.RECEIVED: 1030},
        ),
        (
            "nautilus_trader/tests/test_data/bybit/xrpusdt-ob500.data.zip",
            RecordingFormat.BYBIT_OB500,
            {Direction.RECEIVED: 50},
        ),
    ],
)
def test_real_recordings(
    shared_data: Path, relative: str, fmt: RecordingFormat, expected: dict[Direction, int]
) -> None:
    path = shared_data / relative
    if fmt is RecordingFormat.CRYPTOFEED_V2:
        pytest.importorskip("zstandard")
    assert detect_format(path) is fmt
    counts: Counter[Direction] = Counter()
    previous_line = 0
    for frame in open_recording(path):
        counts[frame.direction] += 1
        assert frame.line > previous_line
        previous_line = frame.line
        assert frame.ts_local_ns > 1_600_000_000 * 10**9  # after 2020: seconds were not mistaken for ns
        if frame.direction is not Direction.CONNECT:
            assert frame.payload[:1] in (b"{", b"["), frame
    assert dict(counts) == expected


@pytest.mark.recordings
def test_real_v1_timestamps_are_exact(shared_data: Path) -> None:
    frames = open_recording(shared_data / "cryptofeed-master/sample_data/BINANCE_FUTURES.ws.1.0")
    assert next(frames).ts_local_ns == 1_626_992_740_179_554_000
    assert next(frames).ts_local_ns == 1_626_992_741_062_170_000
