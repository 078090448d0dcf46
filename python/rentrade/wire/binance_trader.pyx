# cython: language_level=3, boundscheck=False, wraparound=False
"""Wire-to-order on the event loop: market frames in, signed order frames out, no Python per frame."""

from cpython.bytearray cimport PyByteArray_AS_STRING
from cpython.pycapsule cimport PyCapsule_GetPointer
from libc.string cimport memcpy
from libc.stdint cimport int64_t
from posix.time cimport CLOCK_REALTIME, clock_gettime, timespec
from picows.picows cimport WSFrame, WSListener, WSMsgType, WSTransport

from rentrade.wire.binance_listener cimport BinanceListener


cdef extern from "fastcore/venue/binance_trader.hpp" namespace "fastcore::venue" nogil:
    cdef cppclass BinanceTrader:
        size_t pending() noexcept
        char* request(size_t i) noexcept
        size_t request_size(size_t i) noexcept
        void mark_sent() noexcept
        void reject_pending(int64_t ts_local_ns) noexcept
        void reject_from(size_t first, int64_t ts_local_ns) noexcept
        void record_wire_to_order(int64_t ns) noexcept
        void record_frame_to_request(int64_t ns) noexcept
    int binance_trader_on_frame(BinanceTrader& trader, const char* data, size_t size, int64_t ts_local_ns) noexcept

cdef enum:
    STATUS_OK = 0
    STATUS_IGNORED = 5

cdef const char* TRADER_CAPSULE = b"rentrade._fastcore.BinanceTrader"


cdef inline int64_t _now_ns() noexcept nogil:
    cdef timespec ts
    clock_gettime(CLOCK_REALTIME, &ts)
    return <int64_t>ts.tv_sec * 1000000000 + ts.tv_nsec


cdef class BinanceTraderListener(BinanceListener):
    """A :class:`~rentrade.wire.binance_listener.BinanceListener` that also trades on what it reads.

    Each market-data frame goes to a :class:`rentrade.BinanceTrader` (C++: the feed applies it, the
    engine, attached as the feed's event sink, decides, the encoder writes signed WebSocket API
    requests), and every request it produced is handed at once to the order connection's picows
    transport with ``send_reuse_external_buffer``: picows writes the frame header into headroom the
    trader left in front of the request and masks in place, so nothing is copied or allocated. No
    Python object is created for the frame or the orders.

    Wire-to-order latency: the listener reads ``CLOCK_REALTIME`` when the frame arrives (the same
    reading becomes the events' ``ts_local_ns`` and the orders' ``timestamp``) and again just after
    each order's ``send``; the difference goes into the trader's ``wire_to_order`` histogram. A third
    reading just before the first send goes into ``frame_to_request`` (the same without the send
    system call, which on loopback also carries the kernel's delivery to the receiving socket).

    Parameters
    ----------
    trader : rentrade.BinanceTrader
        The trader; its feed is the one this listener reads into (kept alive by the listener).
    on_control, on_connected, on_disconnected, forward_ignored
        As for :class:`~rentrade.wire.binance_listener.BinanceListener`.

    Notes
    -----
    Until :attr:`order_transport` is set (the order connection is open), the orders a frame produces
    are rejected back to the engine (counted in ``trader.counters["unsent"]``): the engine never
    believes an order works that was not sent. Orders caused by venue reports go through
    ``trader.on_reports(...)`` followed by :meth:`flush`.
    """

    cdef BinanceTrader* _trader_ptr
    cdef object _trader
    cdef WSTransport _order_transport
    cdef readonly unsigned long long orders_sent

    def __init__(self, trader, on_control, on_connected=None, on_disconnected=None, forward_ignored=False):
        BinanceListener.__init__(self, trader.feed, on_control, on_connected, on_disconnected, forward_ignored)
        self._trader_ptr = <BinanceTrader*>PyCapsule_GetPointer(trader._capsule(), TRADER_CAPSULE)
        self._trader = trader
        self._order_transport = None
        self.orders_sent = 0

    @property
    def trader(self):
        """The :class:`rentrade.BinanceTrader` this listener drives."""
        return self._trader

    @property
    def order_transport(self):
        """The picows transport of the order (WebSocket API) connection, or None."""
        return self._order_transport

    @order_transport.setter
    def order_transport(self, WSTransport transport):
        self._order_transport = transport

    def flush(self):
        """Send the trader's pending requests now (after ``trader.on_reports``); returns how many."""
        return self._send_pending(_now_ns(), False)

    cdef int _deliver(self, const char* data, size_t size) except -1:
        cdef int64_t arrived_ns = _now_ns()
        cdef int status = binance_trader_on_frame(self._trader_ptr[0], data, size, arrived_ns)
        self.frames += 1
        if self._trader_ptr.pending() != 0:
            self._send_pending(arrived_ns, True)
        if status == STATUS_OK or (status == STATUS_IGNORED and not self._forward_ignored):
            return 0
        self.callbacks += 1
        self._on_control(status, data[:size])
        return 0

    cdef Py_ssize_t _send_pending(self, int64_t since_ns, bint timed) except -1:
        cdef size_t count = self._trader_ptr.pending()
        cdef size_t i
        cdef WSTransport transport = self._order_transport
        if count == 0:
            return 0
        if transport is None or transport.is_disconnected or transport.is_close_frame_sent:
            self._trader_ptr.reject_pending(since_ns)
            return 0
        if timed:
            self._trader_ptr.record_frame_to_request(_now_ns() - since_ns)
        i = 0
        try:
            while i < count:
                transport.send_reuse_external_buffer(
                    WSMsgType.TEXT, self._trader_ptr.request(i), <Py_ssize_t>self._trader_ptr.request_size(i)
                )
                i += 1
                if timed:
                    self._trader_ptr.record_wire_to_order(_now_ns() - since_ns)
        finally:
            # A send that raised (wrong thread): what left is not sent twice, the rest goes back to the
            # engine as rejected.
            self._trader_ptr.reject_from(i, since_ns)
            self.orders_sent += i
        return <Py_ssize_t>count


cdef class ReplyListener(WSListener):
    """Answers every text frame with a fixed reply through the same send call the trader uses.

    The floor a trader is compared with: the picows receive path and ``send_reuse_external_buffer``
    with no parsing, deciding or signing in between (``rentrade bench --socket``'s echo round trip).

    Parameters
    ----------
    reply : bytes
        The text payload sent back for each frame received.
    """

    cdef bytearray _buffer  # 16 bytes of headroom for picows' header, then the reply
    cdef bytes _reply
    cdef Py_ssize_t _size
    cdef readonly unsigned long long replies

    def __init__(self, bytes reply):
        self._reply = reply
        self._size = len(reply)
        self._buffer = bytearray(16 + self._size)
        self.replies = 0

    cpdef on_ws_frame(self, WSTransport transport, WSFrame frame):
        cdef char* at
        if frame.msg_type == WSMsgType.TEXT:
            # The reply is masked in place by a client transport: restore it each time.
            at = PyByteArray_AS_STRING(self._buffer) + 16
            memcpy(at, <const char*>self._reply, self._size)
            transport.send_reuse_external_buffer(WSMsgType.TEXT, at, self._size)
            self.replies += 1
        elif frame.msg_type == WSMsgType.CLOSE:
            transport.send_close(frame.get_close_code(), frame.get_close_message())
            transport.disconnect()
