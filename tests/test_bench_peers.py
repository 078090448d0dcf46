"""The benchmark's peer adapters must end each run at the same top of book as a plain dict book."""

from __future__ import annotations

import importlib.util
import random
from typing import Any

import numpy as np
import pytest

from rentrade import _fastcore
from rentrade.bench import peers
from rentrade.bench.peers import DeltaStream, TopOfBook


def make_stream(n: int = 2000, seed: int = 7, levels: int = 40) -> DeltaStream:
    """Deltas around a drifting touch: sets, removals, removals of absent levels, crossings of depth."""
    rng = random.Random(seed)
    mid = 100_000
    bids = np.array([(mid - 1 - 2 * i, rng.randint(1, 50)) for i in range(levels)], dtype=np.int64)
    asks = np.array([(mid + 1 + 2 * i, rng.randint(1, 50)) for i in range(levels)], dtype=np.int64)
    side, px, qty = [], [], []
    for _ in range(n):
        s = rng.randint(0, 1)
        offset = rng.randint(0, 2 * levels)
        side.append(s)
        px.append(mid - 1 - offset if s == 0 else mid + 1 + offset)
        qty.append(0 if rng.random() < 0.35 else rng.randint(1, 10**6))
    return DeltaStream(
        side=np.array(side, dtype=np.uint8),
        px_ticks=np.array(px, dtype=np.int64),
        qty_lots=np.array(qty, dtype=np.int64),
        tick_size="0.1",
        lot_size="0.001",
        snapshot_bids=bids,
        snapshot_asks=asks,
    )


def dict_top(stream: DeltaStream) -> TopOfBook:
    """An independent oracle: replay into dicts, then take max/min."""
    bids = {int(p): int(q) for p, q in stream.snapshot_bids}
    asks = {int(p): int(q) for p, q in stream.snapshot_asks}
    for s, p, q in zip(stream.side, stream.px_ticks, stream.qty_lots, strict=True):
        book = bids if s == 0 else asks
        if q:
            book[int(p)] = int(q)
        else:
            book.pop(int(p), None)
    bb = max(bids) if bids else None
    ba = min(asks) if asks else None
    return ((bb, bids[bb]) if bb is not None else None), ((ba, asks[ba]) if ba is not None else None)


PEER_PARAMS = [pytest.param(adapter, module, id=name) for name, module, adapter in peers.PEERS]
# batch_api is a class attribute, so peers without a batch path are simply not parametrized here.
BATCH_PEER_PARAMS = [
    pytest.param(adapter, module, id=name)
    for name, module, adapter in peers.PEERS
    if adapter.batch_api is not None
]


def _require(module: str) -> None:
    if importlib.util.find_spec(module.split(".", maxsplit=1)[0]) is None:
        pytest.skip(f"{module} is not installed (pip install 'rentrade[bench]')")


def test_reference_top_matches_dict_oracle() -> None:
    stream = make_stream()
    assert peers.reference_top(stream) == dict_top(stream)


@pytest.mark.parametrize(("adapter_cls", "module"), PEER_PARAMS)
def test_peer_per_call_ends_at_reference_top(adapter_cls: Any, module: str) -> None:
    _require(module)
    stream = make_stream()
    adapter = adapter_cls(stream)
    timing = peers.time_per_call(adapter.reset_per_call, passes=2, chunk=32)
    assert timing.ops == 2 * len(stream)
    assert len(timing.samples_ns) == 2 * -(-len(stream) // 32)
    assert adapter.top() == dict_top(stream)


@pytest.mark.parametrize(("adapter_cls", "module"), PEER_PARAMS)
def test_peer_per_call_top_ends_at_reference_top(adapter_cls: Any, module: str) -> None:
    _require(module)
    stream = make_stream(n=1000)
    adapter = adapter_cls(stream)
    timing = peers.time_per_call(adapter.reset_per_call_top, passes=1)
    assert timing.ops == len(stream)
    assert adapter.top() == dict_top(stream)


@pytest.mark.parametrize(("adapter_cls", "module"), BATCH_PEER_PARAMS)
def test_peer_batch_ends_at_reference_top(adapter_cls: Any, module: str) -> None:
    _require(module)
    stream = make_stream()
    adapter = adapter_cls(stream)
    timing = peers.time_batches(lambda: adapter.reset_batch(50), passes=2)
    assert timing.ops == 2 * len(stream)
    assert adapter.top() == dict_top(stream)


@pytest.mark.parametrize(("adapter_cls", "module"), PEER_PARAMS)
def test_peer_reset_restores_snapshot(adapter_cls: Any, module: str) -> None:
    _require(module)
    stream = make_stream(n=500)
    adapter = adapter_cls(stream)
    peers.time_per_call(adapter.reset_per_call, passes=1)
    adapter.reset_per_call()
    best_bid = tuple(int(v) for v in stream.snapshot_bids[0])
    best_ask = tuple(int(v) for v in stream.snapshot_asks[0])
    assert adapter.top() == (best_bid, best_ask)


def test_time_per_call_makes_every_call_once() -> None:
    seen: list[int] = []
    args = (list(range(100)), [0] * 100, [0] * 100)
    timing = peers.time_per_call(lambda: (lambda a, b, c: seen.append(a), args), passes=3, chunk=32)
    assert seen == list(range(100)) * 3
    assert timing.ops == 300
    assert len(timing.samples_ns) == 3 * 4  # 32 + 32 + 32 + 4 per pass
    assert timing.samples_ns.dtype == np.int64


def test_stream_rejects_bad_inputs() -> None:
    good = make_stream(n=10)
    with pytest.raises(ValueError, match="equally long"):
        DeltaStream(
            good.side[:5], good.px_ticks, good.qty_lots, "0.1", "1", good.snapshot_bids, good.snapshot_asks
        )
    with pytest.raises(ValueError, match="qty_lots must be >= 0"):
        DeltaStream(
            good.side, good.px_ticks, -good.qty_lots - 1, "0.1", "1", good.snapshot_bids, good.snapshot_asks
        )
    with pytest.raises(ValueError, match="shape"):
        DeltaStream(
            good.side, good.px_ticks, good.qty_lots, "0.1", "1", good.snapshot_bids[:, :1], good.snapshot_asks
        )


def test_raw_scale_is_exact() -> None:
    assert peers._raw_scale("0.1", 16) == (1, 10**15)
    assert peers._raw_scale("0.00100", 9) == (3, 10**6)
    assert peers._raw_scale("5", 9) == (0, 5 * 10**9)
    with pytest.raises(ValueError, match="decimals"):
        peers._raw_scale("0.0000000001", 9)


def test_stream_from_synthetic_events() -> None:
    events = _fastcore.synthetic_events(1, 3000)
    stream = DeltaStream.from_events(events, "0.1", "0.001")
    kinds = events["kind"]
    assert len(stream) == int(np.count_nonzero(kinds == _fastcore.EventKind.DELTA))
    assert len(stream.snapshot_bids) == len(stream.snapshot_asks) == 500
    assert np.all(np.diff(stream.snapshot_bids[:, 0]) < 0)
    assert np.all(np.diff(stream.snapshot_asks[:, 0]) > 0)
    assert stream.events is not None and len(stream.events) == len(stream)


def test_run_peers_checks_every_book() -> None:
    stream = make_stream()
    results = peers.run_peers(stream, passes=1, batch_size=64, paths=peers.PATHS)
    expected = dict_top(stream)
    measured = [r for r in results if not r.skipped]
    assert {(r.name, r.path) for r in measured} >= {("rentrade", path) for path in peers.PATHS}
    for result in measured:
        assert result.top == expected, result
        assert result.ops == len(stream)
        assert result.ops_per_s > 0
        assert set(result.percentiles()) == {"p50", "p90", "p99", "p99.9", "max"}
    for result in results:
        if result.skipped:
            assert result.skipped_reason and "pip install" in result.skipped_reason
    table = "\n".join(peers.format_results(results))
    for result in results:
        assert result.name in table


def test_run_peers_raises_when_a_book_is_wrong(monkeypatch: pytest.MonkeyPatch) -> None:
    class WrongBook(peers.SortedDictBook):
        name = "wrong"

        def top(self) -> TopOfBook:
            bid, ask = super().top()
            assert bid is not None
            return (bid[0], bid[1] + 1), ask

    _require("sortedcontainers")
    monkeypatch.setattr(peers, "PEERS", (("wrong", "sortedcontainers", WrongBook),))
    with pytest.raises(AssertionError, match=r"wrong .* did not do the same work"):
        peers.run_peers(make_stream(n=300), passes=1)


def test_missing_peer_is_reported_not_dropped(monkeypatch: pytest.MonkeyPatch) -> None:
    class MissingBook(peers.SortedDictBook):
        def __init__(self, stream: DeltaStream) -> None:
            raise ModuleNotFoundError("No module named 'missing_peer'")

    monkeypatch.setattr(peers, "PEERS", (("missing", "missing_peer", MissingBook),))
    results = peers.run_peers(make_stream(n=200), passes=1)
    skipped = [r for r in results if r.skipped]
    assert [r.name for r in skipped] == ["missing"]
    assert "missing_peer" in (skipped[0].skipped_reason or "")
    assert any("missing" in line and "skipped" in line for line in peers.format_results(results))
