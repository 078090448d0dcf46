"""Paper trading: live market data through the real WebSocket path, the built-in strategy, simulated fills.

``rentrade paper`` with no arguments starts the simulated Binance USD-M venue on loopback (the core's
synthetic market, or ``--data`` to replay a recording at its recorded pace), connects to it with
:class:`rentrade.venues.binance_usdm.session.BinanceUsdmSession` (picows, the Cython listener, the C++
feed and its sync), and runs :class:`rentrade.Engine` with the bracket strategy against
:class:`rentrade.SimulatedExchange`: the same core, strategy and fill model as ``rentrade backtest``.
``--live`` connects to Binance's public streams instead; orders stay simulated.

How the pieces meet: the feed keeps a copy of every event it applies (snapshots, deltas, trades, quotes);
every ``batch_ms`` the events so far go to :class:`rentrade.Backtest`, which runs the engine and the
simulated venue on them in C++ (orders arrive at the venue after the order latency, fills come back
after the response latency, on the events' local receive clock). A symbol whose book is resyncing is
marked so in the engine, which then refuses new orders on it. Python runs once per batch, never per
message.
"""

from __future__ import annotations

import asyncio
import contextlib
import signal
import sys
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any, TextIO

import numpy as np
import numpy.typing as npt

from rentrade import _fastcore
from rentrade._fastcore import EventKind
from rentrade.backtest import BacktestReport, build_report, clock_offset_ns
from rentrade.venues.binance_usdm import urls

__all__ = ["PaperConfig", "run_paper"]

# Market events the synthetic venue generates per second of its clock (measured: ~11,000 for the core's
# generator), so that `duration_s` of paper trading has a market to trade at recorded pace.
_SYNTHETIC_EVENTS_PER_S = 12_000
_PERCENTILES = (("p50", 50.0), ("p99", 99.0), ("p99.9", 99.9))


@dataclass
class PaperConfig:
    """What ``rentrade paper`` runs. Defaults: 4 synthetic symbols for 20 s on loopback."""

    duration_s: float = 20.0
    data: Sequence[str] | None = None
    live: bool = False
    symbols: Sequence[str] | None = None
    synthetic_symbols: int = 4
    seed: int = 1
    speed: float = 1.0
    threshold: float = 0.5
    qty_lots: int = 10
    stop_ticks: int = 10
    maker_fee_bps: str = "2"
    taker_fee_bps: str = "5"
    order_latency_ns: int = 1_000_000
    response_latency_ns: int = 1_000_000
    batch_ms: float = 5.0
    summary_every_s: float = 1.0


def _engine(instruments: Sequence[_fastcore.Instrument], config: PaperConfig) -> _fastcore.Engine:
    # The same strategy as `rentrade backtest --strategy builtin`.
    return _fastcore.Engine(
        list(instruments),
        weights={"imbalance": 1.0},
        threshold=config.threshold,
        qty_lots=config.qty_lots,
        stop_distance=config.stop_ticks,
    )


async def _start_venue(config: PaperConfig, say: Callable[[str], None]) -> tuple[Any, list[str]]:
    from rentrade.sim.binance_usdm import SimBinanceUsdm
    from rentrade.sim.market_source import recording_source, synthetic_source

    if config.data:
        say(f"paper: replaying {', '.join(config.data)} at {config.speed:g}x recorded pace on loopback")
        source = recording_source(list(config.data))
    else:
        events = int(config.duration_s * config.speed * _SYNTHETIC_EVENTS_PER_S) + 20_000
        say(
            f"paper: building the synthetic market ({config.synthetic_symbols} symbols, {events:,} events, "
            f"seed {config.seed})"
        )
        source = synthetic_source(config.synthetic_symbols, events=events, seed=config.seed)
    venue = SimBinanceUsdm(source, speed=config.speed)
    await venue.start()
    say(f"paper: simulated Binance USD-M venue on {venue.ws_url} (REST {venue.rest_url})")
    return venue, [instrument.symbol for instrument in source.instruments]


def _clock_offset_ns(events: npt.NDArray[np.void], *, live: bool) -> int:
    """ns added to exchange times so that they read on our clock.

    Live, only a clock behind the exchange's is corrected (as in backtests): the rest is true feed latency.
    The simulated venue stamps stream frames with its market's own clock (the generator's or the
    recording's), which may be years away from ours: their smallest feed latency in the first batch is
    taken as 0.
    """
    if live:
        return clock_offset_ns(events)
    # Stream events only: the venue stamps its REST snapshots (kClear, snapshot levels) with our clock.
    streamed = np.isin(events["kind"], (int(EventKind.DELTA), int(EventKind.TRADE), int(EventKind.BBO)))
    known = streamed & (events["ts_exchange_ns"] != 0)
    if not known.any():
        return 0
    return int((events["ts_local_ns"][known] - events["ts_exchange_ns"][known]).min())


def _summary_line(started: float, session: Any, engine: _fastcore.Engine) -> str:
    feed = session.feed.stats()
    counters = engine.counters
    unhealthy = len(session.unhealthy_symbols())
    pnl = engine.day_pnl()
    return (
        f"[{time.monotonic() - started:6.1f} s] frames {feed['frames']:,}  events {feed['events']:,}  "
        f"gaps {feed['gaps']}  resyncs {feed['resyncs']}  unhealthy {unhealthy}  "
        f"orders {counters['new_orders']:,}  fills {counters['fills']:,}  "
        f"refused {counters['risk_refusals']:,}  day P&L {pnl}"
    )


async def run_paper(config: PaperConfig, out: TextIO | None = None) -> BacktestReport:
    """Run paper trading until ``config.duration_s`` passes, the replayed market ends, or Ctrl-C.

    Parameters
    ----------
    config
        What to run (see :class:`PaperConfig`).
    out
        Where the live summary lines go (default: ``sys.stderr`` at call time).

    Returns
    -------
    BacktestReport
        The same report as ``rentrade backtest`` (trades, win rate, payoff, edge, P&L curve, drawdown,
        Kelly, latencies), over the market data received.
    """
    from rentrade.venues.binance_usdm.session import BinanceUsdmSession

    stream = sys.stderr if out is None else out

    def say(line: str) -> None:
        print(line, file=stream, flush=True)

    venue: Any = None
    if config.live:
        symbols = [s.upper() for s in (config.symbols or ["BTCUSDT", "ETHUSDT"])]
        ws_url, rest_url = urls.WS_STREAM_URL, urls.REST_URL
        say(f"paper: live public streams of Binance USD-M for {', '.join(symbols)}; orders are simulated")
    else:
        venue, symbols = await _start_venue(config, say)
        ws_url, rest_url = venue.ws_url, venue.rest_url

    stop = asyncio.Event()
    loop_ = asyncio.get_running_loop()
    # Ctrl-C ends the run with its report. Where a loop cannot take signal handlers (Windows, or not the
    # main thread) Ctrl-C stays Python's KeyboardInterrupt and ends the run without one.
    with contextlib.suppress(NotImplementedError, RuntimeError):
        loop_.add_signal_handler(signal.SIGINT, stop.set)
    session = BinanceUsdmSession(symbols, ws_url=ws_url, rest_url=rest_url, capture_events=True)
    try:
        await session.start()
        instruments = session.instruments
        engine = _engine(instruments, config)
        exchange: _fastcore.SimulatedExchange | None = None
        backtest: _fastcore.Backtest | None = None

        def drive(events: npt.NDArray[np.void]) -> None:
            # The venue's exchange clock is known only once events arrive: start the simulated exchange
            # on the first batch, with that clock put on ours (see _clock_offset_ns).
            nonlocal exchange, backtest
            if backtest is None:
                exchange = _fastcore.SimulatedExchange(
                    list(instruments),
                    maker_fee_bps=config.maker_fee_bps,
                    taker_fee_bps=config.taker_fee_bps,
                    order_latency=config.order_latency_ns,
                    response_latency=config.response_latency_ns,
                    seed=config.seed,
                    clock_offset_ns=_clock_offset_ns(events, live=config.live),
                )
                backtest = _fastcore.Backtest(exchange, engine)
            backtest.run(events)

        if venue is not None:
            venue.start_market()
        say(
            f"paper: trading {len(instruments)} symbols with the bracket strategy; "
            "Ctrl-C stops with the report"
        )
        started = time.monotonic()
        wall_started = time.perf_counter()
        next_summary = started + config.summary_every_s
        events_total = 0
        feed = session.feed
        ids = {instrument.symbol: i for i, instrument in enumerate(instruments)}
        resyncing: set[str] = set()
        while not stop.is_set():
            now = time.monotonic()
            if now - started >= config.duration_s or (venue is not None and venue.done):
                break
            with contextlib.suppress(asyncio.TimeoutError):
                await asyncio.wait_for(stop.wait(), config.batch_ms / 1000)
            # Tell the engine only what changed: a resyncing book denies new orders on its symbol.
            unhealthy = set(session.unhealthy_symbols())
            for symbol in unhealthy.symmetric_difference(resyncing):
                engine.set_resyncing(ids[symbol], symbol in unhealthy)
            resyncing = unhealthy
            events = feed.take_events()
            if len(events):
                drive(events)
                events_total += len(events)
            if now >= next_summary:
                say(_summary_line(started, session, engine))
                next_summary = now + config.summary_every_s
        events = feed.take_events()
        if len(events):
            drive(events)
            events_total += len(events)
        if backtest is None or exchange is None:
            raise RuntimeError("no market data arrived: nothing to report (is the venue reachable?)")
        backtest.finish()
        wall = time.perf_counter() - wall_started
        say(_summary_line(started, session, engine))
    finally:
        with contextlib.suppress(NotImplementedError, RuntimeError):
            loop_.remove_signal_handler(signal.SIGINT)
        await session.stop()
        if venue is not None:
            await venue.stop()
    if config.live:
        source = "Binance USD-M live public streams"
    elif config.data:
        source = f"simulated venue on loopback replaying {', '.join(config.data)}"
    else:
        source = f"simulated venue on loopback, synthetic market ({config.synthetic_symbols} symbols)"
    run_config = {
        "mode": "paper",
        "duration_s": config.duration_s,
        "maker_fee_bps": config.maker_fee_bps,
        "taker_fee_bps": config.taker_fee_bps,
        "order_latency": repr(config.order_latency_ns),
        "response_latency": repr(config.response_latency_ns),
        "seed": config.seed,
        "batch_ms": config.batch_ms,
        "threshold": config.threshold,
        "qty_lots": config.qty_lots,
        "stop_ticks": config.stop_ticks,
    }
    report = build_report(
        exchange, backtest, instruments, source=source, strategy="Engine (bracket)", config=run_config,
        events=events_total, wall=wall,
    )  # fmt: skip
    # The engine's own stage histograms (book, signal, strategy, risk, position, tick-to-decision), in the
    # core on the cycle counter: what each message cost in this run.
    for stage in _fastcore.ENGINE_STAGES:
        histogram = engine.histogram(stage)
        if histogram.count:
            numbers = {name: float(histogram.percentile(p)) for name, p in _PERCENTILES}
            report.latency_ns[f"engine {stage}"] = {**numbers, "count": float(histogram.count)}
    return report
