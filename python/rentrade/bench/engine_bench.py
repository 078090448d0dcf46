"""Engine stages of ``rentrade bench``: the decision engine on the synthetic market, many instruments live.

The engine records its own stage histograms in the core (cycle counter, no fences, see
``src/fastcore/engine/engine.hpp``): book (one message's events), signal (features + composite at the
message end), strategy (the decision, risk checks of its orders included), risk (one try_submit),
position (one fill into positions, risk and the loss limits) and tick-to-decision (first event of a
message to the end of its decision). Python drives it in batches; the binding's cost is outside every
timed window. Orders are answered by a bench harness, not a venue model: an IOC fills in full at its
limit, a GTC order is acked and rests, a cancel is confirmed; so entries, take-profit placements, stops,
exits and fills all happen and every stage has samples.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, Final, Literal

import numpy as np
import numpy.typing as npt

from rentrade import _fastcore
from rentrade._fastcore import Engine, Instrument
from rentrade.orders import (
    INTENT_CANCEL,
    INTENT_NEW,
    LIQUIDITY_TAKER,
    REPORT_ACK,
    REPORT_CANCELLED,
    REPORT_FILL,
    TIF_IOC,
    empty_reports,
)

ENGINE_INSTRUMENT: Final = Instrument("SYNTH-PERP", "synthetic", "0.1", "0.001")
ENGINE_WEIGHTS: Final = {"imbalance": 0.5, "micro_offset": 0.3, "trade_flow": 0.2}
ENGINE_BATCH: Final = 4096
"""Events per on_events call."""
SNAPSHOT_EVENTS_PER_BOOK: Final = 1001
"""The synthetic market opens each book with a CLEAR and 500 levels a side."""


@dataclass
class EngineRun:
    """Histograms of one engine run (copies) and what the run did."""

    histograms: dict[str, _fastcore.Histogram]
    messages: int
    wall_ns: int
    counters: dict[str, int]


class _Harness:
    """Answers intents at once (bench only): IOC -> full fill at the limit, GTC -> ack, cancel -> done."""

    def __init__(self) -> None:
        self.trade_id = 0

    def answer(self, intents: npt.NDArray[np.void], ts_ns: int) -> npt.NDArray[np.void]:
        reports = empty_reports(len(intents))
        reports["ts_exchange_ns"] = ts_ns
        reports["ts_local_ns"] = ts_ns
        reports["px_ticks"] = intents["px_ticks"]
        reports["order_id"] = intents["order_id"]
        reports["instrument_id"] = intents["instrument_id"]
        reports["side"] = intents["side"]
        ioc = (intents["kind"] == INTENT_NEW) & (intents["tif"] == TIF_IOC)
        reports["kind"] = np.where(intents["kind"] == INTENT_CANCEL, REPORT_CANCELLED, REPORT_ACK)
        reports["kind"][ioc] = REPORT_FILL
        reports["qty_lots"][ioc] = intents["qty_lots"][ioc]
        fills = int(np.count_nonzero(ioc))
        reports["trade_id"][ioc] = np.arange(self.trade_id + 1, self.trade_id + 1 + fills)
        reports["liquidity"][ioc] = LIQUIDITY_TAKER
        self.trade_id += fills
        return reports


def run_engine(
    instruments: int,
    flow_events: int,
    seed: int,
    strategy: Literal["bracket", "none"] | Callable[[_fastcore.Decision], Any] = "bracket",
) -> EngineRun:
    """Feeds the synthetic market of ``instruments`` books to an engine and returns its stage histograms.

    The opening snapshots are applied first and their histograms discarded, so the figures are those of
    the order flow that follows (``flow_events`` events over all instruments).
    """
    events = _fastcore.synthetic_events(
        instruments, instruments * SNAPSHOT_EVENTS_PER_BOOK + flow_events, seed=seed
    )
    engine = Engine(
        [ENGINE_INSTRUMENT] * instruments,
        strategy=strategy,
        weights=ENGINE_WEIGHTS,
        threshold=0.5,
        qty_lots=1,
        stop_distance=5,
        order_capacity=8192,  # a few working orders per instrument: the risk tables stay compact
    )
    harness = _Harness()
    snapshot_end = instruments * SNAPSHOT_EVENTS_PER_BOOK
    _feed(engine, events[:snapshot_end], harness)
    engine.reset_histograms()
    messages_before = engine.counters["messages"]
    start = time.perf_counter_ns()
    wall = _feed(engine, events[snapshot_end:], harness)
    total = time.perf_counter_ns() - start
    counters = engine.counters
    if counters["events"] != len(events):
        raise AssertionError(f"the engine applied {counters['events']} of {len(events)} events")
    return EngineRun(
        histograms={stage: engine.histogram(stage) for stage in _fastcore.ENGINE_STAGES},
        messages=counters["messages"] - messages_before,
        wall_ns=wall if wall > 0 else total,
        counters=counters,
    )


def _feed(engine: Engine, events: npt.NDArray[np.void], harness: _Harness) -> int:
    """Feeds in batches, answering intents after each; returns the ns spent inside on_events."""
    inside = 0
    for first in range(0, len(events), ENGINE_BATCH):
        chunk = events[first : first + ENGINE_BATCH]
        start = time.perf_counter_ns()
        intents = engine.on_events(chunk)
        inside += time.perf_counter_ns() - start
        ts_ns = int(chunk["ts_local_ns"][-1]) if len(chunk) else 0
        while len(intents):
            intents = engine.on_reports(harness.answer(intents, ts_ns))
    return inside
