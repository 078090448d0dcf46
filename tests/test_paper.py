"""``rentrade paper``: simulated venue on loopback, the real WebSocket path, the engine, simulated fills."""

from __future__ import annotations

import io
from pathlib import Path

import orjson
import pytest

from rentrade.cli import main
from rentrade.paper import PaperConfig, run_paper


@pytest.mark.asyncio
async def test_paper_trades_the_synthetic_market_through_the_socket() -> None:
    out = io.StringIO()
    config = PaperConfig(duration_s=3.0, synthetic_symbols=2, seed=3, threshold=0.2, summary_every_s=1.0)
    report = await run_paper(config, out=out)
    lines = out.getvalue().splitlines()
    # Live summary lines came while it ran, and the last one saw the feed's frames with no gap.
    summaries = [line for line in lines if line.startswith("[")]
    assert len(summaries) >= 3
    assert " gaps 0 " in summaries[-1] and " unhealthy 0 " in summaries[-1]
    # Every event the feed applied reached the engine and the simulated venue.
    assert report.events > 10_000
    assert report.loop["events"] == report.venue["events"] == report.events
    # The engine decided (its own stage histograms have samples) and the venue answered every order.
    assert report.latency_ns["engine tick_to_decision"]["count"] > 1_000
    assert report.venue["intents"] == report.loop["intents"] > 0
    assert report.loop["reports"] >= report.venue["intents"]
    assert report.source.startswith("simulated venue on loopback")


def test_paper_cli_writes_the_report(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    json_path = tmp_path / "paper.json"
    assert main(["paper", "--duration", "2", "--synthetic-symbols", "1", "--json", str(json_path)]) == 0
    printed = capsys.readouterr()
    assert "trades" in printed.out and "paper: trading 1 symbols" in printed.err
    report = orjson.loads(json_path.read_bytes())
    assert report["config"]["mode"] == "paper" and report["events"] > 0


def test_paper_refuses_contradictory_options(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["paper", "--live", "--data", "x.gz"]) == 2
    assert "--live and --data exclude each other" in capsys.readouterr().err
    assert main(["paper", "--symbols", "BTCUSDT"]) == 2
    assert "--symbols goes with --live" in capsys.readouterr().err
