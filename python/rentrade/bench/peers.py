"""Order-book peers for ``rentrade bench``: the same L2 delta stream through each book, in one run.

Every peer gets the stream in the form it is cheapest for it to consume, built before the clock starts,
the way rentrade gets pre-built integer arrays. What is timed is only the book update itself, through
the cheapest correct Python path each library offers (see each adapter's docstring), and optionally
the update followed by a read of the best bid and ask (:data:`PER_CALL_TOP`). After every pass, each
book's best bid and best ask must equal rentrade's and a plain dict reference, or :func:`run_peers`
raises ``AssertionError``: a benchmark whose books disagree measured nothing.

Peers are optional (``pip install 'rentrade[bench]'``); a peer that is not installed comes back as a
:class:`PeerResult` with ``skipped_reason`` set, so the runner can say why it is missing.

Timing
------
Per-call paths are timed in chunks of ``chunk`` (default 32) consecutive calls with
``time.perf_counter_ns()``; each chunk gives one per-op sample (chunk time / chunk size), because one
``perf_counter_ns`` call costs about as much as the fastest update. Percentiles are therefore of 32-call
averages: they hide single-call outliers shorter than a chunk, for every peer alike. Batch paths are
timed per batch call and divided by the updates in that batch. Each pass replays the whole stream
after an untimed reset to the snapshot; the garbage collector is off inside a pass so that a collection
triggered by one peer's allocations is not charged to whichever peer happens to run next. Passes of
the different books are interleaved, so noise on a shared machine is spread over all of them.
"""

from __future__ import annotations

import abc
import gc
import importlib
import importlib.metadata
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from decimal import Decimal
from itertools import islice
from typing import Any, Final

import numpy as np
import numpy.typing as npt

from rentrade import _fastcore
from rentrade.events import KIND_CLEAR, KIND_DELTA, KIND_SNAPSHOT_LEVEL, SIDE_BID, empty_events

__all__ = [
    "BATCH",
    "PATHS",
    "PER_CALL",
    "PER_CALL_TOP",
    "DeltaStream",
    "PeerResult",
    "Timing",
    "TopOfBook",
    "format_results",
    "reference_top",
    "run_peers",
    "time_batches",
    "time_per_call",
]

PER_CALL: Final = "per-call"
BATCH: Final = "batch"
PER_CALL_TOP: Final = "per-call+top"
"""Per call, then read the best bid and ask (price and size): what a strategy does on every update,
and the fair figure for books that sort lazily (order-book) and so defer their cost to the read."""
PATHS: Final = (PER_CALL, BATCH, PER_CALL_TOP)

UNCAPPED_LEVELS: Final = 1_000_000
"""Level cap for like-for-like runs: far above any real book, so nothing is dropped."""

DEFAULT_CHUNK: Final = 32
"""Calls per timed chunk: enough that the two clock reads (~30-40 ns together) are a small share."""

DEFAULT_BATCH_SIZE: Final = 32
"""Updates per batch call: about one exchange message's worth of deltas."""

Level = tuple[int, int]
"""One level as (px_ticks, qty_lots)."""

TopOfBook = tuple[Level | None, Level | None]
"""(best bid, best ask), each ``None`` when that side is empty."""

PerCallOp = tuple[Callable[..., object], tuple[list[Any], ...]]
"""A function and 1 or 3 equally long argument lists; call ``i`` is ``fn(args[0][i], ...)``."""

BatchOp = tuple[Callable[[Any], object], list[Any], list[int]]
"""A function, its pre-built batch arguments, and the number of updates in each batch."""


@dataclass(frozen=True, eq=False)
class DeltaStream:
    """One instrument's L2 delta stream in integer ticks and lots, after an initial snapshot.

    Parameters
    ----------
    side
        uint8, 0 for a bid and 1 for an ask, one per delta.
    px_ticks
        int64 price of each delta in ticks of ``tick_size``.
    qty_lots
        int64 new resting quantity at that price in lots of ``lot_size``; 0 removes the level (removing
        a level that is not there is a valid no-op, as exchanges send it).
    tick_size, lot_size
        Decimal strings, e.g. ``"0.1"`` and ``"0.001"``; peers that take prices (nautilus-trader) are
        fed exactly ``px_ticks * tick_size``.
    snapshot_bids, snapshot_asks
        int64 arrays of shape (k, 2), rows (px_ticks, qty_lots), best first.
    events
        Optional: the same deltas as the core's event records (``rentrade.events.EVENT_DTYPE``, only
        ``DELTA`` kind, one instrument id), for rentrade's batch path. Built on demand when absent.
    """

    side: npt.NDArray[np.uint8]
    px_ticks: npt.NDArray[np.int64]
    qty_lots: npt.NDArray[np.int64]
    tick_size: str
    lot_size: str
    snapshot_bids: npt.NDArray[np.int64]
    snapshot_asks: npt.NDArray[np.int64]
    events: npt.NDArray[np.void] | None = field(default=None, repr=False)

    def __post_init__(self) -> None:
        n = len(self.side)
        if not (len(self.px_ticks) == len(self.qty_lots) == n):
            raise ValueError(
                f"side, px_ticks and qty_lots must be equally long, got {n}, {len(self.px_ticks)}, "
                f"{len(self.qty_lots)}"
            )
        for name, array, dtype in (
            ("side", self.side, np.uint8),
            ("px_ticks", self.px_ticks, np.int64),
            ("qty_lots", self.qty_lots, np.int64),
        ):
            if array.dtype != dtype or array.ndim != 1:
                raise ValueError(
                    f"{name} must be a 1-D {np.dtype(dtype).name} array, got {array.dtype} {array.shape}"
                )
        if n and int(self.side.max()) > 1:
            raise ValueError("side must be 0 (bid) or 1 (ask)")
        if n and int(self.qty_lots.min()) < 0:
            raise ValueError("qty_lots must be >= 0 (0 removes the level)")
        for name, levels in (("snapshot_bids", self.snapshot_bids), ("snapshot_asks", self.snapshot_asks)):
            if levels.dtype != np.int64 or levels.ndim != 2 or levels.shape[1] != 2:
                raise ValueError(
                    f"{name} must be an int64 array of shape (k, 2), got {levels.dtype} {levels.shape}"
                )
        for name, value in (("tick_size", self.tick_size), ("lot_size", self.lot_size)):
            if not Decimal(value) > 0:
                raise ValueError(f"{name} must be a positive decimal string, got {value!r}")
        if self.events is not None and len(self.events) != n:
            raise ValueError(f"events has {len(self.events)} records but the stream has {n} deltas")

    def __len__(self) -> int:
        return len(self.side)

    @classmethod
    def from_events(
        cls, events: npt.NDArray[np.void], tick_size: str, lot_size: str, instrument_id: int | None = None
    ) -> DeltaStream:
        """Build a stream from the core's event records (e.g. ``_fastcore.synthetic_events(1, n)``).

        The ``SNAPSHOT_LEVEL`` events before the first ``DELTA`` make the snapshot; every ``DELTA``
        after it is an update; trades and BBO records are not book updates and are left out.

        Parameters
        ----------
        events
            Array of ``rentrade.events.EVENT_DTYPE``.
        tick_size, lot_size
            The instrument's increments as decimal strings.
        instrument_id
            Which instrument to take; may be omitted when all events are for one instrument.

        Raises
        ------
        ValueError
            If the events hold several instruments and none is chosen, if no snapshot precedes the
            deltas, or if the book is cleared or re-snapshotted after the first delta (one snapshot,
            then deltas, is the shape every peer is reset to).
        """
        ids = events["instrument_id"]
        if instrument_id is None:
            present = np.unique(ids)
            if len(present) > 1:
                raise ValueError(f"events hold instruments {present.tolist()}; pass instrument_id")
            instrument_id = int(present[0]) if len(present) else 0
        mine = events[ids == instrument_id]
        kind = mine["kind"]
        delta_at = np.flatnonzero(kind == KIND_DELTA)
        first_delta = int(delta_at[0]) if len(delta_at) else len(mine)
        head, tail = mine[:first_delta], mine[first_delta:]
        if np.any((tail["kind"] == KIND_SNAPSHOT_LEVEL) | (tail["kind"] == KIND_CLEAR)):
            raise ValueError(
                "the book is cleared or re-snapshotted after the first delta; split the stream there"
            )
        levels = head[head["kind"] == KIND_SNAPSHOT_LEVEL]
        if len(levels) == 0:
            raise ValueError(
                f"no SNAPSHOT_LEVEL events for instrument {instrument_id} before its first delta"
            )
        snapshot: list[npt.NDArray[np.int64]] = []
        for side_code, descending in ((0, True), (1, False)):
            rows = levels[levels["side"] == side_code]
            # Last write wins, as in a book, then best first.
            book = dict(zip(rows["px_ticks"].tolist(), rows["qty_lots"].tolist(), strict=True))
            ordered = sorted(((p, q) for p, q in book.items() if q > 0), reverse=descending)
            snapshot.append(np.array(ordered, dtype=np.int64).reshape(-1, 2))
        deltas = tail[tail["kind"] == KIND_DELTA]
        return cls(
            side=np.ascontiguousarray(deltas["side"], dtype=np.uint8),
            px_ticks=np.ascontiguousarray(deltas["px_ticks"], dtype=np.int64),
            qty_lots=np.ascontiguousarray(deltas["qty_lots"], dtype=np.int64),
            tick_size=tick_size,
            lot_size=lot_size,
            snapshot_bids=snapshot[0],
            snapshot_asks=snapshot[1],
            events=_aligned_copy(deltas),
        )

    def delta_events(self, instrument_id: int = 0) -> npt.NDArray[np.void]:
        """The deltas as core event records (``self.events`` if given, else built now, untimed)."""
        if self.events is not None:
            return self.events
        out = empty_events(len(self))
        out["kind"] = KIND_DELTA
        out["instrument_id"] = instrument_id
        out["side"] = self.side
        out["px_ticks"] = self.px_ticks
        out["qty_lots"] = self.qty_lots
        out["seq"] = np.arange(1, len(self) + 1, dtype=np.uint64)
        return out


def _aligned_copy(records: npt.NDArray[np.void]) -> npt.NDArray[np.void]:
    """Copy records into a 64-byte-aligned array so the core reads them in place, not in chunks."""
    out = empty_events(len(records))
    out[...] = records
    return out


@dataclass(frozen=True, eq=False)
class Timing:
    """Raw result of one timed run.

    Attributes
    ----------
    samples_ns
        int64 per-update nanoseconds, one per timed chunk or batch.
    wall_ns
        Wall time of all passes' timed loops, clock reads included.
    ops
        Updates applied over all passes.
    """

    samples_ns: npt.NDArray[np.int64]
    wall_ns: int
    ops: int


PERCENTILES: Final = (("p50", 50.0), ("p90", 90.0), ("p99", 99.0), ("p99.9", 99.9))


@dataclass(frozen=True, eq=False)
class PeerResult:
    """One book and one path (per-call or batch) measured on the stream.

    Attributes
    ----------
    name
        The library, e.g. ``"nautilus-trader"``.
    version
        Its installed version, or ``""`` when skipped.
    path
        :data:`PER_CALL` or :data:`BATCH`.
    api
        The exact call that was timed, e.g. ``"OrderBook.apply_delta(OrderBookDelta)"``.
    samples_ns
        Per-update nanoseconds (see :class:`Timing`); empty when skipped.
    wall_ns, ops
        For throughput: ``ops / wall_ns``.
    top
        The book's best bid and ask after the run, the proof that the work was done.
    skipped_reason
        Why the peer was not measured (not installed), else ``None``.
    """

    name: str
    version: str
    path: str
    api: str
    samples_ns: npt.NDArray[np.int64] = field(repr=False)
    wall_ns: int
    ops: int
    top: TopOfBook | None = None
    skipped_reason: str | None = None

    @property
    def skipped(self) -> bool:
        """Whether this peer was not measured."""
        return self.skipped_reason is not None

    @property
    def ops_per_s(self) -> float:
        """Updates per second over the timed loops (0.0 when skipped)."""
        return self.ops * 1e9 / self.wall_ns if self.wall_ns > 0 else 0.0

    def percentiles(self) -> dict[str, float]:
        """p50, p90, p99, p99.9 and max of the per-update samples in ns (empty when skipped)."""
        if len(self.samples_ns) == 0:
            return {}
        values = np.percentile(self.samples_ns, [q for _, q in PERCENTILES])
        summary = {label: float(v) for (label, _), v in zip(PERCENTILES, values, strict=True)}
        summary["max"] = float(self.samples_ns.max())
        return summary


def time_per_call(reset: Callable[[], PerCallOp], passes: int, chunk: int = DEFAULT_CHUNK) -> Timing:
    """Time a per-call update path: one function called once per delta, in timed chunks.

    The one harness used for every per-call path, rentrade's included, so that loop and argument
    overhead is the same for all.

    Parameters
    ----------
    reset
        Called before each pass, untimed: puts the book back to the snapshot and returns the function
        and its 1 or 3 pre-built argument lists.
    passes
        How many times the whole stream is replayed.
    chunk
        Calls per clock read.

    Returns
    -------
    Timing
        One sample per chunk: chunk nanoseconds // calls in it.
    """
    if passes < 1 or chunk < 1:
        raise ValueError(f"passes and chunk must be >= 1, got {passes} and {chunk}")
    clock = time.perf_counter_ns
    samples: list[int] = []
    wall_ns = 0
    ops = 0
    for _ in range(passes):
        fn, args = reset()
        n = len(args[0])
        if any(len(a) != n for a in args):
            raise ValueError("argument lists must be equally long")
        gc_was_enabled = gc.isenabled()
        gc.disable()
        try:
            if len(args) == 1:
                # One loop per arity: star-unpacking would add a cost that differs from a real call site.
                it1 = iter(args[0])
                start = clock()
                for lo in range(0, n, chunk):
                    k = min(chunk, n - lo)
                    part1 = islice(it1, k)
                    t0 = clock()
                    for x in part1:
                        fn(x)
                    t1 = clock()
                    samples.append((t1 - t0) // k)
                wall_ns += clock() - start
            elif len(args) == 3:
                it3 = zip(args[0], args[1], args[2], strict=True)
                start = clock()
                for lo in range(0, n, chunk):
                    k = min(chunk, n - lo)
                    part3 = islice(it3, k)
                    t0 = clock()
                    for x, y, z in part3:
                        fn(x, y, z)
                    t1 = clock()
                    samples.append((t1 - t0) // k)
                wall_ns += clock() - start
            else:
                raise ValueError(f"per-call ops take 1 or 3 argument lists, got {len(args)}")
        finally:
            if gc_was_enabled:
                gc.enable()
        ops += n
    return Timing(np.array(samples, dtype=np.int64), wall_ns, ops)


def time_batches(reset: Callable[[], BatchOp], passes: int) -> Timing:
    """Time a batch path: one call per pre-built batch, each sample divided by the batch's updates.

    Parameters
    ----------
    reset
        Called before each pass, untimed: puts the book back to the snapshot and returns the function,
        the batches and the number of updates in each.
    passes
        How many times the whole stream is replayed.

    Returns
    -------
    Timing
        One sample per batch call: its nanoseconds // its updates.
    """
    if passes < 1:
        raise ValueError(f"passes must be >= 1, got {passes}")
    clock = time.perf_counter_ns
    samples: list[int] = []
    wall_ns = 0
    ops = 0
    for _ in range(passes):
        fn, batches, sizes = reset()
        if len(batches) != len(sizes):
            raise ValueError("one size per batch is needed")
        gc_was_enabled = gc.isenabled()
        gc.disable()
        try:
            start = clock()
            for batch, k in zip(batches, sizes, strict=True):
                t0 = clock()
                fn(batch)
                t1 = clock()
                samples.append((t1 - t0) // k)
            wall_ns += clock() - start
        finally:
            if gc_was_enabled:
                gc.enable()
        ops += sum(sizes)
    return Timing(np.array(samples, dtype=np.int64), wall_ns, ops)


def reference_top(stream: DeltaStream) -> TopOfBook:
    """Best bid and ask after the snapshot and all deltas, from two plain dicts (the slow oracle)."""
    books: tuple[dict[int, int], dict[int, int]] = (
        dict(zip(stream.snapshot_bids[:, 0].tolist(), stream.snapshot_bids[:, 1].tolist(), strict=True)),
        dict(zip(stream.snapshot_asks[:, 0].tolist(), stream.snapshot_asks[:, 1].tolist(), strict=True)),
    )
    for book in books:
        for px in [p for p, q in book.items() if q == 0]:
            del book[px]
    deltas = zip(stream.side.tolist(), stream.px_ticks.tolist(), stream.qty_lots.tolist(), strict=True)
    for side, px, qty in deltas:
        if qty:
            books[side][px] = qty
        else:
            books[side].pop(px, None)
    bids, asks = books
    best_bid = max(bids) if bids else None
    best_ask = min(asks) if asks else None
    return (
        (best_bid, bids[best_bid]) if best_bid is not None else None,
        (best_ask, asks[best_ask]) if best_ask is not None else None,
    )


def _chunk_bounds(n: int, size: int) -> list[tuple[int, int]]:
    return [(lo, min(lo + size, n)) for lo in range(0, n, size)]


def _snapshot_lists(stream: DeltaStream) -> tuple[list[Level], list[Level]]:
    """Snapshot levels as Python int pairs, zero quantities dropped (they are not resting levels)."""
    out: list[list[Level]] = []
    for levels in (stream.snapshot_bids, stream.snapshot_asks):
        out.append([(int(p), int(q)) for p, q in levels.tolist() if q > 0])
    return out[0], out[1]


# --------------------------------------------------------------------------------------------------
# Adapters. Each builds its native inputs once in __init__ (untimed) and exposes reset_* methods that
# restore the snapshot (untimed) and hand the timing helpers what to call.
# --------------------------------------------------------------------------------------------------


class _Adapter(abc.ABC):
    """What :func:`run_peers` needs from a book; each subclass is built from a :class:`DeltaStream`."""

    name: str = ""
    version: str = ""
    per_call_api: str = ""
    top_api: str = ""
    batch_api: str | None = None
    """The batch call, or ``None`` for a book without one (its per-call path is its fastest)."""

    @abc.abstractmethod
    def __init__(self, stream: DeltaStream) -> None:
        """Build the book and its native inputs from ``stream`` (untimed)."""

    @abc.abstractmethod
    def reset_per_call(self) -> PerCallOp:
        """Reset to the snapshot and return the per-call operation and its arguments."""

    @abc.abstractmethod
    def reset_per_call_top(self) -> PerCallOp:
        """Like :meth:`reset_per_call`, each call followed by a read of the best bid and ask."""

    def reset_batch(self, batch_size: int) -> BatchOp:
        """Reset and return the batch operation; only books with a :attr:`batch_api` have one."""
        raise TypeError(f"{self.name} has no batch path (batch_api is None)")

    @abc.abstractmethod
    def top(self) -> TopOfBook:
        """Best bid and best ask now."""


class RentradeBook(_Adapter):
    """rentrade's core book: ``OrderBook.update_ticks`` per call, ``OrderBook.apply_events`` per batch.

    Inputs prepared outside the timed region: Python int lists of side, ticks and lots for the per-call
    path, and 64-byte-aligned ``EVENT_DTYPE`` records (views, no copies, sliced per batch) for the
    batch path; exactly what a caller holding the core's parser output has.
    """

    name = "rentrade"
    per_call_api = "OrderBook.update_ticks(side, px_ticks, qty_lots)"
    top_api = "best_bid(); best_ask()"
    batch_api = "OrderBook.apply_events(events[i:i+batch])"

    def __init__(self, stream: DeltaStream) -> None:
        self.version = _dist_version("rentrade")
        instrument = _fastcore.Instrument("BENCH", "bench", stream.tick_size, stream.lot_size)
        # Peers keep every level; so must rentrade here, or it would do less work (real Binance
        # streams grow past the default cap of 5,000 levels a side).
        self._book: _fastcore.OrderBook = _fastcore.OrderBook(instrument, max_levels=UNCAPPED_LEVELS)
        self._stream = stream
        self._args = (stream.side.tolist(), stream.px_ticks.tolist(), stream.qty_lots.tolist())
        self._events = stream.delta_events(self._book.instrument_id)

    def _reset(self) -> None:
        self._book.apply_snapshot(self._stream.snapshot_bids, self._stream.snapshot_asks)

    def reset_per_call(self) -> PerCallOp:
        self._reset()
        return self._book.update_ticks, self._args

    def reset_per_call_top(self) -> PerCallOp:
        self._reset()
        update, best_bid, best_ask = self._book.update_ticks, self._book.best_bid, self._book.best_ask

        def apply(side: int, px: int, qty: int) -> None:
            update(side, px, qty)
            best_bid()
            best_ask()

        return apply, self._args

    def reset_batch(self, batch_size: int) -> BatchOp:
        self._reset()
        bounds = _chunk_bounds(len(self._events), batch_size)
        batches = [self._events[lo:hi] for lo, hi in bounds]
        return self._book.apply_events, batches, [hi - lo for lo, hi in bounds]

    def top(self) -> TopOfBook:
        if self._book.dropped_levels:
            # A capped book that dropped deep levels is not doing the same work as the peers.
            raise AssertionError(
                f"rentrade dropped {self._book.dropped_levels} levels at max_levels={self._book.max_levels}"
            )
        return self._book.best_bid(), self._book.best_ask()


class SortedDictBook(_Adapter):
    """The plain baseline: two ``sortedcontainers.SortedDict``, the usual pure-Python L2 book.

    Bids are keyed by negative ticks so that index 0 is the best level on both sides without a key
    function (a key function would add a Python call to every update). Inputs prepared outside the
    timed region: per delta, the target dict, the signed int key and the int quantity, so the timed
    call does what a hand-written book must: set or remove one level.
    """

    name = "sortedcontainers.SortedDict"
    per_call_api = "SortedDict[key] = qty / SortedDict.pop(key, None)"
    top_api = "bids.peekitem(0); asks.peekitem(0)"

    def __init__(self, stream: DeltaStream) -> None:
        SortedDict = _optional("sortedcontainers").SortedDict  # noqa: N806 - the library's class name

        self.version = _dist_version("sortedcontainers")
        self._bids: Any = SortedDict()
        self._asks: Any = SortedDict()
        sides = stream.side.tolist()
        prices = stream.px_ticks.tolist()
        self._args = (
            [self._bids if s == SIDE_BID else self._asks for s in sides],
            [-p if s == SIDE_BID else p for s, p in zip(sides, prices, strict=True)],
            stream.qty_lots.tolist(),
        )
        bids, asks = _snapshot_lists(stream)
        self._snapshot = ([(-p, q) for p, q in bids], asks)

    def _reset(self) -> None:
        # Cleared in place: the per-delta target lists hold these very objects.
        self._bids.clear()
        self._asks.clear()
        self._bids.update(self._snapshot[0])
        self._asks.update(self._snapshot[1])

    def reset_per_call(self) -> PerCallOp:
        self._reset()

        def apply(book: Any, key: int, qty: int) -> None:
            if qty:
                book[key] = qty
            else:
                book.pop(key, None)

        return apply, self._args

    def reset_per_call_top(self) -> PerCallOp:
        self._reset()
        bids, asks = self._bids, self._asks

        def apply(book: Any, key: int, qty: int) -> None:
            if qty:
                book[key] = qty
            else:
                book.pop(key, None)
            if bids:
                bids.peekitem(0)
            if asks:
                asks.peekitem(0)

        return apply, self._args

    def top(self) -> TopOfBook:
        bid = self._bids.peekitem(0) if self._bids else None
        ask = self._asks.peekitem(0) if self._asks else None
        return ((-bid[0], bid[1]) if bid else None), ((ask[0], ask[1]) if ask else None)


class COrderBook(_Adapter):
    """The ``order-book`` package (C extension, module ``order_book``).

    Its sides are C ``SortedDict`` s over a Python dict that sort lazily: an update only stores into
    the dict and marks the side dirty, and the sort happens on the next ordered read (``index(0)``).
    The per-call figure is therefore the store alone; the sort cost lands on whoever reads the top.
    Inputs prepared outside the timed region: per delta, the target side, the int price in ticks and
    the int quantity (int keys hash faster than the floats or Decimals it is usually fed).
    """

    name = "order-book"
    per_call_api = "ob.bids[px] = qty / del ob.bids[px]"
    top_api = "bids.index(0); asks.index(0)"

    def __init__(self, stream: DeltaStream) -> None:
        order_book = _optional("order_book")

        self.version = _dist_version("order-book")
        self._ob: Any = order_book.OrderBook()
        # Assigning a dict to .bids/.asks replaces the contents of the same SortedDict object, so the
        # per-delta target lists below stay valid across resets.
        self._bids: Any = self._ob.bids
        self._asks: Any = self._ob.asks
        sides = stream.side.tolist()
        self._args = (
            [self._bids if s == SIDE_BID else self._asks for s in sides],
            stream.px_ticks.tolist(),
            stream.qty_lots.tolist(),
        )
        self._snapshot = _snapshot_lists(stream)

    def _reset(self) -> None:
        self._ob.bids = dict(self._snapshot[0])
        self._ob.asks = dict(self._snapshot[1])
        if self._ob.bids is not self._bids or self._ob.asks is not self._asks:
            raise RuntimeError("order-book replaced its side objects on assignment; update this adapter")

    def reset_per_call_top(self) -> PerCallOp:
        self._reset()
        bids, asks = self._bids, self._asks

        def apply(book: Any, px: int, qty: int) -> None:
            if qty:
                book[px] = qty
            else:
                try:  # noqa: SIM105 - suppress() would add a context manager to the timed call
                    del book[px]
                except KeyError:
                    pass
            if bids:
                bids.index(0)
            if asks:
                asks.index(0)

        return apply, self._args

    def reset_per_call(self) -> PerCallOp:
        self._reset()

        def apply(book: Any, px: int, qty: int) -> None:
            if qty:
                book[px] = qty
            else:
                try:  # noqa: SIM105 - suppress() would add a context manager to the timed call
                    del book[px]
                except KeyError:  # removing an absent level is a valid no-op delta
                    pass

        return apply, self._args

    def top(self) -> TopOfBook:
        bid = self._bids.index(0) if len(self._bids) else None
        ask = self._asks.index(0) if len(self._asks) else None
        return ((int(bid[0]), int(bid[1])) if bid else None), ((int(ask[0]), int(ask[1])) if ask else None)


class NautilusBook(_Adapter):
    """nautilus-trader's ``OrderBook`` (Rust core behind Cython) as an ``L2_MBP`` book.

    Per call: ``OrderBook.apply_delta(OrderBookDelta)``, one pre-built delta per update (``UPDATE``
    with the new size, ``DELETE`` for size 0). It measured faster than ``OrderBook.update(BookOrder,
    ts_event)`` on this stream (about 520 vs 750 ns), which does the same Rust call with more argument
    conversion. Batch: ``OrderBook.apply_deltas(OrderBookDeltas)``, one pre-built ``OrderBookDeltas``
    per batch. ``Price`` and ``Quantity`` are built from raw fixed-point integers, exactly
    ``px_ticks * tick_size`` and ``qty_lots * lot_size``, all outside the timed region.
    """

    name = "nautilus-trader"
    per_call_api = "OrderBook.apply_delta(OrderBookDelta)"
    top_api = "best_bid_price(); best_bid_size(); best_ask_price(); best_ask_size()"
    batch_api = "OrderBook.apply_deltas(OrderBookDeltas)"

    def __init__(self, stream: DeltaStream) -> None:
        data = _optional("nautilus_trader.model.data")
        enums = _optional("nautilus_trader.model.enums")
        objects = _optional("nautilus_trader.model.objects")
        BookOrder, OrderBookDelta = data.BookOrder, data.OrderBookDelta  # noqa: N806 - library names
        BookAction, BookType, OrderSide = enums.BookAction, enums.BookType, enums.OrderSide  # noqa: N806
        Price, Quantity, FIXED_PRECISION = objects.Price, objects.Quantity, objects.FIXED_PRECISION  # noqa: N806
        OrderBook = _optional("nautilus_trader.model.book").OrderBook  # noqa: N806
        InstrumentId = _optional("nautilus_trader.model.identifiers").InstrumentId  # noqa: N806
        self._deltas_cls: Any = data.OrderBookDeltas

        self.version = _dist_version("nautilus_trader")
        self._instrument_id: Any = InstrumentId.from_str("BENCH.BENCH")
        self._book_cls: Any = OrderBook
        self._book_type: Any = BookType.L2_MBP
        self._book: Any = OrderBook(self._instrument_id, self._book_type)

        px_precision, raw_per_tick = _raw_scale(stream.tick_size, int(FIXED_PRECISION))
        qty_precision, raw_per_lot = _raw_scale(stream.lot_size, int(FIXED_PRECISION))
        self._raw_per_tick = raw_per_tick
        self._raw_per_lot = raw_per_lot
        sides = (OrderSide.BUY, OrderSide.SELL)

        def order(side: int, px: int, qty: int) -> Any:
            return BookOrder(
                sides[side],
                Price.from_raw(px * raw_per_tick, px_precision),
                Quantity.from_raw(qty * raw_per_lot, qty_precision),
                0,  # order_id: an L2_MBP book keys levels by price and ignores it
            )

        iid = self._instrument_id
        self._deltas: list[Any] = [
            OrderBookDelta(iid, BookAction.UPDATE if q else BookAction.DELETE, order(s, p, q), 0, i, i, i)
            for i, (s, p, q) in enumerate(
                zip(stream.side.tolist(), stream.px_ticks.tolist(), stream.qty_lots.tolist(), strict=True), 1
            )
        ]
        bids, asks = _snapshot_lists(stream)
        self._snapshot_orders = [order(0, p, q) for p, q in bids] + [order(1, p, q) for p, q in asks]
        self._batches: dict[int, BatchOp] = {}

    def _reset(self) -> None:
        # A fresh book rather than clear(): nothing carried over (sequence, timestamps, caches).
        self._book = self._book_cls(self._instrument_id, self._book_type)
        add = self._book.add
        for o in self._snapshot_orders:
            add(o, 0)

    def reset_per_call(self) -> PerCallOp:
        self._reset()
        return self._book.apply_delta, (self._deltas,)

    def reset_per_call_top(self) -> PerCallOp:
        self._reset()
        book = self._book
        apply_delta = book.apply_delta
        bid_px, bid_qty, ask_px, ask_qty = (
            book.best_bid_price,
            book.best_bid_size,
            book.best_ask_price,
            book.best_ask_size,
        )

        def apply(delta: Any) -> None:
            apply_delta(delta)
            bid_px()
            bid_qty()
            ask_px()
            ask_qty()

        return apply, (self._deltas,)

    def reset_batch(self, batch_size: int) -> BatchOp:
        self._reset()
        if batch_size not in self._batches:
            bounds = _chunk_bounds(len(self._deltas), batch_size)
            self._batches[batch_size] = (
                self._book.apply_deltas,
                [self._deltas_cls(self._instrument_id, self._deltas[lo:hi]) for lo, hi in bounds],
                [hi - lo for lo, hi in bounds],
            )
        _, batches, sizes = self._batches[batch_size]
        return self._book.apply_deltas, batches, sizes

    def top(self) -> TopOfBook:
        book = self._book
        bid_px, ask_px = book.best_bid_price(), book.best_ask_price()
        bid = None
        ask = None
        if bid_px is not None:
            bid = (
                _whole(bid_px.raw, self._raw_per_tick),
                _whole(book.best_bid_size().raw, self._raw_per_lot),
            )
        if ask_px is not None:
            ask = (
                _whole(ask_px.raw, self._raw_per_tick),
                _whole(book.best_ask_size().raw, self._raw_per_lot),
            )
        return bid, ask


def _whole(raw: int, per: int) -> int:
    """A nautilus-trader raw fixed-point value in whole ticks or lots (raw units ``per`` increment)."""
    units, rest = divmod(int(raw), per)
    if rest:
        raise AssertionError(f"nautilus-trader raw value {raw} is not a whole number of {per}-raw units")
    return units


def _raw_scale(increment: str, fixed_precision: int) -> tuple[int, int]:
    """(decimals, raw units per increment) of a decimal increment in a fixed-point type.

    Raises
    ------
    ValueError
        If the increment has more decimals than the fixed-point type holds.
    """
    step = Decimal(increment).normalize()
    exponent = step.as_tuple().exponent
    if not isinstance(exponent, int):
        raise ValueError(f"increment must be finite, got {increment!r}")
    decimals = max(0, -exponent)
    if decimals > fixed_precision:
        raise ValueError(f"{increment} has {decimals} decimals; nautilus-trader holds {fixed_precision}")
    raw = step.scaleb(fixed_precision)
    if raw != raw.to_integral_value():
        raise ValueError(f"{increment} is not representable at {fixed_precision} decimals")
    return decimals, int(raw)


def _optional(module: str) -> Any:
    """Import an optional peer's module; typed ``Any`` because the peers ship no stubs.

    Raises
    ------
    ImportError
        If the peer is not installed; :func:`run_peers` turns it into a skip with this reason.
    """
    return importlib.import_module(module)


def _dist_version(dist: str) -> str:
    try:
        return importlib.metadata.version(dist)
    except importlib.metadata.PackageNotFoundError:
        return "unknown"


PEERS: Final[tuple[tuple[str, str, type[_Adapter]], ...]] = (
    ("nautilus-trader", "nautilus_trader", NautilusBook),
    ("order-book", "order_book", COrderBook),
    ("sortedcontainers.SortedDict", "sortedcontainers", SortedDictBook),
)
"""(name, module, adapter) of each peer, in the order they are run and reported."""


def _skipped(name: str, path: str, reason: str) -> PeerResult:
    return PeerResult(
        name=name,
        version="",
        path=path,
        api="",
        samples_ns=np.empty(0, dtype=np.int64),
        wall_ns=0,
        ops=0,
        skipped_reason=reason,
    )


def _time_once(adapter: _Adapter, path: str, chunk: int, batch_size: int) -> Timing:
    """One pass of one book on one path."""
    if path == PER_CALL:
        return time_per_call(adapter.reset_per_call, 1, chunk)
    if path == PER_CALL_TOP:
        return time_per_call(adapter.reset_per_call_top, 1, chunk)
    return time_batches(lambda: adapter.reset_batch(batch_size), 1)


def _api(adapter: _Adapter, path: str) -> str:
    if path == PER_CALL:
        return adapter.per_call_api
    if path == PER_CALL_TOP:
        return f"{adapter.per_call_api}; then {adapter.top_api}"
    return adapter.batch_api or ""


def _merge(timings: Sequence[Timing]) -> Timing:
    return Timing(
        np.concatenate([t.samples_ns for t in timings]),
        sum(t.wall_ns for t in timings),
        sum(t.ops for t in timings),
    )


def run_peers(
    stream: DeltaStream,
    passes: int = 3,
    *,
    chunk: int = DEFAULT_CHUNK,
    batch_size: int | None = DEFAULT_BATCH_SIZE,
    peers: Sequence[str] | None = None,
    paths: Sequence[str] = (PER_CALL, BATCH),
) -> list[PeerResult]:
    """Measure rentrade and every installed peer on ``stream``, in this run, and check their books.

    Passes are interleaved: pass 1 of every book and path, then pass 2 of each in reverse order, and
    so on, so that a burst of noise from a shared machine lands on all books rather than on whichever
    ran during it. After every pass each book's best bid and ask are checked.

    Parameters
    ----------
    stream
        The deltas and the snapshot every book starts each pass from.
    passes
        Replays of the whole stream per book and path.
    chunk
        Per-call updates per clock read.
    batch_size
        Updates per batch call for the batch paths; ``None`` gives the whole stream to one call per
        pass (each library's best case, but only one sample per pass).
    peers
        Names from :data:`PEERS` to run (default: all); rentrade is always run, it is the reference.
    paths
        Which of :data:`PATHS` to measure. :data:`PER_CALL_TOP` is off by default because order-book
        re-sorts a whole side on each read, which makes it slow (tens of microseconds per update).

    Returns
    -------
    list[PeerResult]
        rentrade's results first, then each peer's in :data:`PEERS` order, each in ``paths`` order. A
        peer without a batch API has no batch result (its per-call path is its fastest); a peer that
        is not installed has one result with its ``skipped_reason``.

    Raises
    ------
    AssertionError
        If any book's best bid or ask after a pass differs from rentrade's, or rentrade's from the
        plain dict reference.
    ValueError
        If the stream is empty, or ``passes``, ``peers`` or ``paths`` is invalid.
    """
    if len(stream) == 0:
        raise ValueError("the stream has no deltas")
    if passes < 1:
        raise ValueError(f"passes must be >= 1, got {passes}")
    names = [name for name, _, _ in PEERS]
    wanted = set(names) if peers is None else set(peers)
    if wanted - set(names):
        raise ValueError(f"unknown peers {sorted(wanted - set(names))}; choose from {names}")
    if set(paths) - set(PATHS) or not paths:
        raise ValueError(f"paths must be a non-empty selection of {PATHS}, got {list(paths)}")

    batch = len(stream) if batch_size is None else batch_size
    if batch < 1:
        raise ValueError(f"batch_size must be >= 1 or None, got {batch_size}")
    expected = reference_top(stream)
    # One slot per book, in report order: an adapter, or the reason it is missing.
    books: list[_Adapter | PeerResult] = [RentradeBook(stream)]
    for name, _module, adapter_cls in PEERS:
        if name not in wanted:
            continue
        try:
            books.append(adapter_cls(stream))
        except ImportError as exc:
            reason = f"not installed ({exc}); install with: pip install 'rentrade[bench]'"
            books.append(_skipped(name, paths[0], reason))

    jobs = [
        (book, path)
        for book in books
        if isinstance(book, _Adapter)
        for path in paths
        if path != BATCH or book.batch_api is not None
    ]
    # Once, not per pass: a full collection takes ~0.1 s with nautilus-trader's imports loaded, and the
    # timed loops run with the collector off anyway.
    gc.collect()
    timings: dict[tuple[int, str], list[Timing]] = {(id(book), path): [] for book, path in jobs}
    tops: dict[tuple[int, str], TopOfBook] = {}
    for n in range(passes):
        for book, path in jobs if n % 2 == 0 else reversed(jobs):
            timings[(id(book), path)].append(_time_once(book, path, chunk, batch))
            top = book.top()
            if top != expected:
                if isinstance(book, RentradeBook):
                    raise AssertionError(
                        f"rentrade {path} ended pass {n + 1} at top of book {top}, the dict reference at "
                        f"{expected}"
                    )
                raise AssertionError(
                    f"{book.name} {book.version} {path} ({_api(book, path)}) ended pass {n + 1} at top of "
                    f"book {top}, rentrade at {expected}: its run did not do the same work"
                )
            tops[(id(book), path)] = top

    results: list[PeerResult] = []
    for slot in books:
        if isinstance(slot, PeerResult):
            results.append(slot)
            continue
        for path in paths:
            key = (id(slot), path)
            if key not in timings:
                continue
            timing = _merge(timings[key])
            results.append(
                PeerResult(
                    slot.name,
                    slot.version,
                    path,
                    _api(slot, path),
                    timing.samples_ns,
                    timing.wall_ns,
                    timing.ops,
                    tops[key],
                )
            )
    return results


def format_results(results: Sequence[PeerResult]) -> list[str]:
    """Plain-text table of ``results``: percentiles, throughput and the ratio to rentrade, like for like.

    A peer's per-call rows are divided by rentrade's per-call row of the same path; its fastest row
    (batch if it has one, else per-call) is also divided by rentrade's batch row. Ratios above 1 mean
    the peer is slower. Skipped peers are listed with their reason.

    Parameters
    ----------
    results
        As returned by :func:`run_peers`.

    Returns
    -------
    list[str]
        Lines to print.
    """
    ours = {r.path: r for r in results if r.name == RentradeBook.name and not r.skipped}
    lines = [
        f"{'book':28} {'version':9} {'path':13} {'p50':>7} {'p90':>7} {'p99':>7} {'p99.9':>7} {'max':>8}"
        f" {'Mupd/s':>7} {'x rentrade':>10}  api"
    ]
    for r in results:
        if r.skipped:
            lines.append(f"{r.name:28} skipped: {r.skipped_reason}")
            continue
        p = r.percentiles()
        base = ours.get(r.path)
        ratio = (
            f"{p['p50'] / base.percentiles()['p50']:10.2f}"
            if base and r.name != RentradeBook.name
            else " " * 10
        )
        lines.append(
            f"{r.name:28} {r.version:9} {r.path:13} {p['p50']:7.0f} {p['p90']:7.0f} {p['p99']:7.0f}"
            f" {p['p99.9']:7.0f} {p['max']:8.0f} {r.ops_per_s / 1e6:7.2f} {ratio}  {r.api}"
        )
    batch = ours.get(BATCH)
    if batch is not None:
        for name in dict.fromkeys(r.name for r in results if r.name != RentradeBook.name and not r.skipped):
            rows = [r for r in results if r.name == name and r.path in (PER_CALL, BATCH)]
            if not rows:
                continue
            fastest = min(rows, key=lambda r: r.percentiles()["p50"])
            ratio_fastest = fastest.percentiles()["p50"] / batch.percentiles()["p50"]
            lines.append(
                f"fastest path of {name} ({fastest.path}) vs rentrade batch: "
                f"p50 {ratio_fastest:.2f}x rentrade's"
            )
    lines.append(
        "ns per update; per-call percentiles are of 32-call averages, batch ones of per-batch averages"
    )
    return lines
