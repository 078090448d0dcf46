# Cython API of the Binance listener: other Cython code can cimport BinanceListener and the C++ feed.
from libc.stdint cimport int64_t, uint64_t
from picows.picows cimport WSFrame, WSListener, WSTransport


cdef extern from "fastcore/venue/binance.hpp" namespace "fastcore::venue" nogil:
    cdef cppclass BinanceFeed:
        pass
    # Parses and applies one frame; returns the FrameStatus as an int. Reads data only during the call.
    int binance_on_frame(BinanceFeed& feed, const char* data, size_t size, int64_t ts_local_ns) noexcept


cdef class BinanceListener(WSListener):
    cdef BinanceFeed* _feed_ptr
    cdef object _feed            # the rentrade.BinanceFeed that owns *_feed_ptr (kept alive here)
    cdef object _on_control
    cdef object _on_connected
    cdef object _on_disconnected
    cdef bytearray _fragments    # a fragmented message being reassembled (Binance does not fragment)
    cdef bint _forward_ignored
    cdef readonly object transport
    cdef readonly uint64_t frames
    cdef readonly uint64_t callbacks

    cdef int _deliver(self, const char* data, size_t size) except -1
