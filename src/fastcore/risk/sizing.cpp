#include "fastcore/risk/sizing.hpp"

#include <limits>

namespace fastcore::risk {

const char* describe(SizingError error) noexcept {
  switch (error) {
    case SizingError::kOk: return "ok";
    case SizingError::kBadNumber: return "not a finite decimal number with at most 18 decimals";
    case SizingError::kWinRateOutOfRange: return "win rate must be strictly between 0 and 1";
    case SizingError::kPayoffNotPositive: return "payoff (average win / average loss) must be > 0";
    case SizingError::kFractionOutOfRange: return "Kelly fraction must be in (0, 1]";
    case SizingError::kCapitalNotPositive: return "capital must be > 0";
    case SizingError::kBadInstrumentCount: return "number of instruments must be >= 1";
    case SizingError::kBadPrice: return "price must be > 0 to size an order";
    case SizingError::kOverflow: return "too many digits: an exact intermediate exceeds 128 bits";
  }
  return "unknown sizing error";
}

const char* describe(SizeLimit limit) noexcept {
  switch (limit) {
    case SizeLimit::kNone: return "ok";
    case SizeLimit::kNoEdge: return "no edge (Kelly fraction <= 0): do not trade";
    case SizeLimit::kBelowOneLot: return "budget buys less than one lot at this price";
    case SizeLimit::kBelowMinQty: return "budget buys less than the instrument's minimum quantity";
    case SizeLimit::kBelowMinNotional: return "affordable order is below the instrument's minimum notional";
  }
  return "unknown size limit";
}

namespace {

using u128 = unsigned __int128;

u128 magnitude(__int128 v) noexcept { return v < 0 ? static_cast<u128>(-(v + 1)) + 1 : static_cast<u128>(v); }

u128 gcd(u128 a, u128 b) noexcept {
  while (b != 0) {
    const u128 t = a % b;
    a = b;
    b = t;
  }
  return a;
}

/// num / den in lowest terms with den > 0; den != 0 and neither is INT128_MIN (callers' values are smaller).
Ratio reduced(__int128 num, __int128 den) noexcept {
  if (den < 0) {
    num = -num;
    den = -den;
  }
  const u128 g = gcd(magnitude(num), magnitude(den));
  if (g > 1) {
    num /= static_cast<__int128>(g);
    den /= static_cast<__int128>(g);
  }
  return {num, den};
}

bool mul(Ratio a, Ratio b, Ratio& out) noexcept {
  // Cross-reduce first so products stay as small as the result allows.
  const Ratio x = reduced(a.num, b.den);
  const Ratio y = reduced(b.num, a.den);
  __int128 num = 0;
  __int128 den = 0;
  if (__builtin_mul_overflow(x.num, y.num, &num) || __builtin_mul_overflow(x.den, y.den, &den)) return false;
  out = reduced(num, den);
  return true;
}

bool add(Ratio a, Ratio b, Ratio& out) noexcept {
  __int128 left = 0;
  __int128 right = 0;
  __int128 den = 0;
  __int128 num = 0;
  if (__builtin_mul_overflow(a.num, b.den, &left) || __builtin_mul_overflow(b.num, a.den, &right) ||
      __builtin_mul_overflow(a.den, b.den, &den) || __builtin_add_overflow(left, right, &num)) {
    return false;
  }
  out = reduced(num, den);
  return true;
}

bool less(Ratio a, Ratio b) noexcept {  // both in lowest terms with positive denominators, small enough
  __int128 left = 0;
  __int128 right = 0;
  if (__builtin_mul_overflow(a.num, b.den, &left) || __builtin_mul_overflow(b.num, a.den, &right)) {
    return static_cast<long double>(a.num) / static_cast<long double>(a.den) <
           static_cast<long double>(b.num) / static_cast<long double>(b.den);
  }
  return left < right;
}

}  // namespace

SizingError try_parse_ratio(std::string_view text, Ratio& out) noexcept {
  __int128 scale = 1;
  for (std::int32_t decimals = 0; decimals <= 18; ++decimals, scale *= 10) {
    std::int64_t steps = 0;
    const common::DecimalError error = common::try_to_steps(text, common::DecimalStep{1, decimals}, true, steps);
    if (error == common::DecimalError::kOk) {
      out = reduced(steps, scale);
      return SizingError::kOk;
    }
    if (error == common::DecimalError::kOverflow) return SizingError::kOverflow;
    if (error != common::DecimalError::kTooManyDecimals) return SizingError::kBadNumber;
  }
  return SizingError::kBadNumber;
}

SizingError try_kelly(Ratio win_rate, Ratio payoff, Ratio& out) noexcept {
  if (win_rate.num <= 0 || win_rate.num >= win_rate.den) return SizingError::kWinRateOutOfRange;
  if (payoff.num <= 0) return SizingError::kPayoffNotPositive;
  // f* = p - (1 - p) / b
  const Ratio lose{win_rate.den - win_rate.num, win_rate.den};
  Ratio loss_per_unit;
  if (!mul(lose, Ratio{payoff.den, payoff.num}, loss_per_unit)) return SizingError::kOverflow;
  loss_per_unit.num = -loss_per_unit.num;
  return add(win_rate, loss_per_unit, out) ? SizingError::kOk : SizingError::kOverflow;
}

SizingError try_allocate(Ratio capital, std::int64_t instruments, Ratio win_rate, Ratio payoff, Ratio multiplier,
                         Allocation& out) noexcept {
  if (multiplier.num <= 0 || multiplier.num > multiplier.den) return SizingError::kFractionOutOfRange;
  if (capital.num <= 0) return SizingError::kCapitalNotPositive;
  if (instruments < 1) return SizingError::kBadInstrumentCount;
  Allocation result;
  if (const SizingError error = try_kelly(win_rate, payoff, result.kelly); error != SizingError::kOk) return error;
  if (!less(Ratio{0, 1}, result.kelly)) {
    result.limit = SizeLimit::kNoEdge;
    out = result;
    return SizingError::kOk;
  }
  if (!mul(multiplier, result.kelly, result.capital_fraction) ||
      !mul(capital, Ratio{1, instruments}, result.per_instrument) ||
      !mul(result.per_instrument, result.capital_fraction, result.per_instrument)) {
    return SizingError::kOverflow;
  }
  out = result;
  return SizingError::kOk;
}

SizingError try_max_order(const common::Instrument& instrument, std::int64_t px_ticks, Ratio budget,
                          OrderSize& out) noexcept {
  if (px_ticks <= 0) return SizingError::kBadPrice;
  if (budget.num < 0) return SizingError::kCapitalNotPositive;
  // lots = floor(budget * 10^decimals / (px_ticks * notional_factor)), all in notional units.
  __int128 budget_units = budget.num;
  for (std::int32_t i = 0; i < instrument.notional_decimals(); ++i) {
    if (__builtin_mul_overflow(budget_units, 10, &budget_units)) return SizingError::kOverflow;
  }
  __int128 lot_units = 0;
  __int128 divisor = 0;
  if (__builtin_mul_overflow(static_cast<__int128>(px_ticks), instrument.notional_factor(), &lot_units) ||
      __builtin_mul_overflow(lot_units, budget.den, &divisor)) {
    return SizingError::kOverflow;
  }
  const __int128 lots = budget_units / divisor;  // both >= 0: truncation is rounding down
  OrderSize result;
  result.qty_lots = lots > std::numeric_limits<std::int64_t>::max() ? std::numeric_limits<std::int64_t>::max()
                                                                    : static_cast<std::int64_t>(lots);
  if (__builtin_mul_overflow(lot_units, static_cast<__int128>(result.qty_lots), &result.notional_units)) {
    return SizingError::kOverflow;
  }
  if (result.qty_lots == 0) result.limit = SizeLimit::kBelowOneLot;
  else if (result.qty_lots < instrument.min_qty_lots) result.limit = SizeLimit::kBelowMinQty;
  else if (result.notional_units < instrument.min_notional_units) result.limit = SizeLimit::kBelowMinNotional;
  if (result.limit != SizeLimit::kNone) {
    result.qty_lots = 0;
    result.notional_units = 0;
  }
  out = result;
  return SizingError::kOk;
}

}  // namespace fastcore::risk
