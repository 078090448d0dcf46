"""The backtest comparison (``rentrade bench --backtest-peers``) on a slice of hftbacktest's recording.

Runs the real peers when they are installed (CI installs the ``bench`` extra): each must process the
slice and trade; a missing peer must come back as skipped with the install hint. Not timed here.
"""

from __future__ import annotations

import importlib.util
from pathlib import Path

import orjson
import pytest

from rentrade.bench import backtest_peers
from rentrade.cli import main

pytestmark = pytest.mark.recordings

LINES = 6000
"""About 20 s of the capture: the REST snapshot, ~400 depth messages, ~1,000 trades."""


@pytest.fixture(scope="module")
def recording(shared_data: Path) -> Path:
    return shared_data / backtest_peers.DEFAULT_RECORDING


def _installed(module: str) -> bool:
    return importlib.util.find_spec(module) is not None


def test_every_installed_backtester_trades_on_the_same_slice(recording: Path) -> None:
    runs, source = backtest_peers.run_all(recording, repeat=1, lines=LINES)
    assert "BTCUSDT" in source
    by_name = {run.name.split(" ")[0]: run for run in runs}
    assert set(by_name) == {"rentrade", "hftbacktest", "NautilusTrader"}
    rentrade = runs[0]
    assert rentrade.skipped_reason is None and rentrade.events > 10_000 and rentrade.trades > 0
    assert rentrade.wall_s and rentrade.events_per_s > 0
    for name, module in (("hftbacktest", "hftbacktest"), ("NautilusTrader", "nautilus_trader")):
        run = by_name[name]
        if not _installed(module):
            assert run.skipped_reason and "pip install" in run.skipped_reason
            continue
        assert run.skipped_reason is None, run.skipped_reason
        # The same frames: each peer's own unit of events is within a few % of rentrade's.
        assert abs(run.events - rentrade.events) < 0.1 * rentrade.events, (name, run.events)
        assert len(run.wall_s) == 1 and run.wall_s[0] > 0 and run.prepare_s > 0
        # The same rule on the same market: the peers make trades too, a similar number of them.
        assert run.trades > 0 and abs(run.trades - rentrade.trades) <= max(5, rentrade.trades // 2), (
            name,
            run.trades,
            rentrade.trades,
        )
    lines = backtest_peers.format_runs(runs, source)
    assert any("rentrade (built-in" in line for line in lines)


def test_missing_peer_is_reported_not_run(recording: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    real = backtest_peers._missing

    def missing(module: str) -> str | None:
        if module.startswith(("hftbacktest", "nautilus_trader")):
            return f"{module} is not installed (test); pip install 'rentrade[bench]'"
        return real(module)

    monkeypatch.setattr(backtest_peers, "_missing", missing)
    runs, source = backtest_peers.run_all(recording, repeat=1, lines=3000)
    skipped = [run for run in runs if run.skipped_reason is not None]
    assert len(skipped) == 2
    text = "\n".join(backtest_peers.format_runs(runs, source))
    assert text.count("skipped:") == 2 and "pip install" in text


def test_cli_backtest_peers_json(recording: Path, capsys: pytest.CaptureFixture[str]) -> None:
    argv = ["bench", "--backtest-peers", "--backtest-data", str(recording), "--backtest-lines", "3000"]
    assert main([*argv, "--repeat", "2", "--no-peers", "--json"]) == 0
    document = orjson.loads(capsys.readouterr().out)
    assert [run["name"] for run in document["runs"]] == [
        "rentrade (built-in C++ strategy)",
        "rentrade (Python callback, FlowTakerStrategy)",
    ]
    for run in document["runs"]:
        assert len(run["wall_s"]) == 2 and run["events"] > 0 and run["events_per_s"] > 0


def test_cli_json_with_peers_is_clean_json(recording: Path, capsys: pytest.CaptureFixture[str]) -> None:
    # hftbacktest's converter prints progress: it must not land in the JSON on stdout.
    argv = ["bench", "--backtest-peers", "--backtest-data", str(recording), "--backtest-lines", "3000"]
    assert main([*argv, "--repeat", "1", "--json"]) == 0
    document = orjson.loads(capsys.readouterr().out)
    assert len(document["runs"]) == 4


def test_bad_arguments(recording: Path, tmp_path: Path) -> None:
    with pytest.raises(ValueError, match="repeat"):
        backtest_peers.run_all(recording, repeat=0)
    with pytest.raises(ValueError, match="not found"):
        backtest_peers.run_all(tmp_path / "missing.gz", lines=10)
