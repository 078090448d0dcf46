"""rentrade.Engine: intents on a signal, refusals by reason, kill switch, fills, bracket exits, the Python
callback strategy, determinism, errors, and hand-checked decisions on a recorded Binance stream."""

from __future__ import annotations

from collections.abc import Iterable
from decimal import Decimal
from pathlib import Path
from typing import Any

import numpy as np
import numpy.typing as npt
import pytest

import rentrade
from rentrade import BookSet, Engine, EngineError, Instrument, RiskReason, TradingState, _fastcore
from rentrade.events import FLAG_LAST_IN_MESSAGE, KIND_TRADE, empty_events
from rentrade.orders import (
    INTENT_CANCEL,
    INTENT_DTYPE,
    INTENT_NEW,
    REPORT_ACK,
    REPORT_CANCELLED,
    REPORT_DTYPE,
    REPORT_FILL,
    TIF_GTC,
    TIF_IOC,
    empty_reports,
    report_for,
)

Events = npt.NDArray[np.void]
T0 = 1_700_000_000_000_000_000


def instruments(count: int = 3) -> list[Instrument]:
    # tick 0.1, lot 0.001: one tick-lot is 1e-4 USDT.
    return [Instrument(f"S{i}", "a" if i % 2 == 0 else "b", "0.1", "0.001") for i in range(count)]


def engine(count: int = 3, **kwargs: Any) -> Engine:
    options: dict[str, Any] = {"weights": {"imbalance": 1.0}, "threshold": 0.5, "qty_lots": 5}
    options.update(kwargs)
    return Engine(instruments(count), **options)


def book_message(
    instrument_id: int, levels: Iterable[tuple[int, int, int]], ts: int, *, snapshot: bool = False
) -> Events:
    """One message of (side, px_ticks, qty_lots) levels; a snapshot starts with CLEAR."""
    rows = list(levels)
    events = empty_events(len(rows) + (1 if snapshot else 0))
    kinds = ([1] if snapshot else []) + [2 if snapshot else 3] * len(rows)
    sides = ([0] if snapshot else []) + [side for side, _, _ in rows]
    prices = ([0] if snapshot else []) + [px for _, px, _ in rows]
    quantities = ([0] if snapshot else []) + [qty for _, _, qty in rows]
    events["kind"] = kinds
    events["side"] = sides
    events["px_ticks"] = prices
    events["qty_lots"] = quantities
    events["instrument_id"] = instrument_id
    events["ts_exchange_ns"] = ts
    events["ts_local_ns"] = ts
    events["seq"] = ts - T0 + 1
    events["flags"][-1] = FLAG_LAST_IN_MESSAGE
    return events


def bullish(instrument_id: int, ts: int = T0) -> Events:
    """Bid 1000 x 90 vs ask 1001 x 10: top imbalance 0.8 >= 0.5, a long signal."""
    return book_message(instrument_id, [(0, 1000, 90), (1, 1001, 10)], ts, snapshot=True)


def bearish(instrument_id: int, ts: int = T0) -> Events:
    return book_message(instrument_id, [(0, 1000, 10), (1, 1001, 90)], ts, snapshot=True)


def one(intents: Events) -> np.void:
    assert len(intents) == 1, intents
    return intents[0]


def test_intent_and_report_dtypes_match_cpp_layout() -> None:
    for dtype, layout in (
        (INTENT_DTYPE, _fastcore.intent_layout()),
        (REPORT_DTYPE, _fastcore.report_layout()),
    ):
        assert dtype.itemsize == 64
        assert set(layout) == set(dtype.names or ())
        for name, (offset, size) in layout.items():
            field_dtype, field_offset = dtype.fields[name][:2]  # type: ignore[index]
            assert (field_offset, field_dtype.itemsize) == (offset, size), name
    assert _fastcore.ENGINE_STAGES == ("book", "signal", "strategy", "risk", "position", "tick_to_decision")


def test_signal_produces_an_entry_intent() -> None:
    eng = engine()
    entry = one(eng.on_events(bullish(0)))
    assert entry["kind"] == INTENT_NEW and entry["side"] == 0 and entry["tif"] == TIF_IOC
    assert (int(entry["px_ticks"]), int(entry["qty_lots"])) == (1001, 5)  # IOC at the ask
    assert entry["order_id"] != 0 and entry["reduce_only"] == 0
    assert entry["ts_ns"] == T0 and entry["ts_trigger_local_ns"] == T0 and entry["trigger_seq"] == 1
    assert eng.bracket(0)["phase"] == "entering"
    assert eng.composite(0) == (pytest.approx(0.8), 1)
    assert eng.features(0)["imbalance"] == pytest.approx(0.8)
    assert eng.books[0].best_ask() == (1001, 10)
    # Another instrument on venue b goes short.
    short = one(eng.on_events(bearish(1, T0 + 1)))
    assert short["side"] == 1 and short["px_ticks"] == 1000 and short["venue_id"] == 1
    assert short["order_id"] != entry["order_id"]
    assert eng.counters["new_orders"] == 2 and eng.counters["messages"] == 2


def test_no_duplicate_entry_while_working_or_in_position() -> None:
    eng = engine()
    entry = one(eng.on_events(bullish(0)))
    # The signal stays long: no second entry while the first is working...
    assert len(eng.on_events(book_message(0, [(0, 1000, 95)], T0 + 1))) == 0
    tp = one(eng.on_reports(report_for(entry, REPORT_FILL, qty_lots=5, trade_id=1)))
    assert tp["kind"] == INTENT_NEW and tp["reduce_only"] == 1
    # ...nor while the position is on, even when the signal falls back and crosses again.
    assert len(eng.on_events(book_message(0, [(0, 1000, 10)], T0 + 2))) == 0
    assert len(eng.on_events(book_message(0, [(0, 1000, 90)], T0 + 3))) == 0
    assert eng.counters["new_orders"] == 2
    assert eng.bracket_counters["entries"] == 1


def test_risk_refusals_are_counted_with_their_reason() -> None:
    eng = engine()
    eng.risk.set_limits(0, max_qty_lots=4)
    assert len(eng.on_events(bullish(0))) == 0
    assert eng.refusals == {RiskReason.QTY_ABOVE_MAX: 1}
    assert eng.counters["risk_refusals"] == 1
    eng.set_resyncing(1)
    assert eng.resyncing(1)
    assert len(eng.on_events(bullish(1))) == 0
    assert eng.refusals[RiskReason.BOOK_RESYNCING] == 1
    eng.set_resyncing(1, False)
    assert (
        len(eng.on_events(bearish(1, T0 + 1))) == 1
    )  # crossing the other way enters once the book is healthy


def test_kill_switch_emits_cancels_and_refuses() -> None:
    eng = engine(5)
    entry = one(eng.on_events(bullish(0)))
    tp = one(eng.on_reports(report_for(entry, REPORT_FILL, qty_lots=5, trade_id=1)))
    assert len(eng.on_reports(report_for(tp, REPORT_ACK))) == 0
    in_flight = one(eng.on_events(bullish(2, T0 + 1)))
    cancels = eng.halt(venue="a")
    assert sorted(int(i) for i in cancels["order_id"]) == sorted(
        [int(tp["order_id"]), int(in_flight["order_id"])]
    )
    assert set(cancels["kind"].tolist()) == {INTENT_CANCEL}
    assert eng.state(venue="a") == TradingState.HALTED
    assert eng.effective_state(0) == TradingState.HALTED
    assert len(eng.on_events(bullish(4, T0 + 2))) == 0
    assert eng.refusals[RiskReason.VENUE_HALTED] == 1
    # Cancels are sent once: a global halt finds nothing new to cancel.
    assert len(eng.set_state(TradingState.HALTED)) == 0
    with pytest.raises(ValueError, match="not both"):
        eng.halt(instrument_id=0, venue="a")
    with pytest.raises(KeyError):
        eng.halt(venue="nowhere")


def test_fills_move_positions_and_pnl() -> None:
    eng = engine()
    entry = one(eng.on_events(bullish(0)))
    tp = one(eng.on_reports(report_for(entry, REPORT_FILL, qty_lots=5, trade_id=7, fee_units=3)))
    position = eng.position(0)
    assert position["net_lots"] == 5 and position["fills"] == 1
    assert position["taker_fees"] == Decimal("0.0003")
    # The same trade id again is counted once.
    assert len(eng.on_reports(report_for(entry, REPORT_FILL, qty_lots=5, trade_id=7))) == 0
    # (the entry IOC is finished, so the report is about an unknown order: its fill is still checked)
    assert eng.counters["duplicate_fills"] == 1 and eng.counters["unknown_reports"] == 1
    assert eng.position(0)["net_lots"] == 5
    # TP fills as maker: +20 ticks x 5 lots = 100 tick-lots = 0.0100 USDT, less 0.0003 fee.
    assert len(eng.on_reports(report_for(tp, REPORT_ACK))) == 0
    assert len(eng.on_reports(report_for(tp, REPORT_FILL, qty_lots=5, trade_id=8, liquidity=0))) == 0
    assert eng.position(0)["net_lots"] == 0
    assert eng.position(0)["realized"] == Decimal("0.0100")
    assert eng.day_pnl() == Decimal("0.0097")
    assert eng.day_pnl(venue="a") == Decimal("0.0097") and eng.day_pnl(venue="b") == Decimal("0")
    assert eng.counters["working_orders"] == 0


def test_take_profit_fill_disarms_the_stop() -> None:
    eng = engine()
    entry = one(eng.on_events(bullish(0)))
    tp = one(eng.on_reports(report_for(entry, REPORT_FILL, qty_lots=5, trade_id=1)))
    assert (int(tp["side"]), int(tp["px_ticks"]), int(tp["tif"])) == (1, 1021, TIF_GTC)  # 1001 + 2 x 10
    assert eng.bracket(0)["stop_px_ticks"] == 991
    eng.on_reports(report_for(tp, REPORT_ACK))
    assert len(eng.on_reports(report_for(tp, REPORT_FILL, qty_lots=5, trade_id=2))) == 0
    assert eng.bracket(0)["phase"] == "flat"
    # Price crashes through the old stop: the stop leg is gone, nothing is sent.
    crash = book_message(0, [(0, 1000, 0), (0, 980, 50), (1, 1001, 0), (1, 981, 50)], T0 + 5)
    assert len(eng.on_events(crash)) == 0
    assert eng.bracket_counters["take_profits"] == 1 and eng.bracket_counters["stops"] == 0


def test_stop_cancels_the_take_profit_then_exits() -> None:
    eng = engine()
    entry = one(eng.on_events(bullish(0)))
    tp = one(eng.on_reports(report_for(entry, REPORT_FILL, qty_lots=5, trade_id=1)))
    eng.on_reports(report_for(tp, REPORT_ACK))
    fall = book_message(0, [(0, 1000, 0), (0, 991, 50), (1, 1001, 0), (1, 992, 50)], T0 + 5)
    cancel = one(eng.on_events(fall))
    assert cancel["kind"] == INTENT_CANCEL and cancel["order_id"] == tp["order_id"]
    assert eng.bracket(0)["phase"] == "stopping"
    exit_order = one(eng.on_reports(report_for(cancel, REPORT_CANCELLED)))
    assert (int(exit_order["side"]), int(exit_order["px_ticks"]), int(exit_order["qty_lots"])) == (1, 991, 5)
    assert exit_order["tif"] == TIF_IOC and exit_order["reduce_only"] == 1
    assert len(eng.on_reports(report_for(exit_order, REPORT_FILL, qty_lots=5, trade_id=2))) == 0
    assert eng.position(0)["net_lots"] == 0
    assert eng.position(0)["realized"] == Decimal("-0.0050")
    assert eng.bracket_counters == {
        "entries": 1,
        "entry_refusals": 0,
        "sizing_skips": 0,
        "take_profits": 0,
        "stops": 1,
        "stop_exits": 1,
    }


def test_loss_limit_halts_through_the_engine_pnl() -> None:
    eng = engine()
    eng.risk.set_global_limits(daily_loss_halt="0.0020")  # 20 money units of 1e-4
    entry = one(eng.on_events(bullish(0)))
    tp = one(eng.on_reports(report_for(entry, REPORT_FILL, qty_lots=5, trade_id=1)))
    eng.on_reports(report_for(tp, REPORT_ACK))
    # Mid 996.5 -> mark 996: 5 x (996 - 1001) = -25 tick-lots = -0.0025 USDT <= -0.0020: HALTED.
    out = eng.on_events(book_message(0, [(0, 1000, 0), (0, 995, 50), (1, 1001, 0), (1, 998, 50)], T0 + 5))
    assert eng.day_pnl() == Decimal("-0.0025")
    assert eng.effective_state(0) == TradingState.HALTED
    assert int(tp["order_id"]) in [int(i) for i in out[out["kind"] == INTENT_CANCEL]["order_id"]]
    eng.reset_day()
    assert eng.effective_state(0) == TradingState.ACTIVE


def test_sizing_from_a_budget() -> None:
    # 10 USDT at 100.1 (1001 ticks): floor(10 / 0.1001) = 99 lots; the budget from the sizing helpers.
    allocation = rentrade.sizing.allocate(1000, 100, "0.479", "2", "1")
    eng = Engine(instruments(1), weights={"imbalance": 1.0}, threshold=0.5, budget=Decimal("10"))
    assert int(one(eng.on_events(bullish(0)))["qty_lots"]) == 99
    eng2 = Engine(instruments(1), weights={"imbalance": 1.0}, threshold=0.5, budget=allocation.per_instrument)
    # 1000 / 100 x 0.2185 = 2.185 USDT at 100.1 -> 21 lots.
    assert int(one(eng2.on_events(bullish(0)))["qty_lots"]) == 21
    with pytest.raises(TypeError, match="float"):
        Engine(instruments(1), budget=10.0)
    with pytest.raises(ValueError, match="fixed quantity or a positive budget"):
        Engine(instruments(1))
    bps = Engine(
        instruments(1),
        weights={"imbalance": 1.0},
        threshold=0.5,
        qty_lots=1,
        distance_unit="bps",
        stop_distance=10,
    )
    entry = one(bps.on_events(bullish(0)))
    tp = one(bps.on_reports(report_for(entry, REPORT_FILL, qty_lots=1, trade_id=1)))
    # 10 bps of 1001 ticks = 1.001 -> 2 ticks (rounded up); TP 2 x 2 = 4 ticks.
    assert int(tp["px_ticks"]) == 1005 and bps.bracket(0)["stop_px_ticks"] == 999


def synthetic_engine_run(count: int) -> tuple[list[tuple[int, int, int, int, int, int, int]], dict[str, int]]:
    events = _fastcore.synthetic_events(count, 15_000, seed=7)
    eng = Engine(
        [Instrument("SYNTH", "synthetic", "0.1", "0.001")] * count,
        weights={"imbalance": 0.7, "trade_flow": 0.3},
        threshold=0.3,
        qty_lots=1,
        stop_distance=3,
    )
    log = run_with_simple_fills(eng, events)
    return log, eng.counters | eng.bracket_counters


def test_decisions_are_deterministic() -> None:
    first, counters = synthetic_engine_run(5)
    second, counters_again = synthetic_engine_run(5)
    assert counters["entries"] > 5 and counters["take_profits"] + counters["stop_exits"] > 2, counters
    assert first == second and counters == counters_again


def test_stage_histograms_are_recorded() -> None:
    eng = engine()
    eng.on_events(bullish(0))
    assert eng.histogram("tick_to_decision").count == 1
    assert eng.histogram("risk").count == 1
    assert eng.histogram("tick_to_decision").max > 0
    eng.reset_histograms()
    assert eng.histogram("book").count == 0
    eng.timing = False
    eng.on_events(bullish(1))
    assert eng.histogram("book").count == 0
    with pytest.raises(KeyError, match="tick_to_decision"):
        eng.histogram("nope")


def test_python_callback_strategy() -> None:
    seen: list[tuple[int, int, Any, Any]] = []

    def strategy(decision: _fastcore.Decision) -> Any:
        seen.append((decision.instrument_id, decision.decision, decision.best_bid, decision.best_ask))
        assert decision.feature("imbalance") == pytest.approx(0.8)
        if decision.decision > 0 and decision.net_lots == 0 and decision.open_orders == 0:
            return [(rentrade.Side.BID, decision.best_ask[0], 2, "ioc"), ("sell", 1010, 2, TIF_GTC, True)]
        return None

    eng = Engine(instruments(), strategy=strategy, weights={"imbalance": 1.0}, threshold=0.5)
    intents = eng.on_events(bullish(0))
    assert seen == [(0, 1, (1000, 90), (1001, 10))]
    assert len(intents) == 1  # the reduce-only sell is refused: it would not reduce a flat position
    assert eng.refusals == {RiskReason.REDUCE_ONLY_WOULD_INCREASE: 1}
    assert eng.counters["strategy_calls"] == 1
    # Cancels by id.
    oid = int(intents[0]["order_id"])
    cancel_eng = Engine(instruments(), strategy=lambda d: ("cancel", oid), weights={"imbalance": 1.0})
    assert len(cancel_eng.on_events(bullish(0))) == 0  # not one of its orders: nothing to cancel


def test_python_callback_errors_surface() -> None:
    def boom(decision: _fastcore.Decision) -> None:
        raise RuntimeError("strategy bug")

    eng = Engine(instruments(), strategy=boom)
    with pytest.raises(RuntimeError, match="strategy bug"):
        eng.on_events(bullish(0))
    bad = Engine(instruments(), strategy=lambda d: [(0, 1000)])
    with pytest.raises(ValueError, match="an order is"):
        bad.on_events(bullish(0))
    with pytest.raises(TypeError, match="callable"):
        Engine(instruments(), strategy=42)  # type: ignore[arg-type]
    with pytest.raises(ValueError, match="'bracket', 'none'"):
        Engine(instruments(), strategy="martingale")


def test_bad_input_is_refused_clearly() -> None:
    eng = engine()
    events = bullish(0)
    events["instrument_id"][1] = 99
    with pytest.raises(rentrade.BookError, match=r"event 1 refused.*instrument_id 99"):
        eng.on_events(events)
    with pytest.raises(TypeError, match="EVENT_DTYPE"):
        eng.on_events(np.zeros(3, dtype=np.int64))
    with pytest.raises(TypeError, match="dtype"):
        eng.on_reports(empty_events(1))
    report = empty_reports(1)
    report["kind"] = 9
    with pytest.raises(EngineError, match="report 0"):
        eng.on_reports(report)
    with pytest.raises(rentrade.RiskError, match=r"Engine\.risk"):
        eng.risk.on_ack(1)
    with pytest.raises(IndexError):
        eng.position(3)
    with pytest.raises(ValueError, match="distance_unit"):
        engine(distance_unit="pips")
    with pytest.raises(ValueError, match="at least one instrument"):
        Engine([], qty_lots=1)
    with pytest.raises(KeyError, match="unknown feature"):
        engine(weights={"alpha": 1.0})
    # An unknown order id is counted, not fatal.
    stranger = empty_reports(1)
    stranger["kind"] = REPORT_ACK
    stranger["order_id"] = 123
    assert len(eng.on_reports(stranger)) == 0 and eng.counters["unknown_reports"] == 1


# ---- a short slice of a real recording, decisions checked by hand -------------------------------------


@pytest.fixture(scope="module")
def btcusdt_stream(shared_data: Path) -> tuple[Instrument, Events]:
    """The first 9,420 records of the hftbacktest BTCUSDT-perp recording: book events and trades merged
    by local receive time (trades of one frame stay after the book frames received at the same time)."""
    from rentrade.venues.binance_usdm.replay import replay_binance

    replay = replay_binance(shared_data / "hftbacktest/examples/usdm/btcusdt_20240808.gz")
    symbol = replay.symbols["BTCUSDT"]
    merged = np.concatenate([symbol.events, symbol.trades])
    merged = merged[np.argsort(merged["ts_local_ns"], kind="stable")]
    return symbol.instrument, merged[:9_420]


def run_with_simple_fills(eng: Engine, events: Events) -> list[tuple[int, int, int, int, int, int, int]]:
    """Feeds `events` one message at a time and answers intents the simplest way (test harness only,
    not a venue model): an IOC fills in full at its limit, a GTC order is acked and rests until a later
    recorded trade prints at or through its price, a cancel is confirmed at once."""
    log: list[tuple[int, int, int, int, int, int, int]] = []
    resting: dict[int, np.void] = {}
    trade_id = 0
    ends = np.flatnonzero(events["flags"] & FLAG_LAST_IN_MESSAGE) + 1
    start = 0
    for end in ends:
        message = events[start:end]
        start = end
        pending = list(eng.on_events(message))
        last = message[-1]
        if last["kind"] == KIND_TRADE:
            for order_id, order in list(resting.items()):
                through = (
                    last["px_ticks"] >= order["px_ticks"]
                    if order["side"] == 1
                    else last["px_ticks"] <= order["px_ticks"]
                )
                if through:
                    trade_id += 1
                    del resting[order_id]
                    fill = report_for(
                        order,
                        REPORT_FILL,
                        qty_lots=int(order["qty_lots"]),
                        trade_id=trade_id,
                        ts_ns=int(last["ts_local_ns"]),
                    )
                    pending += list(eng.on_reports(fill))
        while pending:
            intent = pending.pop(0)
            log.append(
                (
                    int(intent["ts_trigger_local_ns"]),
                    int(intent["kind"]),
                    int(intent["side"]),
                    int(intent["px_ticks"]),
                    int(intent["qty_lots"]),
                    int(intent["tif"]),
                    int(intent["reduce_only"]),
                )
            )
            if intent["kind"] == INTENT_CANCEL:
                resting.pop(int(intent["order_id"]), None)
                pending += list(eng.on_reports(report_for(intent, REPORT_CANCELLED)))
            elif intent["tif"] == TIF_IOC:
                trade_id += 1
                pending += list(
                    eng.on_reports(
                        report_for(intent, REPORT_FILL, qty_lots=int(intent["qty_lots"]), trade_id=trade_id)
                    )
                )
            else:
                pending += list(eng.on_reports(report_for(intent, REPORT_ACK)))
                resting[int(intent["order_id"])] = intent
    return log


def top_after(instrument: Instrument, events: Events, last_index: int) -> tuple[Any, Any]:
    """Best bid and ask after events[: last_index + 1] on a fresh book (independent of the engine)."""
    books = BookSet([instrument])
    books.apply_events(events[: last_index + 1])
    return books[0].best_bid(), books[0].best_ask()


def test_recorded_stream_decisions_checked_by_hand(btcusdt_stream: tuple[Instrument, Events]) -> None:
    instrument, events = btcusdt_stream
    assert (instrument.tick_size, instrument.lot_size) == ("0.01", "0.001")

    def run() -> list[tuple[int, int, int, int, int, int, int]]:
        # Top-of-book imbalance only (depth 1), threshold 0.9, 1 lot, stop 200 ticks ($2), TP 2 x 200.
        eng = Engine(
            [instrument],
            weights={"imbalance": 1.0},
            threshold=0.9,
            depth_levels=1,
            qty_lots=1,
            stop_distance=200,
            timing=False,
        )
        log = run_with_simple_fills(eng, events)
        assert eng.position(0)["net_lots"] == 0
        # Bought at 61808.00, sold at 61800.10: -7.90 USD on 0.001 BTC = -0.00790 USDT.
        assert eng.position(0)["realized"] == Decimal("-0.00790")
        return log

    entry_ts = 1_723_161_258_001_169_664
    stop_ts = 1_723_161_262_507_139_696
    # (trigger ts, kind, side, px_ticks, qty_lots, tif, reduce_only)
    expected = [
        (entry_ts, INTENT_NEW, 0, 6_180_800, 1, TIF_IOC, 0),  # 1. entry
        (entry_ts, INTENT_NEW, 1, 6_181_200, 1, TIF_GTC, 1),  # 2. take-profit
        (stop_ts, INTENT_CANCEL, 1, 6_181_200, 0, TIF_GTC, 1),  # 3. stop: cancel the TP first
        (stop_ts, INTENT_NEW, 1, 6_180_010, 1, TIF_IOC, 1),  # 4. stop exit, after the cancel is confirmed
    ]
    # Why, by hand (each claim is re-derived below from an independent BookSet):
    # 1. The diff received at entry_ts (update id 5123108068560) leaves the top at bid 61807.90 x 4.958
    #    and ask 61808.00 x 0.092: imbalance (4958 - 92) / (4958 + 92) = 0.9636 >= 0.9. After the message
    #    before it the ask held 0.775: (4958 - 775) / 5733 = 0.7296 < 0.9, so this is the crossing, and the
    #    strategy buys 1 lot IOC at the ask, 6180800 ticks. Every earlier message stayed below 0.9.
    # 2. The harness fills it at 61808.00; the TP is the entry + 2 x 200 ticks = 6181200 (61812.00),
    #    a reduce-only GTC sell; the stop is armed at 6180800 - 200 = 6180600 (61806.00).
    # 3. No trade prints at 61812.00 before stop_ts. The diff at stop_ts (update id 5123108365259) drops
    #    the bid from 61808.00 to 61800.10 <= 61806.00: the stop fires and first cancels the TP.
    # 4. Once the cancel is confirmed, the exit sells the 1 lot IOC, reduce-only, at the bid 6180010.
    #    Between the two decisions no new signal may enter: the instrument is not flat.
    log = run()
    assert log == expected
    assert run() == log  # deterministic
    entry_index = int(np.flatnonzero(events["ts_local_ns"] == entry_ts)[-1])
    assert top_after(instrument, events, entry_index) == ((6_180_790, 4_958), (6_180_800, 92))
    entry_first = int(np.flatnonzero(events["ts_local_ns"] == entry_ts)[0])
    previous = int(np.flatnonzero(events["flags"][:entry_first] & FLAG_LAST_IN_MESSAGE)[-1])
    assert top_after(instrument, events, previous)[1] == (6_180_800, 775)
    stop_index = int(np.flatnonzero(events["ts_local_ns"] == stop_ts)[-1])
    assert top_after(instrument, events, stop_index)[0] == (6_180_010, 1_301)
    assert stop_index == len(events) - 1
    trades = events[(events["kind"] == KIND_TRADE) & (events["ts_local_ns"] > entry_ts)]
    assert int(trades["px_ticks"].max()) < 6_181_200  # the TP never traded
