// rentrade.Signals (incremental per-instrument features and a weighted composite) and the in-core
// signal-update latency loop.
#include <pybind11/stl.h>

#include <map>
#include <optional>
#include <string>

#include "book_store.hpp"
#include "bindings.hpp"
#include "fastcore/perf/signal_latency.hpp"
#include "fastcore/signal/features.hpp"

namespace rentrade_bindings {
namespace {

using fastcore::book::ApplyError;
using fastcore::common::Event;
using fastcore::signal::Composite;
using fastcore::signal::CompositeMode;
using fastcore::signal::Feature;
using fastcore::signal::FeatureConfig;
using fastcore::signal::FeatureState;
using fastcore::signal::kFeatureCount;
using fastcore::signal::SignalError;
using fastcore::signal::SignalSet;

/// One SignalSet plus the composite evaluated on it.
struct SignalStore {
  SignalStore(std::size_t count, const FeatureConfig& config) : signals(count, config) {}
  SignalSet signals;
  Composite composite;
};

void check(SignalError error, const std::string& context) {
  if (error != SignalError::kOk) throw py::value_error(context + ": " + fastcore::signal::describe(error));
}

Feature parse_feature(const std::string& name) {
  Feature out{};
  if (!fastcore::signal::try_parse_feature(name, out)) {
    std::string known;
    for (std::size_t i = 0; i < kFeatureCount; ++i) {
      if (i != 0) known += ", ";
      known += fastcore::signal::feature_name(static_cast<Feature>(i));
    }
    throw py::key_error("unknown feature '" + name + "' (known: " + known + ")");
  }
  return out;
}

CompositeMode parse_mode(const std::string& mode) {
  if (mode == "clamped") return CompositeMode::kClamped;
  if (mode == "raw") return CompositeMode::kRaw;
  throw py::value_error("mode must be 'clamped' (weighted sum clamped to [-1, 1]) or 'raw', got '" + mode + "'");
}

/// Replaces every weight: features not named get weight 0. Atomic: on error nothing changes.
void set_weights(Composite& composite, const std::map<std::string, double>& weights) {
  Composite next = composite;
  for (std::size_t i = 0; i < kFeatureCount; ++i) (void)next.try_set_weight(static_cast<Feature>(i), 0.0);
  for (const auto& [name, weight] : weights) {
    check(next.try_set_weight(parse_feature(name), weight), "weight of '" + name + "'");
  }
  composite = next;
}

std::uint32_t checked_id(const SignalStore& store, std::int64_t id) {
  if (id < 0 || static_cast<std::size_t>(id) >= store.signals.size()) {
    throw py::index_error("instrument id " + std::to_string(id) + " out of range (0.." +
                          std::to_string(store.signals.size() - 1) + ")");
  }
  return static_cast<std::uint32_t>(id);
}

py::object optional_float(std::optional<double> value) {
  return value ? py::object(py::float_(*value)) : py::object(py::none());
}

std::int8_t decision_of(const SignalStore& store, std::int64_t id) {
  return store.composite.evaluate(store.signals[checked_id(store, id)]).decision;
}

}  // namespace

void configure_composite(Composite& composite, const std::map<std::string, double>& weights, double threshold,
                         const std::string& mode) {
  Composite next = composite;
  set_weights(next, weights);
  check(next.try_set_threshold(threshold), "threshold");
  next.set_mode(parse_mode(mode));
  composite = next;
}

void bind_signal(py::module_& m) {
  m.attr("SIGNAL_FEATURES") = [] {
    py::list names;
    for (std::size_t i = 0; i < kFeatureCount; ++i) names.append(fastcore::signal::feature_name(static_cast<Feature>(i)));
    return py::tuple(names);
  }();

  py::class_<SignalStore, std::shared_ptr<SignalStore>>(
      m, "Signals",
      "Incremental signal features per instrument (ids as in a BookSet) and a weighted composite.\n"
      "Half-lives are in ns of event time; features without a value (empty side, crossed book, nothing\n"
      "traded yet) read as None and make a composite that weights them have no value (decision 0).")
      .def(py::init([](std::int64_t instruments, std::int64_t mid_half_life_ns, std::int64_t vol_half_life_ns,
                       std::int64_t flow_half_life_ns, std::int64_t depth_levels,
                       const std::map<std::string, double>& weights, double threshold, const std::string& mode) {
             if (instruments < 1 || instruments > UINT32_MAX) throw py::value_error("instruments must be >= 1");
             if (depth_levels < 1 || depth_levels > fastcore::signal::kMaxDepthLevels) {
               check(SignalError::kBadDepth, "Signals");
             }
             const FeatureConfig config{mid_half_life_ns, vol_half_life_ns, flow_half_life_ns,
                                        static_cast<std::uint32_t>(depth_levels)};
             check(fastcore::signal::validate(config), "Signals");
             auto store = std::make_shared<SignalStore>(static_cast<std::size_t>(instruments), config);
             set_weights(store->composite, weights);
             check(store->composite.try_set_threshold(threshold), "Signals");
             store->composite.set_mode(parse_mode(mode));
             return store;
           }),
           py::arg("instruments"), py::kw_only(), py::arg("mid_half_life_ns") = FeatureConfig{}.mid_half_life_ns,
           py::arg("vol_half_life_ns") = FeatureConfig{}.vol_half_life_ns,
           py::arg("flow_half_life_ns") = FeatureConfig{}.flow_half_life_ns,
           py::arg("depth_levels") = FeatureConfig{}.depth_levels, py::arg("weights") = std::map<std::string, double>{},
           py::arg("threshold") = 1.0, py::arg("mode") = "clamped")
      .def("__len__", [](const SignalStore& s) { return s.signals.size(); })
      .def_property_readonly("mid_half_life_ns", [](const SignalStore& s) { return s.signals[0].config().mid_half_life_ns; })
      .def_property_readonly("vol_half_life_ns", [](const SignalStore& s) { return s.signals[0].config().vol_half_life_ns; })
      .def_property_readonly("flow_half_life_ns", [](const SignalStore& s) { return s.signals[0].config().flow_half_life_ns; })
      .def_property_readonly("depth_levels", [](const SignalStore& s) { return s.signals[0].config().depth_levels; })
      .def_property(
          "weights",
          [](const SignalStore& s) {
            py::dict out;
            for (std::size_t i = 0; i < kFeatureCount; ++i) {
              const double w = s.composite.weight(static_cast<Feature>(i));
              if (w != 0.0) out[fastcore::signal::feature_name(static_cast<Feature>(i))] = w;
            }
            return out;
          },
          [](SignalStore& s, const std::map<std::string, double>& weights) { set_weights(s.composite, weights); },
          "Non-zero composite weights by feature name; assigning replaces them all (unnamed -> 0).")
      .def_property(
          "threshold", [](const SignalStore& s) { return s.composite.threshold(); },
          [](SignalStore& s, double t) { check(s.composite.try_set_threshold(t), "threshold"); },
          "Entry threshold: decision +1 when composite >= threshold, -1 when <= -threshold.")
      .def_property(
          "mode", [](const SignalStore& s) { return s.composite.mode() == CompositeMode::kRaw ? "raw" : "clamped"; },
          [](SignalStore& s, const std::string& mode) { s.composite.set_mode(parse_mode(mode)); })
      .def(
          "update_book",
          [](SignalStore& s, std::int64_t id, const OrderBookView& book, std::optional<std::int64_t> ts_ns) {
            const fastcore::book::Book& b = book.book();
            s.signals[checked_id(s, id)].on_book(b, ts_ns.value_or(b.ts_exchange_ns() != 0 ? b.ts_exchange_ns() : b.ts_local_ns()));
          },
          py::arg("instrument_id"), py::arg("book"), py::arg("ts_ns") = py::none(),
          "Updates instrument_id's book features from `book` (consistent: after a whole message) as of ts_ns\n"
          "(default: the book's exchange timestamp, else its local one).")
      .def(
          "update_trade",
          [](SignalStore& s, std::int64_t id, py::handle aggressor, std::int64_t qty_lots, std::int64_t ts_ns) {
            if (qty_lots <= 0) throw py::value_error("qty_lots must be > 0, got " + std::to_string(qty_lots));
            Event e{};
            e.kind = fastcore::common::EventKind::kTrade;
            e.side = parse_side(aggressor);
            e.qty_lots = qty_lots;
            e.ts_exchange_ns = ts_ns;
            e.ts_local_ns = ts_ns;
            s.signals[checked_id(s, id)].on_trade(e);
          },
          py::arg("instrument_id"), py::arg("aggressor"), py::arg("qty_lots"), py::arg("ts_ns"),
          "Adds one trade to the flow; aggressor BID/'buy' means a buyer took the ask.")
      .def(
          "apply_events",
          [](SignalStore& s, const py::array& events, BookStore& books) {
            std::size_t applied = 0;
            for_event_chunks(events, [&](std::span<const Event> chunk, std::size_t first) {
              for (const Event& event : chunk) {
                const std::uint32_t id = event.instrument_id;
                ApplyError error = ApplyError::kOk;
                std::int64_t old_qty = -1;  // the level's size before the event (the signal's top-N sums)
                if (id >= books.books.size() || id >= s.signals.size()) {
                  error = ApplyError::kUnknownBook;
                } else {
                  error = books.books[id].try_apply(event, old_qty);
                }
                if (error != ApplyError::kOk) {
                  throw BookErrorException("event " + std::to_string(first + applied) + " refused (instrument_id " +
                                           std::to_string(id) + "): " + fastcore::book::describe(error) +
                                           "; events before it were applied");
                }
                (void)s.signals.on_event(event, books.books[id], old_qty);
                ++applied;
              }
              return true;
            });
            return applied;
          },
          py::arg("events"), py::arg("books"),
          "Applies each event to its book in `books` and updates the signals: trades feed the flow, an event\n"
          "flagged FLAG_LAST_IN_MESSAGE updates the book features. Returns the number applied; raises\n"
          "BookError at the first refused event (those before it were applied).")
      .def(
          "feature",
          [](const SignalStore& s, std::int64_t id, const std::string& name) {
            return optional_float(s.signals[checked_id(s, id)].get(parse_feature(name)));
          },
          py::arg("instrument_id"), py::arg("name"), "One feature's value, or None when it has none.")
      .def(
          "features",
          [](const SignalStore& s, std::int64_t id) {
            const FeatureState& state = s.signals[checked_id(s, id)];
            py::dict out;
            for (std::size_t i = 0; i < kFeatureCount; ++i) {
              out[fastcore::signal::feature_name(static_cast<Feature>(i))] = optional_float(state.get(static_cast<Feature>(i)));
            }
            return out;
          },
          py::arg("instrument_id"), "Every feature by name: float, or None when it has no value.")
      .def(
          "composite",
          [](const SignalStore& s, std::int64_t id) {
            const auto v = s.composite.evaluate(s.signals[checked_id(s, id)]);
            return v.has_value ? std::optional<double>(v.value) : std::nullopt;
          },
          py::arg("instrument_id"), "Weighted sum of the features (clamped in 'clamped' mode), or None.")
      .def("decision", &decision_of, py::arg("instrument_id"),
           "Entry decision: +1 (long), -1 (short) or 0 (flat, also when the composite has no value).")
      .def(
          "book_updates", [](const SignalStore& s, std::int64_t id) { return s.signals[checked_id(s, id)].book_updates(); },
          py::arg("instrument_id"), "Book updates seen with a sane book (both sides, not crossed).")
      .def(
          "trades", [](const SignalStore& s, std::int64_t id) { return s.signals[checked_id(s, id)].trades(); },
          py::arg("instrument_id"), "Trades added to the flow.")
      .def(
          "reset",
          [](SignalStore& s, std::optional<std::int64_t> id) {
            if (id) {
              s.signals[checked_id(s, *id)].reset();
              return;
            }
            for (std::size_t i = 0; i < s.signals.size(); ++i) s.signals[i].reset();
          },
          py::arg("instrument_id") = py::none(), "Forgets the values of one instrument (or all); settings stay.");

  m.def(
      "measure_signal_update",
      [](BookStore& books, SignalStore& signals, const py::array& events, int passes) {
        if (passes < 0) throw py::value_error("passes must be >= 0");
        check_event_array(events);
        if (reinterpret_cast<std::uintptr_t>(events.data()) % alignof(Event) != 0) {
          throw py::value_error("events must be 64-byte aligned: make them with rentrade.events.empty_events");
        }
        const fastcore::common::CycleClock clock;
        const auto* data = static_cast<const Event*>(events.data());
        std::uint64_t decisions = 0;
        fastcore::perf::LatencyRun run = fastcore::perf::measure_signal_update(
            books.books, signals.signals, signals.composite, std::span(data, static_cast<std::size_t>(events.shape(0))),
            passes, clock, decisions);
        if (run.error != ApplyError::kOk) {
          throw BookErrorException(std::string("measure_signal_update: an event was refused: ") +
                                   fastcore::book::describe(run.error));
        }
        return py::make_tuple(run, decisions);
      },
      py::arg("books"), py::arg("signals"), py::arg("events"), py::arg("passes") = 3,
      "Applies `events` to `books` (untimed) and times all the signal's work for one message in the core as\n"
      "one sample: each level event's note (its previous size reported by the untimed book update), then\n"
      "after the FLAG_LAST_IN_MESSAGE event the book features plus one composite evaluation; a trade's flow\n"
      "update is its own sample (cycle counter,\n"
      "each piece timed alone, timer overhead subtracted per piece); then `passes` times untimed for\n"
      "throughput, book updates included. Returns (LatencyRun, non-zero decisions seen).");
}

}  // namespace rentrade_bindings
