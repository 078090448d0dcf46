# cython: language_level=3, boundscheck=False, wraparound=False
"""picows listener that feeds Binance WebSocket frames to the C++ BinanceFeed with no Python object per frame."""

from cpython.pycapsule cimport PyCapsule_GetPointer
from libc.stdint cimport int64_t
from posix.time cimport CLOCK_REALTIME, clock_gettime, timespec
from picows.picows cimport WSCloseCode, WSFrame, WSListener, WSMsgType, WSTransport

# FrameStatus values (rentrade.FrameStatus): only these are forwarded to Python.
cdef enum:
    STATUS_OK = 0
    STATUS_IGNORED = 5

cdef const char* CAPSULE_NAME = b"rentrade._fastcore.BinanceFeed"


cdef inline int64_t _now_ns() noexcept nogil:
    cdef timespec ts
    clock_gettime(CLOCK_REALTIME, &ts)
    return <int64_t>ts.tv_sec * 1000000000 + ts.tv_nsec


cdef class BinanceListener(WSListener):
    """Hands each Binance WebSocket frame straight to a :class:`rentrade.BinanceFeed` in C++.

    For every complete text (or binary) message, the listener reads the local receive time
    (``CLOCK_REALTIME``, ns) and passes picows' payload pointer and length to the C++ parser, which
    applies the frame to the feed's books. No Python object is created for a frame whose status is
    ``OK`` (or ``IGNORED``): the cost per market-data frame is the parse itself plus ~30 ns of
    listener overhead.

    Python is called only for the frames that need attention: ``on_control(status, payload)`` with
    ``status`` a :class:`rentrade.FrameStatus` value (``CONTROL``, ``NEEDS_SNAPSHOT``, ``BAD_FRAME``,
    ``UNKNOWN_SYMBOL``; ``IGNORED`` too when ``forward_ignored``) and ``payload`` a copy of the frame
    as ``bytes`` (one allocation plus the Python call, ~1 us). ``on_connected(transport)`` and
    ``on_disconnected(transport)`` forward picows' connection callbacks.

    Parameters
    ----------
    feed : rentrade.BinanceFeed
        The feed; the listener keeps a reference, so the C++ feed lives at least as long.
    on_control : callable
        ``on_control(status: int, payload: bytes) -> None``; runs on the event loop, inside picows'
        data callback: keep it short, schedule slow work (snapshot fetches) as tasks. An exception it
        raises propagates to picows, which logs it and, by default, disconnects.
    on_connected, on_disconnected : callable, optional
        ``f(transport) -> None``.
    forward_ignored : bool, optional
        Also call ``on_control`` for frames of types the feed does not read (kline, markPrice, ...).

    Notes
    -----
    Lifetime: picows' payload buffer is valid only during ``on_ws_frame``; the C++ feed reads it there
    and keeps nothing. A CLOSE frame is answered with a close and a disconnect. Pings are answered by
    picows itself (its default ``enable_auto_pong``).
    """

    def __init__(self, feed, on_control, on_connected=None, on_disconnected=None, forward_ignored=False):
        cdef object capsule = feed._capsule()
        self._feed_ptr = <BinanceFeed*>PyCapsule_GetPointer(capsule, CAPSULE_NAME)
        self._feed = feed
        if not callable(on_control):
            raise TypeError("on_control must be callable: on_control(status: int, payload: bytes)")
        self._on_control = on_control
        self._on_connected = on_connected
        self._on_disconnected = on_disconnected
        self._forward_ignored = bool(forward_ignored)
        self._fragments = None
        self.transport = None
        self.frames = 0
        self.callbacks = 0

    @property
    def feed(self):
        """The :class:`rentrade.BinanceFeed` this listener feeds."""
        return self._feed

    cpdef on_ws_connected(self, WSTransport transport):
        self.transport = transport
        if self._on_connected is not None:
            self._on_connected(transport)

    cpdef on_ws_disconnected(self, WSTransport transport):
        self._fragments = None
        if self._on_disconnected is not None:
            self._on_disconnected(transport)

    cpdef on_ws_frame(self, WSTransport transport, WSFrame frame):
        cdef WSMsgType kind = frame.msg_type
        if kind == WSMsgType.TEXT or kind == WSMsgType.BINARY:
            if frame.fin:
                self._fragments = None
                self._deliver(frame.payload_ptr, <size_t>frame.payload_size)
            else:
                self._fragments = bytearray(frame.payload_ptr[:frame.payload_size])
        elif kind == WSMsgType.CONTINUATION:
            if self._fragments is None:
                return  # a continuation without a start: nothing to reassemble
            self._fragments.extend(frame.payload_ptr[:frame.payload_size])
            if frame.fin:
                data = bytes(self._fragments)
                self._fragments = None
                self._deliver(data, <size_t>len(data))
        elif kind == WSMsgType.CLOSE:
            transport.send_close(frame.get_close_code(), frame.get_close_message())
            transport.disconnect()

    cdef int _deliver(self, const char* data, size_t size) except -1:
        cdef int status = binance_on_frame(self._feed_ptr[0], data, size, _now_ns())
        self.frames += 1
        if status == STATUS_OK or (status == STATUS_IGNORED and not self._forward_ignored):
            return 0
        self.callbacks += 1
        self._on_control(status, data[:size])
        return 0
