"""rentrade.Backtest and rentrade.backtest: the loop, its time rules, the report, the CLI."""

from __future__ import annotations

from fractions import Fraction
from pathlib import Path

import numpy as np
import numpy.typing as npt
import orjson
import pytest

from rentrade import Engine, _fastcore, sizing
from rentrade.backtest import (
    SYNTHETIC_INSTRUMENT,
    TRIP_DTYPE,
    FlowTakerStrategy,
    load_market,
    run_backtest,
    write_json,
    write_png,
)
from rentrade.cli import main
from rentrade.events import KIND_TRADE, SIDE_BID, empty_events
from rentrade.orders import INTENT_NEW, REPORT_FILL, TIF_GTC, TIF_IOC, TYPE_LIMIT, empty_intents


class AlternatingTaker:
    """Test strategy: every ``every`` trades, an IOC for 1 lot through the last trade price, buying when
    flat or short and selling when long. Also checks the loop's time rules as it goes."""

    def __init__(self, every: int = 40) -> None:
        self.every = every
        self.trades_seen = 0
        self.position = 0
        self.next_id = 0
        self.last_seen_local = -(2**63)
        self.report_due_max = -(2**63)
        self.reports: list[bytes] = []
        self.early = 0

    def on_events(self, events: npt.NDArray[np.void]) -> npt.NDArray[np.void] | None:
        assert events.flags.writeable is False
        local = events["ts_local_ns"]
        # Never early: a report delivered before this span was due by the span's first event.
        if local[0] < self.report_due_max:
            self.early += 1
        self.last_seen_local = int(local[-1])
        trades = np.flatnonzero(events["kind"] == KIND_TRADE)
        out = []
        for index in trades:
            self.trades_seen += 1
            if self.trades_seen % self.every:
                continue
            buy = self.position <= 0
            self.next_id += 1
            out.append((self.next_id, buy, int(events["px_ticks"][index]), int(local[index])))
        if not out:
            return None
        intents = empty_intents(len(out))
        for row, (order_id, buy, px, ts) in zip(intents, out, strict=True):
            row["order_id"] = order_id
            row["side"] = SIDE_BID if buy else 1
            row["px_ticks"] = px + (20 if buy else -20)
            row["qty_lots"] = 1
            row["ts_trigger_local_ns"] = ts
            row["kind"] = INTENT_NEW
            row["type"] = TYPE_LIMIT
            row["tif"] = TIF_IOC
        return intents

    def on_reports(self, reports: npt.NDArray[np.void]) -> None:
        self.reports.append(reports.tobytes())
        self.report_due_max = max(self.report_due_max, int(reports["ts_local_ns"].max()))
        assert (reports["ts_local_ns"] >= reports["ts_exchange_ns"]).all()
        fills = reports[reports["kind"] == REPORT_FILL]
        self.position += int(np.where(fills["side"] == SIDE_BID, fills["qty_lots"], -fills["qty_lots"]).sum())


@pytest.fixture(scope="module")
def market() -> npt.NDArray[np.void]:
    return _fastcore.synthetic_events(1, 300_000, seed=3)


def test_trip_dtype_size() -> None:
    assert TRIP_DTYPE.itemsize == 56


def test_replay_without_strategy(market: npt.NDArray[np.void]) -> None:
    report = run_backtest(market, [SYNTHETIC_INSTRUMENT], source="synthetic")
    assert report.events == len(market) and report.loop["events"] == len(market)
    assert report.trades == 0 and report.venue["fills"] == 0 and report.win_rate is None
    assert report.latency_ns["feed"]["count"] > 0 and report.latency_ns["feed"]["p50"] == pytest.approx(
        1e6, rel=0.02
    )
    assert "not defined" in report.kelly_note


def test_python_strategy_round_trips_and_report(market: npt.NDArray[np.void], tmp_path: Path) -> None:
    strategy = AlternatingTaker(every=150)
    progress: list[tuple[int, int]] = []
    report = run_backtest(
        market,
        [SYNTHETIC_INSTRUMENT],
        strategy=strategy,
        order_latency=("uniform", 200_000, 800_000),
        response_latency=300_000,
        taker_fee_bps="0.01",  # small enough that some round trips win net of fees
        chunk=100_000,
        progress=lambda done, total: progress.append((done, total)),
    )
    assert progress[-1] == (len(market), len(market)) and len(progress) == 3
    assert report.venue["late_orders"] == 0
    assert strategy.early == 0
    assert report.trades > 50 and report.wins + report.losses <= report.trades
    assert report.venue["taker_fills"] == report.loop["ledger_fills"] > 0
    assert report.win_rate is not None and 0 < report.win_rate < 1
    assert report.payoff is not None and report.avg_win is not None and report.avg_loss is not None
    assert report.payoff == pytest.approx(report.avg_win / report.avg_loss)
    assert report.kelly is not None
    assert sizing.kelly_fraction(f"{report.win_rate:.6f}", f"{report.payoff:.6f}") == Fraction(report.kelly)
    assert report.equity[-1] == pytest.approx(report.pnl_net)
    assert report.pnl_net == pytest.approx(report.pnl_gross - report.fees)
    assert report.fees > 0 and report.max_drawdown >= 0
    # Takers through the touch pay the half spread at least: slippage is a cost.
    assert report.slippage > 0
    assert report.edge_bps_at_mid is not None and report.edge_bps_net is not None
    assert report.edge_bps_net < report.edge_bps_at_mid
    # The summary says which latencies are the simulation's settings, and its columns line up.
    latency_lines = [line for line in report.summary().splitlines() if line.startswith("latency ")]
    labels = [line.split("  p50 ")[0].removeprefix("latency ").strip() for line in latency_lines]
    assert sorted(labels) == sorted(
        ["feed", "order (simulated)", "response (simulated)", "decision (simulated)", "strategy call (wall)"]
    )
    assert len({line.index(" p50 ") for line in latency_lines}) == 1
    feed_line = next(line for line in latency_lines if line.startswith("latency feed "))
    assert feed_line.endswith(f"({report.latency_ns['feed']['count']:,.0f} samples)")

    json_path = tmp_path / "report.json"
    png_path = tmp_path / "report.png"
    write_json(report, json_path)
    write_png(report, png_path)
    data = orjson.loads(json_path.read_bytes())
    assert data["trades"] == report.trades and len(data["equity_curve"]["pnl_net"]) == report.trades
    assert png_path.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"


def test_python_strategy_sees_every_event_once_in_order(market: npt.NDArray[np.void]) -> None:
    class Recorder:
        def __init__(self) -> None:
            self.spans: list[bytes] = []

        def on_events(self, events: npt.NDArray[np.void]) -> None:
            assert events.flags.writeable is False and events.dtype == market.dtype
            self.spans.append(events.tobytes())

        def on_reports(self, reports: npt.NDArray[np.void]) -> None:
            raise AssertionError("no orders, so no reports")

    recorder = Recorder()
    loop = _fastcore.Backtest(_fastcore.SimulatedExchange([SYNTHETIC_INSTRUMENT]), recorder, max_span=97)
    # Two runs of one loop: each span is sliced from the array of its own run.
    loop.run(market[:60_000])
    loop.run(market[60_000:120_000])
    loop.finish()
    assert len(recorder.spans) >= 120_000 // 97
    assert b"".join(recorder.spans) == market[:120_000].tobytes()


def test_backtest_is_deterministic(market: npt.NDArray[np.void]) -> None:
    def run(seed: int) -> tuple[bytes, list[bytes]]:
        strategy = AlternatingTaker(every=25)
        exchange = _fastcore.SimulatedExchange(
            [SYNTHETIC_INSTRUMENT],
            order_latency=("uniform", 0, 3_000_000),
            queue_model="probabilistic",
            seed=seed,
        )
        loop = _fastcore.Backtest(exchange, strategy)
        loop.run(market[:100_000])
        loop.finish()
        return loop.trips().tobytes(), strategy.reports

    assert run(4) == run(4)
    assert run(4) != run(5)


def test_strategy_errors_surface(market: npt.NDArray[np.void]) -> None:
    class Bad:
        def on_events(self, events: npt.NDArray[np.void]) -> object:
            return [1, 2]

        def on_reports(self, reports: npt.NDArray[np.void]) -> None:
            return None

    loop = _fastcore.Backtest(_fastcore.SimulatedExchange([SYNTHETIC_INSTRUMENT]), Bad())
    with pytest.raises(TypeError, match="INTENT_DTYPE"):
        loop.run(market[:100])
    with pytest.raises(TypeError, match="on_events"):
        _fastcore.Backtest(_fastcore.SimulatedExchange([SYNTHETIC_INSTRUMENT]), object())
    done = _fastcore.Backtest(_fastcore.SimulatedExchange([SYNTHETIC_INSTRUMENT]))
    done.finish()
    with pytest.raises(ValueError, match="finished"):
        done.run(market[:10])


def test_resting_orders_fill_as_maker(market: npt.NDArray[np.void]) -> None:
    class Quoter:
        """Posts one GTC bid 5 ticks under the first trade and never touches it again."""

        def __init__(self) -> None:
            self.sent = False

        def on_events(self, events: npt.NDArray[np.void]) -> npt.NDArray[np.void] | None:
            trades = events[events["kind"] == KIND_TRADE]
            if self.sent or len(trades) == 0:
                return None
            self.sent = True
            out = empty_intents(1)
            out["order_id"] = 1
            out["px_ticks"] = int(trades["px_ticks"][0]) - 5
            out["qty_lots"] = 5
            out["kind"] = INTENT_NEW
            out["tif"] = TIF_GTC
            out["side"] = SIDE_BID
            out["ts_trigger_local_ns"] = int(trades["ts_local_ns"][0])
            return out

        def on_reports(self, reports: npt.NDArray[np.void]) -> None:
            return None

    report = run_backtest(market, [SYNTHETIC_INSTRUMENT], strategy=Quoter(), maker_fee_bps="-0.5")
    assert report.venue["maker_fills"] >= 1 and report.venue["taker_fills"] == 0
    assert report.open_lots == {0: 5} or report.trades > 0


def test_flow_taker_example_runs(market: npt.NDArray[np.void]) -> None:
    report = run_backtest(
        market, [SYNTHETIC_INSTRUMENT], strategy=FlowTakerStrategy(threshold_lots=300), max_span_ns=10**8
    )
    assert report.loop["intents"] > 0 and report.venue["late_orders"] == 0


def test_recording_backtest(shared_data: Path) -> None:
    path = shared_data / "hftbacktest" / "examples" / "usdm" / "btcusdt_20240808.gz"
    events, instruments, source = load_market([str(path)])
    assert (events["kind"] == KIND_TRADE).any() and "BTCUSDT" in source
    assert np.all(np.diff(events["ts_local_ns"]) >= 0)
    report = run_backtest(
        events,
        instruments,
        strategy=FlowTakerStrategy(qty_lots=1, threshold_lots=5),
        max_span_ns=10**8,
        source=source,
    )
    assert report.events == len(events)
    # The recorder's clock was ~1.2 s behind Binance's: exchange times are shifted so feed latency >= 0.
    assert report.config["clock_offset_ns"] < -1_000_000_000
    assert report.latency_ns["feed"]["count"] > 0
    assert report.loop["intents"] > 0 and report.venue["late_orders"] == 0
    # The real sizes (the file prints BTCUSDT in 0.01, it trades in 0.1 ticks): the same events, 10x coarser.
    real, (instrument,), _ = load_market([str(path)], tick_size="0.1", lot_size="0.001")
    assert (instrument.symbol, instrument.tick_size, instrument.lot_size) == ("BTCUSDT", "0.1", "0.001")
    assert len(real) == len(events)
    assert np.array_equal(real["px_ticks"] * 10, events["px_ticks"])
    # One size given: the other is the one the recording implies, as without sizes.
    tick_only, (tick_instrument,), _ = load_market([str(path)], tick_size="0.1")
    assert (tick_instrument.tick_size, tick_instrument.lot_size) == ("0.1", instruments[0].lot_size)
    assert np.array_equal(tick_only["px_ticks"], real["px_ticks"])
    assert np.array_equal(tick_only["qty_lots"], events["qty_lots"])


def test_engine_backtest_in_cpp(market: npt.NDArray[np.void]) -> None:
    def run() -> tuple[bytes, dict[str, int]]:
        engine = Engine([SYNTHETIC_INSTRUMENT], weights={"imbalance": 1.0}, threshold=0.5, qty_lots=10)
        report = run_backtest(
            market, [SYNTHETIC_INSTRUMENT], strategy=engine, seed=9, queue_model="probabilistic"
        )
        counters = engine.counters
        # Every report the venue sent reached the engine, and the engine knew every order.
        assert counters["reports"] == report.loop["reports"] and counters["unknown_reports"] == 0
        assert counters["fills"] == report.venue["fills"] and counters["intents"] == report.venue["intents"]
        assert report.venue["late_orders"] == 0 and report.venue["fills"] > 0
        return orjson.dumps(report.to_json()["pnl"]), report.venue

    first = run()
    assert first == run()


def test_engine_errors_surface(market: npt.NDArray[np.void]) -> None:
    engine = Engine([SYNTHETIC_INSTRUMENT], strategy="none")
    loop = _fastcore.Backtest(
        _fastcore.SimulatedExchange([SYNTHETIC_INSTRUMENT, SYNTHETIC_INSTRUMENT]), engine
    )
    bad = empty_events(2000)
    bad[:] = market[:2000]
    bad["instrument_id"][1500] = 1  # the venue has instrument 1, the engine does not
    with pytest.raises(ValueError, match="engine refused"):
        loop.run(bad)


def test_cli_backtest(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    json_path = tmp_path / "bt.json"
    png_path = tmp_path / "bt.png"
    code = main(["backtest", "--events", "50000", "--json", str(json_path), "--png", str(png_path)])
    assert code == 0
    code = main(["backtest", "--events", "20000", "--strategy", "flow", "--span-ms", "50"])
    assert code == 0
    assert main(["backtest", "--tick-size", "0.1"]) == 2  # only with --data
    out = capsys.readouterr().out
    assert "events" in out and "win rate" in out
    data = orjson.loads(json_path.read_bytes())
    assert data["events"] == 50_000 and data["strategy"] == "Engine"
    assert png_path.stat().st_size > 1000
