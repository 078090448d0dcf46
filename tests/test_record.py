"""``rentrade record`` / ``rentrade replay``: the .rtrec format round trip and replay of real recordings."""

from __future__ import annotations

from pathlib import Path

import orjson
import pytest

from rentrade import BookSet
from rentrade.cli import main
from rentrade.record import KIND_FRAME, Recorder, read_rtrec, read_rtrec_header, record_session
from rentrade.recordings import Direction, RecordingError, RecordingFormat, detect_format
from rentrade.sim.binance_usdm import SimBinanceUsdm
from rentrade.sim.market_source import synthetic_source
from rentrade.venues.binance_usdm.replay import replay_binance


def test_rtrec_round_trip(tmp_path: Path) -> None:
    path = tmp_path / "x.rtrec"
    with Recorder(path, {"venue": "test"}) as recorder:
        recorder.frame(b'{"a":1}', 1_700_000_000_000_000_001, conn=3)
        recorder.rest("http://h/fapi/v1/depth?symbol=X", b"{}", 1_700_000_000_000_000_002)
        recorder.write(KIND_FRAME, b"", 5)
    assert detect_format(path) is RecordingFormat.RENTRADE
    assert read_rtrec_header(path)["venue"] == "test"
    frames = list(read_rtrec(path))
    assert [f.payload for f in frames] == [b'{"a":1}', b"{}", b""]
    assert frames[0].ts_local_ns == 1_700_000_000_000_000_001 and frames[0].conn == "3"
    assert frames[1].direction is Direction.HTTP and frames[1].url == "http://h/fapi/v1/depth?symbol=X"


def test_rtrec_refuses_truncated_and_foreign_files(tmp_path: Path) -> None:
    import zstandard

    path = tmp_path / "x.rtrec"
    with Recorder(path) as recorder:
        recorder.frame(b"x" * 100, 1)
    raw = zstandard.ZstdDecompressor().stream_reader(path.open("rb")).read()
    (tmp_path / "cut.rtrec").write_bytes(zstandard.ZstdCompressor().compress(raw[:-10]))
    with pytest.raises(RecordingError, match="truncated"):
        list(read_rtrec(tmp_path / "cut.rtrec"))
    (tmp_path / "other.rtrec").write_bytes(zstandard.ZstdCompressor().compress(b"NOTMAGIC" + raw[8:]))
    with pytest.raises(RecordingError, match="magic"):
        list(read_rtrec(tmp_path / "other.rtrec"))


@pytest.mark.asyncio
async def test_record_from_the_simulated_venue_replays_to_the_venue_book(tmp_path: Path) -> None:
    source = synthetic_source(2, events=6000, seed=4, snapshot_levels=100, agg_trade=False)
    path = tmp_path / "sim.rtrec"
    async with SimBinanceUsdm(source) as venue:
        result = await record_session(
            path,
            [i.symbol for i in source.instruments],
            ws_url=venue.ws_url,
            rest_url=venue.rest_url,
            duration_s=1.5,
        )
        assert venue.done
        # every message, plus the subscription ack, exchangeInfo and the two snapshots
        assert result["records"] == len(source.messages) + 4
        replay = replay_binance(path)
        books = BookSet(replay.instruments, max_levels=1_000_000)
        books.apply_events(replay.events)
        for symbol, rep in replay.symbols.items():
            assert rep.gaps == 0 and rep.snapshots == 1
            recorded = books[rep.instrument_id]
            venue_book = venue.book(symbol)
            assert venue_book is not None
            assert recorded.seq == venue_book.seq
            assert (recorded.levels(0, 50) == venue_book.levels(0, 50)).all()
            assert (recorded.levels(1, 50) == venue_book.levels(1, 50)).all()


def test_replay_cli_on_shared_recordings(shared_data: Path, capsys: pytest.CaptureFixture[str]) -> None:
    folder = shared_data / "cryptofeed-master" / "sample_data"
    paths = [str(folder / "BINANCE_FUTURES.http.0.0"), str(folder / "BINANCE_FUTURES.ws.1.0")]
    assert main(["replay", *paths, "--json"]) == 0
    report = orjson.loads(capsys.readouterr().out)
    assert set(report) == {"SUSHIUSDT", "AKROUSDT", "KEEPUSDT", "CTKUSDT"}
    for row in report.values():
        assert row["gaps"] == 0 and row["bbo_compared"] > 0 and row["bbo_matched"] == row["bbo_compared"]
        assert len(row["bids"]) == 5 and row["bids"][0][0] < row["asks"][0][0].rjust(len(row["bids"][0][0]))


def test_record_cli_with_an_in_process_venue(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    path = tmp_path / "cli.rtrec"
    argv = ["record", "--sim", "2", "--sim-events", "6000", "--out", str(path), "--max-frames", "1000"]
    assert main([*argv, "--duration", "20"]) == 0
    assert "records" in capsys.readouterr().out
    assert main(["replay", str(path)]) == 0
    assert "BTCUSDT" in capsys.readouterr().out
