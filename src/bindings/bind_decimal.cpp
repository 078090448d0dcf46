// rentrade.Instrument: exact decimal <-> ticks/lots conversions, errors that name value and instrument.
#include <pybind11/stl.h>

#include <string>

#include "bindings.hpp"

namespace rentrade_bindings {
namespace {

using fastcore::common::DecimalError;
using fastcore::common::DecimalStep;
using fastcore::common::Instrument;
using fastcore::common::InstrumentField;

std::string step_text(DecimalStep step) { return fastcore::common::format_steps(1, step); }

const char* field_name(InstrumentField field) {
  switch (field) {
    case InstrumentField::kTickSize: return "tick_size";
    case InstrumentField::kLotSize: return "lot_size";
    case InstrumentField::kMinQty: return "min_qty";
    case InstrumentField::kMinNotional: return "min_notional";
    case InstrumentField::kContractSize: return "contract_size";
    case InstrumentField::kNone: break;
  }
  return "value";
}

[[noreturn]] void raise_conversion(const Instrument& instrument, const char* what, std::string_view text,
                                   DecimalError error, const char* increment_name, DecimalStep increment) {
  throw DecimalErrorException(std::string(what) + " '" + std::string(text) + "' for " +
                              describe_instrument(instrument) + ": " + fastcore::common::describe(error) + " (" +
                              increment_name + " " + step_text(increment) + ")");
}

Instrument make_instrument(std::string symbol, std::string venue, std::string_view tick_size,
                           std::string_view lot_size, std::string_view min_qty, std::string_view min_notional,
                           std::string_view contract_size, bool allow_negative_price) {
  Instrument instrument;
  InstrumentField failed = InstrumentField::kNone;
  const std::string name = symbol + " on " + venue;
  const DecimalError error = fastcore::common::try_make_instrument(
      std::move(symbol), std::move(venue), tick_size, lot_size, min_qty, min_notional, contract_size,
      allow_negative_price, instrument, failed);
  if (error != DecimalError::kOk) {
    std::string_view text;
    switch (failed) {
      case InstrumentField::kTickSize: text = tick_size; break;
      case InstrumentField::kLotSize: text = lot_size; break;
      case InstrumentField::kMinQty: text = min_qty; break;
      case InstrumentField::kMinNotional: text = min_notional; break;
      case InstrumentField::kContractSize: text = contract_size; break;
      case InstrumentField::kNone: break;
    }
    throw DecimalErrorException(std::string("invalid ") + field_name(failed) + " '" + std::string(text) +
                                "' for " + name + ": " + fastcore::common::describe(error));
  }
  return instrument;
}

__int128 checked_notional(const Instrument& instrument, std::int64_t px_ticks, std::int64_t qty_lots) {
  __int128 value = 0;
  if (__builtin_mul_overflow(static_cast<__int128>(px_ticks), static_cast<__int128>(qty_lots), &value) ||
      __builtin_mul_overflow(value, instrument.notional_factor(), &value)) {
    throw py::value_error("notional of " + std::to_string(px_ticks) + " ticks x " + std::to_string(qty_lots) +
                          " lots overflows 128 bits for " + describe_instrument(instrument));
  }
  return value;
}

}  // namespace

std::string describe_instrument(const Instrument& instrument) {
  return instrument.symbol + " on " + instrument.venue;
}

std::int64_t price_to_ticks(const Instrument& instrument, std::string_view text) {
  std::int64_t ticks = 0;
  const DecimalError error = instrument.try_price_to_ticks(text, ticks);
  if (error != DecimalError::kOk) raise_conversion(instrument, "price", text, error, "tick size", instrument.tick);
  return ticks;
}

std::int64_t qty_to_lots(const Instrument& instrument, std::string_view text) {
  std::int64_t lots = 0;
  const DecimalError error = instrument.try_qty_to_lots(text, lots);
  if (error != DecimalError::kOk) raise_conversion(instrument, "quantity", text, error, "lot size", instrument.lot);
  return lots;
}

void bind_decimal(py::module_& m) {
  py::class_<Instrument>(m, "Instrument",
                         "A tradable instrument: increments and limits given as decimal strings, with exact\n"
                         "conversions between prices/quantities and integer ticks/lots (no float on the way).")
      .def(py::init(&make_instrument), py::arg("symbol"), py::arg("venue"), py::arg("tick_size"),
           py::arg("lot_size"), py::arg("min_qty") = "0", py::arg("min_notional") = "0",
           py::arg("contract_size") = "1", py::arg("allow_negative_price") = false)
      .def_readonly("symbol", &Instrument::symbol)
      .def_readonly("venue", &Instrument::venue)
      .def_property_readonly("tick_size", [](const Instrument& i) { return step_text(i.tick); })
      .def_property_readonly("lot_size", [](const Instrument& i) { return step_text(i.lot); })
      .def_property_readonly("contract_size", [](const Instrument& i) { return step_text(i.contract); })
      .def_property_readonly("min_qty", [](const Instrument& i) { return fastcore::common::format_steps(i.min_qty_lots, i.lot); })
      .def_readonly("min_qty_lots", &Instrument::min_qty_lots)
      .def_property_readonly("min_notional",
                             [](const Instrument& i) {
                               return fastcore::common::format_scaled(i.min_notional_units, i.notional_decimals());
                             })
      .def_readonly("allow_negative_price", &Instrument::allow_negative_price)
      .def(
          "price_to_ticks", [](const Instrument& i, std::string_view price) { return price_to_ticks(i, price); },
          py::arg("price"), "Exact price string -> integer ticks; DecimalError if not a tick multiple.")
      .def(
          "qty_to_lots", [](const Instrument& i, std::string_view qty) { return qty_to_lots(i, qty); },
          py::arg("qty"), "Exact quantity string -> integer lots; DecimalError if not a lot multiple.")
      .def(
          "ticks_to_price",
          [](const Instrument& i, std::int64_t ticks) { return fastcore::common::format_steps(ticks, i.tick); },
          py::arg("px_ticks"), "Integer ticks -> exact price string with the tick size's decimals.")
      .def(
          "lots_to_qty",
          [](const Instrument& i, std::int64_t lots) { return fastcore::common::format_steps(lots, i.lot); },
          py::arg("qty_lots"), "Integer lots -> exact quantity string with the lot size's decimals.")
      .def(
          "notional",
          [](const Instrument& i, std::int64_t px_ticks, std::int64_t qty_lots) {
            return make_decimal(checked_notional(i, px_ticks, qty_lots), i.notional_decimals());
          },
          py::arg("px_ticks"), py::arg("qty_lots"),
          "Exact notional (price x quantity x contract size) in the quote currency, as a Decimal.")
      .def("__eq__",
           [](const Instrument& a, const Instrument& b) {
             return a.symbol == b.symbol && a.venue == b.venue && a.tick.units == b.tick.units &&
                    a.tick.decimals == b.tick.decimals && a.lot.units == b.lot.units &&
                    a.lot.decimals == b.lot.decimals && a.contract.units == b.contract.units &&
                    a.contract.decimals == b.contract.decimals && a.min_qty_lots == b.min_qty_lots &&
                    a.min_notional_units == b.min_notional_units &&
                    a.allow_negative_price == b.allow_negative_price;
           },
           py::is_operator())
      .def("__hash__", [](const Instrument& i) { return py::hash(py::make_tuple(i.symbol, i.venue)); })
      .def("__repr__", [](const Instrument& i) {
        return "Instrument(symbol='" + i.symbol + "', venue='" + i.venue + "', tick_size='" + step_text(i.tick) +
               "', lot_size='" + step_text(i.lot) + "', min_qty='" +
               fastcore::common::format_steps(i.min_qty_lots, i.lot) + "', min_notional='" +
               fastcore::common::format_scaled(i.min_notional_units, i.notional_decimals()) +
               "', contract_size='" + step_text(i.contract) + "')";
      });
}

}  // namespace rentrade_bindings
