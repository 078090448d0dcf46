// rentrade.BinanceFeed: the C++ Binance parser and book sync, with its books as OrderBook views.
#include <pybind11/native_enum.h>
#include <pybind11/stl.h>

#include <memory>
#include <string>
#include <vector>

#include "book_store.hpp"
#include "fastcore/perf/binance_latency.hpp"
#include "fastcore/venue/binance.hpp"

namespace rentrade_bindings {

using fastcore::common::Event;
using fastcore::common::Instrument;
using fastcore::venue::BadFrameReason;
using fastcore::venue::BinanceFeed;
using fastcore::venue::BinanceFeedConfig;
using fastcore::venue::BinanceMarket;
using fastcore::venue::FrameStatus;
using fastcore::venue::SyncState;

namespace {

constexpr const char* kCapsuleName = "rentrade._fastcore.BinanceFeed";

/// Collects every event the feed emits (for tests, replay and recording); cleared by take_events().
class CaptureSink final : public fastcore::common::EventSink {
 public:
  void on_events(std::span<const Event> events) noexcept override {
    events_.insert(events_.end(), events.begin(), events.end());
  }
  std::vector<Event> events_;
};

struct PyBinanceFeed {
  std::shared_ptr<BookStore> store;
  std::unique_ptr<BinanceFeed> feed;
  std::unique_ptr<CaptureSink> capture;

  std::uint32_t id_of(const std::string& symbol) const {
    std::uint32_t id = 0;
    if (!feed->try_find(symbol, id)) {
      throw py::key_error("BinanceFeed has no instrument for symbol '" + symbol + "'");
    }
    return id;
  }
};

/// Pointer and length of bytes, bytearray, memoryview (contiguous) or str (UTF-8) without a copy.
struct Bytes {
  const char* data = nullptr;
  std::size_t size = 0;
  py::buffer_info info;  // keeps a buffer view alive
};

void read_bytes(py::handle data, Bytes& out, const char* function) {
  if (PyBytes_Check(data.ptr())) {
    out.data = PyBytes_AS_STRING(data.ptr());
    out.size = static_cast<std::size_t>(PyBytes_GET_SIZE(data.ptr()));
    return;
  }
  if (PyUnicode_Check(data.ptr())) {
    Py_ssize_t size = 0;
    out.data = PyUnicode_AsUTF8AndSize(data.ptr(), &size);
    if (out.data == nullptr) throw py::error_already_set();
    out.size = static_cast<std::size_t>(size);
    return;
  }
  if (PyObject_CheckBuffer(data.ptr())) {
    out.info = py::reinterpret_borrow<py::buffer>(data).request();
    if (out.info.ndim > 1 || (out.info.ndim == 1 && out.info.strides[0] != out.info.itemsize)) {
      throw py::type_error(std::string(function) + ": data must be contiguous bytes");
    }
    out.data = static_cast<const char*>(out.info.ptr);
    out.size = static_cast<std::size_t>(out.info.size * out.info.itemsize);
    return;
  }
  throw py::type_error(std::string(function) + ": data must be bytes, bytearray, memoryview or str, not " +
                       py::str(py::type::handle_of(data).attr("__name__")).cast<std::string>());
}

/// The FrameStatus member for `status`, looked up once: pybind11's enum cast costs microseconds per
/// call, more than parsing the frame.
py::object status_object(FrameStatus status) {
  PYBIND11_CONSTINIT static py::gil_safe_call_once_and_store<py::tuple> storage;
  const py::tuple& members = storage
                                 .call_once_and_store_result([] {
                                   const py::object cls = py::module_::import("rentrade._fastcore").attr("FrameStatus");
                                   py::tuple out(6);
                                   for (int i = 0; i < 6; ++i) out[static_cast<std::size_t>(i)] = cls(i);
                                   return out;
                                 })
                                 .get_stored();
  return members[static_cast<std::size_t>(status)];
}

py::dict symbol_stats(const BinanceFeed& feed, std::uint32_t id) {
  const auto& c = feed.symbol_counters(id);
  py::dict d;
  d["state"] = fastcore::venue::describe(feed.state(id));
  d["applied_diffs"] = c.applied_diffs;
  d["stale_drops"] = c.stale_drops;
  d["gaps"] = c.gaps;
  d["resyncs"] = c.resyncs;
  d["snapshots"] = c.snapshots;
  d["bad_frames"] = c.bad_frames;
  d["book_tickers"] = c.book_tickers;
  d["trades"] = c.trades;
  d["buffered"] = feed.buffered(id);
  return d;
}

}  // namespace

void bind_venue(py::module_& m) {
  py::native_enum<FrameStatus>(m, "FrameStatus", "enum.IntEnum",
                               "What BinanceFeed.on_frame / apply_snapshot did with a frame.")
      .value("OK", FrameStatus::kOk, "Market data read: applied, buffered for a snapshot, or dropped as stale.")
      .value("CONTROL", FrameStatus::kControl, "Not market data: a subscription ack or an error reply.")
      .value("NEEDS_SNAPSHOT", FrameStatus::kNeedsSnapshot,
             "The frame's symbol needs a REST depth snapshot (reported once per resync).")
      .value("BAD_FRAME", FrameStatus::kBadFrame, "Refused and counted; last_error() says why.")
      .value("UNKNOWN_SYMBOL", FrameStatus::kUnknownSymbol, "Market data for a symbol without an instrument.")
      .value("IGNORED", FrameStatus::kIgnored, "Market data of a type the feed does not read (kline, ...).")
      .finalize();
  py::native_enum<SyncState>(m, "SyncState", "enum.IntEnum", "Sync state of one symbol's book in a BinanceFeed.")
      .value("SYNCING", SyncState::kSyncing, "Never synced: diffs are buffered until a snapshot.")
      .value("LIVE", SyncState::kLive, "Synced: the book is the exchange's.")
      .value("RESYNC", SyncState::kResync, "Sync lost: book cleared, diffs buffered, needs a snapshot.")
      .finalize();

  py::class_<PyBinanceFeed>(
      m, "BinanceFeed",
      "Binance (USD-M futures or spot) market data from frame bytes to books, in C++.\n\n"
      "Each frame is parsed without Python objects, prices and quantities convert exactly to ticks and\n"
      "lots, depth diffs go through Binance's documented sync rules per symbol, and books are updated in\n"
      "place. A gap or an unreadable depth frame resyncs that symbol alone (book cleared, state RESYNC)\n"
      "until apply_snapshot(). Not thread-safe: use it from one thread (the event loop's).")
      .def(py::init([](const std::vector<Instrument>& instruments, const std::string& market,
                       std::int64_t max_frame_bytes, std::int64_t max_buffered_diffs, std::int64_t max_levels) {
             if (instruments.empty()) throw py::value_error("BinanceFeed needs at least one instrument");
             if (instruments.size() >= UINT32_MAX) throw py::value_error("too many instruments");
             BinanceFeedConfig config;
             if (market == "usdm") {
               config.market = BinanceMarket::kUsdm;
             } else if (market == "spot") {
               config.market = BinanceMarket::kSpot;
             } else {
               throw py::value_error("market must be 'usdm' or 'spot', got '" + market + "'");
             }
             if (max_frame_bytes < 64 || max_frame_bytes > (std::int64_t{1} << 30)) {
               throw py::value_error("max_frame_bytes must be between 64 and 2**30, got " +
                                     std::to_string(max_frame_bytes));
             }
             if (max_buffered_diffs < 1 || max_buffered_diffs > 10'000'000) {
               throw py::value_error("max_buffered_diffs must be between 1 and 10,000,000");
             }
             if (max_levels < 1 || max_levels > 1'000'000) throw py::value_error("max_levels must be 1..1,000,000");
             config.max_frame_bytes = static_cast<std::size_t>(max_frame_bytes);
             config.max_buffered_diffs = static_cast<std::size_t>(max_buffered_diffs);
             std::vector<Instrument> upper = instruments;
             for (auto& instrument : upper) {
               for (char& c : instrument.symbol) c = static_cast<char>(std::toupper(static_cast<unsigned char>(c)));
             }
             for (std::size_t i = 0; i < upper.size(); ++i) {
               for (std::size_t j = 0; j < i; ++j) {
                 if (upper[i].symbol == upper[j].symbol) {
                   throw py::value_error("instrument '" + upper[i].symbol + "' is listed twice");
                 }
               }
             }
             auto holder = std::make_unique<PyBinanceFeed>();
             holder->store = std::make_shared<BookStore>(upper, static_cast<std::uint32_t>(max_levels));
             holder->feed = std::make_unique<BinanceFeed>(upper, holder->store->books, config);
             return holder;
           }),
           py::arg("instruments"), py::arg("market") = "usdm", py::arg("max_frame_bytes") = 1 << 20,
           py::arg("max_buffered_diffs") = 10'000, py::arg("max_levels") = fastcore::book::Book::kDefaultMaxLevels,
           "instruments: one per symbol (instrument_id = index). market: 'usdm' (pu chain) or 'spot'\n"
           "(U == previous u + 1). Larger frames than max_frame_bytes are refused unread.")
      .def(
          "on_frame",
          [](PyBinanceFeed& self, py::handle data, std::int64_t ts_local_ns) {
            Bytes bytes;
            read_bytes(data, bytes, "on_frame");
            return status_object(self.feed->on_frame(std::string_view(bytes.data, bytes.size), ts_local_ns));
          },
          py::arg("data"), py::arg("ts_local_ns"),
          "Reads one WebSocket text frame received at ts_local_ns (ns since the epoch) and returns a\n"
          "FrameStatus. The bytes are read during the call only. Cost from Python: the parse plus about\n"
          "1 us of binding overhead on the development VM; the Cython BinanceListener skips the binding.")
      .def(
          "apply_snapshot",
          [](PyBinanceFeed& self, const std::string& symbol, py::handle data, std::int64_t ts_local_ns) {
            const std::uint32_t id = self.id_of(symbol);
            Bytes bytes;
            read_bytes(data, bytes, "apply_snapshot");
            return status_object(self.feed->apply_snapshot(id, std::string_view(bytes.data, bytes.size), ts_local_ns));
          },
          py::arg("symbol"), py::arg("data"), py::arg("ts_local_ns") = 0,
          "Applies a REST GET /depth response body for symbol. OK: applied with the buffered diffs that\n"
          "follow it, the symbol is LIVE. NEEDS_SNAPSHOT: it does not connect to the buffered diffs (too\n"
          "old): fetch another. BAD_FRAME: unreadable, nothing changed; see last_error().")
      .def(
          "book",
          [](const PyBinanceFeed& self, const std::string& symbol) {
            return OrderBookView{self.store, self.id_of(symbol)};
          },
          py::arg("symbol"),
          "The symbol's OrderBook (a live view: it changes as frames arrive). Use it only while\n"
          "state(symbol) is LIVE; in other states it is empty or being rebuilt.")
      .def_property_readonly(
          "books", [](const PyBinanceFeed& self) { return self.store; },
          "The BookSet holding every symbol's book, indexed by instrument_id.")
      .def_property_readonly(
          "instruments", [](const PyBinanceFeed& self) { return self.store->instruments; },
          "The instruments, indexed by instrument_id (symbols upper-cased).")
      .def_property_readonly("market", [](const PyBinanceFeed& self) {
        return self.feed->market() == BinanceMarket::kUsdm ? "usdm" : "spot";
      })
      .def(
          "instrument_id", [](const PyBinanceFeed& self, const std::string& symbol) { return self.id_of(symbol); },
          py::arg("symbol"), "Index of the symbol's instrument and book (case-insensitive); KeyError if unknown.")
      .def(
          "state", [](const PyBinanceFeed& self, const std::string& symbol) { return self.feed->state(self.id_of(symbol)); },
          py::arg("symbol"), "SyncState of the symbol's book.")
      .def(
          "symbols_needing_snapshot",
          [](const PyBinanceFeed& self) {
            std::vector<std::string> out;
            for (std::uint32_t id = 0; id < self.feed->size(); ++id) {
              if (self.feed->state(id) != SyncState::kLive) out.push_back(self.feed->instrument(id).symbol);
            }
            return out;
          },
          "Symbols not LIVE (SYNCING or RESYNC), in instrument_id order: fetch a snapshot for each.")
      .def(
          "resync",
          [](PyBinanceFeed& self, std::optional<std::string> symbol) {
            if (symbol) {
              self.feed->resync(self.id_of(*symbol));
            } else {
              self.feed->resync_all();
            }
          },
          py::arg("symbol") = py::none(),
          "Forces a symbol (all symbols when None, e.g. after a reconnect) into RESYNC: book cleared,\n"
          "buffered diffs dropped, needs a snapshot.")
      .def(
          "last_error", [](const PyBinanceFeed& self) { return std::string(self.feed->last_error()); },
          "Text of the last refusal, naming symbol, field and value ('' if none yet).")
      .def(
          "last_symbol",
          [](const PyBinanceFeed& self) -> py::object {
            const std::uint32_t id = self.feed->last_instrument_id();
            if (id == BinanceFeed::kNoInstrument) return py::none();
            return py::str(self.feed->instrument(id).symbol);
          },
          "Symbol the last frame was about, or None when it named none (control frames, bad JSON).")
      .def(
          "stats",
          [](const PyBinanceFeed& self) {
            const auto& c = self.feed->counters();
            py::dict d;
            d["frames"] = c.frames;
            d["events"] = c.events;
            d["depth_updates"] = c.depth_updates;
            d["book_tickers"] = c.book_tickers;
            d["trades"] = c.trades;
            d["control"] = c.control;
            d["error_replies"] = c.error_replies;
            d["ignored"] = c.ignored;
            d["unknown_symbol"] = c.unknown_symbol;
            d["bad_frames"] = c.bad_frames;
            d["fast_path_frames"] = c.fast_path_frames;
            py::dict by_reason;
            for (std::size_t r = 1; r < c.bad_by_reason.size(); ++r) {
              by_reason[fastcore::venue::describe(static_cast<BadFrameReason>(r))] = c.bad_by_reason[r];
            }
            d["bad_by_reason"] = by_reason;
            d["applied_diffs"] = c.applied_diffs;
            d["buffered_diffs"] = c.buffered_diffs;
            d["stale_drops"] = c.stale_drops;
            d["gaps"] = c.gaps;
            d["resyncs"] = c.resyncs;
            d["snapshots"] = c.snapshots;
            d["buffer_overflows"] = c.buffer_overflows;
            py::dict symbols;
            for (std::uint32_t id = 0; id < self.feed->size(); ++id) {
              symbols[py::str(self.feed->instrument(id).symbol)] = symbol_stats(*self.feed, id);
            }
            d["symbols"] = symbols;
            return d;
          },
          "Counters: frames, events, message kinds, bad frames (total and by reason), frames read by the\n"
          "key-order fast path, applied and\n"
          "buffered diffs, stale drops, gaps, resyncs, snapshots; 'symbols' has the same per symbol.")
      .def(
          "capture_events",
          [](PyBinanceFeed& self, bool enabled) {
            if (enabled) {
              if (!self.capture) self.capture = std::make_unique<CaptureSink>();
              // Replacing another sink (a BinanceTrader's engine) would silently cut the trading path.
              if (self.feed->sink() != nullptr && self.feed->sink() != self.capture.get()) {
                throw py::value_error("capture_events: this feed already feeds a sink (a BinanceTrader's engine); "
                                      "capturing would disconnect it");
              }
              self.feed->set_sink(self.capture.get());
            } else if (self.capture && self.feed->sink() == self.capture.get()) {
              self.feed->set_sink(nullptr);
            }
          },
          py::arg("enabled") = true,
          "Keep a copy of every event the feed emits (book deltas, snapshots, clears, BBO quotes, trades)\n"
          "until take_events(). Refused (ValueError) while another sink is attached, such as a BinanceTrader's\n"
          "engine; for tests, replay and recording, not the hot path.")
      .def(
          "take_events",
          [](PyBinanceFeed& self) {
            const std::size_t count = self.capture ? self.capture->events_.size() : 0;
            py::array out = make_event_array(count);
            if (count > 0) {
              std::memcpy(out.mutable_data(), self.capture->events_.data(), count * sizeof(Event));
              self.capture->events_.clear();
            }
            return out;
          },
          "Events captured since the last call (rentrade.events.EVENT_DTYPE, 64-byte aligned), in order.")
      .def(
          "_capsule",
          [](PyBinanceFeed& self) {
            return py::capsule(static_cast<void*>(self.feed.get()), kCapsuleName);
          },
          "PyCapsule named 'rentrade._fastcore.BinanceFeed' holding the C++ fastcore::venue::BinanceFeed*.\n"
          "Borrowed: valid only while this BinanceFeed object is alive (hold a reference to it).")
      .def("__repr__", [](const PyBinanceFeed& self) {
        std::size_t live = 0;
        for (std::uint32_t id = 0; id < self.feed->size(); ++id) live += self.feed->state(id) == SyncState::kLive;
        return "<BinanceFeed " + std::string(self.feed->market() == BinanceMarket::kUsdm ? "usdm" : "spot") + " " +
               std::to_string(self.feed->size()) + " symbols, " + std::to_string(live) + " live, " +
               std::to_string(self.feed->counters().frames) + " frames>";
      });
  m.def(
      "measure_binance_feed",
      [](const std::vector<Instrument>& instruments, const std::vector<py::bytes>& frames, const std::string& market,
         int passes, std::int64_t max_levels) {
        using fastcore::perf::BenchFrameKind;
        if (instruments.empty()) throw py::value_error("measure_binance_feed needs at least one instrument");
        if (passes < 0) throw py::value_error("passes must be >= 0");
        if (max_levels < 1 || max_levels > 1'000'000) throw py::value_error("max_levels must be 1..1,000,000");
        BinanceFeedConfig config;
        if (market != "usdm" && market != "spot") throw py::value_error("market must be 'usdm' or 'spot'");
        config.market = market == "usdm" ? BinanceMarket::kUsdm : BinanceMarket::kSpot;
        config.max_frame_bytes = std::size_t{1} << 26;
        std::vector<std::string_view> views;
        std::vector<BenchFrameKind> kinds;
        views.reserve(frames.size());
        kinds.reserve(frames.size());
        for (const py::bytes& frame : frames) {
          const std::string_view view(PyBytes_AS_STRING(frame.ptr()),
                                      static_cast<std::size_t>(PyBytes_GET_SIZE(frame.ptr())));
          views.push_back(view);
          const bool stream = view.find("\"stream\"") != std::string_view::npos;
          if (!stream && view.find("\"lastUpdateId\"") != std::string_view::npos) {
            kinds.push_back(BenchFrameKind::kSnapshot);
          } else if (view.find("depthUpdate") != std::string_view::npos) {
            kinds.push_back(BenchFrameKind::kDepth);
          } else if (view.find("bookTicker") != std::string_view::npos) {
            kinds.push_back(BenchFrameKind::kBookTicker);
          } else {
            kinds.push_back(BenchFrameKind::kOther);
          }
        }
        const fastcore::common::CycleClock clock;
        fastcore::perf::FeedLatencyRun run;
        {
          py::gil_scoped_release release;  // the frames are owned by the list, which the caller holds
          run = fastcore::perf::measure_binance_feed(instruments, config, static_cast<std::uint32_t>(max_levels),
                                                     views, kinds, passes, clock);
        }
        py::dict out;
        out["depth"] = run.depth;
        out["book_ticker"] = run.book_ticker;
        out["depth_frames"] = run.depth_frames;
        out["depth_levels"] = run.depth_levels;
        out["book_tickers"] = run.book_tickers;
        out["frames_per_s"] =
            run.throughput_ns > 0 ? static_cast<double>(run.throughput_frames) * 1e9 / static_cast<double>(run.throughput_ns)
                                  : 0.0;
        out["timer_overhead_ns"] = run.timer_overhead_ns;
        out["bad_frames"] = run.bad_frames;
        out["gaps"] = run.gaps;
        return out;
      },
      py::arg("instruments"), py::arg("frames"), py::arg("market") = "usdm", py::arg("passes") = 3,
      py::arg("max_levels") = fastcore::book::Book::kDefaultMaxLevels,
      "Times BinanceFeed.on_frame inside the core: every frame once, alone (cycle counter, timer overhead\n"
      "removed), as 'depth' (diffs applied to a live book) and 'book_ticker' histograms; then `passes`\n"
      "untimed replays for frames_per_s. REST snapshots in `frames` (no \"stream\" key) go to instrument 0.");
}

}  // namespace rentrade_bindings
