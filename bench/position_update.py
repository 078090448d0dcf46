"""Position-update latency in the core: ``python bench/position_update.py [--repeat 5]``.

Times ``PositionBook::try_apply_fill`` (duplicate check included) one fill at a time with the cycle
counter, through ``rentrade._fastcore.measure_position_update``, on random fills (random sides, so
about half reduce or flip the position), and prints the median p50/p99/p99.9 over the repeats. The
work is checked: every fill must have been applied.
"""

from __future__ import annotations

import argparse
import statistics

import numpy as np

import rentrade
from rentrade import _fastcore
from rentrade.fills import empty_fills


def run(instruments: int, fills: int, seed: int, dedup_capacity: int) -> tuple[int, int, int, float]:
    """One measurement: (p50, p99, p99.9) in ns and untimed throughput in fills per second."""
    venues = ("okx", "binance")
    listed = [rentrade.Instrument(f"S{i}", venues[i % 2], "0.1", "0.001") for i in range(instruments)]
    book = rentrade.Positions(listed, quote="USDT", dedup_capacity=dedup_capacity)
    rng = np.random.default_rng(seed)
    batch = empty_fills(fills)
    ids = rng.integers(0, instruments, fills)
    batch["instrument_id"] = ids
    batch["venue_id"] = np.array([book.venue_id(i) for i in range(instruments)], dtype=np.uint8)[ids]
    batch["side"] = rng.integers(0, 2, fills)
    batch["liquidity"] = rng.integers(0, 2, fills)
    batch["px_ticks"] = 600_000 + np.cumsum(rng.integers(-20, 21, fills))
    batch["qty_lots"] = rng.integers(1, 100, fills)
    batch["fee_units"] = rng.integers(-100, 500, fills)
    batch["trade_id"] = np.arange(1, fills + 1)
    passes = 3
    result = _fastcore.measure_position_update(book, batch, passes=passes)
    applied = sum(book[i].fills for i in range(instruments))
    assert applied == fills * (passes + 1), f"only {applied} fills applied"
    histogram = result.histogram
    return (
        histogram.percentile(50),
        histogram.percentile(99),
        histogram.percentile(99.9),
        result.throughput_ops / result.throughput_ns * 1e9,
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    parser.add_argument("--repeat", type=int, default=5)
    parser.add_argument("--fills", type=int, default=200_000)
    parser.add_argument("--dedup-capacity", type=int, default=4096)
    args = parser.parse_args()
    for instruments in (1, 100, 1000):
        rows = [run(instruments, args.fills, seed, args.dedup_capacity) for seed in range(args.repeat)]
        p50, p99, p999, rate = (statistics.median(column) for column in zip(*rows, strict=True))
        print(
            f"{instruments:>5} instruments: p50 {p50:.0f} ns  p99 {p99:.0f} ns  p99.9 {p999:.0f} ns  "
            f"{rate / 1e6:.1f} M fills/s untimed  (p50 per repeat: {[row[0] for row in rows]})"
        )


if __name__ == "__main__":
    main()
