#include "fastcore/common/decimal.hpp"

#include <array>
#include <limits>

namespace fastcore::common {
namespace {

using u128 = unsigned __int128;

constexpr std::int32_t kMaxStepDecimals = 18;
constexpr int kMaxPow10 = 38;  // 10^38 < 2^128

constexpr std::array<u128, kMaxPow10 + 1> make_pow10() {
  std::array<u128, kMaxPow10 + 1> table{};
  u128 value = 1;
  for (auto& entry : table) {
    entry = value;
    value *= 10;
  }
  return table;
}
constexpr auto kPow10 = make_pow10();

// Mantissas stay below this so `mantissa * 10 + 9` can never wrap a u128.
constexpr u128 kMantissaLimit = kPow10[37];

constexpr char lower(char c) noexcept { return (c >= 'A' && c <= 'Z') ? static_cast<char>(c - 'A' + 'a') : c; }

bool equals_lower(std::string_view text, std::string_view word) noexcept {
  if (text.size() != word.size()) return false;
  for (std::size_t i = 0; i < text.size(); ++i) {
    if (lower(text[i]) != word[i]) return false;
  }
  return true;
}

constexpr bool is_digit(char c) noexcept { return c >= '0' && c <= '9'; }

// value = mantissa * 10^-decimals (decimals may be negative after an exponent).
struct ParsedDecimal {
  bool negative = false;
  u128 mantissa = 0;
  std::int32_t decimals = 0;
};

DecimalError parse(std::string_view text, ParsedDecimal& out) noexcept {
  if (text.empty()) return DecimalError::kEmpty;
  std::size_t i = 0;
  bool negative = false;
  if (text[0] == '+' || text[0] == '-') {
    negative = text[0] == '-';
    i = 1;
  }
  const std::string_view body = text.substr(i);
  if (equals_lower(body, "nan") || equals_lower(body, "inf") || equals_lower(body, "infinity") ||
      equals_lower(body, "snan")) {
    return DecimalError::kNonFinite;
  }

  u128 mantissa = 0;
  bool any_digit = false;
  for (; i < text.size() && is_digit(text[i]); ++i) {
    any_digit = true;
    if (mantissa >= kMantissaLimit) return DecimalError::kOverflow;
    mantissa = mantissa * 10 + static_cast<unsigned>(text[i] - '0');
  }

  std::int32_t fraction_digits = 0;
  std::int32_t pending_zeros = 0;  // trailing zeros are counted, not multiplied in, so "1.000…0" never overflows
  if (i < text.size() && text[i] == '.') {
    ++i;
    for (; i < text.size() && is_digit(text[i]); ++i) {
      any_digit = true;
      const unsigned digit = static_cast<unsigned>(text[i] - '0');
      if (fraction_digits == std::numeric_limits<std::int32_t>::max()) return DecimalError::kTooManyDecimals;
      ++fraction_digits;
      if (digit == 0) {
        ++pending_zeros;
        continue;
      }
      if (mantissa != 0) {
        const std::int32_t shift = pending_zeros + 1;
        if (shift > kMaxPow10 || mantissa >= kMantissaLimit / kPow10[static_cast<std::size_t>(shift - 1)]) {
          return mantissa >= kPow10[20] ? DecimalError::kOverflow : DecimalError::kTooManyDecimals;
        }
        mantissa *= kPow10[static_cast<std::size_t>(shift)];
      }
      mantissa += digit;
      pending_zeros = 0;
    }
  }
  if (!any_digit) return DecimalError::kMalformed;

  std::int64_t exponent = 0;
  if (i < text.size() && (text[i] == 'e' || text[i] == 'E')) {
    ++i;
    bool exponent_negative = false;
    if (i < text.size() && (text[i] == '+' || text[i] == '-')) {
      exponent_negative = text[i] == '-';
      ++i;
    }
    if (i >= text.size() || !is_digit(text[i])) return DecimalError::kMalformed;
    for (; i < text.size() && is_digit(text[i]); ++i) {
      if (exponent < 100000) exponent = exponent * 10 + (text[i] - '0');  // saturate: far beyond any range
    }
    if (exponent_negative) exponent = -exponent;
  }
  if (i != text.size()) return DecimalError::kMalformed;

  std::int64_t decimals = static_cast<std::int64_t>(fraction_digits - pending_zeros) - exponent;
  if (mantissa == 0) {
    out = ParsedDecimal{};  // "-0", "0e99": plain zero
    return DecimalError::kOk;
  }
  while (decimals > 0 && mantissa % 10 == 0) {
    mantissa /= 10;
    --decimals;
  }
  if (decimals > 100000) return DecimalError::kTooManyDecimals;
  if (decimals < -100000) return DecimalError::kOverflow;
  out.negative = negative;
  out.mantissa = mantissa;
  out.decimals = static_cast<std::int32_t>(decimals);
  return DecimalError::kOk;
}

// mantissa * 10^shift, or false if it leaves the u128 range we allow.
bool scale_up(u128 mantissa, std::int64_t shift, u128& out) noexcept {
  if (shift > kMaxPow10) return false;
  const u128 factor = kPow10[static_cast<std::size_t>(shift)];
  if (mantissa > std::numeric_limits<u128>::max() / factor) return false;
  out = mantissa * factor;
  return true;
}

}  // namespace

const char* describe(DecimalError error) noexcept {
  switch (error) {
    case DecimalError::kOk: return "ok";
    case DecimalError::kEmpty: return "empty string";
    case DecimalError::kMalformed: return "not a decimal number";
    case DecimalError::kNonFinite: return "NaN or infinity";
    case DecimalError::kNegative: return "negative value not allowed";
    case DecimalError::kTooManyDecimals: return "more decimals than the increment allows";
    case DecimalError::kNotMultiple: return "not a whole multiple of the increment";
    case DecimalError::kOverflow: return "too large: the number of increments overflows int64";
    case DecimalError::kZeroStep: return "increment must be greater than zero";
  }
  return "unknown decimal error";
}

DecimalError try_parse_step(std::string_view text, DecimalStep& out) noexcept {
  ParsedDecimal parsed;
  if (const DecimalError error = parse(text, parsed); error != DecimalError::kOk) return error;
  if (parsed.negative) return DecimalError::kNegative;
  if (parsed.mantissa == 0) return DecimalError::kZeroStep;
  u128 units = parsed.mantissa;
  std::int32_t decimals = parsed.decimals;
  if (decimals < 0) {
    if (!scale_up(units, -static_cast<std::int64_t>(decimals), units)) return DecimalError::kOverflow;
    decimals = 0;
  }
  if (decimals > kMaxStepDecimals) return DecimalError::kTooManyDecimals;
  if (units > static_cast<u128>(std::numeric_limits<std::int64_t>::max())) return DecimalError::kOverflow;
  out.units = static_cast<std::int64_t>(units);
  out.decimals = decimals;
  return DecimalError::kOk;
}

DecimalError try_to_steps(std::string_view text, DecimalStep step, bool allow_negative,
                          std::int64_t& out) noexcept {
  ParsedDecimal parsed;
  if (const DecimalError error = parse(text, parsed); error != DecimalError::kOk) return error;
  if (parsed.negative && !allow_negative) return DecimalError::kNegative;
  if (parsed.decimals > step.decimals) return DecimalError::kTooManyDecimals;
  u128 units = 0;
  if (!scale_up(parsed.mantissa, static_cast<std::int64_t>(step.decimals) - parsed.decimals, units)) {
    return DecimalError::kOverflow;
  }
  const auto step_units = static_cast<std::uint64_t>(step.units);
  u128 steps = 0;
  if ((units >> 64) == 0) {  // 64-bit division is several times cheaper than the 128-bit helper
    const auto narrow = static_cast<std::uint64_t>(units);
    if (narrow % step_units != 0) return DecimalError::kNotMultiple;
    steps = narrow / step_units;
  } else {
    if (units % step_units != 0) return DecimalError::kNotMultiple;
    steps = units / step_units;
  }
  if (steps > static_cast<u128>(std::numeric_limits<std::int64_t>::max())) return DecimalError::kOverflow;
  const auto magnitude = static_cast<std::int64_t>(steps);
  out = parsed.negative ? -magnitude : magnitude;
  return DecimalError::kOk;
}

std::size_t format_scaled_to(char* out, __int128 value, std::int32_t decimals) noexcept {
  const bool negative = value < 0;
  u128 magnitude = negative ? static_cast<u128>(-(value + 1)) + 1 : static_cast<u128>(value);
  // Digits are produced backwards into a scratch buffer, then copied out with the point inserted.
  char digits[kMaxScaledChars - 2];
  std::size_t count = 0;
  // 128-bit division is a library call per digit; prices and sizes nearly always fit 64 bits, where
  // division by 10 is a multiply.
  while (magnitude > std::numeric_limits<std::uint64_t>::max()) {
    digits[count++] = static_cast<char>('0' + static_cast<int>(magnitude % 10));
    magnitude /= 10;
  }
  auto small = static_cast<std::uint64_t>(magnitude);
  do {
    digits[count++] = static_cast<char>('0' + static_cast<int>(small % 10));
    small /= 10;
  } while (small != 0);
  const std::size_t width = decimals > 0 ? static_cast<std::size_t>(decimals) : 0;
  while (width > 0 && count <= width) digits[count++] = '0';  // "0.00x": leading zeros up to one before the point
  std::size_t length = 0;
  if (negative) out[length++] = '-';
  for (std::size_t i = count; i > 0; --i) {
    if (width > 0 && i == width) out[length++] = '.';
    out[length++] = digits[i - 1];
  }
  return length;
}

std::string format_scaled(__int128 value, std::int32_t decimals) {
  char text[kMaxScaledChars];
  return {text, format_scaled_to(text, value, decimals)};
}

std::string format_steps(std::int64_t steps, DecimalStep step) {
  return format_scaled(static_cast<__int128>(steps) * step.units, step.decimals);
}

}  // namespace fastcore::common
