// rentrade._fastcore: the compiled core as seen from Python.
#include <pybind11/native_enum.h>

#include <cctype>
#include <cstdlib>
#include <cstring>

#include "bindings.hpp"

namespace rentrade_bindings {

py::dtype event_dtype() {
  PYBIND11_CONSTINIT static py::gil_safe_call_once_and_store<py::object> storage;
  return storage
      .call_once_and_store_result([] { return py::module_::import("rentrade.events").attr("EVENT_DTYPE"); })
      .get_stored()
      .cast<py::dtype>();
}

void check_event_array(const py::array& array) {
  if (array.ndim() != 1) throw py::value_error("events must be a 1-D array of rentrade.events.EVENT_DTYPE");
  if (!py::bool_(array.dtype().attr("__eq__")(event_dtype()))) {
    throw py::type_error("events must have dtype rentrade.events.EVENT_DTYPE, got " +
                         py::str(array.dtype()).cast<std::string>());
  }
  if (array.shape(0) > 0 && array.strides(0) != static_cast<py::ssize_t>(sizeof(fastcore::common::Event))) {
    throw py::value_error("events must be C-contiguous (use numpy.ascontiguousarray)");
  }
}

py::array make_event_array(std::size_t count) {
  using fastcore::common::Event;
  const std::size_t bytes = (count == 0 ? 1 : count) * sizeof(Event);
  void* memory = std::aligned_alloc(alignof(Event), bytes);
  if (memory == nullptr) throw std::bad_alloc();
  std::memset(memory, 0, bytes);
  py::capsule owner(memory, [](void* pointer) { std::free(pointer); });
  return py::array(event_dtype(), {static_cast<py::ssize_t>(count)},
                   {static_cast<py::ssize_t>(sizeof(Event))}, memory, owner);
}

py::object make_decimal(__int128 value, std::int32_t decimals) {
  PYBIND11_CONSTINIT static py::gil_safe_call_once_and_store<py::object> storage;
  const py::object& decimal_type =
      storage.call_once_and_store_result([] { return py::module_::import("decimal").attr("Decimal"); })
          .get_stored();
  return decimal_type(fastcore::common::format_scaled(value, decimals));
}

}  // namespace rentrade_bindings

namespace py = pybind11;

PYBIND11_MODULE(_fastcore, m) {
  namespace rb = rentrade_bindings;
  m.doc() = "rentrade's compiled core: exact decimals, order books, synthetic market and latency tools.";
  py::register_exception<rb::DecimalErrorException>(m, "DecimalError", PyExc_ValueError);
  py::register_exception<rb::BookErrorException>(m, "BookError", PyExc_ValueError);

  py::native_enum<fastcore::common::Side>(m, "Side", "enum.IntEnum", "Book side; for orders BID means buy.")
      .value("BID", fastcore::common::Side::kBid)
      .value("ASK", fastcore::common::Side::kAsk)
      .finalize();
  py::native_enum<fastcore::common::EventKind>(m, "EventKind", "enum.IntEnum", "Kind of an event record.")
      .value("NONE", fastcore::common::EventKind::kNone)
      .value("CLEAR", fastcore::common::EventKind::kClear)
      .value("SNAPSHOT_LEVEL", fastcore::common::EventKind::kSnapshotLevel)
      .value("DELTA", fastcore::common::EventKind::kDelta)
      .value("TRADE", fastcore::common::EventKind::kTrade)
      .value("BBO", fastcore::common::EventKind::kBbo)
      .finalize();
  m.attr("FLAG_LAST_IN_MESSAGE") = fastcore::common::kFlagLastInMessage;

  m.def(
      "event_layout",
      [] {
        using fastcore::common::Event;
        py::dict layout;
#define RENTRADE_FIELD(name) layout[#name] = py::make_tuple(offsetof(Event, name), sizeof(Event::name))
        RENTRADE_FIELD(ts_exchange_ns);
        RENTRADE_FIELD(ts_local_ns);
        RENTRADE_FIELD(px_ticks);
        RENTRADE_FIELD(qty_lots);
        RENTRADE_FIELD(seq);
        RENTRADE_FIELD(aux);
        RENTRADE_FIELD(instrument_id);
        RENTRADE_FIELD(kind);
        RENTRADE_FIELD(side);
        RENTRADE_FIELD(flags);
        RENTRADE_FIELD(venue_id);
        RENTRADE_FIELD(reserved);
#undef RENTRADE_FIELD
        return layout;
      },
      "Field name -> (byte offset, size) of the C++ event record; the numpy dtype must match it.");

  rb::bind_decimal(m);
  rb::bind_book(m);
  rb::bind_perf(m);
  rb::bind_position(m);
  rb::bind_risk(m);
  rb::bind_signal(m);
  rb::bind_signing(m);
  rb::bind_orders(m);
  rb::bind_engine(m);
  rb::bind_venue(m);
  rb::bind_sim(m);
  rb::bind_trader(m);
}

namespace rentrade_bindings {

std::int64_t money_to_units(py::handle value, std::int32_t decimals, bool allow_negative, const std::string& name,
                            const std::string& context, const char* unit) {
  if (PyFloat_Check(value.ptr()) || PyBool_Check(value.ptr())) {
    throw py::type_error(name + " must be a str, decimal.Decimal or int amount of the quote currency, not " +
                         py::str(py::type::handle_of(value).attr("__name__")).cast<std::string>());
  }
  const std::string text = py::str(value).cast<std::string>();
  std::int64_t units = 0;
  const auto error = fastcore::common::try_to_steps(text, {1, decimals}, allow_negative, units);
  if (error != fastcore::common::DecimalError::kOk) {
    throw DecimalErrorException(name + " '" + text + "'" + context + ": " + fastcore::common::describe(error) + " (" +
                                unit + " unit 1e-" + std::to_string(decimals) + ")");
  }
  return units;
}

fastcore::common::Side parse_side(py::handle side) {
  using fastcore::common::Side;
  if (PyLong_Check(side.ptr()) && !PyBool_Check(side.ptr())) {
    const long value = PyLong_AsLong(side.ptr());
    if (value == 0) return Side::kBid;
    if (value == 1) return Side::kAsk;
    if (value == -1 && PyErr_Occurred()) PyErr_Clear();
    throw py::value_error("side must be Side.BID (0) or Side.ASK (1), got " + py::repr(side).cast<std::string>());
  }
  if (PyUnicode_Check(side.ptr())) {
    std::string text = side.cast<std::string>();
    for (char& c : text) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
    if (text == "bid" || text == "buy") return Side::kBid;
    if (text == "ask" || text == "sell") return Side::kAsk;
    throw py::value_error("side must be 'bid'/'buy' or 'ask'/'sell', got " + py::repr(side).cast<std::string>());
  }
  throw py::type_error("side must be a rentrade.Side, 0/1 or 'bid'/'ask', got " +
                       py::str(py::type::handle_of(side).attr("__name__")).cast<std::string>());
}

}  // namespace rentrade_bindings
