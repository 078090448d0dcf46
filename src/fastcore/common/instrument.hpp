#pragma once
/// An instrument's increments and limits, and the exact conversions between its decimal strings and
/// integer ticks and lots. Built once from the venue's decimal strings; conversions never allocate.
#include <cstdint>
#include <string>
#include <string_view>

#include "fastcore/common/decimal.hpp"

namespace fastcore::common {

/// Which field of an instrument a construction error is about.
enum class InstrumentField : std::uint8_t { kNone, kTickSize, kLotSize, kMinQty, kMinNotional, kContractSize };

struct Instrument {
  std::string symbol;
  std::string venue;
  DecimalStep tick;            ///< Price increment.
  DecimalStep lot;             ///< Quantity increment.
  DecimalStep contract;        ///< Contract multiplier (1 for spot and linear perpetuals).
  std::int64_t min_qty_lots = 0;
  /// Minimum order notional in notional units (see notional_decimals()).
  std::int64_t min_notional_units = 0;
  bool allow_negative_price = false;

  /// Decimals of one notional unit: px_ticks * qty_lots * notional_factor() is the notional in
  /// units of 10^-notional_decimals() of the quote currency.
  [[nodiscard]] std::int32_t notional_decimals() const noexcept {
    return tick.decimals + lot.decimals + contract.decimals;
  }
  [[nodiscard]] __int128 notional_factor() const noexcept {
    return static_cast<__int128>(tick.units) * lot.units * contract.units;
  }

  [[nodiscard]] DecimalError try_price_to_ticks(std::string_view text, std::int64_t& out) const noexcept {
    return try_to_steps(text, tick, allow_negative_price, out);
  }
  [[nodiscard]] DecimalError try_qty_to_lots(std::string_view text, std::int64_t& out) const noexcept {
    return try_to_steps(text, lot, false, out);
  }
};

/// Builds an instrument from decimal strings; on failure `failed` names the field.
[[nodiscard]] DecimalError try_make_instrument(std::string symbol, std::string venue, std::string_view tick_size,
                                               std::string_view lot_size, std::string_view min_qty,
                                               std::string_view min_notional, std::string_view contract_size,
                                               bool allow_negative_price, Instrument& out,
                                               InstrumentField& failed);

}  // namespace fastcore::common
