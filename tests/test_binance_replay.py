"""replay_binance on small synthetic recordings (merging, snapshot attribution, gaps, errors), and on
the real recordings against the pure-Python reference (tests/binance_replay_reference.py)."""

from __future__ import annotations

import gzip
import warnings
from pathlib import Path

import numpy as np
import orjson
import pytest

from binance_replay_reference import reference_replay
from rentrade import Instrument
from rentrade.events import FLAG_LAST_IN_MESSAGE, KIND_CLEAR, KIND_DELTA, KIND_SNAPSHOT_LEVEL
from rentrade.recordings import RecordingError
from rentrade.venues.binance_usdm.book_sync import FUTURES_RULE, SPOT_RULE
from rentrade.venues.binance_usdm.replay import cross_check_bbo, recorded_instruments, replay_binance

T0 = 1_723_161_255_000_000_000


def depth(symbol: str, first: int, last: int, prev: int | None, bids: list[list[str]]) -> dict[str, object]:
    data: dict[str, object] = {
        "e": "depthUpdate",
        "E": 1,
        "s": symbol,
        "U": first,
        "u": last,
        "b": bids,
        "a": [],
    }
    if prev is not None:
        data["pu"] = prev
    return {"stream": f"{symbol.lower()}@depth", "data": data}


def quote(symbol: str, u: int, bid: tuple[str, str], ask: tuple[str, str]) -> dict[str, object]:
    data = {"u": u, "s": symbol, "b": bid[0], "B": bid[1], "a": ask[0], "A": ask[1]}
    return {"stream": f"{symbol.lower()}@bookTicker", "data": data}


def snapshot(last_update_id: int, bids: list[list[str]], asks: list[list[str]]) -> dict[str, object]:
    return {"lastUpdateId": last_update_id, "bids": bids, "asks": asks}


def write(path: Path, records: list[tuple[int, dict[str, object]]]) -> Path:
    with gzip.open(path, "wb") as fh:
        for ts, record in records:
            fh.write(b"%d %s\n" % (T0 + ts, orjson.dumps(record)))
    return path


def test_sync_applied_gap_marked_and_counted(tmp_path: Path) -> None:
    path = write(
        tmp_path / "xusdt.gz",
        [
            (1, depth("XUSDT", 5, 9, 4, [["1.0", "1"]])),  # older than the snapshot: stale
            (2, depth("XUSDT", 10, 12, 9, [["1.1", "2"]])),  # straddles 11
            (3, snapshot(11, [["1.0", "1"], ["1.1", "5"]], [["1.3", "7"]])),
            (4, quote("XUSDT", 12, ("1.1", "2"), ("1.3", "7"))),  # matches the book after diff 10-12
            (5, depth("XUSDT", 13, 15, 12, [["1.2", "3"]])),
            (6, quote("XUSDT", 15, ("1.2", "3"), ("1.3", "7"))),
            (7, depth("XUSDT", 20, 22, 18, [["1.2", "0"]])),  # pu 18 != 15: gap
            (8, depth("XUSDT", 23, 25, 22, [["1.2", "4"]])),  # buffered, never applied
        ],
    )
    replay = replay_binance(path)
    sym = replay.symbols["XUSDT"]
    assert sym.rule is FUTURES_RULE
    assert (sym.applied, sym.dropped_stale, sym.gaps, sym.snapshots, sym.unsynced_at_end) == (2, 1, 1, 1, 2)
    ev = sym.events
    assert list(ev["kind"]) == [KIND_CLEAR, *[KIND_SNAPSHOT_LEVEL] * 3, KIND_DELTA, KIND_DELTA, KIND_CLEAR]
    assert list(ev["seq"]) == [11, 11, 11, 11, 12, 15, 0]  # the gap's CLEAR empties the book, seq 0
    assert list(ev["flags"] & FLAG_LAST_IN_MESSAGE) == [0, 0, 0, 1, 1, 1, 1]
    check = cross_check_bbo(sym)
    assert (check.compared, check.matched, check.crossed) == (2, 2, 0)
    assert len(sym.checkpoints) == 2 and list(sym.checkpoints["seq"]) == [12, 15]


def test_spot_rule_chosen_without_pu_and_snapshot_attributed_per_file(tmp_path: Path) -> None:
    a = write(
        tmp_path / "a.gz",
        [(1, depth("AUSDT", 10, 12, None, [["2.0", "1"]])), (4, snapshot(10, [["1.9", "1"]], []))],
    )
    b = write(
        tmp_path / "b.gz",
        [(2, depth("BUSDT", 10, 12, None, [["3.0", "1"]])), (3, snapshot(11, [["2.9", "1"]], []))],
    )
    replay = replay_binance([a, b])
    assert list(replay.symbols) == ["AUSDT", "BUSDT"]
    assert all(s.rule is SPOT_RULE for s in replay.symbols.values())
    assert replay.applied == 2 and replay.gaps == 0
    # merged by local time across files: B's snapshot (t=3) is applied before A's (t=4)
    assert list(replay.events["instrument_id"]) == [1, 1, 1, 0, 0, 0]


def test_snapshot_needs_a_symbol_when_the_file_has_several(tmp_path: Path) -> None:
    path = write(
        tmp_path / "two.gz",
        [
            (1, depth("AUSDT", 1, 2, 0, [["1", "1"]])),
            (2, depth("BUSDT", 1, 2, 0, [["1", "1"]])),
            (3, snapshot(1, [], [])),
        ],
    )
    with pytest.raises(
        RecordingError, match=r"bad line 3 .*names no symbol.*\['AUSDT', 'BUSDT'\].*snapshot_symbol="
    ):
        replay_binance(path)
    assert replay_binance(path, snapshot_symbol="BUSDT").symbols["BUSDT"].snapshots == 1


def test_given_instruments_and_forced_rule(tmp_path: Path) -> None:
    path = write(tmp_path / "x.gz", [(1, snapshot(5, [["1.00", "1"]], [])), (2, depth("XUSDT", 6, 6, 5, []))])
    replay = replay_binance(path, instruments=[Instrument("XUSDT", "v", "0.01", "1")], rule=SPOT_RULE)
    sym = replay.symbols["XUSDT"]
    assert sym.rule is SPOT_RULE and sym.instrument.tick_size == "0.01"
    assert (sym.applied, sym.empty_diffs) == (1, 1)  # a diff with no level advances u but adds no record
    assert list(sym.events["px_ticks"]) == [0, 100]


def test_bad_frame_names_file_and_line(tmp_path: Path) -> None:
    path = write(
        tmp_path / "x.gz",
        [(1, depth("XUSDT", 1, 1, 0, [["1.0", "1"]])), (2, depth("XUSDT", 2, 2, 1, [["1.05", "1"]]))],
    )
    with pytest.raises(
        RecordingError,
        match=r"bad line 2 in file .*x\.gz: XUSDT depthUpdate: bad_decimal in field 'b' value '1\.05'.*"
        r"pass instruments=",
    ):
        replay_binance(path, instruments=[Instrument("XUSDT", "v", "0.1", "1")])


def test_not_a_binance_recording(tmp_path: Path) -> None:
    path = write(tmp_path / "bybit.gz", [(1, {"topic": "orderbook.1.X", "type": "snapshot", "data": {}})])
    with pytest.raises(RecordingError, match="is this a Binance recording"):
        replay_binance(path)


def test_recorded_instruments_are_the_ones_replay_starts_from(tmp_path: Path) -> None:
    path = write(
        tmp_path / "x.gz",
        [
            (1, snapshot(5, [["1.250", "3"]], [["1.5", "0.25"]])),
            (2, depth("XUSDT", 6, 6, 5, [["1.25", "2.5"]])),
        ],
    )
    (found,) = recorded_instruments(path)
    assert (found.symbol, found.tick_size, found.lot_size) == ("XUSDT", "0.001", "0.01")
    assert replay_binance(path).instruments == [found]
    bybit = write(tmp_path / "bybit.gz", [(1, {"topic": "orderbook.1.X", "type": "snapshot", "data": {}})])
    with pytest.raises(RecordingError, match="is this a Binance recording"):
        recorded_instruments(bybit)


def test_exchange_info_policy_is_checked(tmp_path: Path) -> None:
    path = write(tmp_path / "x.gz", [(1, depth("XUSDT", 1, 1, 0, [["1.0", "1"]]))])
    with pytest.raises(ValueError, match="exchange_info must be 'prefer', 'strict' or 'ignore'"):
        replay_binance(path, exchange_info="sometimes")  # type: ignore[arg-type]


@pytest.mark.recordings
@pytest.mark.parametrize(
    "relative",
    [
        "hftbacktest/examples/usdm/btcusdt_20240808.gz",
        "hftbacktest/examples/usdm/ethusdt_20240808.gz",
        "hftbacktest/examples/spot/btcusdt_20240808.gz",
        "cryptofeed-master/sample_data/BINANCE_FUTURES.*",
    ],
    ids=["usdm-btcusdt", "usdm-ethusdt", "spot-btcusdt", "cryptofeed-futures"],
)
def test_replay_equals_the_python_reference(shared_data: Path, relative: str) -> None:
    # The C++ feed (replay_binance) and the pure-Python decoder + BookSync give the same records,
    # quotes, trades and counts on every recording, with the instruments replay_binance chose.
    paths = sorted(shared_data.glob(relative))
    assert paths
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", RuntimeWarning)  # cryptofeed's stale CTKUSDT exchangeInfo
        ours = replay_binance(paths)
    reference = reference_replay(paths, ours.instruments)
    assert list(ours.symbols) == list(reference.symbols)
    assert np.array_equal(ours.events, reference.events)
    for symbol, mine in ours.symbols.items():
        theirs = reference.symbols[symbol]
        assert mine.rule is theirs.rule
        counts = ("applied", "dropped_stale", "gaps", "snapshots", "unsynced_at_end", "empty_diffs")
        assert [getattr(mine, c) for c in counts] == [getattr(theirs, c) for c in counts], symbol
        assert mine.snapshots >= 1 and mine.applied > 0
        for name in ("events", "trades", "checkpoints"):
            a, b = getattr(mine, name), getattr(theirs, name)
            assert a.dtype == b.dtype and a.size == b.size, (symbol, name)
            for field in a.dtype.names or ():
                assert np.array_equal(a[field], b[field]), (symbol, name, field)
