"""The numpy event dtype views the same bytes as the C++ record."""

from __future__ import annotations

import rentrade
from rentrade import _fastcore
from rentrade.events import EVENT_DTYPE, empty_events, is_aligned


def test_dtype_matches_cpp_layout() -> None:
    layout = _fastcore.event_layout()
    assert EVENT_DTYPE.itemsize == 64
    assert set(layout) == set(EVENT_DTYPE.names or ())
    for name, (offset, size) in layout.items():
        field_dtype, field_offset = EVENT_DTYPE.fields[name][:2]  # type: ignore[index]
        assert (field_offset, field_dtype.itemsize) == (offset, size), name


def test_enums_match_constants() -> None:
    assert int(rentrade.EventKind.DELTA) == rentrade.events.KIND_DELTA
    assert int(rentrade.Side.ASK) == rentrade.events.SIDE_ASK
    assert _fastcore.FLAG_LAST_IN_MESSAGE == rentrade.events.FLAG_LAST_IN_MESSAGE


def test_empty_events_are_aligned_and_zeroed() -> None:
    for count in (0, 1, 7, 1000):
        events = empty_events(count)
        assert len(events) == count and is_aligned(events)
        assert not events.view("u1").any()
    assert is_aligned(_fastcore.synthetic_events(1, 10))
