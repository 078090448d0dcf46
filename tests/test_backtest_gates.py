"""The engine's decision gates against the ungated reference, on the recording and synthetic data.

``Engine.decision_gates`` (on by default) lets the built-in strategy skip the decision points where it
would do nothing (no new crossing of the signal, stop not touched); ``False`` calls it at every decision
point, as before the gates. Same events, configuration and seed: the report (trips, P&L, venue counters,
latency histograms) and the engine's counters must be identical. (tests/cpp/test_engine_gates.cpp also
compares every intent and report byte for byte on synthetic data.)
"""

from __future__ import annotations

from typing import Any

import pytest

from rentrade import Engine, _fastcore
from rentrade.backtest import SYNTHETIC_INSTRUMENT, BacktestReport, run_backtest


def _deterministic(report: BacktestReport) -> dict[str, Any]:
    """Everything of a report but wall-clock timings."""
    data = report.to_json()
    for key in ("wall_s", "events_per_s"):
        data.pop(key)
    data["loop"] = {k: v for k, v in report.loop.items() if not k.endswith("_ns")}
    data["latency_ns"] = {k: v for k, v in report.latency_ns.items() if "strategy" not in k}
    data["histograms"] = {k: v for k, v in report.histograms.items() if "strategy" not in k}
    data["equity"] = report.equity.tobytes()
    data["equity_ts_ns"] = report.equity_ts_ns.tobytes()
    return data


@pytest.mark.parametrize("source", ["recording", "synthetic"])
@pytest.mark.parametrize("stop_distance", [10, 2])
def test_gated_engine_backtest_same_as_ungated(
    source: str, stop_distance: int, request: pytest.FixtureRequest
) -> None:
    if source == "recording":
        events, instruments = request.getfixturevalue("btcusdt_usdm_market")
    else:
        events, instruments = _fastcore.synthetic_events(1, 400_000, seed=3), [SYNTHETIC_INSTRUMENT]
    results = []
    for gates in (True, False):
        engine = Engine(
            instruments,
            weights={"imbalance": 1.0},
            threshold=0.5,
            qty_lots=10,
            stop_distance=stop_distance,
            timing=False,
        )
        assert engine.decision_gates
        engine.decision_gates = gates
        assert engine.decision_gates is gates
        report = run_backtest(events, instruments, strategy=engine)
        results.append((_deterministic(report), engine.counters, engine.bracket_counters))
    (gated, gated_counters, gated_bracket), (every, every_counters, every_bracket) = results
    assert gated == every
    assert gated_counters == every_counters and gated_bracket == every_bracket
    assert gated["venue"]["fills"] > 0
