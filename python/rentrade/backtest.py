"""Backtests on the core: events -> strategy -> intents -> simulated venue -> reports -> strategy.

The loop runs in C++ (:class:`rentrade.Backtest` around :class:`rentrade.SimulatedExchange`); this
module loads the market (the synthetic market, or Binance recordings through
:mod:`rentrade.venues.binance_usdm.replay`), feeds it in chunks with a progress callback, and turns the
venue's fills into the report: round trips, win rate, payoff, edge per trade in bps (at mid, after
slippage, after fees), P&L curve, drawdown, the Kelly fraction those imply (:mod:`rentrade.sizing`),
and latency percentiles. :func:`write_json` and :func:`write_png` save it.

Strategies are either ``None`` (the market replayed through the venue, no orders: what the loop
costs), or a Python object with ``on_events(events)`` and ``on_reports(reports)``, each returning
``None`` or an array of :data:`rentrade.orders.INTENT_DTYPE`. A Python strategy is called once per
span of events (see :class:`rentrade.Backtest`), so reports reach it up to ``max_span_ns`` late,
never early; the venue still matches every intent at its own arrival time.
"""

from __future__ import annotations

import math
import sys
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any, Final, Literal

import numpy as np
import numpy.typing as npt
import orjson

from rentrade import _fastcore, sizing
from rentrade._fastcore import Instrument
from rentrade.events import KIND_TRADE, SIDE_BID, empty_events
from rentrade.orders import (
    INTENT_NEW,
    REPORT_CANCELLED,
    REPORT_FILL,
    REPORT_REJECT,
    TIF_IOC,
    TYPE_LIMIT,
    empty_intents,
)

if TYPE_CHECKING:
    from rentrade._fastcore import _LatencySpec

__all__ = [
    "SYNTHETIC_INSTRUMENT",
    "TRIP_DTYPE",
    "BacktestReport",
    "FlowTakerStrategy",
    "clock_offset_ns",
    "load_market",
    "run_backtest",
    "write_json",
    "write_png",
]

# Summary labels of the latency stages whose figures are the simulation's settings, not measurements: the
# order and response latencies are drawn from the venue's latency model and the decision delay is
# `decision_latency_ns`, so a reader does not take "order p50 1,000,000 ns" for a measured 1 ms.
_STAGE_LABELS: Final = {
    "order": "order (simulated)",
    "response": "response (simulated)",
    "decision": "decision (simulated)",
    "strategy_call_wall": "strategy call (wall)",
}

TRIP_DTYPE: Final = np.dtype(
    [
        ("ts_open_ns", "<i8"),
        ("ts_close_ns", "<i8"),
        ("gross_tl", "<i8"),
        ("fee_units", "<i8"),
        ("slippage_x2_tl", "<i8"),
        ("entry_tl", "<i8"),
        ("instrument_id", "<u4"),
        ("fills", "<u4"),
    ]
)
"""One round trip (flat to flat) of the venue's fills; mirrors ``fastcore::sim::RoundTrip``.

``gross_tl`` is realized P&L before fees in tick-lots, ``fee_units`` the fees of its fills in notional
units (negative: net rebates), ``slippage_x2_tl`` twice the sum of (fill price - venue mid) x qty
against us in tick-lots, ``entry_tl`` the notional that built the position in tick-lots.
"""

SYNTHETIC_INSTRUMENT: Final = Instrument("SYNTH-PERP", "synthetic", "0.1", "0.001")
"""The synthetic market's instrument (like BTCUSDT: 0.1 tick, 0.001 lot)."""

CHUNK_EVENTS: Final = 1 << 18
"""Events per core call between progress updates."""

ProgressFn = Callable[[int, int], None]


def load_market(
    data: Sequence[str] | None = None,
    *,
    events: int = 2_000_000,
    instruments: int = 1,
    seed: int = 1,
    tick_size: str | None = None,
    lot_size: str | None = None,
) -> tuple[npt.NDArray[np.void], list[Instrument], str]:
    """Events to backtest on: Binance recordings, or the synthetic market.

    Parameters
    ----------
    data
        Recording paths (any format :mod:`rentrade.recordings` reads, e.g. the hftbacktest
        ``btcusdt_20240808.gz``); every replayed symbol's synced book events and its trades, merged
        by local receive time. None: the synthetic market.
    events, instruments, seed
        Size and seed of the synthetic market.
    tick_size, lot_size
        The real increments of a one-symbol recording without ``exchangeInfo`` (the hftbacktest files):
        otherwise they are inferred from the printed decimals, which can be finer than the real ones
        (BTCUSDT prints 0.01 but trades in 0.1 ticks).

    Returns
    -------
    tuple
        64-byte-aligned events, the instruments (index = ``instrument_id``), and a description.

    Raises
    ------
    ValueError
        A missing file, or recordings with no synced Binance book.
    """
    if not data:
        generated = _fastcore.synthetic_events(instruments, events, seed=seed)
        description = f"synthetic market (seed {seed}, {events:,} events, {instruments} instrument(s))"
        return generated, [SYNTHETIC_INSTRUMENT] * instruments, description
    from rentrade.venues.binance_usdm.replay import recorded_instruments, replay_binance

    missing = [path for path in data if not Path(path).exists()]
    if missing:
        raise ValueError(f"recording not found: {', '.join(missing)}")
    if tick_size is not None or lot_size is not None:
        # A size given: the pre-scan names the symbol and supplies a size not given (exchangeInfo or
        # the printed decimals); one replay with the final sizes does the rest.
        found = recorded_instruments(list(data))
        if len(found) != 1:
            raise ValueError("tick_size and lot_size apply to one-symbol recordings only")
        given = Instrument(
            found[0].symbol,
            found[0].venue,
            tick_size or found[0].tick_size,
            lot_size or found[0].lot_size,
            min_notional=found[0].min_notional,
        )
        replay = replay_binance(list(data), instruments=[given])
    else:
        replay = replay_binance(list(data))
    if not replay.symbols:
        raise ValueError(f"no Binance depth stream with a snapshot in {', '.join(data)}")
    parts = [replay.events, *(symbol.trades for symbol in replay.symbols.values())]
    merged = np.concatenate(parts)
    order = np.argsort(merged["ts_local_ns"], kind="stable")  # book before trades at equal times
    out = empty_events(len(merged))
    out[:] = merged[order]
    trades = sum(len(symbol.trades) for symbol in replay.symbols.values())
    names = ", ".join(Path(path).name for path in data)
    symbols = ", ".join(replay.symbols)
    description = (
        f"recording {names}: {symbols} ({len(replay.events):,} book events, {trades:,} trades, "
        f"{replay.gaps} gaps)"
    )
    return out, list(replay.instruments), description


class FlowTakerStrategy:
    """An example Python callback strategy (not the engine's built-in one): trade-flow momentum.

    Per span of events, when flat with no order working, it sums the signed aggressor volume of the
    span's trades on ``instrument_id``; past ``threshold_lots`` it sends an IOC limit order of
    ``qty_lots`` in that direction at the last trade price moved ``slip_ticks`` against itself. Once
    filled it holds for ``hold_ns`` and leaves with an IOC the same way. Vectorised: a few numpy
    operations per span, so its cost per event is small.
    """

    def __init__(
        self,
        instrument_id: int = 0,
        *,
        qty_lots: int = 10,
        threshold_lots: int = 500,
        slip_ticks: int = 2,
        hold_ns: int = 2_000_000_000,
    ) -> None:
        if qty_lots <= 0 or threshold_lots <= 0 or slip_ticks < 0 or hold_ns < 0:
            raise ValueError("qty_lots and threshold_lots must be > 0, slip_ticks and hold_ns >= 0")
        self.instrument_id = instrument_id
        self.qty_lots = qty_lots
        self.threshold_lots = threshold_lots
        self.slip_ticks = slip_ticks
        self.hold_ns = hold_ns
        self.position_lots = 0
        self.entered_local_ns = 0
        self._working: int = 0
        self._working_left = 0
        self._next_id = 0
        self._last_px: int | None = None
        self._out = empty_intents(1)

    def _order(self, buy: bool, ts_local_ns: int, qty_lots: int) -> npt.NDArray[np.void]:
        assert self._last_px is not None
        self._next_id += 1
        self._working = self._next_id
        self._working_left = qty_lots
        out = self._out
        out["px_ticks"] = self._last_px + (self.slip_ticks if buy else -self.slip_ticks)
        out["qty_lots"] = qty_lots
        out["order_id"] = self._next_id
        out["ts_trigger_local_ns"] = ts_local_ns
        out["instrument_id"] = self.instrument_id
        out["kind"] = INTENT_NEW
        out["side"] = SIDE_BID if buy else 1
        out["type"] = TYPE_LIMIT
        out["tif"] = TIF_IOC
        return out

    def on_events(self, events: npt.NDArray[np.void]) -> npt.NDArray[np.void] | None:
        """Sees a span of events; returns at most one intent."""
        # Positions of this instrument's trades, not a copy of their records: copying the 64-byte
        # records out cost more than the rest of the call (a span's work took ~25 us that way, ~11 now).
        mine = (events["kind"] == KIND_TRADE) & (events["instrument_id"] == self.instrument_id)
        trades = np.flatnonzero(mine)
        if trades.size == 0:
            return None
        self._last_px = int(events["px_ticks"][trades[-1]])
        if self._working != 0:
            return None
        now = int(events["ts_local_ns"][-1])
        if self.position_lots != 0:
            if now - self.entered_local_ns < self.hold_ns:
                return None
            return self._order(self.position_lots < 0, now, abs(self.position_lots))
        qty = events["qty_lots"][trades]
        sold = int(qty[events["side"][trades] != SIDE_BID].sum())
        flow = int(qty.sum()) - 2 * sold
        if abs(flow) < self.threshold_lots:
            return None
        return self._order(flow > 0, now, self.qty_lots)

    def on_reports(self, reports: npt.NDArray[np.void]) -> None:
        """Keeps the position and the working order from the venue's reports."""
        for report in reports:
            kind = int(report["kind"])
            mine = int(report["order_id"]) == self._working
            if kind == REPORT_FILL:
                was_flat = self.position_lots == 0
                qty = int(report["qty_lots"])
                self.position_lots += qty if int(report["side"]) == SIDE_BID else -qty
                if was_flat:
                    self.entered_local_ns = int(report["ts_local_ns"])
                if mine:
                    self._working_left -= qty
            # An IOC ends filled, or with a cancel of its rest (or a reject).
            if mine and (self._working_left <= 0 or kind in (REPORT_CANCELLED, REPORT_REJECT)):
                self._working = 0


@dataclass
class BacktestReport:
    """What a backtest measured. Money is in the instruments' quote currency (floats: statistics)."""

    source: str
    strategy: str
    config: dict[str, Any]
    events: int
    wall_s: float
    events_per_s: float
    trades: int
    wins: int
    losses: int
    win_rate: float | None
    avg_win: float | None
    avg_loss: float | None
    payoff: float | None
    edge_bps_at_mid: float | None
    edge_bps_after_slippage: float | None
    edge_bps_net: float | None
    pnl_gross: float
    slippage: float
    fees: float
    pnl_net: float
    max_drawdown: float
    kelly: str | None
    kelly_note: str
    open_lots: dict[int, int]
    venue: dict[str, int]
    loop: dict[str, int]
    latency_ns: dict[str, dict[str, float]]
    equity_ts_ns: npt.NDArray[np.int64] = field(repr=False)
    equity: npt.NDArray[np.float64] = field(repr=False)
    histograms: dict[str, tuple[list[int], list[int]]] = field(repr=False, default_factory=dict)

    def to_json(self) -> dict[str, Any]:
        """The report as JSON-ready data (the P&L curve as two lists)."""
        return {
            "source": self.source,
            "strategy": self.strategy,
            "config": self.config,
            "events": self.events,
            "wall_s": self.wall_s,
            "events_per_s": self.events_per_s,
            "trades": self.trades,
            "wins": self.wins,
            "losses": self.losses,
            "win_rate": self.win_rate,
            "avg_win": self.avg_win,
            "avg_loss": self.avg_loss,
            "payoff": self.payoff,
            "edge_bps": {
                "at_mid": self.edge_bps_at_mid,
                "after_slippage": self.edge_bps_after_slippage,
                "net_of_fees_and_slippage": self.edge_bps_net,
            },
            "pnl": {
                "gross_at_mid": self.pnl_gross + self.slippage,
                "slippage": self.slippage,
                "gross": self.pnl_gross,
                "fees": self.fees,
                "net": self.pnl_net,
            },
            "max_drawdown": self.max_drawdown,
            "kelly": self.kelly,
            "kelly_note": self.kelly_note,
            "open_lots_at_end": {str(k): v for k, v in self.open_lots.items()},
            "venue": self.venue,
            "loop": self.loop,
            "latency_ns": self.latency_ns,
            "equity_curve": {"ts_ns": self.equity_ts_ns.tolist(), "pnl_net": self.equity.tolist()},
        }

    def summary(self) -> str:
        """A few lines for the terminal."""

        def pct(value: float | None) -> str:
            return "n/a" if value is None else f"{value * 100:.2f} %"

        def num(value: float | None, digits: int = 4) -> str:
            return "n/a" if value is None else f"{value:.{digits}f}"

        lines = [
            f"source          {self.source}",
            f"strategy        {self.strategy}",
            f"events          {self.events:,} in {self.wall_s:.3f} s"
            f" = {self.events_per_s / 1e6:.2f} M events/s",
            f"trades          {self.trades:,} (wins {self.wins:,}, losses {self.losses:,});"
            f" win rate {pct(self.win_rate)}",
            f"avg win / loss  {num(self.avg_win)} / {num(self.avg_loss)}; payoff {num(self.payoff, 3)}",
            f"edge per trade  {num(self.edge_bps_at_mid, 3)} bps at mid,"
            f" {num(self.edge_bps_after_slippage, 3)} after slippage,"
            f" {num(self.edge_bps_net, 3)} net of fees",
            f"P&L             gross {self.pnl_gross:.4f}, fees {self.fees:.4f}, net {self.pnl_net:.4f};"
            f" max drawdown {self.max_drawdown:.4f}",
            f"Kelly           {self.kelly_note}",
        ]
        shown = {
            _STAGE_LABELS.get(stage, stage): numbers
            for stage, numbers in self.latency_ns.items()
            if numbers.get("count", 0)
        }
        width = max((len(label) for label in shown), default=0)
        for label, numbers in shown.items():
            lines.append(
                f"latency {label:<{width}}  p50 {numbers['p50']:>10,.0f} ns  p99 {numbers['p99']:>10,.0f} ns"
                f"  p99.9 {numbers['p99.9']:>10,.0f} ns  ({numbers['count']:,.0f} samples)"
            )
        return "\n".join(lines)


def _progress_bar(done: int, total: int, started: float) -> None:
    width = 30
    filled = width * done // max(total, 1)
    rate = done / max(time.perf_counter() - started, 1e-9)
    sys.stderr.write(
        f"\r[{'#' * filled}{' ' * (width - filled)}] {done / max(total, 1) * 100:5.1f} %"
        f"  {rate / 1e6:6.2f} M events/s"
    )
    if done >= total:
        sys.stderr.write("\n")
    sys.stderr.flush()


def stderr_progress() -> ProgressFn:
    """A progress bar on stderr (for long runs)."""
    started = time.perf_counter()
    return lambda done, total: _progress_bar(done, total, started)


def clock_offset_ns(events: npt.NDArray[np.void]) -> int:
    """The shift that puts exchange times on the local clock's scale: min(0, min(ts_local - ts_exchange)).

    A recorder whose clock was behind the exchange's shows negative feed latencies; adding this (<= 0)
    to the exchange times makes the smallest feed latency 0. The true offset cannot be told apart from
    the true feed latency with one-way timestamps, so this is the smallest correction; 0 when every
    feed latency is already >= 0.
    """
    known = events["ts_exchange_ns"] != 0
    if not known.any():
        return 0
    smallest = int((events["ts_local_ns"][known] - events["ts_exchange_ns"][known]).min())
    return min(0, smallest)


def run_backtest(
    events: npt.NDArray[np.void],
    instruments: Sequence[Instrument],
    *,
    strategy: object | None = None,
    source: str = "events",
    maker_fee_bps: str = "2",
    taker_fee_bps: str = "5",
    queue_model: Literal["trade_through", "probabilistic"] = "trade_through",
    order_latency: _LatencySpec = 1_000_000,
    response_latency: _LatencySpec = 1_000_000,
    seed: int = 1,
    clock_offset: int | None = None,
    decision_latency_ns: int = 0,
    max_span: int = 4096,
    max_span_ns: int = -1,
    chunk: int = CHUNK_EVENTS,
    progress: ProgressFn | None = None,
    batch_runs: bool = True,
) -> BacktestReport:
    """Run ``strategy`` over ``events`` against a :class:`rentrade.SimulatedExchange`.

    Parameters
    ----------
    events
        64-byte-aligned :data:`rentrade.events.EVENT_DTYPE` records in local-time order.
    instruments
        One per ``instrument_id``.
    strategy
        None (no orders: the loop's own cost) or an object with ``on_events``/``on_reports``.
    source
        Description for the report.
    maker_fee_bps, taker_fee_bps
        Fees in basis points (exact decimal text; negative = rebate). Defaults: Binance USD-M's
        base tier (0.02 % maker, 0.05 % taker).
    queue_model
        ``"trade_through"`` (conservative) or ``"probabilistic"``.
    order_latency, response_latency
        Latency specs of :class:`rentrade.SimulatedExchange` (int ns, ``("uniform", lo, hi)``,
        ``("samples", [...])``). Default 1 ms each way.
    seed
        Seed of the venue's random draws.
    clock_offset
        ns added to the events' exchange times. None: :func:`clock_offset_ns` of the events (0 unless
        the recorder's clock was behind the exchange's).
    decision_latency_ns, max_span, max_span_ns
        See :class:`rentrade.Backtest`.
    chunk
        Events per core call; ``progress(done, total)`` is called after each.
    progress
        Progress callback, or None.
    batch_runs
        Let the venue apply runs of events that cannot meet an order (no resting order on the
        instrument, before the next intent's arrival) in one batch per run. The results are identical
        either way (the tests compare them); False applies every event one at a time, the reference.

    Returns
    -------
    BacktestReport
        Trades, win rate, payoff, edge, P&L curve, drawdown, Kelly and latencies.
    """
    if chunk < 1:
        raise ValueError(f"chunk must be >= 1, got {chunk}")
    offset = clock_offset_ns(events) if clock_offset is None else clock_offset
    exchange = _fastcore.SimulatedExchange(
        list(instruments),
        maker_fee_bps=maker_fee_bps,
        taker_fee_bps=taker_fee_bps,
        queue_model=queue_model,
        order_latency=order_latency,
        response_latency=response_latency,
        seed=seed,
        clock_offset_ns=offset,
        batch_runs=batch_runs,
    )
    loop = _fastcore.Backtest(
        exchange,
        strategy,
        decision_latency_ns=decision_latency_ns,
        max_span=max_span,
        max_span_ns=max_span_ns,
    )
    total = len(events)
    started = time.perf_counter()
    for first in range(0, total, chunk):
        loop.run(events[first : first + chunk])
        if progress is not None:
            progress(min(first + chunk, total), total)
    loop.finish()
    wall = time.perf_counter() - started
    config = {
        "maker_fee_bps": str(maker_fee_bps),
        "taker_fee_bps": str(taker_fee_bps),
        "queue_model": queue_model,
        "order_latency": repr(order_latency),
        "response_latency": repr(response_latency),
        "seed": seed,
        "clock_offset_ns": offset,
        "decision_latency_ns": decision_latency_ns,
        "max_span": max_span,
        "max_span_ns": loop.max_span_ns,
    }
    name = "none (market replay only)" if strategy is None else type(strategy).__name__
    return build_report(
        exchange, loop, instruments, source=source, strategy=name, config=config, events=total, wall=wall
    )


def build_report(
    exchange: _fastcore.SimulatedExchange,
    loop: _fastcore.Backtest,
    instruments: Sequence[Instrument],
    *,
    source: str,
    strategy: str,
    config: dict[str, Any],
    events: int,
    wall: float,
) -> BacktestReport:
    trips = loop.trips()
    # Money per trip in the quote currency: tick-lots x factor x 10^-decimals; fees are 10^-decimals.
    scales = [exchange.money_scale(i) for i in range(len(instruments))]
    tl_value = np.array([factor / 10**decimals for factor, decimals in scales], dtype=np.float64)
    unit_value = np.array([1 / 10**decimals for _, decimals in scales], dtype=np.float64)
    ids = trips["instrument_id"].astype(np.intp)
    gross = trips["gross_tl"] * tl_value[ids]
    fees = trips["fee_units"] * unit_value[ids]
    slippage = trips["slippage_x2_tl"] * tl_value[ids] / 2
    entry = trips["entry_tl"] * tl_value[ids]
    net = gross - fees
    wins = net[net > 0]
    losses = net[net < 0]
    count = len(trips)
    win_rate = len(wins) / count if count else None
    avg_win = float(wins.mean()) if len(wins) else None
    avg_loss = float(-losses.mean()) if len(losses) else None
    payoff = avg_win / avg_loss if avg_win is not None and avg_loss is not None and avg_loss > 0 else None
    notional = float(entry.sum())

    def bps(amount: float) -> float | None:
        return amount / notional * 1e4 if notional > 0 else None

    kelly: str | None = None
    if win_rate is None or payoff is None or not 0 < win_rate < 1:
        kelly_note = "not defined: needs both winning and losing trades"
    else:
        fraction = sizing.kelly_fraction(f"{win_rate:.6f}", f"{payoff:.6f}")
        kelly = str(fraction)
        kelly_note = f"f* = {float(fraction):.4f} at p = {win_rate:.4f}, b = {payoff:.4f}" + (
            "" if fraction > 0 else ": no edge, do not trade"
        )
    order = np.argsort(trips["ts_close_ns"], kind="stable")
    equity = np.cumsum(net[order]) if count else np.zeros(0)
    peaks = np.maximum.accumulate(np.concatenate([[0.0], equity]))
    drawdown = float((peaks[1:] - equity).max()) if count else 0.0
    latency: dict[str, dict[str, float]] = {}
    for stage, numbers in exchange.latency.items():
        latency[stage] = {k: float(v) for k, v in numbers.items()}
    for stage, numbers in loop.latency.items():
        latency[stage] = {k: float(v) for k, v in numbers.items()}
    histograms = {
        stage: _fastcore.histogram_buckets(exchange.latency_histogram(stage))
        for stage in ("feed", "order", "response")
    }
    histograms["strategy_call_wall"] = _fastcore.histogram_buckets(loop.strategy_histogram())
    return BacktestReport(
        source=source,
        strategy=strategy,
        config=config,
        events=events,
        wall_s=wall,
        events_per_s=events / wall if wall > 0 else math.inf,
        trades=count,
        wins=len(wins),
        losses=len(losses),
        win_rate=win_rate,
        avg_win=avg_win,
        avg_loss=avg_loss,
        payoff=payoff,
        edge_bps_at_mid=bps(float((gross + slippage).sum())),
        edge_bps_after_slippage=bps(float(gross.sum())),
        edge_bps_net=bps(float(net.sum())),
        pnl_gross=float(gross.sum()),
        slippage=float(slippage.sum()),
        fees=float(fees.sum()),
        pnl_net=float(net.sum()),
        max_drawdown=drawdown,
        kelly=kelly,
        kelly_note=kelly_note,
        open_lots={i: loop.net_lots(i) for i in range(len(instruments)) if loop.net_lots(i) != 0},
        venue=dict(exchange.stats),
        loop=dict(loop.stats),
        latency_ns=latency,
        equity_ts_ns=trips["ts_close_ns"][order].astype(np.int64),
        equity=equity.astype(np.float64),
        histograms=histograms,
    )


def write_json(report: BacktestReport, path: str | Path) -> None:
    """Write the report as indented JSON."""
    Path(path).write_bytes(orjson.dumps(report.to_json(), option=orjson.OPT_INDENT_2) + b"\n")


def write_png(report: BacktestReport, path: str | Path) -> None:
    """Write the P&L curve and the latency histograms as a PNG (matplotlib, no display needed)."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    stages = [stage for stage, (lows, _) in report.histograms.items() if lows]
    figure, axes = plt.subplots(1 + max(len(stages), 1), 1, figsize=(9, 3 + 2.2 * max(len(stages), 1)))
    top = axes[0]
    if len(report.equity):
        hours = (report.equity_ts_ns - report.equity_ts_ns[0]) / 3.6e12
        top.step(hours, report.equity, where="post")
        top.set_xlabel("hours since the first closed trade")
    else:
        top.text(0.5, 0.5, "no closed trades", ha="center", va="center", transform=top.transAxes)
    top.set_ylabel("net P&L (quote)")
    top.set_title(f"{report.strategy}: {report.trades:,} trades, net {report.pnl_net:.4f}")
    for axis, stage in zip(axes[1:], stages, strict=False):
        lows, counts = report.histograms[stage]
        axis.bar(
            np.maximum(np.asarray(lows, dtype=np.float64), 1.0),
            counts,
            width=np.maximum(np.asarray(lows, dtype=np.float64) / 64, 1.0),
            align="edge",
        )
        axis.set_xscale("log")
        if len(lows) < 3:  # a constant latency: one bucket; give it room to read
            axis.set_xlim(max(min(lows), 1) / 2, max(lows) * 2 + 2)
        axis.set_ylabel("count")
        axis.set_xlabel(f"{stage} latency (ns)")
    figure.tight_layout()
    figure.savefig(path, dpi=100)
    plt.close(figure)
