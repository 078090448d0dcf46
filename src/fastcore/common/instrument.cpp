#include "fastcore/common/instrument.hpp"

#include <utility>

namespace fastcore::common {

DecimalError try_make_instrument(std::string symbol, std::string venue, std::string_view tick_size,
                                 std::string_view lot_size, std::string_view min_qty,
                                 std::string_view min_notional, std::string_view contract_size,
                                 bool allow_negative_price, Instrument& out, InstrumentField& failed) {
  Instrument built;
  built.symbol = std::move(symbol);
  built.venue = std::move(venue);
  built.allow_negative_price = allow_negative_price;
  const auto fail = [&failed](InstrumentField field, DecimalError error) {
    failed = field;
    return error;
  };
  if (auto e = try_parse_step(tick_size, built.tick); e != DecimalError::kOk) return fail(InstrumentField::kTickSize, e);
  if (auto e = try_parse_step(lot_size, built.lot); e != DecimalError::kOk) return fail(InstrumentField::kLotSize, e);
  if (auto e = try_parse_step(contract_size, built.contract); e != DecimalError::kOk) {
    return fail(InstrumentField::kContractSize, e);
  }
  if (auto e = try_to_steps(min_qty, built.lot, false, built.min_qty_lots); e != DecimalError::kOk) {
    return fail(InstrumentField::kMinQty, e);
  }
  const DecimalStep notional_unit{1, built.notional_decimals()};
  if (auto e = try_to_steps(min_notional, notional_unit, false, built.min_notional_units); e != DecimalError::kOk) {
    return fail(InstrumentField::kMinNotional, e);
  }
  failed = InstrumentField::kNone;
  out = std::move(built);
  return DecimalError::kOk;
}

}  // namespace fastcore::common
