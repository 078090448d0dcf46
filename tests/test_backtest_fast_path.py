"""The simulated venue's batch path against its one-at-a-time reference, on the recording and synthetic data.

``run_backtest(..., batch_runs=False)`` applies every event through the venue's per-event path; the default
applies runs of events that cannot meet an order in one batch per run. Same events, strategy and seed: the
reports the strategy receives, the trips, the P&L, the venue's counters and its latency histograms must be
identical. (tests/cpp/test_sim_fast_path.cpp compares the two paths event by event on synthetic data.)
"""

from __future__ import annotations

import random
from typing import Any

import numpy as np
import numpy.typing as npt
import pytest

from rentrade import Engine, _fastcore
from rentrade._fastcore import Instrument
from rentrade.backtest import SYNTHETIC_INSTRUMENT, BacktestReport, run_backtest
from rentrade.events import KIND_TRADE, SIDE_BID
from rentrade.orders import (
    INTENT_CANCEL,
    INTENT_NEW,
    INTENT_REPLACE,
    REPORT_DTYPE,
    TIF_GTC,
    TIF_IOC,
    TIF_POST_ONLY,
    TYPE_LIMIT,
    TYPE_MARKET,
    empty_intents,
)


class MixedFlow:
    """Seeded test strategy that takes the venue through every state: nothing working (the batch path),
    intents on their way (runs cut at their arrival), resting orders (the per-event path), and every kind
    of order: resting limits near the last trade, limits through it, IOC, market, post-only, replaces,
    cancels of all live orders and of unknown ones. Keeps every report batch it receives, as bytes."""

    def __init__(self, seed: int) -> None:
        self.rng = random.Random(seed)
        self.next_id = 0
        self.live: list[int] = []
        self.last_px: int | None = None
        self.reports: list[bytes] = []

    def _row(self, intents: npt.NDArray[np.void], at: int, ts: int) -> np.void:
        row: np.void = intents[at]
        row["ts_trigger_local_ns"] = ts
        row["instrument_id"] = 0
        return row

    def on_events(self, events: npt.NDArray[np.void]) -> npt.NDArray[np.void] | None:
        trades = events[events["kind"] == KIND_TRADE]
        if len(trades):
            self.last_px = int(trades["px_ticks"][-1])
        roll = self.rng.randrange(100)
        if self.last_px is None or roll < 70:
            return None
        ts = int(events["ts_local_ns"][-1])
        if roll >= 96 and self.live:  # cancel everything: the instrument is empty again
            intents = empty_intents(len(self.live))
            for at, order_id in enumerate(self.live):
                row = self._row(intents, at, ts)
                row["order_id"] = order_id
                row["kind"] = INTENT_CANCEL
            self.live.clear()
            return intents
        intents = empty_intents(1)
        row = self._row(intents, 0, ts)
        buy = self.rng.randrange(2) == 0
        row["side"] = SIDE_BID if buy else 1
        row["qty_lots"] = self.rng.randrange(1, 50)
        away = -1 if buy else 1
        if roll >= 92:
            row["kind"] = INTENT_CANCEL
            row["order_id"] = 10**9  # never existed
            return intents
        if roll >= 88:
            row["kind"] = INTENT_REPLACE
            row["order_id"] = self.rng.choice(self.live) if self.live else 10**9
            row["px_ticks"] = self.last_px + away * self.rng.randrange(1, 6)
            row["tif"] = TIF_GTC
            return intents
        self.next_id += 1
        row["order_id"] = self.next_id
        row["kind"] = INTENT_NEW
        if roll < 80:  # resting, at or behind the last trade
            row["px_ticks"] = self.last_px + away * self.rng.randrange(0, 6)
            row["type"] = TYPE_LIMIT
            row["tif"] = TIF_POST_ONLY if self.rng.randrange(4) == 0 else TIF_GTC
            self.live.append(self.next_id)
        elif roll < 84:  # through the last trade: takes, the rest may rest
            row["px_ticks"] = self.last_px - away * 3
            row["tif"] = self.rng.choice([TIF_GTC, TIF_IOC])
            self.live.append(self.next_id)
        elif roll < 86:
            row["px_ticks"] = self.last_px - away
            row["tif"] = TIF_IOC
        else:
            row["type"] = TYPE_MARKET
            row["tif"] = TIF_IOC
        return intents

    def on_reports(self, reports: npt.NDArray[np.void]) -> None:
        self.reports.append(reports.tobytes())


def _deterministic(report: BacktestReport) -> dict[str, Any]:
    """Everything of a report but wall-clock timings and the batch counter."""
    data = report.to_json()
    for key in ("wall_s", "events_per_s"):
        data.pop(key)
    data["venue"] = {k: v for k, v in report.venue.items() if k != "batched_events"}
    data["loop"] = {k: v for k, v in report.loop.items() if not k.endswith("_ns")}
    data["latency_ns"] = {k: v for k, v in report.latency_ns.items() if "strategy" not in k}
    data["histograms"] = {k: v for k, v in report.histograms.items() if "strategy" not in k}
    data["equity"] = report.equity.tobytes()
    data["equity_ts_ns"] = report.equity_ts_ns.tobytes()
    return data


def _compare(
    events: npt.NDArray[np.void], instruments: list[Instrument], seed: int, **options: Any
) -> tuple[BacktestReport, list[bytes]]:
    """Runs MixedFlow on both paths; asserts they agree; returns the batch run's report and reports."""
    runs = []
    for batch in (True, False):
        strategy = MixedFlow(seed)
        report = run_backtest(events, instruments, strategy=strategy, batch_runs=batch, **options)
        runs.append((report, strategy.reports))
    (fast, fast_reports), (slow, slow_reports) = runs
    assert fast_reports == slow_reports
    assert _deterministic(fast) == _deterministic(slow)
    # The batch run really took both paths; the reference none but one at a time.
    assert 0 < fast.venue["batched_events"] < fast.events
    assert slow.venue["batched_events"] == 0
    return fast, fast_reports


def _kinds(reports: list[bytes]) -> set[int]:
    kinds: set[int] = set()
    for chunk in reports:
        kinds.update(int(k) for k in np.frombuffer(chunk, dtype=REPORT_DTYPE)["kind"])
    return kinds


def test_mixed_orders_on_the_recording(
    btcusdt_usdm_market: tuple[npt.NDArray[np.void], list[Instrument]],
) -> None:
    events, instruments = btcusdt_usdm_market
    report, reports = _compare(events, instruments, seed=5)
    assert report.venue["fills"] > 100 and report.venue["rejects"] > 0
    assert _kinds(reports) == {1, 2, 3, 4}  # acks, rejects, fills, cancels
    # Probabilistic queue, random latencies and longer spans: the same.
    _compare(
        events,
        instruments,
        seed=6,
        queue_model="probabilistic",
        order_latency=("uniform", 100_000, 3_000_000),
        response_latency=("samples", [50_000, 800_000, 2_000_000]),
        max_span_ns=20_000_000,
        chunk=100_003,
    )


def test_mixed_orders_on_synthetic_data() -> None:
    events = _fastcore.synthetic_events(1, 200_000, seed=4)
    report, _ = _compare(events, [SYNTHETIC_INSTRUMENT], seed=7, queue_model="probabilistic")
    assert report.venue["fills"] > 100


@pytest.mark.parametrize("source", ["recording", "synthetic"])
def test_engine_backtest_same_on_both_paths(source: str, request: pytest.FixtureRequest) -> None:
    if source == "recording":
        events, instruments = request.getfixturevalue("btcusdt_usdm_market")
    else:
        events, instruments = _fastcore.synthetic_events(1, 300_000, seed=3), [SYNTHETIC_INSTRUMENT]
    results = []
    for batch in (True, False):
        engine = Engine(instruments, weights={"imbalance": 1.0}, threshold=0.5, qty_lots=10, timing=False)
        report = run_backtest(events, instruments, strategy=engine, batch_runs=batch)
        results.append((_deterministic(report), engine.counters, report.venue["batched_events"]))
    (fast, fast_counters, batched), (slow, slow_counters, _) = results
    assert fast == slow and fast_counters == slow_counters
    assert fast["venue"]["fills"] > 0 and 0 < batched < len(events)
