// rentrade.BinanceTrader: a BinanceFeed, an Engine and a BinanceOrderEncoder wired together in C++
// (fastcore::venue::BinanceTrader). The Cython listener rentrade.wire.binance_trader drives it per
// frame through its capsule; these methods are for setup, tests, reports and statistics.
#include <cstring>
#include <optional>
#include <string_view>
#include <memory>
#include <string>
#include <vector>

#include <pybind11/stl.h>

#include "bindings.hpp"
#include "fastcore/common/clock.hpp"
#include "fastcore/perf/trader_latency.hpp"
#include "fastcore/venue/binance_trader.hpp"

namespace rentrade_bindings {
namespace {

using fastcore::engine::ExecutionReport;
using fastcore::venue::BinanceFeed;
using fastcore::venue::BinanceOrderEncoder;
using fastcore::venue::BinanceTrader;

constexpr const char* kFeedCapsule = "rentrade._fastcore.BinanceFeed";
constexpr const char* kTraderCapsule = "rentrade._fastcore.BinanceTrader";

struct PyBinanceTrader {
  py::object feed;     // keep the C++ objects the trader points to alive
  py::object engine;
  py::object encoder;
  EngineHandle handle;
  std::unique_ptr<BinanceTrader> trader;

  ~PyBinanceTrader() { trader.reset(); }  // detaches the feed's sink while the engine still lives
};

py::dtype report_dtype() {
  PYBIND11_CONSTINIT static py::gil_safe_call_once_and_store<py::object> storage;
  return storage
      .call_once_and_store_result([] { return py::module_::import("rentrade.orders").attr("REPORT_DTYPE"); })
      .get_stored()
      .cast<py::dtype>();
}

}  // namespace

void bind_trader(py::module_& m) {
  py::class_<PyBinanceTrader>(
      m, "BinanceTrader",
      "Wire-to-order in C++: frame bytes -> BinanceFeed -> Engine (the feed's event sink) -> intents ->\n"
      "BinanceOrderEncoder -> pending WebSocket API requests, with no Python per frame.\n\n"
      "Drive it from rentrade.wire.binance_trader.BinanceTraderListener, which sends the pending requests\n"
      "on the order connection and records the wire-to-order histogram. The feed and the engine must\n"
      "list the same instruments in the same order; the encoder must be built on them too. Intents the\n"
      "encoder refuses (or that cannot be sent) are rejected back to the engine at once (counters).")
      .def(py::init([](py::object feed, py::object engine, py::object encoder) {
             auto* feed_ptr = static_cast<BinanceFeed*>(
                 PyCapsule_GetPointer(feed.attr("_capsule")().ptr(), kFeedCapsule));
             if (feed_ptr == nullptr) throw py::error_already_set();
             EngineHandle handle = engine_handle(engine);
             if (handle.engine == nullptr) throw py::type_error("engine must be a rentrade.Engine");
             auto& enc = encoder.cast<BinanceOrderEncoder&>();
             if (feed_ptr->size() != handle.engine->instrument_count()) {
               throw py::value_error("BinanceTrader: the feed has " + std::to_string(feed_ptr->size()) +
                                     " instruments, the engine " +
                                     std::to_string(handle.engine->instrument_count()));
             }
             for (std::uint32_t id = 0; id < feed_ptr->size(); ++id) {
               if (feed_ptr->instrument(id).symbol != handle.engine->instrument(id).symbol) {
                 throw py::value_error("BinanceTrader: instrument " + std::to_string(id) + " is " +
                                       feed_ptr->instrument(id).symbol + " in the feed but " +
                                       handle.engine->instrument(id).symbol + " in the engine");
               }
             }
             auto store = std::make_unique<PyBinanceTrader>();
             store->feed = feed;
             store->engine = engine;
             store->encoder = encoder;
             store->trader = std::make_unique<BinanceTrader>(*feed_ptr, *handle.engine, enc);
             store->handle = std::move(handle);
             return store;
           }),
           py::arg("feed"), py::arg("engine"), py::arg("encoder"))
      .def_property_readonly("feed", [](const PyBinanceTrader& s) { return s.feed; })
      .def_property_readonly("engine", [](const PyBinanceTrader& s) { return s.engine; })
      .def(
          "on_frame",
          [](PyBinanceTrader& s, const py::bytes& frame, std::int64_t ts_local_ns) {
            const std::string_view text = frame;
            const int status = s.trader->on_frame(text.data(), text.size(), ts_local_ns);
            s.handle.rethrow();
            return status;
          },
          py::arg("frame"), py::arg("ts_local_ns"),
          "One frame through feed, engine and encoder (for tests and replay; the listener does this in\n"
          "Cython). Returns the FrameStatus as an int; the requests wait in take_pending().")
      .def(
          "on_reports",
          [](PyBinanceTrader& s, const py::array& reports, std::optional<std::int64_t> ts_local_ns) {
            if (reports.ndim() != 1 || !py::bool_(reports.dtype().attr("__eq__")(report_dtype()))) {
              throw py::type_error("reports must be a 1-D array of rentrade.orders.REPORT_DTYPE");
            }
            const auto count = static_cast<std::size_t>(reports.shape(0));
            if (count > 0 && reports.strides(0) != static_cast<py::ssize_t>(sizeof(ExecutionReport))) {
              throw py::value_error("reports must be C-contiguous (use numpy.ascontiguousarray)");
            }
            // Copied into aligned records: reports are rare next to frames, and numpy's memory may not be.
            std::vector<ExecutionReport> copy(count);
            if (count > 0) std::memcpy(static_cast<void*>(copy.data()), reports.data(), count * sizeof(ExecutionReport));
            const bool ok = s.trader->on_reports(copy, ts_local_ns.value_or(fastcore::common::wall_clock_ns()));
            s.handle.rethrow();
            if (!ok) throw py::value_error("BinanceTrader.on_reports: the engine refused a malformed report");
          },
          py::arg("reports"), py::arg("ts_local_ns") = py::none(),
          "Applies venue reports (REPORT_DTYPE) to the engine; the intents they cause become pending\n"
          "requests (the listener's flush() sends them). ValueError on a malformed report.")
      .def_property_readonly("pending", [](const PyBinanceTrader& s) { return s.trader->pending(); },
                             "Requests encoded and not yet sent.")
      .def(
          "take_pending",
          [](PyBinanceTrader& s) {
            py::list out;
            for (std::size_t i = 0; i < s.trader->pending(); ++i) {
              out.append(py::bytes(s.trader->request(i), s.trader->request_size(i)));
            }
            s.trader->mark_sent();
            return out;
          },
          "The pending requests as bytes (marked sent): for tests and tools without a socket.")
      .def(
          "reject_pending",
          [](PyBinanceTrader& s) { s.trader->reject_pending(fastcore::common::wall_clock_ns()); },
          "Rejects the pending requests back to the engine (they cannot be sent).")
      .def_property_readonly(
          "wire_to_order", [](const PyBinanceTrader& s) { return s.trader->wire_to_order(); },
          "A copy of the wire-to-order histogram (ns): frame arrival to each order frame handed to the\n"
          "order socket, recorded by the listener.")
      .def_property_readonly(
          "frame_to_request", [](const PyBinanceTrader& s) { return s.trader->frame_to_request(); },
          "A copy of the frame-to-request histogram (ns): frame arrival to its requests encoded, just\n"
          "before the first send (wire_to_order without the send system call), once per frame with orders.")
      .def("reset_histograms", [](PyBinanceTrader& s) { s.trader->reset_histograms(); },
           "Clears wire_to_order and frame_to_request.")
      .def_property_readonly(
          "counters",
          [](const PyBinanceTrader& s) {
            const auto& c = s.trader->counters();
            py::dict d;
            d["frames"] = c.frames;
            d["requests"] = c.requests;
            d["sent"] = c.sent;
            d["encode_errors"] = c.encode_errors;
            d["unsent"] = c.unsent;
            d["report_errors"] = c.report_errors;
            return d;
          },
          "frames, requests (encoded), sent, encode_errors, unsent, report_errors.")
      .def(
          "_capsule",
          [](PyBinanceTrader& s) { return py::capsule(static_cast<void*>(s.trader.get()), kTraderCapsule); },
          "PyCapsule named 'rentrade._fastcore.BinanceTrader' holding the C++ fastcore::venue::BinanceTrader*.\n"
          "Borrowed: valid only while this BinanceTrader is alive.")
      .def("__repr__", [](const PyBinanceTrader& s) {
        const auto& c = s.trader->counters();
        return "<BinanceTrader " + std::to_string(s.trader->feed().size()) + " symbols, " +
               std::to_string(c.frames) + " frames, " + std::to_string(c.sent) + " requests sent>";
      });

  m.def(
      "measure_binance_trader",
      [](PyBinanceTrader& s, const std::vector<py::bytes>& frames, std::int64_t ts_local_ns) {
        std::vector<std::string_view> views;
        views.reserve(frames.size());
        for (const py::bytes& frame : frames) views.emplace_back(frame);
        const fastcore::common::CycleClock clock;
        fastcore::venue::FrameStatus status{};
        std::uint64_t orders = 0;
        std::uint64_t bytes = 0;
        fastcore::perf::LatencyRun run =
            fastcore::perf::measure_trader(*s.trader, views, ts_local_ns, clock, status, orders, bytes);
        s.handle.rethrow();
        if (status != fastcore::venue::FrameStatus::kOk) {
          throw py::value_error(std::string("measure_binance_trader: frame ") + std::to_string(run.timed_ops) +
                                " was not read as market data (" + fastcore::venue::describe(status) + ")");
        }
        return py::make_tuple(run, orders, bytes);
      },
      py::arg("trader"), py::arg("frames"), py::arg("ts_local_ns"),
      "Times each frame's BinanceTrader::on_frame alone in the core (cycle counter, timer overhead\n"
      "subtracted), answering every order at once with an untimed 'expired' report. The frames must\n"
      "continue the feed's book. Returns (LatencyRun, orders produced, total request bytes).");
}

}  // namespace rentrade_bindings
