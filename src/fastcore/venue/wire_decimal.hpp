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

/// Reads the string whose opening quote is just before `p` as a whole number of `step`s. On return
/// `p` is past the closing quote (when json_ok). Never reads at or beyond `end`. Cost: ~1 ns a digit.
///
/// The digit loops test only "is a digit", not the end: callers guarantee that the byte before `end`
/// is neither a digit nor '.' (a JSON object ends with '}'; wire_text_ends_safely() checks it), so every loop
/// stops inside the buffer; the slow path then checks bounds properly.
[[nodiscard]] inline WireDecimalResult read_quoted_steps(const char*& p, const char* end, common::DecimalStep step,
                                                         bool allow_negative, std::int64_t& out) noexcept {
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
