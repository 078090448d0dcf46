"""The ``rentrade`` command line: ``rentrade bench`` (the latency benchmark runner)."""

from __future__ import annotations

import argparse
import sys
from collections.abc import Sequence

import orjson


def _bench(args: argparse.Namespace) -> int:
    from rentrade.bench import runner

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
    report = runner.run_bench(
        events,
        instrument,
        source,
        repeat=args.repeat,
        seed=args.seed,
        many_books=args.books,
        with_peers=not args.no_peers,
        with_signing=not args.no_signing,
        progress=None if args.json else runner.print_progress,
    )
    if args.json:
        sys.stdout.buffer.write(orjson.dumps(report.to_json(), option=orjson.OPT_INDENT_2) + b"\n")
    else:
        print(runner.format_report(report))
    return 0


def _positive(text: str) -> int:
    value = int(text)
    if value < 1:
        raise argparse.ArgumentTypeError(f"must be >= 1, got {value}")
    return value


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
    bench.add_argument(
        "--json", action="store_true", help="machine-readable output (keys in bench/BENCHMARKS.md)"
    )
    bench.set_defaults(handler=_bench)
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
