#pragma once
/// Exact conversion between decimal strings and integer multiples of an increment (ticks, lots).
///
/// No floating point anywhere: a price string becomes an integer number of ticks or an error, never
/// a rounded value. The hot path (wire parsers) calls try_to_steps() with a precomputed DecimalStep.
#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>

namespace fastcore::common {

/// Why a decimal string was refused.
enum class DecimalError : std::uint8_t {
  kOk = 0,
  kEmpty,            ///< Empty string.
  kMalformed,        ///< Not a decimal number (stray characters, lone sign or point).
  kNonFinite,        ///< NaN or infinity, in any spelling.
  kNegative,         ///< Negative where the caller does not allow it.
  kTooManyDecimals,  ///< Non-zero digits finer than the increment's decimals.
  kNotMultiple,      ///< Representable, but not a whole multiple of the increment.
  kOverflow,         ///< The number of increments does not fit in int64.
  kZeroStep,         ///< The increment itself is zero (only from try_parse_step).
};

/// Readable text for a DecimalError (static storage, never null).
const char* describe(DecimalError error) noexcept;

/// An increment (tick size, lot size) as `units * 10^-decimals`, normalised so `units` has no
/// trailing zero digit: "0.10" is {1, 1}, "5" is {5, 0}, "25.0" is {25, 0}.
struct DecimalStep {
  std::int64_t units = 1;
  std::int32_t decimals = 0;
};

/// Parses a positive increment such as "0.01" or "1e-8". Decimals are limited to 18.
[[nodiscard]] DecimalError try_parse_step(std::string_view text, DecimalStep& out) noexcept;

/// Converts `text` to a whole number of `step`s. Trailing zeros beyond the step's decimals are fine
/// ("61800.20000000" with step 0.1); any other digit beyond them is kTooManyDecimals. Accepts an
/// optional sign, a decimal point and an exponent ("1.5e-3"). `-0` is zero, not negative.
[[nodiscard]] DecimalError try_to_steps(std::string_view text, DecimalStep step, bool allow_negative,
                                        std::int64_t& out) noexcept;

/// Formats `steps * step` exactly with the step's number of decimals ("61800.2" for 618002 x 0.1).
std::string format_steps(std::int64_t steps, DecimalStep step);

/// Formats an exact value `value * 10^-decimals` (a 128-bit notional, say) as a decimal string.
std::string format_scaled(__int128 value, std::int32_t decimals);

/// Longest text format_scaled_to() writes: a sign, 64 digits (39 of a 128-bit value, or zeros up to 63
/// decimals: a notional has at most 3 x 18), and a point.
inline constexpr std::size_t kMaxScaledChars = 66;
/// format_scaled() into `out` (at least kMaxScaledChars bytes), without allocating; returns the length.
/// `decimals` must be at most 63.
std::size_t format_scaled_to(char* out, __int128 value, std::int32_t decimals) noexcept;

}  // namespace fastcore::common
