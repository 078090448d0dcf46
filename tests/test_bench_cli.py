"""``rentrade bench`` runs every stage, checks its work, and reports in both formats (not timed here)."""

from __future__ import annotations

from pathlib import Path

import orjson
import pytest

from rentrade.cli import main


def test_bench_json_has_every_core_stage(capsys: pytest.CaptureFixture[str]) -> None:
    assert (
        main(
            [
                "bench",
                "--events",
                "20000",
                "--books",
                "50",
                "--repeat",
                "2",
                "--no-peers",
                "--no-signing",
                "--no-feed",
                "--json",
            ]
        )
        == 0
    )
    report = orjson.loads(capsys.readouterr().out)
    stages = {stage["stage"]: stage for stage in report["stages"]}
    assert set(stages) == {
        "book update (C++, 1 book)",
        "book update (C++, 1 book, runs of 16)",
        "book update (C++, 50 books)",
        "book update (C++, 50 books, runs of 16)",
        "apply_events (Python, 4,096 per call)",
        "apply_events (Python, 4,096 per call, reused buffer)",
        "update_ticks (Python, one call)",
        "position update (C++, 1 instrument)",
        "position update (C++, 50 instruments)",
        "risk check (C++)",
        "signal update (C++, 1 instrument)",
        "engine tick-to-decision (C++, 50 instr.)",
        "engine book stage (C++)",
        "engine signal stage (C++)",
        "engine strategy stage (bracket) (C++)",
        "engine risk stage (C++)",
        "engine position stage (C++)",
        "engine Python callback (per decision)",
        "engine tick-to-decision, Python (50 instr.)",
    }
    for stage in stages.values():
        assert stage["repeats"] == 2 and stage["samples"] > 0
        # An engine stage can be below the cycle counter's ~10 ns step (p50 0); the rest cannot.
        floor = 0 if stage["group"] == "engine" else 1
        assert (
            floor
            <= stage["p50_ns"]
            <= stage["p90_ns"]
            <= stage["p99_ns"]
            <= stage["p999_ns"]
            <= stage["max_ns"]
        )
        assert stage["p50_spread_ns"][0] <= stage["p50_ns"] <= stage["p50_spread_ns"][1]
        assert stage["ops_per_s"] > 0
    assert report["machine"]["cores"] >= 1
    assert "synthetic market (seed 1, 20,000 events" in report["source"]


def test_bench_table_and_errors(capsys: pytest.CaptureFixture[str]) -> None:
    assert (
        main(
            [
                "bench",
                "--events",
                "5000",
                "--books",
                "10",
                "--repeat",
                "1",
                "--no-peers",
                "--no-signing",
                "--no-feed",
            ]
        )
        == 0
    )
    out = capsys.readouterr()
    assert "book update (C++, 1 book)" in out.out and "p99.9" in out.out
    assert "[rentrade bench] core: book update, 1 book" in out.err
    assert main(["bench", "--data", "/nonexistent/recording.gz"]) == 2
    assert "recording not found: /nonexistent/recording.gz" in capsys.readouterr().err
    assert main(["bench", "--tick-size", "0.1"]) == 2
    with pytest.raises(SystemExit):
        main(["bench", "--repeat", "0"])


def test_bench_on_a_recording(shared_data: Path, capsys: pytest.CaptureFixture[str]) -> None:
    recording = shared_data / "hftbacktest/examples/spot/btcusdt_20240808.gz"
    args = ["bench", "--data", str(recording), "--tick-size", "0.01", "--lot-size", "0.00000001"]
    assert (
        main([*args, "--books", "10", "--repeat", "1", "--no-peers", "--no-signing", "--no-feed", "--json"])
        == 0
    )
    report = orjson.loads(capsys.readouterr().out)
    assert "BTCUSDT (tick 0.01, lot 0.00000001;" in report["source"]
    assert "0 gaps" in report["source"]
