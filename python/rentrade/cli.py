"""The ``rentrade`` command line: ``paper`` (paper trading on loopback, the main job), ``bench`` (latency),
``sizing`` (Kelly), ``backtest`` (a strategy over recorded or synthetic events against the simulated
venue), ``record`` and ``replay``."""

from __future__ import annotations

import argparse
import sys
from collections.abc import Sequence
from decimal import Decimal
from fractions import Fraction
from pathlib import Path
from typing import TYPE_CHECKING

import orjson

if TYPE_CHECKING:
    from rentrade.bench.runner import BenchReport


def _print_bench(report: BenchReport, *, as_json: bool) -> None:
    from rentrade.bench import runner

    if as_json:
        sys.stdout.buffer.write(orjson.dumps(report.to_json(), option=orjson.OPT_INDENT_2) + b"\n")
    else:
        print(runner.format_report(report))


def _bench(args: argparse.Namespace) -> int:
    from rentrade.bench import runner

    if args.backtest_peers:
        return _bench_backtest_peers(args)
    if (args.tick_size or args.lot_size) and not args.data:
        raise ValueError("--tick-size and --lot-size go with --data")
    if args.data:
        from rentrade.bench.sources import load_recording

        runner.print_progress(f"loading {' '.join(args.data)}")
        events, instrument, source = load_recording(args.data, args.tick_size, args.lot_size)
    else:
        events = runner.synthetic_events(1, args.events, args.seed)
        instrument = runner.SYNTHETIC_INSTRUMENT
        source = f"synthetic market (seed {args.seed}, {args.events:,} events, 1 instrument)"
    feed_frames = None
    if args.feed_data:
        from rentrade._fastcore import Instrument
        from rentrade.bench.feed_bench import recorded_frames

        if not (args.feed_tick_size and args.feed_lot_size):
            raise ValueError(
                "--feed-data needs --feed-tick-size and --feed-lot-size (the symbol's real sizes)"
            )
        symbol = args.feed_symbol or Path(args.feed_data).name.split("_", maxsplit=1)[0].upper()
        instrument = Instrument(
            symbol, f"binance_{args.feed_market}", args.feed_tick_size, args.feed_lot_size
        )
        feed_frames = recorded_frames(args.feed_data, instrument, args.feed_market)
    if args.only_wire_order:
        report = runner.run_wire_order_bench(
            repeat=args.repeat,
            progress=None if args.json else runner.print_progress,
            busy_poll=args.busy_poll,
        )
        _print_bench(report, as_json=args.json)
        return 0
    if args.only_feed:
        from rentrade.bench.feed_bench import synthetic_frames

        report = runner.run_feed_bench(
            feed_frames or synthetic_frames(seed=args.seed),
            repeat=args.repeat,
            with_peers=not args.no_peers,
            progress=None if args.json else runner.print_progress,
        )
        _print_bench(report, as_json=args.json)
        return 0
    report = runner.run_bench(
        events,
        instrument,
        source,
        repeat=args.repeat,
        seed=args.seed,
        many_books=args.books,
        with_peers=not args.no_peers,
        with_signing=not args.no_signing,
        with_socket=args.socket,
        socket_events=args.socket_events,
        with_feed=not args.no_feed,
        feed_frames=feed_frames,
        with_engine=not args.no_engine,
        with_wire_order=args.wire_order or args.socket,
        busy_poll=args.busy_poll,
        progress=None if args.json else runner.print_progress,
    )
    _print_bench(report, as_json=args.json)
    return 0


def _bench_backtest_peers(args: argparse.Namespace) -> int:
    from rentrade.bench import backtest_peers
    from rentrade.bench.runner import print_progress

    path = args.backtest_data or str(backtest_peers.default_recording())
    runs, source = backtest_peers.run_all(
        path,
        repeat=args.repeat,
        lines=args.backtest_lines,
        peers=() if args.no_peers else ("hftbacktest", "nautilus"),
        progress=None if args.json else print_progress,
    )
    if args.json:
        document = {"source": source, "runs": [backtest_peers.run_to_json(run) for run in runs]}
        sys.stdout.buffer.write(orjson.dumps(document, option=orjson.OPT_INDENT_2) + b"\n")
    else:
        print("\n".join(backtest_peers.format_runs(runs, source)))
    return 0


def _paper(args: argparse.Namespace) -> int:
    import asyncio

    from rentrade import backtest
    from rentrade.paper import PaperConfig, run_paper

    if args.live and args.data:
        raise ValueError("--live and --data exclude each other: live streams or a replayed recording")
    if args.symbols and not args.live:
        raise ValueError("--symbols goes with --live (the simulated venue names its own symbols)")
    config = PaperConfig(
        duration_s=args.duration,
        data=args.data,
        live=args.live,
        symbols=args.symbols,
        synthetic_symbols=args.synthetic_symbols,
        seed=args.seed,
        speed=args.speed,
        maker_fee_bps=args.maker_fee_bps,
        taker_fee_bps=args.taker_fee_bps,
    )
    try:
        import uvloop

        runner: asyncio.Runner = asyncio.Runner(loop_factory=uvloop.new_event_loop)
    except ImportError:  # uvloop has no Windows build; asyncio's loop works, only slower
        runner = asyncio.Runner()
    with runner:
        report = runner.run(run_paper(config))
    print(report.summary())
    if args.json:
        backtest.write_json(report, args.json)
    if args.png:
        backtest.write_png(report, args.png)
    return 0


def _backtest(args: argparse.Namespace) -> int:
    from rentrade import backtest

    if (args.tick_size or args.lot_size) and not args.data:
        raise ValueError("--tick-size and --lot-size go with --data")
    events, instruments, source = backtest.load_market(
        args.data,
        events=args.events,
        instruments=args.instruments,
        seed=args.seed,
        tick_size=args.tick_size,
        lot_size=args.lot_size,
    )
    strategy: object | None = None
    if args.strategy == "builtin":
        from rentrade import Engine

        strategy = Engine(
            instruments,
            weights={"imbalance": 1.0},
            threshold=args.threshold,
            qty_lots=args.qty_lots,
            stop_distance=args.stop_ticks,
            timing=False,
        )
    elif args.strategy == "flow":
        strategy = backtest.FlowTakerStrategy()
    long_run = len(events) >= 1_000_000 and not args.no_progress
    report = backtest.run_backtest(
        events,
        instruments,
        strategy=strategy,
        source=source,
        maker_fee_bps=args.maker_fee_bps,
        taker_fee_bps=args.taker_fee_bps,
        queue_model=args.queue_model,
        order_latency=round(args.order_latency_us * 1000),
        response_latency=round(args.response_latency_us * 1000),
        seed=args.seed,
        max_span_ns=-1 if args.span_ms is None else round(args.span_ms * 1e6),
        progress=backtest.stderr_progress() if long_run else None,
    )
    print(report.summary())
    if args.json:
        backtest.write_json(report, args.json)
    if args.png:
        backtest.write_png(report, args.png)
    return 0


def _money(value: Fraction) -> str:
    """Money rounded down to cents, with thousands separators (sizes are never rounded up)."""
    cents = value.numerator * 100 // value.denominator
    return f"{Decimal(cents) / 100:,.2f}"


def _sizing(args: argparse.Namespace) -> int:
    from rentrade import sizing
    from rentrade._fastcore import Instrument

    allocation = sizing.allocate(args.capital, args.instruments, args.win_rate, args.payoff, args.fraction)
    kelly = allocation.kelly
    lines = [
        f"win rate p                      {args.win_rate}",
        f"payoff b                        {args.payoff}",
        f"Kelly f* = p - (1 - p) / b      {float(kelly):.4f}  (exact {kelly})",
    ]
    instrument = None
    px_ticks = None
    if args.price is not None:
        instrument = Instrument(
            args.symbol,
            "cli",
            args.tick,
            args.lot,
            min_qty=args.min_qty,
            min_notional=args.min_notional,
            contract_size=args.contract_size,
        )
        px_ticks = instrument.price_to_ticks(args.price)
        if px_ticks <= 0:
            raise ValueError(f"--price must be > 0, got {args.price}")
    if not allocation.has_edge:
        lines += [
            "NO EDGE: f* <= 0, the strategy loses on average: do not trade.",
            "capital per instrument / trade  0",
        ]
        if instrument is not None:
            lines.append("max order size                  0")
        print("\n".join(lines))
        return 0
    share = allocation.capital_fraction
    per_instrument = allocation.per_instrument
    lines += [
        f"fractional Kelly ({args.fraction} x f*)    {float(share) * 100:.4f} % of capital per trade"
        f"  (exact {share})",
        f"capital                         {_money(Fraction(args.capital))}",
        f"instruments                     {args.instruments}",
        f"capital per instrument / trade  {_money(per_instrument)}"
        f"  (capital / instruments x {float(share) * 100:.4f} %; exact {per_instrument},"
        f" {per_instrument.numerator // per_instrument.denominator:,} in whole units)",
    ]
    if instrument is not None and px_ticks is not None:
        order = sizing.max_order(instrument, px_ticks, per_instrument)
        lots = f"{order.qty_lots:,} lots of {instrument.lot_size}"
        detail = (
            f"{order.qty} {args.symbol} ({lots}), notional {order.notional}"
            if order.ok
            else f"0 ({order.reason})"
        )
        lines.append(f"max order size at {args.price}      {detail}")
    print("\n".join(lines))

    capitals = sorted({Fraction(c) for c in [*args.matrix_capitals, args.capital]})
    counts = sorted({*args.matrix_instruments, args.instruments})
    matrix = sizing.allocation_matrix(
        [str(Decimal(c.numerator) / Decimal(c.denominator)) for c in capitals],
        counts,
        args.win_rate,
        args.payoff,
        args.fraction,
    )
    header = "capital \\ instruments"
    width = 24 if instrument is not None else 12
    print()
    print("capital per instrument per trade" + (f"; max order in lots at {args.price}" if instrument else ""))
    print(f"{header:>22}" + "".join(f"{n:>{width}}" for n in counts))
    for capital, row in zip(capitals, matrix, strict=True):
        cells = []
        for cell in row:
            text = _money(cell.per_instrument)
            if instrument is not None and px_ticks is not None:
                order = sizing.max_order(instrument, px_ticks, cell.per_instrument)
                text += f" / {order.qty_lots:>8,}" if order.ok else " /        0"
            cells.append(f"{text:>{width}}")
        print(f"{_money(capital):>22}" + "".join(cells))
    return 0


def _positive(text: str) -> int:
    value = int(text)
    if value < 1:
        raise argparse.ArgumentTypeError(f"must be >= 1, got {value}")
    return value


def _record(args: argparse.Namespace) -> int:
    import asyncio

    from rentrade.record import record_session

    async def run() -> dict[str, object]:
        if args.sim is None:
            if args.url is None:
                raise ValueError("give --url (and --rest-url) of the venue, or --sim N for a simulated one")
            ws_url = args.url
            rest_url = args.rest_url or args.url.replace("wss://fstream.", "https://fapi.").replace(
                "ws://", "http://"
            )
            return await record_session(
                args.out,
                args.symbols or ["BTCUSDT"],
                ws_url=ws_url,
                rest_url=rest_url,
                channels=tuple(args.channels),
                duration_s=args.duration,
                max_frames=args.max_frames,
            )
        from rentrade.sim.binance_usdm import SimBinanceUsdm
        from rentrade.sim.market_source import synthetic_source

        source = synthetic_source(args.symbols or args.sim, events=args.sim_events, seed=args.seed)
        async with SimBinanceUsdm(source, speed=args.sim_speed) as venue:
            return await record_session(
                args.out,
                [i.symbol for i in source.instruments],
                ws_url=venue.ws_url,
                rest_url=venue.rest_url,
                channels=tuple(args.channels),
                duration_s=args.duration,
                max_frames=args.max_frames,
            )

    result = asyncio.run(run())
    print(
        f"wrote {args.out}: {result['records']:,} records, {result['bytes']:,} payload bytes, "
        f"{result['file_bytes']:,} bytes on disk"
    )
    return 0


def _replay(args: argparse.Namespace) -> int:
    from rentrade._fastcore import BookSet
    from rentrade.venues.binance_usdm.replay import cross_check_bbo, replay_binance

    result = replay_binance(args.paths, snapshot_symbol=args.snapshot_symbol)
    books = BookSet(result.instruments, max_levels=1_000_000)
    books.apply_events(result.events)
    report: dict[str, object] = {}
    for symbol, rep in result.symbols.items():
        book = books[rep.instrument_id]
        check = cross_check_bbo(rep)
        inst = rep.instrument
        levels = {
            side: [
                [inst.ticks_to_price(px), inst.lots_to_qty(qty)]
                for px, qty in book.levels(index, args.levels).tolist()
            ]
            for index, side in ((0, "bids"), (1, "asks"))
        }
        report[symbol] = {
            "tick_size": inst.tick_size,
            "lot_size": inst.lot_size,
            "snapshots": rep.snapshots,
            "diffs_applied": rep.applied,
            "stale_dropped": rep.dropped_stale,
            "gaps": rep.gaps,
            "trades": int(rep.trades.size),
            "book_tickers": int(rep.checkpoints.size),
            "bbo_compared": check.compared,
            "bbo_matched": check.matched,
            "final_seq": book.seq,
            **levels,
        }
    if args.json:
        sys.stdout.buffer.write(orjson.dumps(report, option=orjson.OPT_INDENT_2) + b"\n")
        return 0
    for symbol, row in report.items():
        assert isinstance(row, dict)
        print(f"{symbol}  tick {row['tick_size']}  lot {row['lot_size']}")
        print(
            f"  snapshots {row['snapshots']}  diffs applied {row['diffs_applied']:,}  "
            f"stale {row['stale_dropped']:,}  gaps {row['gaps']}  trades {row['trades']:,}  "
            f"bookTickers {row['book_tickers']:,}  "
            f"bookTicker matches {row['bbo_matched']:,}/{row['bbo_compared']:,}  last u {row['final_seq']}"
        )
        bids, asks = row["bids"], row["asks"]
        assert isinstance(bids, list) and isinstance(asks, list)
        for i in range(max(len(bids), len(asks))):
            bid = f"{bids[i][1]:>14} @ {bids[i][0]:<14}" if i < len(bids) else " " * 31
            ask = f"{asks[i][0]:>14} x {asks[i][1]:<14}" if i < len(asks) else ""
            print(f"  {bid} | {ask}")
    return 0


def build_parser() -> argparse.ArgumentParser:
    """The argument parser (public so the docs and tests see the same options)."""
    parser = argparse.ArgumentParser(
        prog="rentrade", description="rentrade: low-latency crypto execution core"
    )
    commands = parser.add_subparsers(dest="command", required=True)
    bench = commands.add_parser(
        "bench",
        help="measure latency of every stage against peers (synthetic market by default)",
        description="Per-operation latency (p50/p90/p99/p99.9/max) and throughput of rentrade's stages, "
        "with peer libraries measured in the same run on the same stream.",
    )
    bench.add_argument(
        "--data",
        metavar="PATH",
        nargs="+",
        help="run on a Binance recording instead of the synthetic market (several files that belong "
        "together: cryptofeed's BINANCE_FUTURES.0 .http.0.0 .ws.1.0)",
    )
    bench.add_argument(
        "--events", type=_positive, default=1_000_000, help="synthetic events (default 1,000,000)"
    )
    bench.add_argument(
        "--tick-size", help="with --data: the symbol's real tick size if the recording has none"
    )
    bench.add_argument("--lot-size", help="with --data: the symbol's real lot size if the recording has none")
    bench.add_argument("--seed", type=int, default=1, help="synthetic market seed (default 1)")
    bench.add_argument("--repeat", type=_positive, default=3, help="measurements per stage (default 3)")
    bench.add_argument(
        "--books", type=_positive, default=1000, help="books in the many-books stage (default 1000)"
    )
    bench.add_argument("--no-peers", action="store_true", help="skip the peer order books")
    bench.add_argument("--no-signing", action="store_true", help="skip the signing stage")
    bench.add_argument("--no-feed", action="store_true", help="skip the Binance feed (frames to book) stage")
    bench.add_argument("--only-feed", action="store_true", help="run only the Binance feed stage")
    bench.add_argument(
        "--feed-data",
        metavar="PATH",
        help="Binance recording in hftbacktest format (<ts_ns> <frame> lines, REST snapshot in-band) for the "
        "feed stage, instead of synthetic 20-level frames",
    )
    bench.add_argument("--feed-market", choices=["usdm", "spot"], default="usdm", help="with --feed-data")
    bench.add_argument(
        "--feed-symbol", help="with --feed-data (default: from the file name, btcusdt_... -> BTCUSDT)"
    )
    bench.add_argument("--feed-tick-size", help="with --feed-data: the symbol's tick size, e.g. 0.10")
    bench.add_argument("--feed-lot-size", help="with --feed-data: the symbol's lot size, e.g. 0.001")
    bench.add_argument("--no-engine", action="store_true", help="skip the decision-engine stages")
    bench.add_argument(
        "--socket",
        action="store_true",
        help="add the socket stages: ingest through a simulated Binance venue over loopback (venue in a "
        "second process) and a picows echo round trip",
    )
    bench.add_argument(
        "--socket-events",
        type=_positive,
        default=400_000,
        help="synthetic events for --socket (default 400,000)",
    )
    bench.add_argument(
        "--wire-order",
        action="store_true",
        help="add the wire-to-order stages (also with --socket): a depth frame in, a signed order out, in "
        "process and as a loopback round trip through the simulated venue next to a bare picows echo",
    )
    bench.add_argument("--only-wire-order", action="store_true", help="run only the wire-to-order stages")
    bench.add_argument(
        "--busy-poll",
        action="store_true",
        help="wire-to-order client loop busy-polls (never sleeps in epoll; uses a whole core at 100%%)",
    )
    bench.add_argument(
        "--backtest-peers",
        action="store_true",
        help="run only the backtest comparison: rentrade, hftbacktest and NautilusTrader on one Binance "
        "recording (peers from pip install 'rentrade[bench]'; a missing one is reported as skipped)",
    )
    bench.add_argument(
        "--backtest-data",
        metavar="PATH",
        help="with --backtest-peers: a raw Binance USD-M capture in hftbacktest's format (default: "
        "hftbacktest's btcusdt_20240808.gz in ../shared/data)",
    )
    bench.add_argument(
        "--backtest-lines",
        type=_positive,
        help="with --backtest-peers: only the first N lines of the recording",
    )
    bench.add_argument(
        "--json", action="store_true", help="machine-readable output (keys in bench/BENCHMARKS.md)"
    )
    bench.set_defaults(handler=_bench)

    sizing = commands.add_parser(
        "sizing",
        help="Kelly fraction, fractional Kelly, capital per instrument and max order size",
        description="Kelly sizing with exact fractions: f* = p - (1 - p) / b, a fraction of it, capital "
        "per instrument per trade (capital / instruments x fraction x f*) and, given a price and the "
        "instrument's increments, the largest order rounded down to lots and checked against the minimums.",
    )
    sizing.add_argument("--win-rate", required=True, metavar="P", help="probability of a win, in (0, 1)")
    sizing.add_argument("--payoff", required=True, metavar="B", help="average win / average loss, > 0")
    sizing.add_argument(
        "--fraction",
        default="0.25",
        metavar="F",
        help="Kelly multiplier in (0, 1] (default 0.25: quarter Kelly)",
    )
    sizing.add_argument("--capital", required=True, help="total capital in the quote currency")
    sizing.add_argument(
        "--instruments", required=True, type=_positive, help="instruments sharing the capital"
    )
    sizing.add_argument("--price", help="price to size an order at (needs the instrument's --tick and --lot)")
    sizing.add_argument("--symbol", default="instrument", help="instrument name for the output")
    sizing.add_argument("--tick", default="0.01", help="tick size (default 0.01)")
    sizing.add_argument("--lot", default="0.001", help="lot size (default 0.001)")
    sizing.add_argument("--min-qty", default="0", help="minimum order quantity (default 0)")
    sizing.add_argument("--min-notional", default="0", help="minimum order notional (default 0)")
    sizing.add_argument("--contract-size", default="1", help="contract multiplier (default 1)")
    sizing.add_argument(
        "--matrix-capitals",
        nargs="+",
        default=["100000", "1000000", "10000000"],
        metavar="C",
        help="capitals (rows) of the allocation matrix",
    )
    sizing.add_argument(
        "--matrix-instruments",
        nargs="+",
        type=_positive,
        default=[10, 50, 100, 500],
        metavar="N",
        help="instrument counts (columns) of the allocation matrix",
    )
    sizing.set_defaults(handler=_sizing)

    record = commands.add_parser(
        "record",
        help="record raw Binance USD-M frames with local receive times (.rtrec, zstd)",
        description="Runs the market-data session (books kept in sync) and writes every received frame "
        "and REST response with its local receive time in ns to a .rtrec file (format: rentrade.record).",
    )
    record.add_argument("--out", required=True, help="the .rtrec file to write")
    record.add_argument("--url", help="WebSocket base URL (wss://fstream.binance.com, or a simulated venue)")
    record.add_argument("--rest-url", help="REST base URL (default: derived from --url)")
    record.add_argument("--symbols", nargs="+", help="symbols (default BTCUSDT, or the simulated ones)")
    record.add_argument(
        "--channels", nargs="+", default=["depth@100ms", "bookTicker", "trade"], help="stream channels"
    )
    record.add_argument("--duration", type=float, default=10.0, help="seconds to record (default 10)")
    record.add_argument("--max-frames", type=_positive, help="stop after this many records")
    record.add_argument(
        "--sim", type=_positive, metavar="N", help="record from an in-process simulated venue with N symbols"
    )
    record.add_argument("--sim-events", type=_positive, default=50_000, help="synthetic events (--sim)")
    record.add_argument(
        "--sim-speed", type=float, help="--sim pace multiplier (default: as fast as possible)"
    )
    record.add_argument("--seed", type=int, default=1, help="--sim seed")
    record.set_defaults(handler=_record)

    replay = commands.add_parser(
        "replay",
        help="replay Binance recordings (.rtrec or ../shared/data formats) and print final books and stats",
    )
    replay.add_argument("paths", nargs="+", help="recordings that belong together (merged by receive time)")
    replay.add_argument("--levels", type=_positive, default=5, help="book levels to print (default 5)")
    replay.add_argument("--snapshot-symbol", help="symbol of in-band snapshots that name none")
    replay.add_argument("--json", action="store_true", help="machine-readable output")
    replay.set_defaults(handler=_replay)
    paper = commands.add_parser(
        "paper",
        help="paper trading: simulated Binance USD-M venue on loopback, real WebSocket path, simulated fills",
        description="Starts the simulated Binance USD-M venue on loopback (synthetic market, or --data to "
        "replay a recording at its recorded pace), connects to it through the real WebSocket path, runs the "
        "built-in bracket strategy with simulated fills, prints a summary every second and ends with the "
        "backtest report. --live uses Binance's public streams instead (orders stay simulated).",
    )
    paper.add_argument("--duration", type=float, default=20.0, help="seconds to run (default 20)")
    paper.add_argument("--data", metavar="PATH", nargs="+", help="replay these Binance recordings instead")
    paper.add_argument("--live", action="store_true", help="Binance's live public streams (needs internet)")
    paper.add_argument("--symbols", nargs="+", help="with --live: symbols (default BTCUSDT ETHUSDT)")
    paper.add_argument(
        "--synthetic-symbols", type=_positive, default=4, help="symbols of the synthetic market (default 4)"
    )
    paper.add_argument("--seed", type=int, default=1, help="seed of the synthetic market and the venue")
    paper.add_argument("--speed", type=float, default=1.0, help="market pace, 1 = recorded pace (default 1)")
    paper.add_argument("--maker-fee-bps", default="2", help="maker fee in bps, negative = rebate (default 2)")
    paper.add_argument("--taker-fee-bps", default="5", help="taker fee in bps (default 5)")
    paper.add_argument("--json", metavar="PATH", help="write the report as JSON")
    paper.add_argument("--png", metavar="PATH", help="write the equity curve and latency histograms as PNG")
    paper.set_defaults(handler=_paper)

    bt = commands.add_parser(
        "backtest",
        help="run a strategy over events against the simulated venue (synthetic market by default)",
        description="Events -> strategy -> simulated venue (latency, queue position, fees) -> report: "
        "trades, win rate, payoff, edge per trade in bps gross and net, P&L curve, drawdown, Kelly, "
        "latency percentiles.",
    )
    bt.add_argument(
        "--data", metavar="PATH", nargs="+", help="Binance recording(s) instead of the synthetic market"
    )
    bt.add_argument(
        "--events", type=_positive, default=2_000_000, help="synthetic events (default 2,000,000)"
    )
    bt.add_argument("--instruments", type=_positive, default=1, help="synthetic instruments (default 1)")
    bt.add_argument("--tick-size", help="with --data: the symbol's real tick size if the recording has none")
    bt.add_argument("--lot-size", help="with --data: the symbol's real lot size if the recording has none")
    bt.add_argument(
        "--seed", type=int, default=1, help="seed of the synthetic market and the venue (default 1)"
    )
    bt.add_argument(
        "--strategy",
        choices=["builtin", "flow", "none"],
        default="builtin",
        help="builtin: rentrade.Engine with its bracket strategy on the book-imbalance signal, all in C++; "
        "flow: the example Python callback strategy (rentrade.backtest.FlowTakerStrategy); none: the market "
        "alone through the venue (default builtin)",
    )
    bt.add_argument("--threshold", type=float, default=0.5, help="builtin: imbalance threshold (default 0.5)")
    bt.add_argument("--qty-lots", type=_positive, default=10, help="builtin: entry size in lots (default 10)")
    bt.add_argument(
        "--stop-ticks", type=_positive, default=10, help="builtin: stop distance in ticks (default 10)"
    )
    bt.add_argument("--maker-fee-bps", default="2", help="maker fee in bps, negative = rebate (default 2)")
    bt.add_argument("--taker-fee-bps", default="5", help="taker fee in bps (default 5)")
    bt.add_argument(
        "--queue-model",
        choices=["trade_through", "probabilistic"],
        default="trade_through",
        help="passive fills",
    )
    bt.add_argument(
        "--order-latency-us", type=float, default=1000.0, help="order latency in us (default 1000)"
    )
    bt.add_argument(
        "--response-latency-us", type=float, default=1000.0, help="response latency in us (default 1000)"
    )
    bt.add_argument(
        "--span-ms",
        type=float,
        default=None,
        help="local time per strategy call at most (reports reach the strategy up to this late; default: the "
        "minimum round trip)",
    )
    bt.add_argument("--json", metavar="PATH", help="write the report as JSON")
    bt.add_argument("--png", metavar="PATH", help="write the P&L curve and latency histograms as PNG")
    bt.add_argument("--no-progress", action="store_true", help="no progress bar on long runs")
    bt.set_defaults(handler=_backtest)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    """Entry point of the ``rentrade`` script."""
    args = build_parser().parse_args(argv)
    try:
        return int(args.handler(args))
    except (OSError, ValueError) as error:
        print(f"rentrade {args.command}: error: {error}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        print(f"rentrade {args.command}: interrupted", file=sys.stderr)
        return 130


if __name__ == "__main__":
    sys.exit(main())
