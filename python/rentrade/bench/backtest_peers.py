"""Backtest peers: rentrade, hftbacktest and NautilusTrader on the same recording, in one run.

``python -m rentrade.bench.backtest_peers [--data PATH] [--lines N] [--repeat 3]`` (also
``rentrade bench --backtest-peers``) takes one raw Binance USD-M capture in hftbacktest's format
(``<local ts ns> <frame>`` lines with the REST snapshot in-band; default the ``btcusdt_20240808.gz`` of
``../shared/data``) and runs the same simple strategy through each backtester:

- enter on the top-5 depth imbalance ``(bid5 - ask5) / (bid5 + ask5)`` crossing +-0.5 (a new crossing
  is needed for the next entry), at each exchange message; entry is an IOC limit of 0.010 BTC at the
  opposite touch;
- exits: a resting GTC take-profit 20 ticks from the entry fill, and a 10-tick stop watched by the
  strategy at each message: the stop cancels the take-profit, then sends an IOC at the touch;
- 1 ms order latency each way, 2 bps maker and 5 bps taker fees, a conservative queue model.

What differs, plainly: hftbacktest's converter keeps the deltas before the snapshot (the snapshot
clears them) so it processes a few more rows; its risk-averse queue model fills a resting order
when the queue ahead is used up by trades or the price trades through, rentrade's trade-through
model only on a trade through the price; it has no reduce-only flag. NautilusTrader has no queue
position for L2 books: a resting limit fills when the book or a trade (``trade_execution=True``)
reaches its price; its taker fee is its instrument's (the Binance BTCUSDT-PERP test instrument,
2 bps maker / 1.8 bps taker) and fills are not checked against ours. The trades each makes therefore
differ; what is compared is the cost of replaying the same market through each with the same rule.

Timed, per backtester: the preparation (rentrade: frames to event records; hftbacktest: its
``binancefutures.convert``; NautilusTrader: building its ``OrderBookDeltas``/``TradeTick`` objects
from rentrade's decoded events plus ``add_data``) once, separately; then the backtest itself
``repeat`` times (median and spread). hftbacktest's strategy is a numba ``@njit`` function: it is
compiled by a warm-up run on the first messages, which is not timed (said in the output).
"""

from __future__ import annotations

import argparse
import contextlib
import gzip
import importlib
import importlib.metadata
import statistics
import sys
import tempfile
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from itertools import islice
from pathlib import Path
from typing import Any, Final

import numpy as np
import numpy.typing as npt

from rentrade import Engine, _fastcore
from rentrade._fastcore import Instrument
from rentrade.backtest import BacktestReport, FlowTakerStrategy, load_market, run_backtest
from rentrade.events import (
    FLAG_LAST_IN_MESSAGE,
    KIND_BBO,
    KIND_CLEAR,
    KIND_DELTA,
    KIND_SNAPSHOT_LEVEL,
    KIND_TRADE,
    SIDE_BID,
    empty_events,
)

__all__ = [
    "DEFAULT_RECORDING",
    "RULE",
    "BacktestRun",
    "default_recording",
    "format_runs",
    "run_all",
    "run_to_json",
    "slice_recording",
]

DEFAULT_RECORDING: Final = "hftbacktest/examples/usdm/btcusdt_20240808.gz"
"""The default recording, relative to the shared data folder."""

TICK_SIZE: Final = "0.1"
LOT_SIZE: Final = "0.001"


@dataclass(frozen=True)
class Rule:
    """The strategy every backtester runs (see the module docstring)."""

    threshold: float = 0.5
    depth_levels: int = 5
    qty_lots: int = 10
    stop_ticks: int = 10
    take_profit_ticks: int = 20
    latency_ns: int = 1_000_000
    maker_fee_bps: int = 2
    taker_fee_bps: int = 5


RULE: Final = Rule()


@dataclass
class BacktestRun:
    """One backtester's figures on the recording.

    ``events`` is what that backtester processed (its own unit: rentrade event records, hftbacktest
    rows, NautilusTrader deltas plus trades); ``wall_s`` one entry per timed run; ``prepare_s`` the
    one-off conversion of the recording into its input; ``trades`` round trips (flat to flat).
    """

    name: str
    version: str
    events: int = 0
    prepare_s: float = 0.0
    prepare_what: str = ""
    wall_s: list[float] = field(default_factory=list)
    trades: int = 0
    detail: str = ""
    skipped_reason: str | None = None

    @property
    def events_per_s(self) -> float:
        """Median events per second over the timed runs."""
        return self.events / statistics.median(self.wall_s) if self.wall_s else 0.0

    @property
    def spread(self) -> tuple[float, float]:
        """Lowest and highest events per second of the timed runs."""
        if not self.wall_s:
            return (0.0, 0.0)
        return (self.events / max(self.wall_s), self.events / min(self.wall_s))


def _version(dist: str) -> str:
    try:
        return importlib.metadata.version(dist)
    except importlib.metadata.PackageNotFoundError:
        return "not installed"


def _module(name: str) -> Any:
    """A peer's module, untyped (the peers ship no stubs; they are optional)."""
    return importlib.import_module(name)


def _missing(module: str) -> str | None:
    try:
        importlib.import_module(module)
    except ImportError as error:
        return f"{module} is not installed ({error}); pip install 'rentrade[bench]'"
    return None


def slice_recording(path: str | Path, lines: int, out_dir: str | Path) -> Path:
    """The first ``lines`` lines of a gzip recording, written to ``out_dir`` (for short runs).

    Raises
    ------
    ValueError
        ``lines`` < 1 or a missing file.
    """
    if lines < 1:
        raise ValueError(f"lines must be >= 1, got {lines}")
    source = Path(path)
    if not source.exists():
        raise ValueError(f"recording not found: {source}")
    target = Path(out_dir) / f"first{lines}_{source.name}"
    with gzip.open(source, "rb") as reader, gzip.open(target, "wb", compresslevel=1) as writer:
        for count, line in enumerate(reader):
            if count >= lines:
                break
            writer.write(line)
    return target


# --- rentrade -------------------------------------------------------------------------------------


def feed_events(path: str | Path) -> npt.NDArray[np.void]:
    """The recording through rentrade's live C++ feed parser (``BinanceFeed``, events captured).

    The same records as :func:`rentrade.backtest.load_market` (checked by the caller), from the hot
    path that parses frames live, instead of the replay module's Python validation path.
    """
    instrument = Instrument("BTCUSDT", "binance_usdm", TICK_SIZE, LOT_SIZE)
    feed = _fastcore.BinanceFeed([instrument], "usdm")
    feed.capture_events(True)
    with gzip.open(path, "rb") as reader:
        for line in reader:
            stamp, frame = line.rstrip(b"\n").split(b" ", 1)
            if frame.startswith(b'{"lastUpdateId"'):
                status = feed.apply_snapshot(instrument.symbol, frame, int(stamp))
            else:
                status = feed.on_frame(frame, int(stamp))
            if status in (_fastcore.FrameStatus.BAD_FRAME, _fastcore.FrameStatus.UNKNOWN_SYMBOL):
                raise ValueError(f"the feed refused a frame ({status}): {feed.last_error()}")
    captured = feed.take_events()
    # As load_market orders them: book events, then trades, stably by local time (BBO events dropped).
    book = captured[(captured["kind"] != KIND_TRADE) & (captured["kind"] != KIND_BBO)]
    trades = captured[captured["kind"] == KIND_TRADE]
    merged = np.concatenate([book, trades])
    out = empty_events(len(merged))
    out[:] = merged[np.argsort(merged["ts_local_ns"], kind="stable")]
    return out


def _rentrade_engine(instruments: Sequence[Instrument], rule: Rule) -> Engine:
    return Engine(
        list(instruments),
        weights={"imbalance": 1.0},
        threshold=rule.threshold,
        depth_levels=rule.depth_levels,
        qty_lots=rule.qty_lots,
        stop_distance=rule.stop_ticks,
        take_profit_distance=rule.take_profit_ticks,
        timing=False,
    )


def _run_rentrade(
    events: npt.NDArray[np.void], instruments: Sequence[Instrument], rule: Rule, repeat: int, prepare_s: float
) -> list[BacktestRun]:
    version = _version("rentrade")

    def run(strategy: object) -> BacktestReport:
        return run_backtest(
            events,
            instruments,
            strategy=strategy,
            chunk=len(events),
            queue_model="trade_through",
            maker_fee_bps=str(rule.maker_fee_bps),
            taker_fee_bps=str(rule.taker_fee_bps),
            order_latency=rule.latency_ns,
            response_latency=rule.latency_ns,
        )

    built_in = BacktestRun(
        "rentrade (built-in C++ strategy)",
        version,
        events=len(events),
        prepare_s=prepare_s,
        prepare_what="frames -> event records (rentrade.backtest.load_market)",
    )
    for _ in range(repeat):
        report = run(_rentrade_engine(instruments, rule))
        built_in.wall_s.append(report.wall_s)
        built_in.trades = report.trades
        built_in.detail = (
            f"{report.venue['intents']:,} intents, {report.venue['fills']:,} fills "
            f"({report.venue['maker_fills']:,} maker); net P&L {report.pnl_net:.2f}"
        )
    callback = BacktestRun(
        "rentrade (Python callback, FlowTakerStrategy)",
        version,
        events=len(events),
        prepare_s=prepare_s,
        prepare_what="same records",
    )
    for _ in range(repeat):
        report = run(FlowTakerStrategy(qty_lots=rule.qty_lots))
        callback.wall_s.append(report.wall_s)
        callback.trades = report.trades
        callback.detail = (
            f"a different rule (trade-flow momentum, Python per span of events): "
            f"{report.loop['spans']:,} strategy calls"
        )
    return [built_in, callback]


# --- hftbacktest ----------------------------------------------------------------------------------

_HBT_LOOP: Any = None


def _hbt_loop() -> Any:
    """The njit strategy loop, compiled on first use (numba is imported only when hftbacktest runs)."""
    global _HBT_LOOP  # noqa: PLW0603 (compiled once per process, numba's own cache is per file)
    if _HBT_LOOP is not None:
        return _HBT_LOOP
    order_module = _module("hftbacktest.order")
    GTC, IOC, LIMIT = order_module.GTC, order_module.IOC, order_module.LIMIT  # noqa: N806 (hftbacktest's names)
    njit = _module("numba").njit

    # hftbacktest.order: NONE (submitted, not yet acknowledged), NEW, PARTIALLY_FILLED: still working,
    # as is an order with a request (req != NONE) on its way.
    none, new, partially_filled = 0, 1, 5

    @njit(cache=False)  # type: ignore[untyped-decorator]
    def done(order: Any) -> bool:
        if order is None:
            return True
        status = order.status
        return bool(order.req == none and status != none and status != new and status != partially_filled)  # noqa: PLR1714

    @njit(cache=False)  # type: ignore[untyped-decorator]
    def loop(  # noqa: PLR0917 (numba njit takes positional arguments)
        hbt: Any, qty: float, threshold: float, levels: int, stop_ticks: int, tp_ticks: int
    ) -> Any:
        flat, entering, opened, stopping, exiting = 0, 1, 2, 3, 4
        phase = flat
        last_decision = 0
        next_id = 0
        entry_id = 0
        tp_id = 0
        exit_id = 0
        direction = 0
        stop_px = 0
        tp_px = 0
        trips = 0
        entries = 0
        feeds = 0
        half_lot = 0.0005
        in_phase = np.zeros(5, np.int64)  # feed returns spent in each phase
        while True:
            rc = hbt.wait_next_feed(True, 1_000_000_000_000_000)
            if rc == 1:
                break
            if rc != 2 and rc != 3:  # noqa: PLR1714 (numba)
                continue
            depth = hbt.depth(0)
            orders = hbt.orders(0)
            position = hbt.position(0)
            # Order progress (responses and feeds alike).
            if phase == entering:
                order = orders.get(entry_id)
                if done(order):
                    if abs(position) > half_lot:
                        entry = order.exec_price_tick if order is not None else 0
                        stop_px = entry - direction * stop_ticks
                        tp_px = entry + direction * tp_ticks
                        next_id += 1
                        tp_id = next_id
                        if direction > 0:
                            hbt.submit_sell_order(
                                0, tp_id, tp_px * depth.tick_size, abs(position), GTC, LIMIT, False
                            )
                        else:
                            hbt.submit_buy_order(
                                0, tp_id, tp_px * depth.tick_size, abs(position), GTC, LIMIT, False
                            )
                        phase = opened
                    else:
                        phase = flat
            elif phase == opened:
                if abs(position) <= half_lot:
                    trips += 1
                    phase = flat
                    hbt.clear_inactive_orders(0)
                else:
                    order = orders.get(tp_id)
                    if done(order):
                        # The take-profit is gone but a position is left (a partial fill): re-place it
                        # for what is left, as rentrade's bracket does.
                        next_id += 1
                        tp_id = next_id
                        if position > 0:
                            hbt.submit_sell_order(
                                0, tp_id, tp_px * depth.tick_size, position, GTC, LIMIT, False
                            )
                        else:
                            hbt.submit_buy_order(
                                0, tp_id, tp_px * depth.tick_size, -position, GTC, LIMIT, False
                            )
            elif phase == exiting:
                order = orders.get(exit_id)
                if done(order):
                    if abs(position) <= half_lot:
                        trips += 1
                        phase = flat
                        hbt.clear_inactive_orders(0)
                    else:
                        phase = stopping
            if phase == stopping:
                order = orders.get(tp_id)
                tp_gone = done(order)
                if abs(position) <= half_lot and tp_gone:
                    trips += 1
                    phase = flat
                    hbt.clear_inactive_orders(0)
                elif tp_gone:
                    next_id += 1
                    exit_id = next_id
                    if position > 0:
                        hbt.submit_sell_order(0, exit_id, depth.best_bid, position, IOC, LIMIT, False)
                    else:
                        hbt.submit_buy_order(0, exit_id, depth.best_ask, -position, IOC, LIMIT, False)
                    phase = exiting
            if rc != 2:
                continue
            feeds += 1
            in_phase[phase] += 1
            # Decision point: the top-N imbalance from the ROI vector (non-empty levels only).
            best_bid = depth.best_bid_tick
            best_ask = depth.best_ask_tick
            decision = 0
            lb = depth.roi_lb_tick
            ub = depth.roi_ub_tick
            if best_bid < best_ask and best_bid >= lb and best_ask <= ub:
                bids = depth.bid_depth
                asks = depth.ask_depth
                bid_qty = 0.0
                found = 0
                tick = best_bid
                while found < levels and tick >= lb:
                    q = bids[tick - lb]
                    if q > 0.0:
                        bid_qty += q
                        found += 1
                    tick -= 1
                ask_qty = 0.0
                found = 0
                tick = best_ask
                while found < levels and tick <= ub:
                    q = asks[tick - lb]
                    if q > 0.0:
                        ask_qty += q
                        found += 1
                    tick += 1
                total = bid_qty + ask_qty
                if total > 0.0:
                    imbalance = (bid_qty - ask_qty) / total
                    if imbalance >= threshold:
                        decision = 1
                    elif imbalance <= -threshold:
                        decision = -1
            crossed = decision != 0 and decision != last_decision  # noqa: PLR1714 (numba)
            last_decision = decision
            if phase == flat and crossed:
                next_id += 1
                entry_id = next_id
                direction = decision
                entries += 1
                if decision > 0:
                    hbt.submit_buy_order(0, entry_id, depth.best_ask, qty, IOC, LIMIT, False)
                else:
                    hbt.submit_sell_order(0, entry_id, depth.best_bid, qty, IOC, LIMIT, False)
                phase = entering
            elif phase == opened:
                touch = best_bid if direction > 0 else best_ask
                if (direction > 0 and touch <= stop_px) or (direction < 0 and touch >= stop_px):
                    order = orders.get(tp_id)
                    if order is not None and order.cancellable:
                        hbt.cancel(0, tp_id, False)
                    phase = stopping
        return trips, entries, feeds, in_phase

    _HBT_LOOP = loop
    return loop


def _hbt_backtest(data: npt.NDArray[Any], rule: Rule) -> Any:
    hftbacktest = _module("hftbacktest")

    trades = data[(data["ev"] & 0xFF) == 2]
    prices = trades["px"] if len(trades) else data["px"][data["px"] > 0]
    asset = (
        hftbacktest.BacktestAsset()
        .data(data)
        .linear_asset(1.0)
        .constant_order_latency(rule.latency_ns, rule.latency_ns)
        .risk_adverse_queue_model()
        .partial_fill_exchange()
        .trading_value_fee_model(rule.maker_fee_bps / 1e4, rule.taker_fee_bps / 1e4)
        .tick_size(float(TICK_SIZE))
        .lot_size(float(LOT_SIZE))
        .roi_lb(float(np.floor(prices.min() * 0.9)))
        .roi_ub(float(np.ceil(prices.max() * 1.1)))
        .last_trades_capacity(0)
    )
    return hftbacktest.ROIVectorMarketDepthBacktest([asset])


def _run_hftbacktest(path: Path, rule: Rule, repeat: int) -> BacktestRun:
    run = BacktestRun("hftbacktest (ROIVector, njit strategy)", _version("hftbacktest"))
    reason = _missing("hftbacktest") or _missing("numba")
    if reason is not None:
        run.skipped_reason = reason
        return run
    binancefutures = _module("hftbacktest.data.utils.binancefutures")

    started = time.perf_counter()
    with contextlib.redirect_stdout(sys.stderr):  # it prints its progress; keep stdout for the table/JSON
        data = binancefutures.convert(str(path))
    run.prepare_s = time.perf_counter() - started
    run.prepare_what = "hftbacktest.data.utils.binancefutures.convert (its Python converter)"
    run.events = len(data)
    loop = _hbt_loop()
    qty = rule.qty_lots * float(LOT_SIZE)
    args = (qty, rule.threshold, rule.depth_levels, rule.stop_ticks, rule.take_profit_ticks)
    # Warm-up: compiles the njit loop (seconds) on the first rows; not timed.
    started = time.perf_counter()
    warm = _hbt_backtest(data[: min(len(data), 20_000)], rule)
    loop(warm, *args)
    warm.close()
    compile_s = time.perf_counter() - started
    build_s: list[float] = []
    for _ in range(repeat):
        started = time.perf_counter()
        hbt = _hbt_backtest(data, rule)
        build_s.append(time.perf_counter() - started)
        started = time.perf_counter()
        trips, entries, feeds, in_phase = loop(hbt, *args)
        run.wall_s.append(time.perf_counter() - started)
        hbt.close()
        run.trades = int(trips)
    run.detail = (
        f"{int(entries):,} entries, {int(feeds):,} feed returns (flat/entering/open/stopping/exiting "
        f"{'/'.join(str(n) for n in in_phase.tolist())}); njit compile + warm-up {compile_s:.1f} s and "
        f"building the backtester from the array {statistics.median(build_s):.2f} s not in the time"
    )
    return run


# --- NautilusTrader -------------------------------------------------------------------------------


def _nautilus_data(events: npt.NDArray[np.void]) -> tuple[list[Any], list[Any], Any]:
    """OrderBookDelta (F_LAST on each message's last) and TradeTick objects from rentrade's events."""
    data_module = _module("nautilus_trader.model.data")
    BookOrder = data_module.BookOrder  # noqa: N806
    OrderBookDelta = data_module.OrderBookDelta  # noqa: N806
    TradeTick = data_module.TradeTick  # noqa: N806
    enums = _module("nautilus_trader.model.enums")
    AggressorSide, BookAction, OrderSide = enums.AggressorSide, enums.BookAction, enums.OrderSide  # noqa: N806
    TradeId = _module("nautilus_trader.model.identifiers").TradeId  # noqa: N806
    objects = _module("nautilus_trader.model.objects")
    Price, Quantity = objects.Price, objects.Quantity  # noqa: N806
    TestInstrumentProvider = _module("nautilus_trader.test_kit.providers").TestInstrumentProvider  # noqa: N806

    instrument = TestInstrumentProvider.btcusdt_perp_binance()
    iid = instrument.id
    f_last = int(enums.RecordFlag.F_LAST)
    out: list[Any] = []
    trades: list[Any] = []
    kinds = events["kind"].tolist()
    sides = events["side"].tolist()
    pxs = events["px_ticks"].tolist()
    qtys = events["qty_lots"].tolist()
    flags = events["flags"].tolist()
    ts_ex = events["ts_exchange_ns"].tolist()
    ts_lo = events["ts_local_ns"].tolist()
    cleared = False
    for i, kind in enumerate(kinds):
        ts_event = max(int(ts_ex[i]), 0)
        ts_init = int(ts_lo[i])
        if kind == KIND_TRADE:
            aggressor = AggressorSide.BUYER if sides[i] == SIDE_BID else AggressorSide.SELLER
            price, size = Price(pxs[i] / 10, 1), Quantity(qtys[i] / 1000, 3)
            trades.append(TradeTick(iid, price, size, aggressor, TradeId(str(i)), ts_event, ts_init))
            continue
        if kind == KIND_CLEAR or (kind == KIND_SNAPSHOT_LEVEL and not cleared):
            out.append(OrderBookDelta.clear(iid, 0, ts_event, ts_init))
            cleared = True
        if kind in (KIND_DELTA, KIND_SNAPSHOT_LEVEL):
            side = OrderSide.BUY if sides[i] == SIDE_BID else OrderSide.SELL
            qty = qtys[i]
            order = BookOrder(side, Price(pxs[i] / 10, 1), Quantity(qty / 1000, 3), 0)
            if kind == KIND_SNAPSHOT_LEVEL:
                action = BookAction.ADD
            else:
                action = BookAction.UPDATE if qty > 0 else BookAction.DELETE
                cleared = False
            flag = f_last if flags[i] & FLAG_LAST_IN_MESSAGE else 0
            out.append(OrderBookDelta(iid, action, order, flag, 0, ts_event, ts_init))
    return out, trades, instrument


def _nautilus_strategy_class() -> Any:
    enums = _module("nautilus_trader.model.enums")
    BookType = enums.BookType  # noqa: N806
    OrderSide = enums.OrderSide  # noqa: N806
    TimeInForce = enums.TimeInForce  # noqa: N806
    Price = _module("nautilus_trader.model.objects").Price  # noqa: N806
    strategy_base: Any = _module("nautilus_trader.trading.strategy").Strategy
    SortedDict = _module("sortedcontainers").SortedDict  # noqa: N806

    clear, delete, buy = enums.BookAction.CLEAR, enums.BookAction.DELETE, OrderSide.BUY

    class ImbalanceBracket(strategy_base):  # type: ignore[misc]
        """The rule of the module docstring on NautilusTrader's Strategy API."""

        def __init__(self, instrument: Any, rule: Rule) -> None:
            super().__init__()
            self.instrument = instrument
            self.rule = rule
            self.qty = instrument.make_qty(rule.qty_lots * float(LOT_SIZE))
            self.tick = float(TICK_SIZE)
            self.phase = "flat"
            self.last_decision = 0
            self.direction = 0
            self.stop_raw = 0
            self.bids: Any = SortedDict()  # -raw price -> size: best bid first
            self.asks: Any = SortedDict()  # raw price -> size: best ask first
            self.tp_px = 0.0
            self.entry_order: Any = None
            self.tp_order: Any = None
            self.exit_order: Any = None
            self.trips = 0
            self.entries = 0
            self.net = 0.0

        def on_start(self) -> None:
            self.subscribe_order_book_deltas(self.instrument.id, BookType.L2_MBP)

        def _net(self) -> float:
            # Kept from the fill events: the portfolio is updated after the strategy sees the fill.
            return self.net

        def on_order_book_deltas(self, deltas: Any) -> None:
            # Nautilus's OrderBook has no top-N read: bids()/asks() copy every level (~1,000 here, about
            # 7 ms per message), so the strategy keeps its own top of book from the deltas it is given.
            bids, asks = self.bids, self.asks
            for delta in deltas.deltas:
                action = delta.action
                if action == clear:
                    bids.clear()
                    asks.clear()
                    continue
                order = delta.order
                raw = order.price.raw
                if order.side == buy:
                    if action == delete:
                        bids.pop(-raw, None)
                    else:
                        bids[-raw] = order.size.as_double()
                elif action == delete:
                    asks.pop(raw, None)
                else:
                    asks[raw] = order.size.as_double()
            decision = 0
            best_bid = best_ask = None
            if bids and asks:
                best_bid, best_ask = -bids.keys()[0], asks.keys()[0]
            if best_bid is not None and best_ask is not None and best_bid < best_ask:
                levels = self.rule.depth_levels
                bid_qty = sum(islice(bids.values(), levels))
                ask_qty = sum(islice(asks.values(), levels))
                total = bid_qty + ask_qty
                if total > 0:
                    imbalance = (bid_qty - ask_qty) / total
                    threshold = self.rule.threshold
                    decision = 1 if imbalance >= threshold else -1 if imbalance <= -threshold else 0
            crossed = decision not in {0, self.last_decision}
            self.last_decision = decision
            if self.phase == "flat" and crossed and best_bid is not None and best_ask is not None:
                self.direction = decision
                self.entries += 1
                self.entry_order = self.order_factory.limit(
                    self.instrument.id,
                    OrderSide.BUY if decision > 0 else OrderSide.SELL,
                    self.qty,
                    Price.from_raw(best_ask if decision > 0 else best_bid, 1),
                    time_in_force=TimeInForce.IOC,
                )
                self.phase = "entering"
                self.submit_order(self.entry_order)
            elif self.phase == "open" and best_bid is not None and best_ask is not None:
                touch = best_bid if self.direction > 0 else best_ask
                if (self.direction > 0 and touch <= self.stop_raw) or (
                    self.direction < 0 and touch >= self.stop_raw
                ):
                    self.phase = "stopping"
                    if self.tp_order is not None and self.tp_order.is_open:
                        self.cancel_order(self.tp_order)
                    else:
                        self._exit()
            elif self.phase == "stopping" and (self.tp_order is None or self.tp_order.is_closed):
                self._exit()

        def _exit(self) -> None:
            net = self._net()
            if abs(net) < 1e-9:
                self._flat()
                return
            if not self.bids or not self.asks:
                return
            touch = Price.from_raw(-self.bids.keys()[0] if net > 0 else self.asks.keys()[0], 1)
            self.exit_order = self.order_factory.limit(
                self.instrument.id,
                OrderSide.SELL if net > 0 else OrderSide.BUY,
                self.instrument.make_qty(abs(net)),
                touch,
                time_in_force=TimeInForce.IOC,
                reduce_only=True,
            )
            self.phase = "exiting"
            self.submit_order(self.exit_order)

        def _flat(self) -> None:
            if self.phase != "flat":
                self.trips += 1
            self.phase = "flat"
            self.tp_order = None

        def _order_done(self, client_order_id: Any) -> None:
            net = self._net()
            if self.entry_order is not None and client_order_id == self.entry_order.client_order_id:
                self.entry_order = None
                if abs(net) < 1e-9:
                    self.phase = "flat"
                    return
                entry = float(self.cache.order(client_order_id).avg_px)
                entry_ticks = round(entry / self.tick)
                self.stop_raw = self.instrument.make_price(
                    (entry_ticks - self.direction * self.rule.stop_ticks) * self.tick
                ).raw
                self.tp_px = (entry_ticks + self.direction * self.rule.take_profit_ticks) * self.tick
                self.tp_order = self.order_factory.limit(
                    self.instrument.id,
                    OrderSide.SELL if net > 0 else OrderSide.BUY,
                    self.instrument.make_qty(abs(net)),
                    self.instrument.make_price(self.tp_px),
                    time_in_force=TimeInForce.GTC,
                    reduce_only=True,
                )
                self.phase = "open"
                self.submit_order(self.tp_order)
            elif self.tp_order is not None and client_order_id == self.tp_order.client_order_id:
                if abs(net) < 1e-9:
                    self._flat()
                elif self.phase == "stopping":
                    self._exit()
            elif self.exit_order is not None and client_order_id == self.exit_order.client_order_id:
                self.exit_order = None
                if abs(net) < 1e-9:
                    self._flat()
                else:
                    self.phase = "stopping"

        def on_order_filled(self, event: Any) -> None:
            qty = float(event.last_qty)
            self.net = round(self.net + (qty if event.order_side == OrderSide.BUY else -qty), 9)
            order = self.cache.order(event.client_order_id)
            if order is not None and order.is_closed:
                self._order_done(event.client_order_id)

        def on_order_canceled(self, event: Any) -> None:
            self._order_done(event.client_order_id)

        def on_order_expired(self, event: Any) -> None:
            self._order_done(event.client_order_id)

        def on_order_rejected(self, event: Any) -> None:
            self._order_done(event.client_order_id)

    return ImbalanceBracket


def _run_nautilus(events: npt.NDArray[np.void], rule: Rule, repeat: int) -> BacktestRun:
    run = BacktestRun("NautilusTrader (BacktestEngine, L2_MBP)", _version("nautilus_trader"))
    reason = _missing("nautilus_trader.backtest.engine")
    if reason is not None:
        run.skipped_reason = reason
        return run
    engine_module = _module("nautilus_trader.backtest.engine")
    config_module = _module("nautilus_trader.config")
    enums = _module("nautilus_trader.model.enums")
    identifiers = _module("nautilus_trader.model.identifiers")
    LatencyModel = _module("nautilus_trader.backtest.models").LatencyModel  # noqa: N806
    usdt = _module("nautilus_trader.model.currencies").USDT
    Money = _module("nautilus_trader.model.objects").Money  # noqa: N806

    started = time.perf_counter()
    deltas, trades, instrument = _nautilus_data(events)
    build_s = time.perf_counter() - started
    run.events = len(deltas) + len(trades)
    strategy_class = _nautilus_strategy_class()
    add_s: list[float] = []
    for _ in range(repeat):
        engine = engine_module.BacktestEngine(
            engine_module.BacktestEngineConfig(
                trader_id=identifiers.TraderId("BENCH-001"),
                logging=config_module.LoggingConfig(bypass_logging=True),
                data_engine=config_module.DataEngineConfig(buffer_deltas=True),  # one callback per message
            )
        )
        engine.add_venue(
            venue=identifiers.Venue("BINANCE"),
            oms_type=enums.OmsType.NETTING,
            account_type=enums.AccountType.MARGIN,
            starting_balances=[Money(1_000_000, usdt)],
            book_type=enums.BookType.L2_MBP,
            latency_model=LatencyModel(base_latency_nanos=rule.latency_ns),
            trade_execution=True,
        )
        engine.add_instrument(instrument)
        started = time.perf_counter()
        engine.add_data(deltas)  # first: the book before trades at equal times (the sort is stable)
        engine.add_data(trades)
        add_s.append(time.perf_counter() - started)
        strategy = strategy_class(instrument, rule)
        engine.add_strategy(strategy)
        started = time.perf_counter()
        engine.run()
        run.wall_s.append(time.perf_counter() - started)
        run.trades = strategy.trips
        run.detail = f"{strategy.entries:,} entries, deltas buffered to one callback per message"
        engine.dispose()
    run.prepare_s = build_s + statistics.median(add_s)
    run.prepare_what = (
        f"Python objects from rentrade's decoded events {build_s:.2f} s"
        f" + add_data {statistics.median(add_s):.2f} s"
    )
    return run


# --- all together ---------------------------------------------------------------------------------


def run_all(
    path: str | Path,
    *,
    repeat: int = 3,
    lines: int | None = None,
    rule: Rule = RULE,
    peers: Sequence[str] = ("hftbacktest", "nautilus"),
    progress: Callable[[str], None] | None = None,
) -> tuple[list[BacktestRun], str]:
    """Every backtester on ``path`` (or on its first ``lines`` lines); returns the runs and the source.

    Raises
    ------
    ValueError
        A missing recording, or one without a synced Binance book, or ``repeat`` < 1.
    AssertionError
        rentrade's built-in strategy made no trade (nothing was measured).
    """
    if repeat < 1:
        raise ValueError(f"repeat must be >= 1, got {repeat}")

    def say(text: str) -> None:
        if progress is not None:
            progress(text)

    with tempfile.TemporaryDirectory(prefix="rentrade-btpeers-") as tmp:
        source = Path(path) if lines is None else slice_recording(path, lines, tmp)
        if not source.exists():
            raise ValueError(f"recording not found: {source}")
        say(f"rentrade: loading {source.name}")
        started = time.perf_counter()
        events, instruments, description = load_market([str(source)], tick_size=TICK_SIZE, lot_size=LOT_SIZE)
        prepare_s = time.perf_counter() - started
        started = time.perf_counter()
        fast = feed_events(source)
        feed_s = time.perf_counter() - started
        if fast.tobytes() != events.tobytes():
            raise AssertionError("the C++ feed parser and load_market disagree on this recording")
        say("rentrade: backtests")
        runs = _run_rentrade(events, instruments, rule, repeat, prepare_s)
        runs[0].prepare_what = (
            f"frames -> records: rentrade.backtest.load_market (Python replay, checks) {prepare_s:.2f} s;"
            f" the live C++ feed parser (BinanceFeed) gives the same records in {feed_s:.2f} s"
        )
        if runs[0].trades == 0:
            raise AssertionError(
                "rentrade's built-in strategy made no trade on this recording: nothing measured"
            )
        if "hftbacktest" in peers:
            say("hftbacktest: convert, compile, backtests")
            runs.append(_run_hftbacktest(source, rule, repeat))
        if "nautilus" in peers:
            say("NautilusTrader: data objects, backtests")
            runs.append(_run_nautilus(events, rule, repeat))
    return runs, description


def run_to_json(run: BacktestRun) -> dict[str, Any]:
    """One run as JSON-ready data (events/s is the median over the timed runs)."""
    low, high = run.spread
    return {
        "name": run.name,
        "version": run.version,
        "events": run.events,
        "wall_s": run.wall_s,
        "events_per_s": run.events_per_s,
        "events_per_s_spread": [low, high],
        "trades": run.trades,
        "prepare_s": run.prepare_s,
        "prepare_what": run.prepare_what,
        "detail": run.detail,
        "skipped_reason": run.skipped_reason,
    }


def format_runs(runs: Sequence[BacktestRun], source: str) -> list[str]:
    """Lines of the comparison table (ratios against rentrade's built-in strategy)."""
    base = runs[0].events_per_s if runs and runs[0].wall_s else 0.0
    lines = [
        f"source: {source}",
        f"{'backtester':<46} {'version':>9} {'events':>9} {'M ev/s':>7} {'spread':>11} {'wall s':>7} "
        f"{'trades':>6} {'rentrade x':>10} {'prepare s':>9}",
    ]
    for run in runs:
        if run.skipped_reason is not None:
            lines.append(f"{run.name:<46} skipped: {run.skipped_reason}")
            continue
        low, high = run.spread
        ratio = base / run.events_per_s if run.events_per_s > 0 else float("nan")
        lines.append(
            f"{run.name:<46} {run.version:>9} {run.events:>9,} {run.events_per_s / 1e6:>7.3f} "
            f"{low / 1e6:>5.2f}-{high / 1e6:<5.2f} {statistics.median(run.wall_s):>7.3f} {run.trades:>6,} "
            f"{ratio:>10.1f} {run.prepare_s:>9.2f}"
        )
        lines.append(f"    prepare: {run.prepare_what}; {run.detail}")
    return lines


def main(argv: Sequence[str] | None = None) -> int:
    """Entry point: prints the comparison table."""
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--data", help=f"recording (default ../shared/data/{DEFAULT_RECORDING})")
    parser.add_argument("--lines", type=int, help="only the first N lines of the recording")
    parser.add_argument("--repeat", type=int, default=3, help="timed runs per backtester (default 3)")
    args = parser.parse_args(argv)
    path = args.data or str(default_recording())
    runs, source = run_all(path, repeat=args.repeat, lines=args.lines, progress=_stderr)
    print("\n".join(format_runs(runs, source)))
    return 0


def _stderr(text: str) -> None:
    sys.stderr.write(f"... {text}\n")
    sys.stderr.flush()


def default_recording() -> Path:
    """The default recording: ``$RENTRADE_SHARED_DATA`` or ``../shared/data`` next to the checkout."""
    import os

    root = os.environ.get("RENTRADE_SHARED_DATA")
    candidates = [Path(root)] if root else []
    candidates += [Path.cwd() / "../shared/data", Path(__file__).resolve().parents[3] / "../shared/data"]
    for candidate in candidates:
        if (candidate / DEFAULT_RECORDING).exists():
            return (candidate / DEFAULT_RECORDING).resolve()
    where = ", ".join(map(str, candidates))
    raise ValueError(f"no {DEFAULT_RECORDING} under {where}; give the path (rentrade bench: --backtest-data)")


if __name__ == "__main__":
    sys.exit(main())
