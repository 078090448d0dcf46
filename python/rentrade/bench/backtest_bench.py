"""Backtest throughput: events per second through the core's backtest loop, by strategy.

``python -m rentrade.bench.backtest_bench [--data PATH ...] [--events N] [--repeat 3]`` runs the same
events through :func:`rentrade.backtest.run_backtest` with no strategy (venue and loop only), with the
engine's built-in bracket strategy (C++), with the engine alone (no venue: what the engine costs), with
a Python callback that does nothing (what calling Python once per span costs), and with the example
Python callback strategy at the default span and at a 100 ms span. Each is repeated;
the median and the spread (lowest, highest) are printed. Not a timed test: figures go to
``bench/BENCHMARKS.md``.
"""

from __future__ import annotations

import argparse
import statistics
import sys
import time
from collections.abc import Callable, Sequence

import numpy as np
import numpy.typing as npt

from rentrade import Engine
from rentrade._fastcore import Instrument
from rentrade.backtest import FlowTakerStrategy, load_market, run_backtest


class IdleStrategy:
    """A Python callback strategy that never trades: the loop's cost of calling Python per span."""

    def on_events(self, events: npt.NDArray[np.void]) -> None:
        """Sees a span; sends nothing."""

    def on_reports(self, reports: npt.NDArray[np.void]) -> None:
        """Never called: no order, no report."""


def _engine(instruments: Sequence[Instrument]) -> Engine:
    return Engine(list(instruments), weights={"imbalance": 1.0}, threshold=0.5, qty_lots=10, timing=False)


def measure(
    events: npt.NDArray[np.void], instruments: Sequence[Instrument], repeat: int
) -> list[tuple[str, list[float], str]]:
    """(stage, events/s of each run, detail) for every strategy."""
    results: list[tuple[str, list[float], str]] = []

    def stage(name: str, run: Callable[[], tuple[float, str]]) -> None:
        rates: list[float] = []
        detail = ""
        for _ in range(repeat):
            rate, detail = run()
            rates.append(rate)
        results.append((name, rates, detail))

    def backtest(strategy: Callable[[], object | None], span_ns: int = -1) -> Callable[[], tuple[float, str]]:
        def run() -> tuple[float, str]:
            report = run_backtest(
                events, instruments, strategy=strategy(), max_span_ns=span_ns, chunk=len(events)
            )
            detail = (
                f"{report.loop['spans']:,} strategy calls, {report.venue['intents']:,} intents, "
                f"{report.venue['fills']:,} fills, late orders {report.venue['late_orders']}, "
                f"{report.venue['batched_events'] / max(report.events, 1):.1%} of events in venue runs"
            )
            return report.events_per_s, detail

        return run

    def engine_alone() -> tuple[float, str]:
        engine = _engine(instruments)
        started = time.perf_counter()
        engine.on_events(events)
        return len(events) / (time.perf_counter() - started), "Engine.on_events over all events, no venue"

    stage("no strategy (venue + loop)", backtest(lambda: None))
    stage("built-in strategy (Engine + bracket, C++)", backtest(lambda: _engine(instruments)))
    stage("engine alone (no venue, for reference)", engine_alone)
    stage("Python callback that does nothing, default span", backtest(IdleStrategy))
    stage("Python callback (FlowTakerStrategy), default span", backtest(FlowTakerStrategy))
    stage("Python callback (FlowTakerStrategy), 100 ms span", backtest(FlowTakerStrategy, 100_000_000))
    return results


def main(argv: Sequence[str] | None = None) -> int:
    """Entry point: prints one line per stage."""
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--data", nargs="+", help="Binance recording(s); default: the synthetic market")
    parser.add_argument("--tick-size", help="with --data: the real tick size (e.g. 0.1 for BTCUSDT)")
    parser.add_argument("--events", type=int, default=2_000_000, help="synthetic events (default 2,000,000)")
    parser.add_argument("--repeat", type=int, default=3, help="runs per stage (default 3)")
    args = parser.parse_args(argv)
    events, instruments, source = load_market(args.data, events=args.events, tick_size=args.tick_size)
    print(f"source: {source}")
    print(f"{'stage':<52} {'median M events/s':>18} {'spread':>18}")
    for name, rates, detail in measure(events, instruments, args.repeat):
        median = statistics.median(rates) / 1e6
        spread = f"{min(rates) / 1e6:.2f}-{max(rates) / 1e6:.2f}"
        print(f"{name:<52} {median:>18.2f} {spread:>18}   ({detail})")
    return 0


if __name__ == "__main__":
    sys.exit(main())
