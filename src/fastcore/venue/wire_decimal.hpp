#pragma once
/// Decimal strings inside JSON frames to integer steps, read straight from the frame bytes.
///
/// A fast path for the plain form exchanges send ("61800.20", "0.014": digits, an optional point,
/// at most 18 digits) and, for every other spelling or any error, common::try_to_steps on the same
/// text: one definition of what a decimal means and which error it is; this only skips the general
/// parser's 128-bit arithmetic for the common case. tests/cpp/test_binance.cpp and the fuzzer check
/// that both agree.
#include <cstdint>
#include <string_view>

#include "fastcore/common/decimal.hpp"

namespace fastcore::venue {

/// Outcome of reading a quoted decimal: a JSON problem (no closing quote, an escape or control
/// character inside) is kept apart from a decimal the instrument refuses.
struct WireDecimalResult {
  common::DecimalError decimal = common::DecimalError::kOk;
  bool json_ok = true;
};

namespace detail {
inline constexpr std::int64_t kPow10[19] = {1LL,
                                            10LL,
                                            100LL,
                                            1000LL,
                                            10000LL,
                                            100000LL,
                                            1000000LL,
                                            10000000LL,
                                            100000000LL,
                                            1000000000LL,
                                            10000000000LL,
                                            100000000000LL,
                                            1000000000000LL,
                                            10000000000000LL,
                                            100000000000000LL,
                                            1000000000000000LL,
                                            10000000000000000LL,
                                            100000000000000000LL,
                                            1000000000000000000LL};

}  // namespace detail

/// A step prepared for the wire fast paths: trailing zeros of its units moved into its decimals
/// (10 x 10^-2 becomes 1 x 10^-1: the same step, so the same whole number of steps for every value)
/// and the remaining units' exact-division test as a multiply, not a divide.
///
/// A value n (in units of 10^-decimals) is a whole number of steps iff
/// rotr(n * odd_inverse, shift) <= max_steps, and then that is the number of steps (Granlund and
/// Montgomery: units = 2^shift * odd, odd_inverse = odd^-1 mod 2^64). For units == 1 it is n.
struct WireStep {
  std::int32_t decimals = -1;  ///< -1: not usable by the fast paths (they leave such values to the Scanner)
  std::uint32_t shift = 0;
  std::uint64_t odd_inverse = 1;
  std::uint64_t max_steps = ~std::uint64_t{0};
  bool unit = true;  ///< units == 1 (the common case): every value is a whole number of steps
};

/// Prepares `step` for the fast paths; decimals stays -1 for a step they do not take (none today:
/// units > 0 and decimals 0..18 always convert).
[[nodiscard]] inline WireStep make_wire_step(common::DecimalStep step) noexcept {
  WireStep out;
  if (step.units <= 0 || step.decimals < 0 || step.decimals > 18) return out;
  auto units = static_cast<std::uint64_t>(step.units);
  std::int32_t decimals = step.decimals;
  while (decimals > 0 && units % 10U == 0) {
    units /= 10U;
    --decimals;
  }
  out.decimals = decimals;
  out.unit = units == 1;
  out.max_steps = ~std::uint64_t{0} / units;
  out.shift = static_cast<std::uint32_t>(__builtin_ctzll(units));
  const std::uint64_t odd = units >> out.shift;
  std::uint64_t inverse = odd;  // Newton's iteration: each step doubles the correct low bits (3 to 96)
  for (int i = 0; i < 5; ++i) inverse *= 2U - odd * inverse;
  out.odd_inverse = inverse;
  return out;
}

/// `scaled` (a value in units of 10^-step.decimals, below 2^63) as a whole number of steps, or false
/// when it is not one. `product` is scaled * step.odd_inverse (mod 2^64), which a caller may get from
/// one multiply by a premultiplied constant.
[[gnu::always_inline]] inline bool wire_exact_steps_of_product(std::uint64_t product, const WireStep& step,
                                                               std::int64_t& out) noexcept {
  if (step.unit) {  // odd_inverse is 1: product is the value
    out = static_cast<std::int64_t>(product);
    return true;
  }
  // Rotate right by shift (0..63); the mask keeps the left shift defined (and a no-op) when shift is 0.
  const std::uint64_t steps = (product >> step.shift) | (product << ((64U - step.shift) & 63U));
  if (steps > step.max_steps) return false;
  out = static_cast<std::int64_t>(steps);
  return true;
}

/// `scaled` (a value in units of 10^-step.decimals, below 2^63) as a whole number of steps, or false
/// when it is not one.
[[gnu::always_inline]] inline bool wire_exact_steps(std::uint64_t scaled, const WireStep& step,
                                                    std::int64_t& out) noexcept {
  return wire_exact_steps_of_product(scaled * step.odd_inverse, step, out);
}

/// Reads the string whose opening quote is just before `p` as a whole number of `step`s. On return
/// `p` is past the closing quote (when json_ok). Never reads at or beyond `end`. Cost: ~1 ns a digit.
///
/// The digit loops test only "is a digit", not the end: callers guarantee that the byte before `end`
/// is neither a digit nor '.' (a JSON object ends with '}'; wire_text_ends_safely() checks it), so every loop
/// stops inside the buffer; the slow path then checks bounds properly.
[[nodiscard]] inline WireDecimalResult read_quoted_steps(const char*& p, const char* end, common::DecimalStep step,
                                                         bool allow_negative, std::int64_t& out) noexcept {
  if (p >= end) return {common::DecimalError::kMalformed, false};  // the frame ended at the opening quote
  const char* const start = p;
  const char* q = p;
  std::uint64_t mantissa = 0;
  while (static_cast<unsigned>(*q - '0') < 10U) mantissa = mantissa * 10U + static_cast<unsigned>(*q++ - '0');
  const auto int_digits = static_cast<int>(q - start);
  int fraction = 0;
  bool fast = int_digits > 0 && int_digits <= 18 && step.decimals >= 0 && step.decimals <= 18;
  if (fast && *q == '.') {
    ++q;
    const char* const fraction_start = q;
    // Up to the step's decimals go into the mantissa; any digit beyond must be a zero padding.
    const char* const stop = fraction_start + step.decimals;
    while (q < stop && static_cast<unsigned>(*q - '0') < 10U) {
      mantissa = mantissa * 10U + static_cast<unsigned>(*q++ - '0');
    }
    fraction = static_cast<int>(q - fraction_start);
    while (*q == '0') ++q;
    if (q == fraction_start || static_cast<unsigned>(*q - '0') < 10U) fast = false;  // "1." or a finer digit
  }
  if (fast && *q == '"' && int_digits + step.decimals <= 18) {
    const auto scaled = static_cast<std::int64_t>(mantissa) * detail::kPow10[step.decimals - fraction];
    if (step.units == 1) {
      out = scaled;
      p = q + 1;
      return {};
    }
    if (step.units > 0 && scaled % step.units == 0) {
      out = scaled / step.units;
      p = q + 1;
      return {};
    }
  }
  // Slow path: find the closing quote (a decimal never contains an escape), then the general parser.
  q = start;
  while (q < end && *q != '"') {
    if (*q == '\\' || static_cast<unsigned char>(*q) < 0x20U) return {common::DecimalError::kMalformed, false};
    ++q;
  }
  if (q >= end) return {common::DecimalError::kMalformed, false};
  p = q + 1;
  return {common::try_to_steps(std::string_view(start, static_cast<std::size_t>(q - start)), step, allow_negative,
                               out),
          true};
}

/// True when read_quoted_steps() may read inside `text`: its last byte is neither a digit nor a '.'.
/// Every well-formed JSON object passes ('}' or whitespace last); anything else is malformed anyway.
[[nodiscard]] inline bool wire_text_ends_safely(std::string_view text) noexcept {
  return !text.empty() && static_cast<unsigned>(text.back() - '0') >= 10U && text.back() != '.';
}

}  // namespace fastcore::venue
