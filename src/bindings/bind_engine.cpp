// rentrade.Engine: the decision engine driven from Python in batches (numpy events and reports in, numpy
// intents out), the built-in bracket strategy or a Python callable per decision point, and the stage
// histograms. The books are a rentrade.BookSet shared with the engine, and Engine.risk is a rentrade.Risk
// view of the engine's own risk engine (limits are set there).
#include <pybind11/stl.h>

#include <cstdlib>
#include <cstring>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "book_store.hpp"
#include "bindings.hpp"
#include "fastcore/engine/bracket_strategy.hpp"
#include "fastcore/engine/engine.hpp"
#include "fastcore/risk/sizing.hpp"

namespace rentrade_bindings {
namespace {

using fastcore::common::Event;
using fastcore::common::Instrument;
using fastcore::common::Side;
using fastcore::engine::BracketConfig;
using fastcore::engine::BracketPhase;
using fastcore::engine::BracketStrategy;
using fastcore::engine::DecisionPoint;
using fastcore::engine::Engine;
using fastcore::engine::EngineConfig;
using fastcore::engine::EngineError;
using fastcore::engine::ExecutionReport;
using fastcore::engine::OrderIntent;
using fastcore::engine::OrderSpec;
using fastcore::engine::OrderType;
using fastcore::engine::Stage;
using fastcore::engine::TimeInForce;
using fastcore::engine::WorkingOrder;
using fastcore::risk::Scope;
using fastcore::risk::TradingState;

/// Raised to Python as rentrade.EngineError (a ValueError).
struct EngineErrorException : std::runtime_error {
  using std::runtime_error::runtime_error;
};

py::dtype dtype_of(const char* name) {
  return py::module_::import("rentrade.orders").attr(name).cast<py::dtype>();
}

py::dtype intent_dtype() {
  PYBIND11_CONSTINIT static py::gil_safe_call_once_and_store<py::object> storage;
  return storage.call_once_and_store_result([] { return py::object(dtype_of("INTENT_DTYPE")); })
      .get_stored()
      .cast<py::dtype>();
}

py::dtype report_dtype() {
  PYBIND11_CONSTINIT static py::gil_safe_call_once_and_store<py::object> storage;
  return storage.call_once_and_store_result([] { return py::object(dtype_of("REPORT_DTYPE")); })
      .get_stored()
      .cast<py::dtype>();
}

/// A 64-byte-aligned numpy array of `intents` (a copy: the engine reuses its buffer).
py::array intents_array(std::span<const OrderIntent> intents) {
  const std::size_t bytes = (intents.empty() ? 1 : intents.size()) * sizeof(OrderIntent);
  void* memory = std::aligned_alloc(alignof(OrderIntent), bytes);
  if (memory == nullptr) throw std::bad_alloc();
  if (!intents.empty()) std::memcpy(memory, intents.data(), intents.size() * sizeof(OrderIntent));
  py::capsule owner(memory, [](void* pointer) { std::free(pointer); });
  return py::array(intent_dtype(), {static_cast<py::ssize_t>(intents.size())},
                   {static_cast<py::ssize_t>(sizeof(OrderIntent))}, memory, owner);
}

TimeInForce parse_tif(py::handle tif) {
  if (PyLong_Check(tif.ptr()) && !PyBool_Check(tif.ptr())) {
    const long value = PyLong_AsLong(tif.ptr());
    if (value >= 0 && value <= 2) return static_cast<TimeInForce>(value);
  } else if (PyUnicode_Check(tif.ptr())) {
    const auto text = tif.cast<std::string>();
    if (text == "gtc") return TimeInForce::kGtc;
    if (text == "ioc") return TimeInForce::kIoc;
    if (text == "post_only") return TimeInForce::kPostOnly;
  }
  PyErr_Clear();
  throw py::value_error("tif must be 'gtc', 'ioc', 'post_only' or rentrade.orders.TIF_* (0..2), got " +
                        py::repr(tif).cast<std::string>());
}

/// What a Python strategy sees at a decision point; one object reused for every call, so it is valid
/// only during the callback (it reads the engine's state live).
struct PyDecision {
  Engine* engine = nullptr;
  bool live = false;  ///< True only during the callback: a kept reference must not read a dead engine.
  std::uint32_t instrument_id = 0;
  std::int64_t ts_ns = 0;
  double composite = 0.0;
  bool has_composite = false;
  int decision = 0;
};

const PyDecision& live(const PyDecision& d) {
  if (!d.live) throw py::value_error("a Decision is valid only during the strategy callback that received it");
  return d;
}

/// Calls a Python callable per decision point. The first exception stops further calls and is re-raised
/// by the binding once the batch returns (intents emitted before it stay buffered: take_intents()).
class PyCallbackStrategy final : public fastcore::engine::Strategy {
 public:
  explicit PyCallbackStrategy(py::function fn) : fn_(std::move(fn)) {}

  void on_start(Engine& engine) override {
    decision_ = py::cast(PyDecision{&engine});
    view_ = decision_.cast<PyDecision*>();
  }

  void on_decision(Engine& engine, const DecisionPoint& point) noexcept override {
    if (error_) return;
    view_->instrument_id = point.instrument_id;
    view_->ts_ns = point.ts_ns;
    view_->composite = point.composite.value;
    view_->has_composite = point.composite.has_value;
    view_->decision = point.composite.decision;
    ++calls_;
    view_->live = true;
    try {
      const py::object result = fn_(decision_);
      view_->live = false;
      if (!result.is_none()) submit_all(engine, point.instrument_id, result);
    } catch (py::error_already_set& e) {
      error_ = std::make_unique<py::error_already_set>(std::move(e));
    } catch (const std::exception& e) {
      // A C++ exception from argument parsing: keep it as a Python ValueError to re-raise.
      py::value_error wrapped(std::string("strategy callback returned a bad order: ") + e.what());
      wrapped.set_error();
      error_ = std::make_unique<py::error_already_set>();
    }
    view_->live = false;
  }

  void on_report(Engine&, const ExecutionReport&, const WorkingOrder&, bool) noexcept override {}

  /// Re-raises the callback's first exception, if any (once).
  void rethrow() {
    if (!error_) return;
    std::unique_ptr<py::error_already_set> error = std::move(error_);
    error->restore();
    throw py::error_already_set();
  }
  [[nodiscard]] std::uint64_t calls() const noexcept { return calls_; }

  /// (side, px_ticks, qty_lots[, tif[, reduce_only]]) or ("cancel", order_id), one or an iterable of them.
  static void submit_one(Engine& engine, std::uint32_t id, const py::handle& item) {
    const auto tuple = py::reinterpret_borrow<py::tuple>(item);
    if (tuple.size() == 2 && PyUnicode_Check(tuple[0].ptr()) && tuple[0].cast<std::string>() == "cancel") {
      (void)engine.cancel(tuple[1].cast<std::uint64_t>());
      return;
    }
    if (tuple.size() < 3 || tuple.size() > 5) {
      throw py::value_error("an order is (side, px_ticks, qty_lots[, tif[, reduce_only]]) or ('cancel', order_id)");
    }
    OrderSpec spec;
    spec.instrument_id = id;
    spec.side = parse_side(tuple[0]);
    spec.px_ticks = tuple[1].cast<std::int64_t>();
    spec.qty_lots = tuple[2].cast<std::int64_t>();
    spec.tif = tuple.size() > 3 ? parse_tif(tuple[3]) : TimeInForce::kGtc;
    spec.reduce_only = tuple.size() > 4 && tuple[4].cast<bool>();
    (void)engine.submit(spec);
  }

 private:
  static void submit_all(Engine& engine, std::uint32_t id, const py::object& result) {
    if (py::isinstance<py::tuple>(result) && py::len(result) > 0 && !py::isinstance<py::tuple>(result[py::int_(0)])) {
      submit_one(engine, id, result);
      return;
    }
    for (const py::handle item : result) {
      if (!py::isinstance<py::tuple>(item)) throw py::type_error("each order must be a tuple");
      submit_one(engine, id, item);
    }
  }

  py::function fn_;
  py::object decision_;
  PyDecision* view_ = nullptr;
  std::unique_ptr<py::error_already_set> error_;
  std::uint64_t calls_ = 0;
};

struct EngineStore {
  bool busy = false;  ///< Inside on_events / on_reports: a strategy callback must not feed the engine again.
  std::vector<Instrument> instruments;
  std::shared_ptr<BookStore> books;
  std::unique_ptr<BracketStrategy> bracket;
  std::unique_ptr<PyCallbackStrategy> callback;
  std::unique_ptr<Engine> engine = std::make_unique<Engine>();

  ~EngineStore() {
    engine.reset();  // the engine holds a pointer to the strategy and the books: it goes first
  }
  void rethrow_callback() {
    if (callback) callback->rethrow();
  }
};

void check_engine(EngineError error, const std::string& context) {
  if (error != EngineError::kOk) throw EngineErrorException(context + ": " + fastcore::engine::describe(error));
}

std::uint32_t checked_id(const EngineStore& s, std::int64_t id) {
  if (id < 0 || static_cast<std::size_t>(id) >= s.instruments.size()) {
    throw py::index_error("instrument id " + std::to_string(id) + " out of range (0.." +
                          std::to_string(s.instruments.size() - 1) + ")");
  }
  return static_cast<std::uint32_t>(id);
}

std::uint32_t venue_id(const EngineStore& s, const py::handle& venue) {
  const auto& names = s.engine->risk().venues();
  if (py::isinstance<py::str>(venue)) {
    const auto name = venue.cast<std::string>();
    for (std::size_t i = 0; i < names.size(); ++i) {
      if (names[i] == name) return static_cast<std::uint32_t>(i);
    }
    throw py::key_error("no instrument on venue '" + name + "'");
  }
  const auto id = venue.cast<std::int64_t>();
  if (id < 0 || static_cast<std::size_t>(id) >= names.size()) {
    throw py::index_error("venue id " + std::to_string(id) + " out of range");
  }
  return static_cast<std::uint32_t>(id);
}

std::pair<Scope, std::uint32_t> scope_of(const EngineStore& s, const std::optional<std::int64_t>& instrument_id,
                                         const py::object& venue) {
  if (instrument_id && !venue.is_none()) throw py::value_error("give instrument_id or venue, not both");
  if (instrument_id) return {Scope::kInstrument, checked_id(s, *instrument_id)};
  if (!venue.is_none()) return {Scope::kVenue, venue_id(s, venue)};
  return {Scope::kGlobal, 0};
}

fastcore::risk::Ratio parse_budget(const py::handle& value) {
  if (PyFloat_Check(value.ptr()) || PyBool_Check(value.ptr())) {
    throw py::type_error("budget must be a str, decimal.Decimal, int or fractions.Fraction amount, not " +
                         py::str(py::type::handle_of(value).attr("__name__")).cast<std::string>());
  }
  fastcore::risk::Ratio out;
  if (py::hasattr(value, "numerator") && py::hasattr(value, "denominator") && !PyLong_Check(value.ptr())) {
    out.num = value.attr("numerator").cast<std::int64_t>();
    out.den = value.attr("denominator").cast<std::int64_t>();
    return out;
  }
  const std::string text = py::str(value).cast<std::string>();
  if (fastcore::risk::try_parse_ratio(text, out) != fastcore::risk::SizingError::kOk) {
    throw py::value_error("budget '" + text + "' is not a decimal amount of the quote currency");
  }
  return out;
}

Stage parse_stage(const std::string& name) {
  for (std::size_t i = 0; i < fastcore::engine::kStageCount; ++i) {
    if (name == fastcore::engine::stage_name(static_cast<Stage>(i))) return static_cast<Stage>(i);
  }
  throw py::key_error("unknown stage '" + name +
                      "' (known: book, signal, strategy, risk, position, tick_to_decision)");
}

const char* phase_name(BracketPhase phase) {
  switch (phase) {
    case BracketPhase::kFlat: return "flat";
    case BracketPhase::kEntering: return "entering";
    case BracketPhase::kOpen: return "open";
    case BracketPhase::kStopping: return "stopping";
    case BracketPhase::kExiting: return "exiting";
  }
  return "unknown";
}

py::object optional_float(std::optional<double> value) {
  return value ? py::object(py::float_(*value)) : py::object(py::none());
}

py::object best_tuple(const fastcore::book::Book& book, Side side) {
  const auto best = book.best(side);
  if (!best) return py::none();
  return py::make_tuple(best->px_ticks, best->qty_lots);
}

/// Checks a 1-D C-contiguous array of `dtype` and calls fn with 64-byte-aligned spans of T.
template <class T, class Fn>
void for_record_chunks(const py::array& array, const py::dtype& dtype, const char* what, Fn&& fn) {
  if (array.ndim() != 1) throw py::value_error(std::string(what) + " must be a 1-D array");
  if (!py::bool_(array.dtype().attr("__eq__")(dtype))) {
    throw py::type_error(std::string(what) + " must have dtype " + py::str(dtype).cast<std::string>() + ", got " +
                         py::str(array.dtype()).cast<std::string>());
  }
  if (array.shape(0) > 0 && array.strides(0) != static_cast<py::ssize_t>(sizeof(T))) {
    throw py::value_error(std::string(what) + " must be C-contiguous (use numpy.ascontiguousarray)");
  }
  const auto count = static_cast<std::size_t>(array.shape(0));
  const auto* raw = static_cast<const unsigned char*>(array.data());
  if (reinterpret_cast<std::uintptr_t>(raw) % alignof(T) == 0) {
    fn(std::span<const T>(reinterpret_cast<const T*>(raw), count), std::size_t{0});
    return;
  }
  constexpr std::size_t kChunk = 256;
  alignas(64) static thread_local T buffer[kChunk];
  for (std::size_t first = 0; first < count; first += kChunk) {
    const std::size_t take = count - first < kChunk ? count - first : kChunk;
    std::memcpy(static_cast<void*>(buffer), raw + first * sizeof(T), take * sizeof(T));
    if (!fn(std::span<const T>(buffer, take), first)) return;
  }
}

/// Marks the store busy for one call; a nested call (from a strategy callback) raises.
class BusyGuard {
 public:
  BusyGuard(EngineStore& s, const char* what) : s_(s) {
    if (s_.busy) {
      throw py::value_error(std::string("Engine.") + what +
                            " called from inside the engine's own strategy callback: return orders instead");
    }
    s_.busy = true;
  }
  ~BusyGuard() { s_.busy = false; }
  BusyGuard(const BusyGuard&) = delete;
  BusyGuard& operator=(const BusyGuard&) = delete;

 private:
  EngineStore& s_;
};

py::array take_intents(EngineStore& s) {
  py::array out = intents_array(s.engine->intents());
  s.engine->clear_intents();
  return out;
}

constexpr const char* kEngineDoc =
    "The decision engine: books, signals, the strategy, pre-trade risk and positions for many instruments,\n"
    "market events and execution reports in, order intents out (numpy arrays of rentrade.orders.INTENT_DTYPE).\n"
    "Single-threaded; nothing allocates per event in the core. Money is in the quote currency (one for all\n"
    "instruments). Not thread-safe.";

constexpr const char* kInitDoc =
    "instruments: the instruments (id = index). strategy: 'bracket' (built-in, see README), 'none', or a\n"
    "callable(decision) -> None | order | [orders] run at every decision point, where an order is\n"
    "(side, px_ticks, qty_lots[, tif[, reduce_only]]) or ('cancel', order_id).\n"
    "weights/threshold/mode: the composite signal (as rentrade.Signals). Bracket: stop_distance and\n"
    "take_profit_distance (0 = reward_ratio x stop) in distance_unit 'ticks' or 'bps'; qty_lots > 0 fixes\n"
    "the entry size, else budget (quote currency per instrument per trade, e.g.\n"
    "rentrade.sizing.allocate(...).per_instrument) sizes it in whole lots; stop exits are IOC limits at the\n"
    "touch -+ stop_slippage_ticks (market orders with market_stop=True). timing: record the stage\n"
    "histograms, timing one message in timing_sample; wall_clock: stamp intents with the wall clock\n"
    "instead of the event's ts_local_ns.";

}  // namespace

void bind_engine(py::module_& m) {
  py::register_exception<EngineErrorException>(m, "EngineError", PyExc_ValueError);

  m.def(
      "intent_layout",
      [] {
        py::dict layout;
#define RENTRADE_FIELD(name) layout[#name] = py::make_tuple(offsetof(OrderIntent, name), sizeof(OrderIntent::name))
        RENTRADE_FIELD(ts_ns);
        RENTRADE_FIELD(px_ticks);
        RENTRADE_FIELD(qty_lots);
        RENTRADE_FIELD(order_id);
        RENTRADE_FIELD(trigger_seq);
        RENTRADE_FIELD(ts_trigger_local_ns);
        RENTRADE_FIELD(instrument_id);
        RENTRADE_FIELD(kind);
        RENTRADE_FIELD(side);
        RENTRADE_FIELD(type);
        RENTRADE_FIELD(tif);
        RENTRADE_FIELD(venue_id);
        RENTRADE_FIELD(reduce_only);
        RENTRADE_FIELD(reserved);
#undef RENTRADE_FIELD
        return layout;
      },
      "Field name -> (byte offset, size) of the C++ OrderIntent; rentrade.orders.INTENT_DTYPE must match it.");
  m.def(
      "report_layout",
      [] {
        py::dict layout;
#define RENTRADE_FIELD(name) \
  layout[#name] = py::make_tuple(offsetof(ExecutionReport, name), sizeof(ExecutionReport::name))
        RENTRADE_FIELD(ts_exchange_ns);
        RENTRADE_FIELD(ts_local_ns);
        RENTRADE_FIELD(px_ticks);
        RENTRADE_FIELD(qty_lots);
        RENTRADE_FIELD(fee_units);
        RENTRADE_FIELD(order_id);
        RENTRADE_FIELD(trade_id);
        RENTRADE_FIELD(instrument_id);
        RENTRADE_FIELD(kind);
        RENTRADE_FIELD(reason);
        RENTRADE_FIELD(side);
        RENTRADE_FIELD(liquidity);
#undef RENTRADE_FIELD
        return layout;
      },
      "Field name -> (byte offset, size) of the C++ ExecutionReport; rentrade.orders.REPORT_DTYPE must match it.");

  m.attr("ENGINE_STAGES") = [] {
    py::list names;
    for (std::size_t i = 0; i < fastcore::engine::kStageCount; ++i) {
      names.append(fastcore::engine::stage_name(static_cast<Stage>(i)));
    }
    return py::tuple(names);
  }();

  py::class_<PyDecision>(m, "Decision",
                         "What a Python strategy sees at a decision point. One object is reused for every\n"
                         "call: read it during the callback only (book and position values are live).")
      .def_readonly("instrument_id", &PyDecision::instrument_id)
      .def_readonly("ts_ns", &PyDecision::ts_ns)
      .def_readonly("decision", &PyDecision::decision, "Composite decision: +1, -1 or 0.")
      .def_property_readonly("composite",
                             [](const PyDecision& d) {
                               return d.has_composite ? py::object(py::float_(d.composite)) : py::object(py::none());
                             },
                             "Composite value, or None when a weighted feature has no value.")
      .def_property_readonly("best_bid", [](const PyDecision& d) { return best_tuple(live(d).engine->books()[d.instrument_id], Side::kBid); },
                             "(px_ticks, qty_lots) or None.")
      .def_property_readonly("best_ask", [](const PyDecision& d) { return best_tuple(live(d).engine->books()[d.instrument_id], Side::kAsk); },
                             "(px_ticks, qty_lots) or None.")
      .def_property_readonly("net_lots", [](const PyDecision& d) { return live(d).engine->positions().net_lots(d.instrument_id); })
      .def_property_readonly("open_orders", [](const PyDecision& d) { return live(d).engine->risk().open_orders(d.instrument_id); })
      .def(
          "feature",
          [](const PyDecision& d, const std::string& name) {
            fastcore::signal::Feature feature{};
            if (!fastcore::signal::try_parse_feature(name, feature)) throw py::key_error("unknown feature '" + name + "'");
            return optional_float(live(d).engine->signals()[d.instrument_id].get(feature));
          },
          py::arg("name"), "A feature's value (see rentrade.SIGNAL_FEATURES), or None.");

  py::class_<EngineStore, std::shared_ptr<EngineStore>>(m, "Engine", kEngineDoc)
      .def(py::init([](const std::vector<Instrument>& instruments, const py::object& strategy,
                       const std::map<std::string, double>& weights, double threshold, const std::string& mode,
                       std::int64_t mid_half_life_ns, std::int64_t vol_half_life_ns, std::int64_t flow_half_life_ns,
                       std::int64_t depth_levels, std::int64_t stop_distance, std::int64_t take_profit_distance,
                       std::int64_t reward_ratio, const std::string& distance_unit, std::int64_t qty_lots,
                       const py::object& budget, std::int64_t stop_slippage_ticks, bool market_stop,
                       std::int64_t order_capacity, std::int64_t intent_capacity, std::int64_t max_levels, bool timing,
                       std::int64_t timing_sample, bool wall_clock) {
             if (instruments.empty()) throw py::value_error("Engine needs at least one instrument");
             if (order_capacity < 1 || order_capacity > Engine::kMaxOrderCapacity) {
               throw py::value_error("order_capacity must be between 1 and " + std::to_string(Engine::kMaxOrderCapacity));
             }
             if (intent_capacity < 1 || intent_capacity > (std::int64_t{1} << 26)) {
               throw py::value_error("intent_capacity must be between 1 and 2**26");
             }
             if (max_levels < 1 || max_levels > UINT32_MAX) throw py::value_error("max_levels must be >= 1");
             if (timing_sample < 1 || timing_sample > UINT32_MAX) throw py::value_error("timing_sample must be >= 1");
             if (depth_levels < 1 || depth_levels > fastcore::signal::kMaxDepthLevels) {
               throw py::value_error("depth_levels must be between 1 and " +
                                     std::to_string(fastcore::signal::kMaxDepthLevels));
             }
             auto store = std::make_shared<EngineStore>();
             store->instruments = instruments;
             EngineConfig config;
             config.features = {mid_half_life_ns, vol_half_life_ns, flow_half_life_ns,
                                static_cast<std::uint32_t>(depth_levels)};
             if (fastcore::signal::validate(config.features) != fastcore::signal::SignalError::kOk) {
               throw py::value_error(std::string("Engine: ") +
                                     fastcore::signal::describe(fastcore::signal::validate(config.features)));
             }
             config.order_capacity = static_cast<std::uint32_t>(order_capacity);
             config.intent_capacity = static_cast<std::uint32_t>(intent_capacity);
             config.max_levels_per_side = static_cast<std::uint32_t>(max_levels);
             config.timing = timing;
             config.timing_sample = static_cast<std::uint32_t>(timing_sample);
             config.wall_clock = wall_clock;

             fastcore::engine::Strategy* chosen = nullptr;
             if (py::isinstance<py::str>(strategy)) {
               const auto name = strategy.cast<std::string>();
               if (name == "bracket") {
                 BracketConfig bracket;
                 if (distance_unit == "ticks") {
                   bracket.unit = fastcore::engine::DistanceUnit::kTicks;
                 } else if (distance_unit == "bps") {
                   bracket.unit = fastcore::engine::DistanceUnit::kBps;
                 } else {
                   throw py::value_error("distance_unit must be 'ticks' or 'bps', got '" + distance_unit + "'");
                 }
                 bracket.stop_distance = stop_distance;
                 bracket.take_profit_distance = take_profit_distance;
                 bracket.reward_ratio = reward_ratio;
                 bracket.fixed_qty_lots = qty_lots;
                 if (!budget.is_none()) bracket.budget = parse_budget(budget);
                 bracket.stop_slippage_ticks = stop_slippage_ticks;
                 bracket.market_stop = market_stop;
                 store->bracket = std::make_unique<BracketStrategy>();
                 const auto error = store->bracket->try_configure(bracket);
                 if (error != fastcore::engine::BracketError::kOk) {
                   throw py::value_error(std::string("bracket strategy: ") + fastcore::engine::describe(error));
                 }
                 chosen = store->bracket.get();
               } else if (name != "none") {
                 throw py::value_error("strategy must be 'bracket', 'none' or a callable, got '" + name + "'");
               }
             } else if (PyCallable_Check(strategy.ptr()) != 0) {
               store->callback = std::make_unique<PyCallbackStrategy>(py::reinterpret_borrow<py::function>(strategy));
               chosen = store->callback.get();
             } else {
               throw py::type_error("strategy must be 'bracket', 'none' or a callable");
             }
             store->books = std::make_shared<BookStore>(instruments, config.max_levels_per_side);
             check_engine(store->engine->try_init(instruments, config, chosen, &store->books->books), "Engine");
             configure_composite(store->engine->composite(), weights, threshold, mode);
             return store;
           }),
           py::arg("instruments"), py::kw_only(), py::arg("strategy") = "bracket",
           py::arg("weights") = std::map<std::string, double>{}, py::arg("threshold") = 1.0,
           py::arg("mode") = "clamped", py::arg("mid_half_life_ns") = fastcore::signal::FeatureConfig{}.mid_half_life_ns,
           py::arg("vol_half_life_ns") = fastcore::signal::FeatureConfig{}.vol_half_life_ns,
           py::arg("flow_half_life_ns") = fastcore::signal::FeatureConfig{}.flow_half_life_ns,
           py::arg("depth_levels") = fastcore::signal::FeatureConfig{}.depth_levels, py::arg("stop_distance") = 10,
           py::arg("take_profit_distance") = 0, py::arg("reward_ratio") = 2, py::arg("distance_unit") = "ticks",
           py::arg("qty_lots") = 0, py::arg("budget") = py::none(), py::arg("stop_slippage_ticks") = 0,
           py::arg("market_stop") = false, py::arg("order_capacity") = 1 << 16, py::arg("intent_capacity") = 1 << 16,
           py::arg("max_levels") = fastcore::book::Book::kDefaultMaxLevels, py::arg("timing") = true,
           py::arg("timing_sample") = 1, py::arg("wall_clock") = false, kInitDoc)
      .def("__len__", [](const EngineStore& s) { return s.instruments.size(); })
      .def_property_readonly("instruments", [](const EngineStore& s) { return s.instruments; })
      .def_property_readonly("venues", [](const EngineStore& s) { return s.engine->risk().venues(); })
      .def_property_readonly("scale", [](const EngineStore& s) { return s.engine->risk().scale(); },
                             "Decimals of the money unit of P&L and limits (10^-scale of the quote currency).")
      .def(
          "on_events",
          [](EngineStore& s, const py::array& events) {
            const BusyGuard guard(s, "on_events");
            for_event_chunks(events, [&](std::span<const Event> chunk, std::size_t first) {
              const auto result = s.engine->try_on_events(chunk);
              if (result.error != EngineError::kOk) {
                s.rethrow_callback();
                const Event& bad = chunk[result.applied];
                const std::string where = bad.instrument_id < s.instruments.size()
                                              ? describe_instrument(s.instruments[bad.instrument_id])
                                              : "instrument_id " + std::to_string(bad.instrument_id);
                const std::string why = result.error == EngineError::kBadEvent
                                            ? fastcore::book::describe(result.book_error)
                                            : fastcore::engine::describe(result.error);
                throw BookErrorException("event " + std::to_string(first + result.applied) + " refused (" + where +
                                         "): " + why +
                                         "; events before it were applied and their intents are buffered "
                                         "(take_intents())");
              }
              return true;
            });
            s.rethrow_callback();
            return take_intents(s);
          },
          py::arg("events"),
          "Applies an array of rentrade.events.EVENT_DTYPE in order (zero-copy when 64-byte aligned) and\n"
          "returns the intents decided (INTENT_DTYPE). Raises BookError at the first refused event, and the\n"
          "callback's exception when a Python strategy raised; intents decided before either stay buffered\n"
          "for take_intents().")
      .def(
          "on_reports",
          [](EngineStore& s, const py::array& reports) {
            const BusyGuard guard(s, "on_reports");
            for_record_chunks<ExecutionReport>(reports, report_dtype(), "reports",
                                               [&](std::span<const ExecutionReport> chunk, std::size_t first) {
                                                 const auto result = s.engine->try_on_reports(chunk);
                                                 if (result.error != EngineError::kOk) {
                                                   throw EngineErrorException(
                                                       "report " + std::to_string(first + result.applied) + ": " +
                                                       fastcore::engine::describe(result.error) +
                                                       "; reports before it were applied and their intents are "
                                                       "buffered (take_intents())");
                                                 }
                                                 return true;
                                               });
            return take_intents(s);
          },
          py::arg("reports"),
          "Applies an array of rentrade.orders.REPORT_DTYPE (ack, reject, fill, cancelled) and returns the\n"
          "intents they caused. Reports about unknown order ids are counted (counters['unknown_reports']) and\n"
          "skipped; a malformed report raises EngineError.")
      .def("take_intents", [](EngineStore& s) {
             const BusyGuard guard(s, "take_intents");
             return take_intents(s);
           }, "Intents buffered since the last call (INTENT_DTYPE), and clears them.")
      .def(
          "set_state",
          [](EngineStore& s, TradingState state, std::optional<std::int64_t> instrument_id, const py::object& venue) {
            const auto [scope, id] = scope_of(s, instrument_id, venue);
            check_engine(s.engine->try_set_state(scope, id, state), "set_state");
            return take_intents(s);
          },
          py::arg("state"), py::kw_only(), py::arg("instrument_id") = py::none(), py::arg("venue") = py::none(),
          "Kill switch: sets the trading state of an instrument, a venue (name or id) or everything (neither);\n"
          "HALTED returns cancel intents for every working order in scope (with any other buffered intents).")
      .def(
          "halt",
          [](EngineStore& s, std::optional<std::int64_t> instrument_id, const py::object& venue) {
            const auto [scope, id] = scope_of(s, instrument_id, venue);
            check_engine(s.engine->try_set_state(scope, id, TradingState::kHalted), "halt");
            return take_intents(s);
          },
          py::kw_only(), py::arg("instrument_id") = py::none(), py::arg("venue") = py::none(),
          "set_state(HALTED, ...): returns the cancel intents.")
      .def(
          "state",
          [](const EngineStore& s, std::optional<std::int64_t> instrument_id, const py::object& venue) {
            const auto [scope, id] = scope_of(s, instrument_id, venue);
            return s.engine->risk().state(scope, id);
          },
          py::kw_only(), py::arg("instrument_id") = py::none(), py::arg("venue") = py::none(),
          "The state set by set_state/halt at that scope (loss limits not included).")
      .def(
          "effective_state",
          [](const EngineStore& s, std::int64_t instrument_id) {
            return s.engine->risk().effective_state(checked_id(s, instrument_id));
          },
          py::arg("instrument_id"), "Most restrictive of global, venue and instrument states, loss limits included.")
      .def(
          "set_resyncing",
          [](EngineStore& s, std::int64_t instrument_id, bool resyncing) {
            check_engine(s.engine->try_set_resyncing(checked_id(s, instrument_id), resyncing), "set_resyncing");
          },
          py::arg("instrument_id"), py::arg("resyncing") = true,
          "Marks a book as being resynchronised: new orders on it are refused (BOOK_RESYNCING) until cleared.")
      .def("resyncing", [](const EngineStore& s, std::int64_t id) { return s.engine->resyncing(checked_id(s, id)); },
           py::arg("instrument_id"))
      .def("reset_day", [](EngineStore& s) { s.engine->reset_day(); },
           "New trading day: day P&L counts from here; loss-driven states back to ACTIVE.")
      .def_property_readonly(
          "books", [](const EngineStore& s) { return s.books; },
          "The engine's books as a rentrade.BookSet (shared, live). Read it; feed events through on_events.")
      .def_property_readonly(
          "risk", [](const py::object& self) {
            auto& s = self.cast<EngineStore&>();
            return make_risk_view(s.engine->risk(), s.instruments, self);
          },
          "The engine's pre-trade risk as a rentrade.Risk view: set limits and read state there; its order\n"
          "lifecycle and state calls raise RiskError (the engine drives them).")
      .def(
          "features",
          [](const EngineStore& s, std::int64_t instrument_id) {
            const auto& state = s.engine->signals()[checked_id(s, instrument_id)];
            py::dict out;
            for (std::size_t i = 0; i < fastcore::signal::kFeatureCount; ++i) {
              const auto feature = static_cast<fastcore::signal::Feature>(i);
              out[fastcore::signal::feature_name(feature)] = optional_float(state.get(feature));
            }
            return out;
          },
          py::arg("instrument_id"), "Feature name -> value (None when it has none) of one instrument.")
      .def(
          "composite",
          [](const EngineStore& s, std::int64_t instrument_id) {
            const auto value = s.engine->composite().evaluate(s.engine->signals()[checked_id(s, instrument_id)]);
            return py::make_tuple(value.has_value ? py::object(py::float_(value.value)) : py::object(py::none()),
                                  static_cast<int>(value.decision));
          },
          py::arg("instrument_id"), "(composite value or None, decision -1/0/+1) of one instrument now.")
      .def_property_readonly("threshold", [](const EngineStore& s) { return s.engine->composite().threshold(); })
      .def_property_readonly("weights",
                             [](const EngineStore& s) {
                               py::dict out;
                               for (std::size_t i = 0; i < fastcore::signal::kFeatureCount; ++i) {
                                 const auto feature = static_cast<fastcore::signal::Feature>(i);
                                 const double w = s.engine->composite().weight(feature);
                                 if (w != 0.0) out[fastcore::signal::feature_name(feature)] = w;
                               }
                               return out;
                             })
      .def(
          "position",
          [](const EngineStore& s, std::int64_t instrument_id) {
            const std::uint32_t id = checked_id(s, instrument_id);
            const auto& p = s.engine->positions()[id];
            const std::int32_t scale = s.engine->positions().scale();
            auto money = [&](__int128 tick_lots) {
              __int128 units = 0;
              if (s.engine->positions().try_to_notional(id, tick_lots, units) != fastcore::position::PositionError::kOk ||
                  s.engine->positions().try_to_book_units(id, units, units) != fastcore::position::PositionError::kOk) {
                throw EngineErrorException("position value overflows 128 bits");
              }
              return make_decimal(units, scale);
            };
            auto fees = [&](__int128 notional_units) {
              __int128 units = 0;
              if (s.engine->positions().try_to_book_units(id, notional_units, units) != fastcore::position::PositionError::kOk) {
                throw EngineErrorException("fee overflows 128 bits");
              }
              return make_decimal(units, scale);
            };
            py::dict out;
            out["net_lots"] = p.net_lots();
            out["avg_entry_px_ticks"] = p.avg_entry_px_ticks();
            out["realized"] = money(p.realized_tl());
            out["maker_fees"] = fees(p.maker_fee_units());
            out["taker_fees"] = fees(p.taker_fee_units());
            out["fills"] = p.fills();
            std::int64_t mark = 0;
            if (p.net_lots() != 0 && s.engine->positions().mark(id, mark)) {
              __int128 unrealized = 0;
              if (p.try_unrealized_tl(mark, unrealized) != fastcore::position::PositionError::kOk) {
                throw EngineErrorException("unrealized P&L overflows 128 bits");
              }
              out["mark_px_ticks"] = mark;
              out["unrealized"] = money(unrealized);
            } else {
              out["mark_px_ticks"] = py::none();
              out["unrealized"] = make_decimal(0, scale);
            }
            return out;
          },
          py::arg("instrument_id"),
          "Net lots, average entry, realized/unrealized P&L (at the engine's mark: floor of mid) and fees\n"
          "(decimal.Decimal, quote currency) of one instrument.")
      .def(
          "day_pnl",
          [](const EngineStore& s, const py::object& venue) {
            const int id = venue.is_none() ? -1 : static_cast<int>(venue_id(s, venue));
            return make_decimal(s.engine->day_pnl(id), s.engine->risk().scale());
          },
          py::kw_only(), py::arg("venue") = py::none(),
          "Day P&L (realized + unrealized - fees) fed to the loss limits, of one venue or everything.")
      .def_property_readonly(
          "counters",
          [](const EngineStore& s) {
            const auto& c = s.engine->counters();
            py::dict out;
            out["events"] = c.events;
            out["messages"] = c.messages;
            out["intents"] = c.intents;
            out["new_orders"] = c.new_orders;
            out["cancels"] = c.cancels;
            out["replaces"] = c.replaces;
            out["risk_refusals"] = c.risk_refusals;
            out["output_full"] = c.output_full;
            out["reports"] = c.reports;
            out["fills"] = c.fills;
            out["duplicate_fills"] = c.duplicate_fills;
            out["late_fills"] = c.late_fills;
            out["unknown_reports"] = c.unknown_reports;
            out["working_orders"] = s.engine->risk().working_orders();
            out["strategy_calls"] = s.callback ? s.callback->calls() : 0;
            return out;
          },
          "What the engine has done so far (events, messages, intents by kind, refusals, fills, ...).")
      .def_property_readonly(
          "refusals",
          [](const EngineStore& s) {
            py::dict out;
            const auto reason_type = py::module_::import("rentrade._fastcore").attr("RiskReason");
            const auto& by_reason = s.engine->counters().refusals_by_reason;
            for (std::size_t i = 0; i < by_reason.size(); ++i) {
              if (by_reason[i] != 0) out[reason_type(i)] = by_reason[i];
            }
            return out;
          },
          "RiskReason -> orders the risk check refused for it (only reasons seen).")
      .def(
          "bracket",
          [](const EngineStore& s, std::int64_t instrument_id) {
            if (!s.bracket) throw EngineErrorException("the engine does not run the bracket strategy");
            const auto& slot = s.bracket->slot(checked_id(s, instrument_id));
            py::dict out;
            out["phase"] = phase_name(slot.phase);
            out["direction"] = static_cast<int>(slot.direction);
            out["entry_order_id"] = slot.entry_id;
            out["take_profit_order_id"] = slot.tp_id;
            out["exit_order_id"] = slot.exit_id;
            out["take_profit_px_ticks"] = slot.tp_px_ticks;
            out["stop_px_ticks"] = slot.stop_px_ticks;
            return out;
          },
          py::arg("instrument_id"), "The bracket strategy's state of one instrument.")
      .def_property_readonly("bracket_counters",
                             [](const EngineStore& s) {
                               if (!s.bracket) throw EngineErrorException("the engine does not run the bracket strategy");
                               const auto& c = s.bracket->counters();
                               py::dict out;
                               out["entries"] = c.entries;
                               out["entry_refusals"] = c.entry_refusals;
                               out["sizing_skips"] = c.sizing_skips;
                               out["take_profits"] = c.take_profits;
                               out["stops"] = c.stops;
                               out["stop_exits"] = c.stop_exits;
                               return out;
                             })
      .def(
          "order",
          [](const EngineStore& s, std::uint64_t order_id) -> py::object {
            const WorkingOrder* o = s.engine->find_order(order_id);
            if (o == nullptr) return py::none();
            py::dict out;
            out["order_id"] = o->order_id;
            out["instrument_id"] = o->instrument_id;
            out["side"] = o->side;
            out["px_ticks"] = o->px_ticks;
            out["qty_lots"] = o->qty_lots;
            out["leaves_lots"] = o->leaves_lots;
            out["acked"] = o->acked;
            out["cancel_sent"] = o->cancel_sent;
            out["reduce_only"] = o->reduce_only;
            out["tag"] = o->tag;
            return out;
          },
          py::arg("order_id"), "A working order by client order id, or None when it is not working.")
      .def(
          "histogram",
          [](const EngineStore& s, const std::string& stage) { return s.engine->histogram(parse_stage(stage)); },
          py::arg("stage"), "A copy of one stage's latency histogram (ns); stages in rentrade._fastcore.ENGINE_STAGES.")
      .def("reset_histograms", [](EngineStore& s) { s.engine->reset_histograms(); })
      .def_property(
          "timing", [](const EngineStore& s) { return s.engine->timing(); },
          [](EngineStore& s, bool on) { s.engine->set_timing(on); }, "Record the stage histograms.")
      .def_property(
          "timing_sample", [](const EngineStore& s) { return s.engine->timing_sample(); },
          [](EngineStore& s, std::int64_t every) {
            if (every < 1 || every > UINT32_MAX) throw py::value_error("timing_sample must be >= 1");
            s.engine->set_timing_sample(static_cast<std::uint32_t>(every));
          },
          "Time one message in this many (orders and fills are always timed).")
      .def_property(
          "decision_gates", [](const EngineStore& s) { return s.engine->decision_gates(); },
          [](EngineStore& s, bool on) { s.engine->set_decision_gates(on); },
          "Skip the strategy at decision points its gate keeps closed (the built-in strategy: no new\n"
          "crossing, stop not touched); False calls it at every one (same intents, trades and P&L).");
}

}  // namespace rentrade_bindings

namespace rentrade_bindings {

EngineHandle engine_handle(py::handle object) {
  if (!py::isinstance<EngineStore>(object)) return {};
  auto store = object.cast<std::shared_ptr<EngineStore>>();
  EngineHandle handle;
  handle.engine = store->engine.get();
  handle.rethrow = [raw = store.get()] { raw->rethrow_callback(); };
  handle.owner = std::move(store);
  return handle;
}

}  // namespace rentrade_bindings
