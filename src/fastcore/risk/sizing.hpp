#pragma once
/// Position sizing: the Kelly fraction, fractional Kelly, and the capital each instrument gets per trade,
/// turned into the largest order the instrument's lot size and minimums allow at a price.
///
/// Exact rational arithmetic throughout (inputs are decimal strings), so the plan's worked numbers come
/// out exactly: p = 0.479, b = 2 -> f* = 437/2000 = 0.2185; a quarter of it is 0.054625 (the plan's
/// "5.46 %"); $1,000,000 over 100 instruments -> $546.25 per instrument per trade (the plan's "$546" is
/// that rounded down to whole dollars). Order sizes are always rounded down, never up.
#include <cstdint>
#include <string_view>

#include "fastcore/common/instrument.hpp"

namespace fastcore::risk {

/// An exact fraction num / den, den > 0, in lowest terms.
struct Ratio {
  __int128 num = 0;  ///< Carries the sign.
  __int128 den = 1;  ///< > 0.
};

/// Why a sizing input was refused.
enum class SizingError : std::uint8_t {
  kOk = 0,
  kBadNumber,            ///< Not a finite decimal number, or more than 18 decimals.
  kWinRateOutOfRange,    ///< Win rate p must be strictly between 0 and 1.
  kPayoffNotPositive,    ///< Payoff b (average win / average loss) must be > 0.
  kFractionOutOfRange,   ///< Kelly multiplier must be in (0, 1]: more than full Kelly only adds risk.
  kCapitalNotPositive,   ///< Capital must be > 0.
  kBadInstrumentCount,   ///< Number of instruments must be >= 1.
  kBadPrice,             ///< Price must be > 0 ticks to size an order.
  kOverflow,             ///< An intermediate exceeds 128 bits (too many digits in the inputs).
};

/// Readable text for a SizingError (static storage, never null).
const char* describe(SizingError error) noexcept;

/// Why an order size came out at zero (kNone when it did not).
enum class SizeLimit : std::uint8_t {
  kNone = 0,
  kNoEdge,            ///< f* <= 0: the strategy loses on average; do not trade.
  kBelowOneLot,       ///< The budget buys less than one lot at this price.
  kBelowMinQty,       ///< The budget buys fewer lots than the instrument's minimum quantity.
  kBelowMinNotional,  ///< The affordable quantity is below the instrument's minimum notional.
};

/// Readable text for a SizeLimit (static storage, never null).
const char* describe(SizeLimit limit) noexcept;

/// Parses a decimal string ("0.479", "1e6", "-2") exactly. Cost: a few passes over the text.
[[nodiscard]] SizingError try_parse_ratio(std::string_view text, Ratio& out) noexcept;

/// f* = p - (1 - p) / b for win rate p in (0, 1) and payoff b > 0. May be <= 0 (no edge): callers
/// must treat that as "do not trade", never as a negative size.
[[nodiscard]] SizingError try_kelly(Ratio win_rate, Ratio payoff, Ratio& out) noexcept;

/// Sizing of one trade for one instrument when `capital` is spread evenly over `instruments`.
struct Allocation {
  Ratio kelly;                   ///< f*, possibly <= 0.
  Ratio capital_fraction;        ///< multiplier x f* (the fraction of capital risked per trade); 0 without edge.
  Ratio per_instrument;          ///< capital / instruments x capital_fraction, quote currency; 0 without edge.
  SizeLimit limit = SizeLimit::kNone;  ///< kNoEdge when f* <= 0, else kNone.
};

/// capital / instruments x multiplier x f*. Refuses p outside (0, 1), b <= 0, a multiplier outside
/// (0, 1], capital <= 0 and instruments < 1.
[[nodiscard]] SizingError try_allocate(Ratio capital, std::int64_t instruments, Ratio win_rate, Ratio payoff,
                                       Ratio multiplier, Allocation& out) noexcept;

/// The largest order at `px_ticks` whose notional fits in `budget` (quote currency, >= 0).
struct OrderSize {
  std::int64_t qty_lots = 0;     ///< Rounded down to whole lots; 0 when `limit` says why.
  __int128 notional_units = 0;   ///< Its exact notional in the instrument's notional units.
  SizeLimit limit = SizeLimit::kNone;
};

/// Rounds `budget` down to whole lots at `px_ticks` and applies min_qty and min_notional.
[[nodiscard]] SizingError try_max_order(const common::Instrument& instrument, std::int64_t px_ticks, Ratio budget,
                                        OrderSize& out) noexcept;

}  // namespace fastcore::risk
