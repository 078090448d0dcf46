"""``rentrade bench``: the latency benchmark runner.

Each stage is measured ``repeat`` times; a stage's reported percentiles are the medians over those
repeats and ``p50_spread_ns`` is the lowest and highest p50 seen, so noise on a shared machine is
visible rather than hidden. Peers run in the same process on the same stream (see
:mod:`rentrade.bench.peers`). Every stage checks that its work was done: the core stages compare the
final books with the synthetic market's own view of them or with an untimed replay, the peers compare
top of book with rentrade's after every pass.
"""

from __future__ import annotations

import os
import platform
import statistics
import sys
import time
from collections.abc import Callable, Sequence
from dataclasses import asdict, dataclass, field
from typing import Any, Final

import numpy as np
import numpy.typing as npt

from rentrade import _fastcore
from rentrade._fastcore import BookSet, Instrument, OrderBook, Positions, Signals
from rentrade.bench import feed_bench
from rentrade.bench import peers as peer_books
from rentrade.credentials import Credentials
from rentrade.events import KIND_DELTA, KIND_SNAPSHOT_LEVEL, empty_events
from rentrade.fills import empty_fills

PERCENTILES: Final = (("p50", 50.0), ("p90", 90.0), ("p99", 99.0), ("p99.9", 99.9))
SYNTHETIC_INSTRUMENT: Final = Instrument("SYNTH-PERP", "synthetic", "0.1", "0.001")
BATCH_EVENTS: Final = 4096
"""Events per apply_events call in the Python batch stage: large enough that the binding's fixed cost
(~1 us) is spread thin, small enough for many samples."""


@dataclass
class StageResult:
    """One measured operation: percentiles in ns (medians over repeats), throughput, provenance."""

    stage: str
    group: str
    p50_ns: float
    p90_ns: float
    p99_ns: float
    p999_ns: float
    max_ns: float
    ops_per_s: float
    samples: int
    repeats: int
    p50_spread_ns: tuple[float, float]
    note: str = ""


@dataclass
class BenchReport:
    """Everything ``rentrade bench`` measured in one run, plus where and on what."""

    machine: dict[str, Any]
    source: str
    stages: list[StageResult] = field(default_factory=list)
    ratios: list[dict[str, Any]] = field(default_factory=list)
    skipped: list[dict[str, str]] = field(default_factory=list)

    def to_json(self) -> dict[str, Any]:
        """The report as plain JSON types (keys documented in bench/BENCHMARKS.md)."""
        return {
            "machine": self.machine,
            "source": self.source,
            "stages": [asdict(stage) for stage in self.stages],
            "ratios": self.ratios,
            "skipped": self.skipped,
        }


@dataclass
class _Summary:
    percentiles: dict[str, float]
    max_ns: float
    ops_per_s: float
    samples: int


def machine_description() -> dict[str, Any]:
    """CPU model, core count, Python and platform: printed with every run."""
    cpu = platform.processor() or platform.machine()
    try:
        with open("/proc/cpuinfo", encoding="utf-8") as cpuinfo:
            for line in cpuinfo:
                if line.startswith("model name"):
                    cpu = line.split(":", 1)[1].strip()
                    break
    except OSError:
        pass
    load = os.getloadavg()[0] if hasattr(os, "getloadavg") else float("nan")
    return {
        "cpu": cpu,
        "cores": os.cpu_count(),
        "python": platform.python_version(),
        "platform": platform.platform(),
        "load_average_1m": round(load, 2),
    }


def _combine(stage: str, group: str, runs: Sequence[_Summary], note: str) -> StageResult:
    p50s = [run.percentiles["p50"] for run in runs]
    median = {label: statistics.median(run.percentiles[label] for run in runs) for label, _ in PERCENTILES}
    return StageResult(
        stage=stage,
        group=group,
        p50_ns=median["p50"],
        p90_ns=median["p90"],
        p99_ns=median["p99"],
        p999_ns=median["p99.9"],
        max_ns=max(run.max_ns for run in runs),
        ops_per_s=statistics.median(run.ops_per_s for run in runs),
        samples=sum(run.samples for run in runs),
        repeats=len(runs),
        p50_spread_ns=(min(p50s), max(p50s)),
        note=note,
    )


def _from_samples(samples_ns: npt.NDArray[np.int64] | Sequence[int], ops: int, wall_ns: int) -> _Summary:
    values = np.asarray(samples_ns, dtype=np.float64)
    quantiles = np.percentile(values, [q for _, q in PERCENTILES])
    return _Summary(
        percentiles={label: float(v) for (label, _), v in zip(PERCENTILES, quantiles, strict=True)},
        max_ns=float(values.max()),
        ops_per_s=ops * 1e9 / wall_ns if wall_ns > 0 else 0.0,
        samples=len(values),
    )


def _histogram_summary(histogram: _fastcore.Histogram, ops_per_s: float, samples: int) -> _Summary:
    return _Summary(
        percentiles={label: float(histogram.percentile(q)) for label, q in PERCENTILES},
        max_ns=float(histogram.max),
        ops_per_s=ops_per_s,
        samples=samples,
    )


def _core_book_stage(
    events: npt.NDArray[np.void], instruments: Sequence[Instrument], check: Callable[[BookSet], None]
) -> tuple[_Summary, _Summary]:
    """(each update timed alone, updates timed in runs of 16) from one measure_book_apply call."""
    books = BookSet(list(instruments), max_levels=peer_books.UNCAPPED_LEVELS)
    run = _fastcore.measure_book_apply(books, events, 3)
    check(books)
    throughput = run.throughput_ops * 1e9 / run.throughput_ns if run.throughput_ns > 0 else 0.0
    return (
        _histogram_summary(run.histogram, throughput, run.timed_ops),
        _histogram_summary(run.run_histogram, throughput, run.run_updates),
    )


def _same_books_as_replay(
    events: npt.NDArray[np.void], instruments: Sequence[Instrument]
) -> Callable[[BookSet], None]:
    """A check that a measured BookSet ends where an untimed apply of the same events ends."""
    expected = BookSet(list(instruments), max_levels=peer_books.UNCAPPED_LEVELS)
    expected.apply_events(events)

    def check(books: BookSet) -> None:
        for instrument_id in range(len(expected)):
            for side in (0, 1):
                if not np.array_equal(
                    books[instrument_id].levels(side), expected[instrument_id].levels(side)
                ):
                    raise AssertionError(
                        f"book {instrument_id} differs from an untimed replay: the run is invalid"
                    )

    return check


def _python_batch_stage(
    events: npt.NDArray[np.void], instrument: Instrument, *, reused_buffer: bool
) -> _Summary:
    """OrderBook.apply_events from Python, BATCH_EVENTS events per call, whole stream.

    Without ``reused_buffer`` each call reads its slice where it lies in the stream array, which is
    larger than this machine's caches, so each call also pays for streaming its records from memory.
    With it, each slice is first copied (untimed) into one aligned buffer that every call reads, as a
    feed handler's parser fills a buffer it reuses: the records are in cache when the book reads
    them. Either way every call applies every record, and the final book must equal an untimed
    replay. Throughput is level updates over the time spent inside the calls (the binding included,
    the harness's own slicing and counting not).
    """
    book = OrderBook(instrument, max_levels=peer_books.UNCAPPED_LEVELS)
    is_update = np.isin(events["kind"], (KIND_DELTA, KIND_SNAPSHOT_LEVEL)).astype(np.int64)
    firsts = range(0, len(events), BATCH_EVENTS)
    updates_per_call = np.add.reduceat(is_update, np.asarray(firsts)) if len(events) else is_update
    buffer = empty_events(BATCH_EVENTS) if reused_buffer else None
    samples: list[int] = []
    ops = 0
    busy = 0
    for index, first in enumerate(firsts):
        chunk = events[first : first + BATCH_EVENTS]
        if buffer is not None:
            target = buffer[: len(chunk)]
            np.copyto(target, chunk)
            chunk = target
        start = time.perf_counter_ns()
        book.apply_events(chunk)
        elapsed = time.perf_counter_ns() - start
        busy += elapsed
        updates = int(updates_per_call[index])
        if updates:
            samples.append(elapsed // updates)
            ops += updates
    replay = OrderBook(instrument, max_levels=peer_books.UNCAPPED_LEVELS)
    replay.apply_events(events)
    if book.updates == 0 or book.updates != replay.updates or book.seq != replay.seq:
        raise AssertionError("apply_events did not apply the stream")
    for side in (0, 1):
        if not np.array_equal(book.levels(side), replay.levels(side)):
            raise AssertionError("apply_events ended with a book that differs from an untimed replay")
    return _from_samples(samples, ops, busy)


CALL_CHUNK: Final = 1000
"""Calls per timed chunk in the single-call stage."""


def _update_ticks_call_stage(events: npt.NDArray[np.void], instrument: Instrument) -> _Summary:
    """One OrderBook.update_ticks call, binding included, without the Python loop around it.

    The deltas of the stream are replayed through update_ticks in chunks of CALL_CHUNK calls; the
    same loop with the same list indexing but no call is timed alongside, and its fastest chunk is
    subtracted from every chunk. What remains is the call: argument passing, the binding and the book
    update. The fastest baseline, not the median, because this VM drifts between fast and slow states
    during a run: with the median, a run whose baselines fell in a slow phase printed a negative p50;
    the fastest one can only overstate the call, never understate it.
    """
    deltas = events[np.isin(events["kind"], (KIND_DELTA, KIND_SNAPSHOT_LEVEL))]
    sides = deltas["side"].astype(np.int64).tolist()
    prices = deltas["px_ticks"].tolist()
    quantities = deltas["qty_lots"].tolist()
    book = OrderBook(instrument, max_levels=peer_books.UNCAPPED_LEVELS)
    update = book.update_ticks
    clock = time.perf_counter_ns
    chunks: list[int] = []
    baselines: list[int] = []
    for first in range(0, len(sides) - CALL_CHUNK + 1, CALL_CHUNK):
        indices = range(first, first + CALL_CHUNK)
        start = clock()
        for i in indices:
            # The same three loads the timed loop makes, stored to locals (no tuple, no call).
            _side = sides[i]
            _px = prices[i]
            _qty = quantities[i]
        baselines.append(clock() - start)
        start = clock()
        for i in indices:
            update(sides[i], prices[i], quantities[i])
        chunks.append(clock() - start)
    if book.updates != len(chunks) * CALL_CHUNK:
        raise AssertionError(
            f"update_ticks applied {book.updates} updates, expected {len(chunks) * CALL_CHUNK}"
        )
    loop_ns = float(min(baselines))
    per_call = (np.asarray(chunks, dtype=np.float64) - loop_ns) / CALL_CHUNK
    return _Summary(
        percentiles={
            label: float(v)
            for (label, _), v in zip(
                PERCENTILES, np.percentile(per_call, [q for _, q in PERCENTILES]), strict=True
            )
        },
        max_ns=float(per_call.max()),
        ops_per_s=len(chunks) * CALL_CHUNK * 1e9 / float(np.sum(chunks)),
        samples=len(chunks),
    )


def _position_stage(instruments: int, fills: int, seed: int) -> _Summary:
    """PositionBook::try_apply_fill (duplicate check included), one random fill at a time, in the core.

    Random sides, so about half the fills reduce or flip the position; prices drift like a market.
    """
    venues = ("okx", "binance")
    listed = [Instrument(f"S{i}", venues[i % 2], "0.1", "0.001") for i in range(instruments)]
    book = Positions(listed, quote="USDT")
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
    run = _fastcore.measure_position_update(book, batch, passes=passes)
    applied = sum(book[i].fills for i in range(instruments))
    if applied != fills * (passes + 1):
        raise AssertionError(f"only {applied} of {fills * (passes + 1)} fills were applied")
    throughput = run.throughput_ops * 1e9 / run.throughput_ns if run.throughput_ns > 0 else 0.0
    return _histogram_summary(run.histogram, throughput, run.timed_ops)


def _risk_stage(instruments: int, checks: int, seed: int) -> _Summary:
    """Risk.check with every limit switched on, one random order at a time, in the core.

    Each instrument holds a position and resting orders on both sides, so position, self-trade and
    exposure checks see real state; prices spread +-2 % around mid so some orders hit the 1 % collar.
    """
    venues = ("okx", "binance")
    listed = [Instrument(f"S{i}", venues[i % 2], "0.1", "0.001") for i in range(instruments)]
    risk = _fastcore.Risk(listed, order_capacity=4 * instruments + 16)
    mid = 600_000
    for i in range(instruments):
        risk.set_limits(
            i,
            min_qty_lots=1,
            max_qty_lots=90,
            max_order_notional="5000",
            collar_mid_bps=100,
            collar_last_bps=150,
            max_long_lots=1_000,
            max_short_lots=1_000,
            max_open_orders=50,
            max_gross_notional="1000000",
            stale_after_ns=1_000_000_000,
            orders_per_s=1_000_000,
            burst=1_000,
        )
        risk.set_position(i, 100 if i % 2 == 0 else -100, mid)
        risk.on_order_sent(2 * i + 1, i, "buy", mid - 1_000, 10, 0)
        risk.on_order_sent(2 * i + 2, i, "sell", mid + 1_000, 10, 0)
    for venue in venues[: min(instruments, 2)]:
        risk.set_venue_limits(venue, max_gross_notional="100000000", orders_per_s=1_000_000, burst=1_000)
    risk.set_global_limits(
        max_gross_notional="1000000000", daily_loss_reduce="10000", daily_loss_halt="20000"
    )
    run, reasons = _fastcore.measure_risk_check(risk, checks, seed=seed, passes=3, mid_px_ticks=mid)
    accepted = reasons.get(_fastcore.RiskReason.OK, 0)
    if accepted in (0, checks):
        raise AssertionError(f"risk checks did not exercise both sides: {reasons}")
    throughput = run.throughput_ops * 1e9 / run.throughput_ns if run.throughput_ns > 0 else 0.0
    return _histogram_summary(run.histogram, throughput, run.timed_ops)


SIGNAL_WEIGHTS: Final = {"imbalance": 0.5, "micro_offset": 0.3, "trade_flow": 0.2}
"""Composite of the signal stage: every directional feature weighted, so the evaluation is real."""


def _signal_stage(events: npt.NDArray[np.void], instrument: Instrument) -> _Summary:
    """FeatureState updates plus one composite evaluation per message, one instrument, in the core.

    The book is updated untimed in the same loop (its update also reports each level's previous size);
    one sample is all the signal's work for one message: each level's note, then the book features and
    the composite after its last event (a trade: the flow update), each piece timed alone.
    """
    books = BookSet([instrument], max_levels=peer_books.UNCAPPED_LEVELS)
    signals = Signals(1, weights=SIGNAL_WEIGHTS, threshold=0.5)
    passes = 3
    run, _decisions = _fastcore.measure_signal_update(books, signals, events, passes=passes)
    # Recordings of depth only have no trades (so no composite value): the book features must be there.
    if run.timed_ops == 0 or signals.book_updates(0) == 0 or signals.feature(0, "imbalance") is None:
        raise AssertionError("the signal stage updated no book features")
    throughput = run.throughput_ops * 1e9 / run.throughput_ns if run.throughput_ns > 0 else 0.0
    return _histogram_summary(run.histogram, throughput, run.timed_ops)


def synthetic_events(instruments: int, count: int, seed: int) -> npt.NDArray[np.void]:
    """The deterministic synthetic market of the core (see ``src/fastcore/sim/``)."""
    return _fastcore.synthetic_events(instruments, count, seed=seed)


def run_bench(
    events: npt.NDArray[np.void],
    instrument: Instrument,
    source: str,
    *,
    repeat: int = 3,
    seed: int = 1,
    many_books: int = 1000,
    with_peers: bool = True,
    with_signing: bool = True,
    with_socket: bool = False,
    socket_events: int = 400_000,
    with_feed: bool = True,
    feed_frames: feed_bench.FeedFrames | None = None,
    with_engine: bool = True,
    with_wire_order: bool = False,
    busy_poll: bool = False,
    progress: Callable[[str], None] | None = None,
) -> BenchReport:
    """Measure every stage on ``events`` (one instrument's stream) and return the report.

    Parameters
    ----------
    events
        Event records of one instrument (id 0), starting with its snapshot.
    instrument
        The instrument the events are in ticks and lots of.
    source
        Human description of where the events came from (printed and stored in the JSON).
    repeat
        Measurements per stage; percentiles are medians over repeats.
    seed
        Seed of the synthetic market used for the many-books stage.
    many_books
        Books live in the many-books stage (synthetic, uniform random instrument per message).
    with_peers, with_signing, with_engine
        Include the peer order books, the signing stage and the engine stages.
    with_socket
        Include the socket stages (:mod:`rentrade.bench.socket_bench`): ingest through a simulated
        venue in a second process, and a picows echo round trip.
    socket_events
        Synthetic events the venue streams in the ingest stage.
    with_feed, feed_frames
        Include the Binance feed stage (frame bytes to book, rentrade and peers), on ``feed_frames``
        (default: :func:`rentrade.bench.feed_bench.synthetic_frames`).
    with_wire_order
        Include the wire-to-order stages (:mod:`rentrade.bench.wire_order_bench`).
    busy_poll
        Run the wire-to-order client's loop busy-polling (a whole core at 100 %, see
        :class:`rentrade.wire.busy_poll.BusyPoll`); its stages are marked ``[busy-poll]``.
    progress
        Called with a short line before each stage (the CLI prints it to stderr).
    """
    say = progress or (lambda _line: None)
    report = BenchReport(machine=machine_description(), source=source)
    if repeat < 1:
        raise ValueError(f"repeat must be >= 1, got {repeat}")

    alone_note = (
        "each level update of the order flow timed alone (fenced cycle counter), timer overhead removed;"
        " opening snapshots applied untimed"
    )
    runs_note = "runs of 16 consecutive updates timed together, divided by 16 (no fences inside a run)"
    say("core: book update, 1 book")
    one_check = _same_books_as_replay(events, [instrument])
    pairs = [_core_book_stage(events, [instrument], one_check) for _ in range(repeat)]
    report.stages.append(_combine("book update (C++, 1 book)", "core", [p[0] for p in pairs], alone_note))
    report.stages.append(
        _combine("book update (C++, 1 book, runs of 16)", "core", [p[1] for p in pairs], runs_note)
    )

    say(f"core: book update, {many_books:,} books")
    many_events = synthetic_events(many_books, max(len(events), 1_000_000) + many_books * 500, seed)
    many_instruments = [SYNTHETIC_INSTRUMENT] * many_books
    many_check = _same_books_as_replay(many_events, many_instruments)
    pairs = [_core_book_stage(many_events, many_instruments, many_check) for _ in range(repeat)]
    many_note = f"synthetic market, {many_books:,} instruments, a uniformly random instrument per message"
    for index, (suffix, note) in enumerate((("", alone_note), (", runs of 16", runs_note))):
        report.stages.append(
            _combine(
                f"book update (C++, {many_books:,} books{suffix})",
                "core",
                [p[index] for p in pairs],
                f"{many_note}; {note}",
            )
        )

    for instruments in (1, many_books):
        say(f"core: position update, {instruments:,} instruments")
        runs = [_position_stage(instruments, 200_000, seed + n) for n in range(repeat)]
        report.stages.append(
            _combine(
                f"position update (C++, {instruments:,} instrument{'' if instruments == 1 else 's'})",
                "core",
                runs,
                "one fill applied alone (duplicate check, exact P&L), timer overhead removed",
            )
        )

    say(f"core: risk check, {many_books:,} instruments")
    runs = [_risk_stage(many_books, 200_000, seed + n) for n in range(repeat)]
    report.stages.append(
        _combine(
            "risk check (C++)",
            "core",
            runs,
            f"Risk.check of one random order, every limit on, {many_books:,} instruments; "
            "timer overhead removed",
        )
    )

    say("core: signal update, 1 instrument")
    runs = [_signal_stage(events, instrument) for _ in range(repeat)]
    report.stages.append(
        _combine(
            "signal update (C++, 1 instrument)",
            "core",
            runs,
            "features after each message (microprice, top-5 imbalance, spread, mid EMA, volatility) plus the"
            " composite, or a trade's flow; timed alone, timer overhead removed, book update not timed",
        )
    )

    if with_engine:
        _add_engine_stages(
            report,
            instruments=many_books,
            flow_events=max(len(events), many_books * ENGINE_FLOW_PER_BOOK),
            seed=seed,
            repeat=repeat,
            say=say,
        )

    say("python: one OrderBook.update_ticks call")
    runs = [_update_ticks_call_stage(events, instrument) for _ in range(repeat)]
    report.stages.append(
        _combine(
            "update_ticks (Python, one call)",
            "python",
            runs,
            f"chunks of {CALL_CHUNK:,} calls minus the fastest chunk of the same loop without the call:"
            " binding and book update",
        )
    )

    say("python: OrderBook.apply_events")
    for reused_buffer, suffix, where in (
        (False, "", "slices of the stream array, read from memory"),
        (True, ", reused buffer", "each slice copied (untimed) into one reused buffer, as a parser fills"),
    ):
        runs = [_python_batch_stage(events, instrument, reused_buffer=reused_buffer) for _ in range(repeat)]
        report.stages.append(
            _combine(
                f"apply_events (Python, {BATCH_EVENTS:,} per call{suffix})",
                "python",
                runs,
                f"per update: call time / level updates in the call; {where}",
            )
        )

    if with_peers:
        say("peers: rentrade and peer order books on the same deltas")
        stream = peer_books.DeltaStream.from_events(events, instrument.tick_size, instrument.lot_size)
        results = peer_books.run_peers(stream, passes=repeat)
        _add_peer_results(report, results)

    if with_feed:
        frames = feed_frames if feed_frames is not None else feed_bench.synthetic_frames(seed=seed)
        _add_feed_stages(report, frames, repeat, with_peers, say)

    if with_signing:
        say("signing: Binance HMAC order request")
        from rentrade.bench.signing_bench import measure_signing

        samples = measure_signing(20_000)
        for name, values in samples.items():
            summary = _from_samples(values, len(values), int(sum(values)))
            report.stages.append(_combine(name, "signing", [summary], "one sign_request() per sample"))
        _add_signing_ratio(report)
        say("signing: Binance order request encoded (and signed) in the core")
        _add_order_encode_stages(report, repeat)

    if with_socket:
        _add_socket_stages(report, socket_events, seed, repeat, say)
    if with_wire_order:
        _add_wire_order_stages(report, repeat, say, busy_poll=busy_poll)
    return report


def run_wire_order_bench(
    *,
    repeat: int = 3,
    rounds: int = 2_000,
    progress: Callable[[str], None] | None = None,
    busy_poll: bool = False,
) -> BenchReport:
    """Only the wire-to-order stages (``rentrade bench --only-wire-order``; ``--busy-poll``)."""
    if repeat < 1:
        raise ValueError(f"repeat must be >= 1, got {repeat}")
    report = BenchReport(machine=machine_description(), source="crafted depth diffs from the simulated venue")
    _add_wire_order_stages(report, repeat, progress or (lambda _line: None), rounds, busy_poll=busy_poll)
    return report


def _add_wire_order_stages(
    report: BenchReport,
    repeat: int,
    say: Callable[[str], None],
    rounds: int = 2_000,
    *,
    busy_poll: bool = False,
) -> None:
    """Depth frame in -> signed order out: in process, and the loopback round trip against picows echo."""
    from rentrade.bench.wire_order_bench import measure_trader_core, measure_wire_order

    for signed, label in ((True, "HMAC-signed"), (False, "session.logon, unsigned")):
        say(f"wire-to-order: frame -> order in the core ({label})")
        core_runs = []
        for _ in range(repeat):
            run, orders, request_bytes = measure_trader_core(signed=signed)
            rate = run.throughput_ops / run.throughput_ns * 1e9 if run.throughput_ns > 0 else 0.0
            core_runs.append(_histogram_summary(run.histogram, rate, run.timed_ops))
        report.stages.append(
            _combine(
                f"depth frame -> {'signed' if signed else 'unsigned'} order request (C++, warm)",
                "wire",
                core_runs,
                f"BinanceTrader::on_frame timed alone on the cycle counter, no socket: parse, book, signal, "
                f"bracket, risk and the {label} order.place ({request_bytes // orders} B) of every frame; "
                "each order answered at once (expired IOC, untimed)",
            )
        )

    runs = []
    for n in range(repeat):
        say(f"wire-to-order: {rounds:,} frames through the simulated venue, run {n + 1} of {repeat}")
        runs.append(measure_wire_order(rounds=rounds, busy_poll=busy_poll))
        say(f"wire-to-order: run {n + 1} done (load average {os.getloadavg()[0]:.1f})")
    first = runs[0]
    # Busy-polled runs are another configuration of the client: their stages say so in the name.
    mode = " [busy-poll]" if busy_poll else ""
    spin_note = "; client loop busy-polling (one core at 100 %)" if busy_poll else ""
    sizes = f"{first.frame_bytes} B depth frame in, {first.order_bytes} B signed order.place out"

    def summaries(which: str) -> list[_Summary]:
        out = []
        for run in runs:
            h = getattr(run, which)
            percentiles = {label: h[label] for label, _ in PERCENTILES}
            out.append(_Summary(percentiles, h["max"], 0.0, int(h["count"])))
        return out

    report.stages.append(
        _combine(
            f"wire-to-order in process (frame in -> order sent){mode}",
            "wire",
            summaries("wire_to_order"),
            f"{sizes}; listener clock (CLOCK_REALTIME) read at the frame's arrival and after "
            "transport.send returned, one order per frame (feed -> engine/bracket -> HMAC-signed encode -> "
            f"picows send); the send system call includes the kernel's loopback delivery{spin_note}",
        )
    )
    report.stages.append(
        _combine(
            f"frame in -> signed request ready (before send){mode}",
            "wire",
            summaries("frame_to_request"),
            "the same frames, clock read just before the send call: parse, book, signal, strategy, risk "
            f"and encode+HMAC in C++ plus the listener{spin_note}",
        )
    )
    order_rt = _combine(
        f"order round trip via the simulated venue (loopback){mode}",
        "wire",
        [_from_samples(r.order_round_trips_ns, len(r.order_round_trips_ns), 1) for r in runs],
        f"{sizes}; venue clock: frame written to the market socket -> order frame read on its WebSocket "
        f"API connection (signature verified after the stamp); one at a time, {first.loop} client loop"
        + spin_note,
    )
    echo_rt = _combine(
        f"picows echo round trip, same sizes (loopback){mode}",
        "wire",
        [_from_samples(r.echo_round_trips_ns, len(r.echo_round_trips_ns), 1) for r in runs],
        "the same frame bytes written by the venue, answered at once by a Cython picows ReplyListener with "
        "an order-sized payload through the same send call; interleaved round for round with the order trip"
        + spin_note,
    )
    for stage in (order_rt, echo_rt):
        stage.ops_per_s = 0.0  # one round trip at a time with pauses: no throughput to report
        report.stages.append(stage)
    if echo_rt.p50_ns > 0:
        report.ratios.append(
            {"what": f"{order_rt.stage} / {echo_rt.stage}", "p50_ratio": order_rt.p50_ns / echo_rt.p50_ns}
        )


ENGINE_FLOW_PER_BOOK: Final = 1_000
"""Order-flow events per live instrument (after the opening snapshots) in each engine run: 1,000,000
for the default 1,000 books."""

ENGINE_STAGE_LABELS: Final = (
    (
        "tick_to_decision",
        "engine tick-to-decision",
        "first event of a message to the end of its decision: book + signal + strategy + risk + intent",
    ),
    ("book", "engine book stage", "one message's events applied to its book"),
    ("signal", "engine signal stage", "features at the message end plus the composite"),
    (
        "strategy",
        "engine strategy stage (bracket)",
        "the decision: mark/P&L refresh and the bracket strategy, risk checks of its orders included",
    ),
    ("risk", "engine risk stage", "one RiskEngine::try_submit with the book's MarketView"),
    ("position", "engine position stage", "one fill: positions, risk lifecycle, P&L to the loss limits"),
)


def _python_strategy(decision: _fastcore.Decision) -> object:
    """The callback of the Python-strategy stage: reads the decision, enters like the bracket would."""
    if decision.decision == 0 or decision.net_lots != 0 or decision.open_orders != 0:
        return None
    touch = decision.best_ask if decision.decision > 0 else decision.best_bid
    if touch is None:
        return None
    return (0 if decision.decision > 0 else 1, touch[0], 1, "ioc")


def _add_engine_stages(
    report: BenchReport,
    *,
    instruments: int,
    flow_events: int,
    seed: int,
    repeat: int,
    say: Callable[[str], None],
) -> None:
    """The engine's own stage histograms on the synthetic market (see rentrade.bench.engine_bench)."""
    from rentrade.bench.engine_bench import run_engine

    def summaries(runs: Sequence[Any], stage: str) -> list[_Summary]:
        out = []
        for run in runs:
            histogram = run.histograms[stage]
            if histogram.count == 0:
                raise AssertionError(f"the engine recorded no {stage} samples: {run.counters}")
            out.append(_histogram_summary(histogram, histogram.count * 1e9 / run.wall_ns, histogram.count))
        return out

    say(f"engine: bracket strategy, {instruments:,} instruments")
    runs = [run_engine(instruments, flow_events, seed + n) for n in range(repeat)]
    where = f"synthetic market, {instruments:,} instruments live, cycle counter in the core"
    for stage, label, what in ENGINE_STAGE_LABELS:
        name = f"{label} (C++, {instruments:,} instr.)" if stage == "tick_to_decision" else f"{label} (C++)"
        report.stages.append(_combine(name, "engine", summaries(runs, stage), f"{what}; {where}"))
    say(f"engine: Python callback strategy, {instruments:,} instruments")
    py_runs = [
        run_engine(instruments, flow_events // 4, seed + n, strategy=_python_strategy) for n in range(repeat)
    ]
    report.stages.append(
        _combine(
            "engine Python callback (per decision)",
            "engine",
            summaries(py_runs, "strategy"),
            "one call of a Python strategy callable from the core (Decision reused, returns None or an"
            f" IOC order), its orders' risk checks included; {where}",
        )
    )
    report.stages.append(
        _combine(
            f"engine tick-to-decision, Python ({instruments:,} instr.)",
            "engine",
            summaries(py_runs, "tick_to_decision"),
            f"as engine tick-to-decision with the Python callback as the strategy; {where}",
        )
    )


def _add_socket_stages(
    report: BenchReport, events: int, seed: int, repeat: int, say: Callable[[str], None]
) -> None:
    from rentrade.bench.socket_bench import measure_socket

    ingests = []
    echoes = []
    for n in range(repeat):
        say(f"socket: ingest through the simulated venue, run {n + 1} of {repeat}")
        ingest, echo = measure_socket(events=events, seed=seed)
        say(
            f"socket: run {n + 1}: wall {ingest.msgs_per_s / 1e6:.2f} M msg/s, client CPU "
            f"{ingest.msgs_per_cpu_s / 1e6:.2f} M msg/s; of the wall time the client ran "
            f"{ingest.cpu_s / ingest.wall_s:.0%}, waited for a CPU {ingest.run_wait_s / ingest.wall_s:.0%} "
            f"(other processes), idled the rest; venue CPU {ingest.venue_cpu_s * 1e3:.0f} ms over "
            f"{ingest.venue_wall_s * 1e3:.0f} ms (load average {os.getloadavg()[0]:.1f})"
        )
        ingests.append(ingest)
        echoes.append(echo)
    first = ingests[0]
    what = (
        f"{first.messages:,} messages ({first.symbols} symbols: depth diffs, bookTicker, trade; "
        f"{first.wire_bytes / first.messages:.0f} B per frame), venue in a second process"
    )
    for label in ("wall", "client CPU"):
        runs = []
        for ingest in ingests:
            rate = ingest.msgs_per_s if label == "wall" else ingest.msgs_per_cpu_s
            mean_ns = 1e9 / rate
            runs.append(_Summary({name: mean_ns for name, _ in PERCENTILES}, mean_ns, rate, ingest.messages))
        report.stages.append(
            _combine(
                f"socket ingest, {label} (venue->picows->listener->feed)",
                "socket",
                runs,
                f"{what}; throughput stage: every column is the mean ns per message "
                + (
                    "of wall time, start signal to last frame applied"
                    if label == "wall"
                    else "of the client thread's CPU time (user + kernel), on one core"
                ),
            )
        )
    runs = [_from_samples(e.samples_ns, len(e.samples_ns), int(sum(e.samples_ns))) for e in echoes]
    report.stages.append(
        _combine(
            "picows echo round trip (loopback)",
            "socket",
            runs,
            f"64-byte text frame sent, echoed by a picows server in the venue process, received; "
            f"one at a time, {first.loop} client loop",
        )
    )


def _add_order_encode_stages(report: BenchReport, repeat: int) -> None:
    """The C++ half of wire-to-order: an engine intent to the request text, signed or for session.logon."""
    from rentrade.venues.binance_usdm.orders import order_encoder

    instruments = [
        Instrument("BTCUSDT", "binance_usdm", "0.1", "0.001"),
        Instrument("ETHUSDT", "binance_usdm", "0.01", "0.001"),
    ]
    # Binance's published example key (not an account) signs; the bytes are checked to be written.
    signed = Credentials(
        "vmPUZE6mv9SD5VNHk4HlWFsOr6aKE2zvsw0MuIgwCIPy6utIco14y7Ju91duEh8A",
        secret="NhqPtmdSJYdKjVHjA7PZj4Mge3R5YNiP1e3UZjInClVN65XAbvqqM6A7H5fATj0j",
    )
    for label, credentials in (
        ("binance order encode + HMAC sign (C++)", signed),
        ("binance order encode, session.logon (C++)", None),
    ):
        runs = []
        for n in range(repeat):
            run, request_bytes = _fastcore.measure_order_encode(
                order_encoder(instruments, credentials), 2, seed=n + 1
            )
            if request_bytes < 150 * run.timed_ops:
                raise AssertionError(
                    f"{label}: the encoder wrote {request_bytes} bytes for {run.timed_ops} orders"
                )
            rate = run.throughput_ops / run.throughput_ns * 1e9 if run.throughput_ns > 0 else 0.0
            runs.append(_histogram_summary(run.histogram, rate, run.timed_ops))
        report.stages.append(
            _combine(
                label,
                "signing",
                runs,
                "one BinanceOrderEncoder::try_encode of a random limit order (order.place WebSocket API "
                "request, ~370 B signed / ~215 B unsigned) timed alone on the cycle counter, overhead "
                "subtracted",
            )
        )


def _add_peer_results(report: BenchReport, results: Sequence[peer_books.PeerResult]) -> None:
    ours = {r.path: r for r in results if r.name == "rentrade" and not r.skipped}
    for result in results:
        if result.skipped:
            report.skipped.append(
                {"stage": f"{result.name} {result.path}", "reason": result.skipped_reason or ""}
            )
            continue
        summary = _from_samples(result.samples_ns, result.ops, result.wall_ns)
        group = "python" if result.name == "rentrade" else "peer"
        label = f"{result.name} {result.version} {result.path}".replace("  ", " ")
        report.stages.append(_combine(label, group, [summary], result.api))
        base = ours.get(result.path)
        if result.name != "rentrade" and base is not None:
            report.ratios.append(
                {
                    "what": f"{result.name} {result.path} / rentrade {result.path}",
                    "p50_ratio": summary.percentiles["p50"] / float(np.percentile(base.samples_ns, 50)),
                }
            )
    batch = ours.get(peer_books.BATCH)
    if batch is None:
        return
    for name in dict.fromkeys(r.name for r in results if r.name != "rentrade" and not r.skipped):
        rows = [r for r in results if r.name == name and not r.skipped]
        fastest = min(rows, key=lambda r: float(np.percentile(r.samples_ns, 50)))
        report.ratios.append(
            {
                "what": f"{name} fastest ({fastest.path}) / rentrade batch",
                "p50_ratio": float(np.percentile(fastest.samples_ns, 50))
                / float(np.percentile(batch.samples_ns, 50)),
            }
        )


def run_feed_bench(
    frames: feed_bench.FeedFrames,
    *,
    repeat: int = 3,
    with_peers: bool = True,
    progress: Callable[[str], None] | None = None,
) -> BenchReport:
    """Only the Binance feed stage (``rentrade bench --only-feed``): frames to book, rentrade and peers."""
    if repeat < 1:
        raise ValueError(f"repeat must be >= 1, got {repeat}")
    report = BenchReport(machine=machine_description(), source=frames.source)
    _add_feed_stages(report, frames, repeat, with_peers, progress or (lambda _line: None))
    return report


def _add_feed_stages(
    report: BenchReport,
    frames: feed_bench.FeedFrames,
    repeat: int,
    with_peers: bool,
    say: Callable[[str], None],
) -> None:
    """Binance frame bytes to book: rentrade in the core and from Python, then the peers' way."""
    say(f"feed: Binance frames to book ({frames.source})")
    runs = [feed_bench.core_run(frames) for _ in range(repeat)]
    levels = runs[0]["depth_levels"] / runs[0]["depth_frames"]
    source = f"{frames.source}; {runs[0]['depth_frames']:,} depth frames applied, {levels:.1f} levels each"
    core_depth = _combine(
        "binance depth frame -> book (C++)",
        "core",
        [_histogram_summary(r["depth"], r["frames_per_s"], r["depth_frames"]) for r in runs],
        f"BinanceFeed.on_frame on one depth frame: JSON scan, exact decimals, pu/U check, book update; "
        f"timed alone in the core, timer overhead removed; {source}",
    )
    report.stages.append(core_depth)
    report.stages.append(
        _combine(
            "binance bookTicker frame (C++)",
            "core",
            [_histogram_summary(r["book_ticker"], r["frames_per_s"], r["book_tickers"]) for r in runs],
            "BinanceFeed.on_frame on one bookTicker frame (two BBO events); timed alone in the core",
        )
    )
    expected_top = feed_bench.reference_top(frames)
    ways: list[Callable[[feed_bench.FeedFrames], feed_bench.FeedSamples]] = [
        feed_bench.rentrade_python_samples
    ]
    if with_peers:
        ways += [
            feed_bench.cryptofeed_style_samples,
            feed_bench.ccxt_style_samples,
            feed_bench.nautilus_samples,
        ]
    python_depth: StageResult | None = None
    for way in ways:
        try:
            samples = [way(frames) for _ in range(repeat)]
        except ImportError as exc:
            report.skipped.append({"stage": f"feed peer {way.__name__}", "reason": f"not installed: {exc}"})
            continue
        for sample in samples:
            if sample.top != expected_top:
                raise AssertionError(f"{sample.name} ended with {sample.top}, rentrade with {expected_top}")
        group = "python" if sample.name.startswith("rentrade") else "peer"
        depth = _combine(
            f"{sample.name}: depth",
            group,
            [_from_samples(s.depth_ns, len(s.depth_ns), int(s.depth_ns.sum())) for s in samples],
            sample.api,
        )
        ticker = _combine(
            f"{sample.name}: bookTicker",
            group,
            [_from_samples(s.ticker_ns, len(s.ticker_ns), int(s.ticker_ns.sum())) for s in samples],
            sample.api,
        )
        report.stages += [depth, ticker]
        if group == "python":
            python_depth = depth
            continue
        report.ratios.append(
            {
                "what": f"{sample.name} depth / rentrade C++ depth",
                "p50_ratio": depth.p50_ns / core_depth.p50_ns,
            }
        )
        if python_depth is not None:
            report.ratios.append(
                {
                    "what": f"{sample.name} depth / rentrade on_frame from Python",
                    "p50_ratio": depth.p50_ns / python_depth.p50_ns,
                }
            )


def _add_signing_ratio(report: BenchReport) -> None:
    signing = {stage.stage: stage for stage in report.stages if stage.group == "signing"}
    ours = next((s for name, s in signing.items() if name.startswith("rentrade")), None)
    for name, stage in signing.items():
        if ours is not None and stage is not ours and ours.p50_ns > 0:
            report.ratios.append({"what": f"{name} / {ours.stage}", "p50_ratio": stage.p50_ns / ours.p50_ns})


def _ns(value: float) -> str:
    if value >= 1_000_000:
        return f"{value / 1_000_000:.1f}ms"
    if value >= 10_000:
        return f"{value / 1000:.0f}us"
    if value >= 1_000:
        return f"{value / 1000:.1f}us"
    return f"{value:.0f}ns"


def format_report(report: BenchReport) -> str:
    """The table people read: one row per stage, then ratios and anything skipped."""
    machine = report.machine
    lines = [
        f"rentrade bench on {report.source}",
        f"machine: {machine['cpu']}, {machine['cores']} cores, Python {machine['python']}, "
        f"load {machine['load_average_1m']}",
        "",
        f"{'group':8} {'stage':52} {'p50':>7} {'p90':>7} {'p99':>7} {'p99.9':>7} {'max':>7} "
        f"{'ops/s':>9} {'p50 spread':>15}",
    ]
    for s in report.stages:
        spread = f"{_ns(s.p50_spread_ns[0])}-{_ns(s.p50_spread_ns[1])}" if s.repeats > 1 else "-"
        lines.append(
            f"{s.group:8} {s.stage[:52]:52} {_ns(s.p50_ns):>7} {_ns(s.p90_ns):>7} {_ns(s.p99_ns):>7} "
            f"{_ns(s.p999_ns):>7} {_ns(s.max_ns):>7} {s.ops_per_s / 1e6:>8.2f}M {spread:>15}"
        )
    if report.ratios:
        lines += ["", "ratios (p50, like for like; > 1 means rentrade is faster):"]
        lines += [f"  {r['what']}: {r['p50_ratio']:.1f}x" for r in report.ratios]
    for skipped in report.skipped:
        lines.append(f"skipped {skipped['stage']}: {skipped['reason']}")
    lines += ["", "what each stage times:"]
    lines += [f"  {s.stage}: {s.note}" for s in report.stages if s.note]
    lines.append(
        "  ns per operation; core stages time each update alone with the cycle counter; Python and peer"
        " per-call stages time runs of 32 calls and divide"
    )
    return "\n".join(lines)


def print_progress(line: str) -> None:
    """Progress to stderr, so ``--json`` output on stdout stays clean."""
    print(f"[rentrade bench] {line} ...", file=sys.stderr, flush=True)
