// rentrade.SimulatedExchange and rentrade.Backtest: the core's simulated venue and backtest loop, with
// numpy intents/reports (rentrade.orders) and Python callback strategies.
#include <pybind11/stl.h>

#include <cstdlib>
#include <cstring>
#include <limits>
#include <memory>
#include <optional>
#include <string>
#include <unordered_map>
#include <vector>

#include "bindings.hpp"
#include "fastcore/common/decimal.hpp"
#include "fastcore/engine/order.hpp"
#include "fastcore/sim/backtest.hpp"
#include "fastcore/sim/engine_strategy.hpp"
#include "fastcore/sim/exchange.hpp"

namespace rentrade_bindings {

using fastcore::common::Event;
using fastcore::common::Histogram;
using fastcore::common::Instrument;
using fastcore::engine::ExecutionReport;
using fastcore::engine::OrderIntent;
using fastcore::sim::ExchangeConfig;
using fastcore::sim::ExchangeError;
using fastcore::sim::LatencyModel;
using fastcore::sim::SimulatedExchange;

namespace {

constexpr std::int64_t kMaxTime = std::numeric_limits<std::int64_t>::max();

py::dtype dtype_from(const char* attribute) {
  return py::module_::import("rentrade.orders").attr(attribute).cast<py::dtype>();
}

py::dtype intent_dtype() {
  PYBIND11_CONSTINIT static py::gil_safe_call_once_and_store<py::object> storage;
  return storage.call_once_and_store_result([] { return py::object(dtype_from("INTENT_DTYPE")); })
      .get_stored()
      .cast<py::dtype>();
}

py::dtype report_dtype() {
  PYBIND11_CONSTINIT static py::gil_safe_call_once_and_store<py::object> storage;
  return storage.call_once_and_store_result([] { return py::object(dtype_from("REPORT_DTYPE")); })
      .get_stored()
      .cast<py::dtype>();
}

/// A 64-byte-aligned numpy array of `count` records of `dtype` (record size 64), zeroed.
py::array make_record_array(const py::dtype& dtype, std::size_t count) {
  const std::size_t bytes = (count == 0 ? 1 : count) * 64;
  void* memory = std::aligned_alloc(64, bytes);
  if (memory == nullptr) throw std::bad_alloc();
  std::memset(memory, 0, bytes);
  py::capsule owner(memory, [](void* pointer) { std::free(pointer); });
  return py::array(dtype, {static_cast<py::ssize_t>(count)}, {py::ssize_t{64}}, memory, owner);
}

/// Copies a 1-D array of INTENT_DTYPE into `out` (appending).
void append_intents(const py::handle& object, std::vector<OrderIntent>& out, const char* where) {
  if (object.is_none()) return;
  if (!py::isinstance<py::array>(object)) {
    throw py::type_error(std::string(where) + " must return None or a numpy array of rentrade.orders.INTENT_DTYPE, got " +
                         py::str(py::type::handle_of(object).attr("__name__")).cast<std::string>());
  }
  const auto array = py::reinterpret_borrow<py::array>(object);
  if (array.ndim() != 1 || !py::bool_(array.dtype().attr("__eq__")(intent_dtype()))) {
    throw py::type_error(std::string(where) + ": intents must be a 1-D array of rentrade.orders.INTENT_DTYPE, got " +
                         py::str(array.dtype()).cast<std::string>());
  }
  const auto count = static_cast<std::size_t>(array.shape(0));
  if (count == 0) return;
  const auto* raw = static_cast<const unsigned char*>(array.data());
  const auto stride = static_cast<std::size_t>(array.strides(0));
  const std::size_t first = out.size();
  out.resize(first + count);
  for (std::size_t i = 0; i < count; ++i) std::memcpy(&out[first + i], raw + i * stride, sizeof(OrderIntent));
}

std::int64_t exact_ns(py::handle value, const std::string& name) {
  if (!PyLong_Check(value.ptr()) || PyBool_Check(value.ptr())) {
    throw py::type_error(name + " must be an int number of ns, got " +
                         py::str(py::type::handle_of(value).attr("__name__")).cast<std::string>());
  }
  const auto ns = value.cast<std::int64_t>();
  if (ns < 0) throw py::value_error(name + " must be >= 0 ns, got " + std::to_string(ns));
  return ns;
}

/// int -> constant; ("constant", ns); ("uniform", lo, hi); ("samples", sequence or array of ns).
LatencyModel parse_latency(py::handle spec, const std::string& name) {
  LatencyModel model;
  if (PyLong_Check(spec.ptr()) && !PyBool_Check(spec.ptr())) {
    model.lo_ns = exact_ns(spec, name);
    return model;
  }
  if (!py::isinstance<py::tuple>(spec) || py::len(spec) < 2 || !py::isinstance<py::str>(spec[py::int_(0)])) {
    throw py::type_error(name + " must be an int (ns), ('constant', ns), ('uniform', lo_ns, hi_ns) or "
                                "('samples', [ns, ...]), got " + py::repr(spec).cast<std::string>());
  }
  const auto tuple = py::reinterpret_borrow<py::tuple>(spec);
  const auto kind = tuple[0].cast<std::string>();
  if (kind == "constant" && tuple.size() == 2) {
    model.lo_ns = exact_ns(tuple[1], name);
  } else if (kind == "uniform" && tuple.size() == 3) {
    model.kind = LatencyModel::Kind::kUniform;
    model.lo_ns = exact_ns(tuple[1], name + " lo");
    model.hi_ns = exact_ns(tuple[2], name + " hi");
    if (model.lo_ns > model.hi_ns) throw py::value_error(name + ": uniform lo must be <= hi");
  } else if (kind == "samples" && tuple.size() == 2) {
    model.kind = LatencyModel::Kind::kSamples;
    const auto samples = py::array_t<std::int64_t, py::array::c_style | py::array::forcecast>::ensure(tuple[1]);
    if (!samples || samples.ndim() != 1 || samples.shape(0) == 0) {
      throw py::value_error(name + ": samples must be a non-empty 1-D sequence of int ns");
    }
    model.samples.assign(samples.data(), samples.data() + samples.shape(0));
    for (const std::int64_t ns : model.samples) {
      if (ns < 0) throw py::value_error(name + ": samples must be >= 0 ns, got " + std::to_string(ns));
    }
  } else {
    throw py::value_error(name + ": unknown latency spec " + py::repr(spec).cast<std::string>() +
                          " (use 'constant', 'uniform' or 'samples')");
  }
  return model;
}

/// A fee in basis points (str, Decimal or int; float refused) as bps x 10^4, exactly.
std::int64_t bps_e4(py::handle value, const std::string& name) {
  if (PyFloat_Check(value.ptr()) || PyBool_Check(value.ptr())) {
    throw py::type_error(name + " must be a str, decimal.Decimal or int number of basis points, not " +
                         py::str(py::type::handle_of(value).attr("__name__")).cast<std::string>());
  }
  const std::string text = py::str(value).cast<std::string>();
  std::int64_t out = 0;
  const auto error = fastcore::common::try_to_steps(text, {1, 4}, true, out);
  if (error != fastcore::common::DecimalError::kOk) {
    throw DecimalErrorException(name + " '" + text + "': " + fastcore::common::describe(error) +
                                " (basis points with at most 4 decimals)");
  }
  return out;
}

py::dict histogram_summary(const Histogram& h) {
  py::dict out;
  out["count"] = h.count();
  out["p50"] = h.percentile(50.0);
  out["p99"] = h.percentile(99.0);
  out["p99.9"] = h.percentile(99.9);
  out["max"] = h.max();
  out["mean"] = h.mean();
  return out;
}

/// Owns the exchange plus what Python needs about its instruments.
struct ExchangeStore {
  std::unique_ptr<SimulatedExchange> exchange;
  std::vector<Instrument> instruments;
  std::vector<ExecutionReport> scratch;
};

void raise_event_error(const ExchangeStore& store, ExchangeError error, std::size_t index) {
  std::string what = fastcore::sim::describe(error);
  if (error == ExchangeError::kBookRefused) {
    what += std::string(": ") + fastcore::book::describe(store.exchange->book_error());
  }
  throw BookErrorException("event " + std::to_string(index) + " refused by the simulated exchange: " + what +
                           "; events before it were applied");
}

/// Calls a Python object's on_events(events) / on_reports(reports). Events are read-only views of the
/// caller's array (no copy; the view keeps that array alive); reports are copied (few, and the
/// backtest reuses their buffer).
class PyStrategy final : public fastcore::sim::Strategy {
 public:
  explicit PyStrategy(py::object strategy)
      : strategy_(std::move(strategy)),
        on_events_(strategy_.attr("on_events")),
        on_reports_(strategy_.attr("on_reports")) {}
  void on_events(std::span<const Event> events, std::vector<OrderIntent>& out) override {
    // A slice of the run's read-only view: numpy's own slicing is several times cheaper per call than
    // building a new array from a pointer and a dtype, and the span is always inside the running array.
    const auto start = static_cast<py::ssize_t>(events.data() - run_data_);
    const py::slice span(start, start + static_cast<py::ssize_t>(events.size()), 1);
    const py::object view = py::reinterpret_steal<py::object>(PyObject_GetItem(run_view_.ptr(), span.ptr()));
    if (!view) throw py::error_already_set();
    append_intents(on_events_(view), out, "strategy.on_events");
  }
  /// Backtest.run: the array being run, as one read-only view the callbacks' spans are sliced from.
  void start_run(const py::array& events) {
    run_view_ = events.attr("view")();
    run_view_.attr("flags").attr("writeable") = false;
    run_data_ = static_cast<const Event*>(events.data());
  }
  void end_run() {
    run_view_ = py::none();
    run_data_ = nullptr;
  }
  void on_reports(std::span<const ExecutionReport> reports, std::vector<OrderIntent>& out) override {
    py::array copy = make_record_array(report_dtype(), reports.size());
    std::memcpy(copy.mutable_data(), reports.data(), reports.size() * sizeof(ExecutionReport));
    append_intents(on_reports_(copy), out, "strategy.on_reports");
  }
 private:
  py::object run_view_;
  const Event* run_data_ = nullptr;
  py::object strategy_;
  py::object on_events_;
  py::object on_reports_;
};

/// The market replayed through the venue with no strategy: what the loop itself costs.
class NoStrategy final : public fastcore::sim::Strategy {
 public:
  void on_events(std::span<const Event>, std::vector<OrderIntent>&) override {}
  void on_reports(std::span<const ExecutionReport>, std::vector<OrderIntent>&) override {}
};

struct BacktestStore {
  std::shared_ptr<ExchangeStore> venue;
  std::unique_ptr<fastcore::sim::Strategy> strategy;
  PyStrategy* py_strategy = nullptr;  // strategy.get() when it is a Python object
  fastcore::sim::EngineStrategy* engine_strategy = nullptr;  // strategy.get() when it is a rentrade.Engine
  EngineHandle engine;                                        // keeps that engine alive

  /// Raises what the engine refused or its Python strategy raised during the last call.
  void check_engine() const {
    if (engine_strategy == nullptr) return;
    if (engine.rethrow) engine.rethrow();
    const auto& error = engine_strategy->first_error();
    if (error.error != fastcore::engine::EngineError::kOk) {
      std::string why = fastcore::engine::describe(error.error);
      if (error.error == fastcore::engine::EngineError::kBadEvent) {
        why += std::string(": ") + fastcore::book::describe(error.book_error);
      }
      throw py::value_error("the engine refused a record during the backtest: " + why);
    }
  }
  std::unique_ptr<fastcore::sim::Backtest> backtest;
  bool finished = false;
};

py::array trips_array(const BacktestStore& store) {
  const auto& trips = store.backtest->ledger().trips();
  const py::dtype dtype = py::module_::import("rentrade.backtest").attr("TRIP_DTYPE").cast<py::dtype>();
  py::array out(dtype, std::vector<py::ssize_t>{static_cast<py::ssize_t>(trips.size())},
                std::vector<py::ssize_t>{static_cast<py::ssize_t>(sizeof(fastcore::sim::RoundTrip))});
  static_assert(sizeof(fastcore::sim::RoundTrip) == 56, "TRIP_DTYPE in rentrade.backtest mirrors RoundTrip");
  if (!trips.empty()) std::memcpy(out.mutable_data(), trips.data(), trips.size() * sizeof(fastcore::sim::RoundTrip));
  return out;
}

}  // namespace

void bind_sim(py::module_& m) {
  m.def(
      "histogram_buckets",
      [](const Histogram& h) {
        py::list lows;
        py::list counts;
        const auto& all = h.counts();
        for (std::size_t i = 0; i < all.size(); ++i) {
          if (all[i] == 0) continue;
          lows.append(Histogram::lowest_in_bucket(i));
          counts.append(all[i]);
        }
        return py::make_tuple(lows, counts);
      },
      py::arg("histogram"), "(lower bounds, counts) of a histogram's non-empty buckets, for plotting.");

  py::class_<ExchangeStore, std::shared_ptr<ExchangeStore>>(
      m, "SimulatedExchange",
      "A simulated venue for many instruments: its own book per instrument from market events, intents\n"
      "matched at their arrival time (no look-ahead), queue position for resting orders, fees and rebates,\n"
      "reports after a response latency. Deterministic for a given seed.")
      .def(py::init([](const std::vector<Instrument>& instruments, py::handle maker_fee_bps, py::handle taker_fee_bps,
                       const py::dict& venue_fees, const std::string& queue_model, std::uint32_t queue_power,
                       py::handle order_latency, py::handle response_latency, py::handle round_trips,
                       std::uint64_t seed, std::int64_t clock_offset_ns, std::uint32_t max_open_orders,
                       std::uint32_t max_levels, bool batch_runs) {
             ExchangeConfig config;
             const std::int64_t default_maker = bps_e4(maker_fee_bps, "maker_fee_bps");
             const std::int64_t default_taker = bps_e4(taker_fee_bps, "taker_fee_bps");
             std::unordered_map<std::string, std::pair<std::int64_t, std::int64_t>> fees;
             for (const auto& [venue, pair] : venue_fees) {
               const auto name = py::str(venue).cast<std::string>();
               const auto tuple = py::reinterpret_borrow<py::sequence>(pair);
               if (py::len(tuple) != 2) throw py::value_error("venue_fees['" + name + "'] must be (maker_bps, taker_bps)");
               fees[name] = {bps_e4(tuple[0], "maker fee of " + name), bps_e4(tuple[1], "taker fee of " + name)};
             }
             for (const Instrument& instrument : instruments) {
               const __int128 factor = instrument.notional_factor();
               if (factor > std::numeric_limits<std::int64_t>::max()) {
                 throw py::value_error(describe_instrument(instrument) + ": notional factor too large for the simulator");
               }
               const auto found = fees.find(instrument.venue);
               fastcore::sim::InstrumentSpec spec;
               spec.maker_fee_bps_e4 = found != fees.end() ? found->second.first : default_maker;
               spec.taker_fee_bps_e4 = found != fees.end() ? found->second.second : default_taker;
               spec.notional_factor = static_cast<std::int64_t>(factor);
               config.instruments.push_back(spec);
             }
             if (queue_model == "trade_through") {
               config.queue_model = fastcore::sim::QueueModel::kTradeThrough;
             } else if (queue_model == "probabilistic") {
               config.queue_model = fastcore::sim::QueueModel::kProbabilistic;
             } else {
               throw py::value_error("queue_model must be 'trade_through' or 'probabilistic', got '" + queue_model + "'");
             }
             config.queue_power = queue_power;
             if (!round_trips.is_none()) {
               // Recorded round trips: each direction draws half of a recorded round trip.
               const auto rtt = py::array_t<std::int64_t, py::array::c_style | py::array::forcecast>::ensure(round_trips);
               if (!rtt || rtt.ndim() != 1 || rtt.shape(0) == 0) {
                 throw py::value_error("round_trips must be a non-empty 1-D sequence of int ns");
               }
               config.order_latency.kind = LatencyModel::Kind::kSamples;
               config.response_latency.kind = LatencyModel::Kind::kSamples;
               for (py::ssize_t i = 0; i < rtt.shape(0); ++i) {
                 const std::int64_t ns = rtt.at(i);
                 if (ns < 0) throw py::value_error("round_trips must be >= 0 ns, got " + std::to_string(ns));
                 config.order_latency.samples.push_back(ns / 2);
                 config.response_latency.samples.push_back(ns - ns / 2);
               }
             } else {
               config.order_latency = parse_latency(order_latency, "order_latency");
               config.response_latency = parse_latency(response_latency, "response_latency");
             }
             config.seed = seed;
             config.clock_offset_ns = clock_offset_ns;
             config.max_open_orders = max_open_orders;
             config.max_levels_per_side = max_levels;
             config.batch_runs = batch_runs;
             const ExchangeError error = fastcore::sim::validate(config);
             if (error != ExchangeError::kOk) throw py::value_error(fastcore::sim::describe(error));
             auto store = std::make_shared<ExchangeStore>();
             store->exchange = std::make_unique<SimulatedExchange>(config);
             store->instruments = instruments;
             store->scratch.resize(4096);
             return store;
           }),
           py::arg("instruments"), py::kw_only(), py::arg("maker_fee_bps") = "0", py::arg("taker_fee_bps") = "0",
           py::arg("venue_fees") = py::dict(), py::arg("queue_model") = "trade_through", py::arg("queue_power") = 2,
           py::arg("order_latency") = 0, py::arg("response_latency") = 0, py::arg("round_trips") = py::none(),
           py::arg("seed") = 1, py::arg("clock_offset_ns") = 0, py::arg("max_open_orders") = 65'536, py::arg("max_levels") = 5000,
           py::arg("batch_runs") = true)
      .def(
          "on_events",
          [](ExchangeStore& s, const py::array& events) {
            std::size_t applied = 0;
            for_event_chunks(events, [&](std::span<const Event> chunk, std::size_t first) {
              ExchangeError error = ExchangeError::kOk;
              const std::size_t done = s.exchange->on_events(chunk, error);
              applied += done;
              if (error != ExchangeError::kOk) raise_event_error(s, error, first + done);
              return true;
            });
            return applied;
          },
          py::arg("events"),
          "Applies market events (EVENT_DTYPE) at their exchange times, matching intents that arrived\n"
          "before each. Returns the number applied; BookError names a refused event.")
      .def(
          "submit",
          [](ExchangeStore& s, const py::array& intents) {
            std::vector<OrderIntent> parsed;
            append_intents(intents, parsed, "submit");
            for (const OrderIntent& intent : parsed) s.exchange->submit(intent);
            return parsed.size();
          },
          py::arg("intents"),
          "Queues intents (INTENT_DTYPE); each arrives at ts_ns + order latency, in send order. Bad intents\n"
          "come back as REJECT reports.")
      .def(
          "advance_to", [](ExchangeStore& s, std::int64_t ts_ns) { s.exchange->advance_to(ts_ns); },
          py::arg("ts_ns"), "Matches every queued intent that arrived by ts_ns (for the end of the data).")
      .def(
          "drain_reports",
          [](ExchangeStore& s, std::int64_t until_local_ns) {
            std::vector<ExecutionReport> all;
            for (;;) {
              const std::size_t n = s.exchange->drain_reports(s.scratch, until_local_ns);
              all.insert(all.end(), s.scratch.begin(), s.scratch.begin() + static_cast<std::ptrdiff_t>(n));
              if (n < s.scratch.size()) break;
            }
            py::array out = make_record_array(report_dtype(), all.size());
            if (!all.empty()) std::memcpy(out.mutable_data(), all.data(), all.size() * sizeof(ExecutionReport));
            return out;
          },
          py::arg("until_local_ns") = kMaxTime,
          "Removes and returns (REPORT_DTYPE) the reports that reached the engine by until_local_ns.")
      .def_property_readonly("pending_reports", [](const ExchangeStore& s) { return s.exchange->pending_reports(); })
      .def_property_readonly("pending_intents", [](const ExchangeStore& s) { return s.exchange->pending_intents(); })
      .def_property_readonly("open_orders", [](const ExchangeStore& s) { return s.exchange->open_orders(); })
      .def_property_readonly("now_ns", [](const ExchangeStore& s) { return s.exchange->now_ns(); },
                             "The venue's clock: the latest exchange time it processed.")
      .def_property_readonly("instruments", [](const ExchangeStore& s) { return s.instruments; })
      .def(
          "position_lots",
          [](const ExchangeStore& s, std::uint32_t id) {
            if (id >= s.instruments.size()) throw py::index_error("no instrument " + std::to_string(id));
            return s.exchange->position_lots(id);
          },
          py::arg("instrument_id"), "Net position the venue has filled, lots.")
      .def(
          "queue_ahead", [](const ExchangeStore& s, std::uint64_t order_id) { return s.exchange->queue_ahead(order_id); },
          py::arg("order_id"), "Lots ahead of a resting order in its price's queue, or -1 if it is not resting.")
      .def(
          "best_bid",
          [](const ExchangeStore& s, std::uint32_t id) -> py::object {
            if (id >= s.instruments.size()) throw py::index_error("no instrument " + std::to_string(id));
            const auto level = s.exchange->book(id).best(fastcore::common::Side::kBid);
            if (!level) return py::none();
            return py::object(py::make_tuple(level->px_ticks, level->qty_lots));
          },
          py::arg("instrument_id"), "(px_ticks, qty_lots) of the venue's best bid, or None.")
      .def(
          "best_ask",
          [](const ExchangeStore& s, std::uint32_t id) -> py::object {
            if (id >= s.instruments.size()) throw py::index_error("no instrument " + std::to_string(id));
            const auto level = s.exchange->book(id).best(fastcore::common::Side::kAsk);
            if (!level) return py::none();
            return py::object(py::make_tuple(level->px_ticks, level->qty_lots));
          },
          py::arg("instrument_id"), "(px_ticks, qty_lots) of the venue's best ask, or None.")
      .def_property_readonly(
          "stats",
          [](const ExchangeStore& s) {
            const auto& st = s.exchange->stats();
            py::dict out;
            out["events"] = st.events;
            out["intents"] = st.intents;
            out["rejects"] = st.rejects;
            out["fills"] = st.fills;
            out["maker_fills"] = st.maker_fills;
            out["taker_fills"] = st.taker_fills;
            out["late_orders"] = st.late_orders;
            out["fee_overflows"] = st.fee_overflows;
            out["batched_events"] = st.batched_events;
            return out;
          },
          "Counters since construction (late_orders: intents matched after their nominal arrival).")
      .def_property_readonly(
          "latency",
          [](const ExchangeStore& s) {
            py::dict out;
            out["feed"] = histogram_summary(s.exchange->feed_latency());
            out["order"] = histogram_summary(s.exchange->order_latency());
            out["response"] = histogram_summary(s.exchange->response_latency());
            return out;
          },
          "Percentiles (ns) of the feed (exchange -> local), order and response latencies seen so far.")
      .def(
          "latency_histogram",
          [](const ExchangeStore& s, const std::string& stage) {
            if (stage == "feed") return s.exchange->feed_latency();
            if (stage == "order") return s.exchange->order_latency();
            if (stage == "response") return s.exchange->response_latency();
            throw py::value_error("stage must be 'feed', 'order' or 'response', got '" + stage + "'");
          },
          py::arg("stage"), "A copy of one stage's latency histogram.")
      .def(
          "money_scale",
          [](const ExchangeStore& s, std::uint32_t id) {
            if (id >= s.instruments.size()) throw py::index_error("no instrument " + std::to_string(id));
            const Instrument& i = s.instruments[id];
            return py::make_tuple(static_cast<std::int64_t>(i.notional_factor()), i.notional_decimals());
          },
          py::arg("instrument_id"),
          "(notional_factor, notional_decimals): a tick-lot is notional_factor x 10^-decimals of the quote\n"
          "currency, and fee_units are 10^-decimals.");

  py::class_<BacktestStore>(m, "Backtest",
                            "The backtest loop in the core: events -> strategy -> intents -> SimulatedExchange ->\n"
                            "reports -> strategy, with the round trips of the venue's fills.")
      .def(py::init([](std::shared_ptr<ExchangeStore> venue, py::object strategy, std::int64_t decision_latency_ns,
                       std::size_t max_span, std::int64_t max_span_ns) {
             if (decision_latency_ns < 0) throw py::value_error("decision_latency_ns must be >= 0");
             if (max_span < 1) throw py::value_error("max_span must be >= 1");
             auto store = std::make_unique<BacktestStore>();
             store->venue = std::move(venue);
             EngineHandle engine = engine_handle(strategy);
             if (strategy.is_none()) {
               store->strategy = std::make_unique<NoStrategy>();
             } else if (engine.engine != nullptr) {
               // The engine in C++: no Python between events, intents and reports.
               auto adapter = std::make_unique<fastcore::sim::EngineStrategy>(*engine.engine);
               store->engine_strategy = adapter.get();
               store->strategy = std::move(adapter);
               store->engine = std::move(engine);
             } else {
               if (!py::hasattr(strategy, "on_events") || !py::hasattr(strategy, "on_reports")) {
                 throw py::type_error(
                     "strategy must be a rentrade.Engine, None, or an object with on_events(events) and "
                     "on_reports(reports) methods");
               }
               auto py_strategy = std::make_unique<PyStrategy>(std::move(strategy));
               store->py_strategy = py_strategy.get();
               store->strategy = std::move(py_strategy);
             }
             fastcore::sim::BacktestConfig config;
             config.decision_latency_ns = decision_latency_ns;
             config.max_span = max_span;
             config.max_span_ns = max_span_ns;
             store->backtest =
                 std::make_unique<fastcore::sim::Backtest>(*store->venue->exchange, *store->strategy, config);
             return store;
           }),
           py::arg("exchange"), py::arg("strategy") = py::none(), py::kw_only(), py::arg("decision_latency_ns") = 0,
           py::arg("max_span") = 4096, py::arg("max_span_ns") = -1)
      .def(
          "run",
          [](BacktestStore& s, const py::array& events) {
            if (s.finished) throw py::value_error("this backtest has finished; make a new one");
            check_event_array(events);
            if (reinterpret_cast<std::uintptr_t>(events.data()) % alignof(Event) != 0) {
              throw py::value_error("events must be 64-byte aligned: make them with rentrade.events.empty_events");
            }
            const auto* data = static_cast<const Event*>(events.data());
            std::size_t applied = 0;
            // The strategy's view of this run's array, released however the run ends (a raising callback too).
            struct RunScope {
              PyStrategy* strategy;
              RunScope(PyStrategy* running, const py::array& array) : strategy(running) {
                if (strategy != nullptr) strategy->start_run(array);
              }
              RunScope(const RunScope&) = delete;
              RunScope& operator=(const RunScope&) = delete;
              ~RunScope() {
                if (strategy != nullptr) strategy->end_run();
              }
            };
            ExchangeError error = ExchangeError::kOk;
            {
              const RunScope scope(s.py_strategy, events);
              error = s.backtest->try_run(std::span(data, static_cast<std::size_t>(events.shape(0))), applied);
            }
            s.check_engine();
            if (error != ExchangeError::kOk) raise_event_error(*s.venue, error, applied);
            return applied;
          },
          py::arg("events"),
          "Runs one chunk of events (local-time order; successive calls continue). The strategy's views are\n"
          "valid only during its call.")
      .def(
          "finish",
          [](BacktestStore& s) {
            if (!s.finished) s.backtest->finish();
            s.finished = true;
            s.check_engine();
          },
          "Matches the intents still on their way and delivers the last reports; call once after the data.")
      .def("trips", &trips_array, "Round trips (rentrade.backtest.TRIP_DTYPE) from the venue's fills.")
      .def_property_readonly("max_span_ns", [](const BacktestStore& s) { return s.backtest->max_span_ns(); })
      .def(
          "net_lots",
          [](const BacktestStore& s, std::uint32_t id) {
            if (id >= s.venue->instruments.size()) throw py::index_error("no instrument " + std::to_string(id));
            return s.backtest->ledger().position(id).net_lots();
          },
          py::arg("instrument_id"), "Position at the end of what ran, lots.")
      .def(
          "open_cost_tl",
          [](const BacktestStore& s, std::uint32_t id) {
            if (id >= s.venue->instruments.size()) throw py::index_error("no instrument " + std::to_string(id));
            return py::int_(py::str(fastcore::common::format_scaled(s.backtest->ledger().position(id).open_cost_tl(), 0)));
          },
          py::arg("instrument_id"), "Exact cost of the open position in tick-lots (0 when flat).")
      .def_property_readonly(
          "stats",
          [](const BacktestStore& s) {
            const auto& st = s.backtest->stats();
            py::dict out;
            out["events"] = st.events;
            out["spans"] = st.spans;
            out["report_calls"] = st.report_calls;
            out["reports"] = st.reports;
            out["intents"] = st.intents;
            out["strategy_ns"] = st.strategy_ns;
            out["venue_ns"] = st.venue_ns;
            out["ledger_fills"] = s.backtest->ledger().fills();
            out["ledger_refused"] = s.backtest->ledger().refused();
            return out;
          })
      .def_property_readonly(
          "latency",
          [](const BacktestStore& s) {
            py::dict out;
            out["strategy_call_wall"] = histogram_summary(s.backtest->strategy_call_ns());
            out["decision"] = histogram_summary(s.backtest->decision_ns());
            return out;
          },
          "Percentiles (ns): wall time per strategy call, and the simulated trigger-to-decision delay.")
      .def(
          "strategy_histogram", [](const BacktestStore& s) { return s.backtest->strategy_call_ns(); },
          "A copy of the wall-time-per-strategy-call histogram (ns).");
}

}  // namespace rentrade_bindings
