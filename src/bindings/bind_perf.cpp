// Latency tools for `rentrade bench`: the core's histogram and in-core measurement loops.
#include "book_store.hpp"
#include "fastcore/perf/book_latency.hpp"

namespace rentrade_bindings {

void bind_perf(py::module_& m) {
  using fastcore::common::Histogram;
  py::class_<Histogram>(m, "Histogram",
                        "Log-linear latency histogram: exact below 128 ns, then within 1/64 of the value.")
      .def(py::init<>())
      .def("record", &Histogram::record, py::arg("value_ns"))
      .def("percentile", &Histogram::percentile, py::arg("percent"),
           "Upper bound of the bucket holding the given percentile (never understates); max is exact.")
      .def_property_readonly("count", &Histogram::count)
      .def_property_readonly("min", &Histogram::min)
      .def_property_readonly("max", &Histogram::max)
      .def_property_readonly("mean", &Histogram::mean);

  using fastcore::perf::LatencyRun;
  py::class_<LatencyRun>(m, "LatencyRun", "Result of measure_book_apply.")
      .def_readonly("histogram", &LatencyRun::histogram)
      .def_readonly("timed_ops", &LatencyRun::timed_ops)
      .def_readonly("throughput_ops", &LatencyRun::throughput_ops)
      .def_readonly("throughput_ns", &LatencyRun::throughput_ns)
      .def_readonly("timer_overhead_ns", &LatencyRun::timer_overhead_ns)
      .def_readonly("run_histogram", &LatencyRun::run_histogram,
                    "Per-update ns of runs of consecutive updates timed together (run time / updates).")
      .def_readonly("run_updates", &LatencyRun::run_updates)
      .def_readonly("per_update_in_runs_ns", &LatencyRun::per_update_in_runs_ns);

  m.def(
      "measure_book_apply",
      [](BookStore& store, const py::array& events, int passes) {
        if (passes < 0) throw py::value_error("passes must be >= 0");
        check_event_array(events);
        if (reinterpret_cast<std::uintptr_t>(events.data()) % alignof(fastcore::common::Event) != 0) {
          throw py::value_error("events must be 64-byte aligned: make them with rentrade.events.empty_events");
        }
        const fastcore::common::CycleClock clock;
        const auto* data = static_cast<const fastcore::common::Event*>(events.data());
        LatencyRun run = fastcore::perf::measure_book_apply(
            store.books, std::span(data, static_cast<std::size_t>(events.shape(0))), passes, clock);
        if (run.error != fastcore::book::ApplyError::kOk) {
          throw BookErrorException(std::string("measure_book_apply: an event was refused: ") +
                                   fastcore::book::describe(run.error));
        }
        return run;
      },
      py::arg("books"), py::arg("events"), py::arg("passes") = 3,
      "Applies `events` to `books` once with each level update timed alone in the core (cycle counter,\n"
      "timer overhead subtracted), then `passes` times untimed for throughput.");
}

}  // namespace rentrade_bindings
