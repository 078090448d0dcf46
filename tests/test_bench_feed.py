"""The Binance feed stage of ``rentrade bench``: runs, checks its work, reports (not timed here)."""

from __future__ import annotations

from pathlib import Path

import orjson
import pytest

from rentrade import BinanceFeed, FrameStatus, SyncState
from rentrade.bench import feed_bench
from rentrade.cli import main


def test_synthetic_frames_are_a_clean_usdm_stream() -> None:
    frames = feed_bench.synthetic_frames(count=300, seed=3)
    feed = BinanceFeed([frames.instrument], market="usdm")
    assert feed.apply_snapshot("BTCUSDT", frames.frames[0]) is FrameStatus.OK
    statuses = {feed.on_frame(frame, 0) for frame in frames.frames[1:]}
    assert statuses == {FrameStatus.OK}
    stats = feed.stats()
    assert (stats["applied_diffs"], stats["gaps"], stats["book_tickers"]) == (300, 0, 300)
    assert feed.state("BTCUSDT") is SyncState.LIVE
    # Every depth frame has exactly 20 levels.
    run = feed_bench.core_run(frames, passes=1)
    assert run["depth_frames"] == 300 and run["depth_levels"] == 300 * feed_bench.SYNTHETIC_LEVELS


def test_peers_end_with_rentrade_book() -> None:
    frames = feed_bench.synthetic_frames(count=200, seed=5)
    expected = feed_bench.reference_top(frames)
    for way in (feed_bench.cryptofeed_style_samples, feed_bench.ccxt_style_samples):
        samples = way(frames)
        assert samples.top == expected
        assert samples.depth_ns.size == 200 and samples.ticker_ns.size == 200


def test_only_feed_json(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["bench", "--only-feed", "--repeat", "1", "--no-peers", "--json"]) == 0
    report = orjson.loads(capsys.readouterr().out)
    stages = {stage["stage"]: stage for stage in report["stages"]}
    assert set(stages) == {
        "binance depth frame -> book (C++)",
        "binance bookTicker frame (C++)",
        "rentrade BinanceFeed.on_frame (Python call): depth",
        "rentrade BinanceFeed.on_frame (Python call): bookTicker",
    }
    for stage in stages.values():
        assert stage["samples"] > 0 and 0 < stage["p50_ns"] <= stage["p99_ns"] <= stage["max_ns"]
    assert (
        "20,000 depth frames applied, 20.0 levels each" in stages["binance depth frame -> book (C++)"]["note"]
    )


@pytest.mark.recordings
def test_only_feed_on_a_recording(shared_data: Path, capsys: pytest.CaptureFixture[str]) -> None:
    recording = shared_data / "hftbacktest/examples/spot/btcusdt_20240808.gz"
    args = ["bench", "--only-feed", "--repeat", "1", "--no-peers", "--json", "--feed-data", str(recording)]
    assert (
        main([*args, "--feed-market", "spot", "--feed-tick-size", "0.01", "--feed-lot-size", "0.00000001"])
        == 0
    )
    report = orjson.loads(capsys.readouterr().out)
    core = next(s for s in report["stages"] if s["stage"] == "binance depth frame -> book (C++)")
    # 3,449 diffs are applied in all (test_real_data_books.py); one of them arrived before the snapshot
    # and is applied inside apply_snapshot, which is not timed.
    assert "3,448 depth frames applied" in core["note"]
    assert main([*args]) == 2  # no sizes given
    assert "--feed-data needs --feed-tick-size and --feed-lot-size" in capsys.readouterr().err
