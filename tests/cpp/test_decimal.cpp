#include "check.hpp"
#include "fastcore/common/decimal.hpp"
#include "fastcore/common/instrument.hpp"

using namespace fastcore::common;

namespace {

DecimalStep step(const char* text) {
  DecimalStep out;
  CHECK(try_parse_step(text, out) == DecimalError::kOk);
  return out;
}

DecimalError convert(const char* text, const char* increment, std::int64_t& out, bool allow_negative = false) {
  return try_to_steps(text, step(increment), allow_negative, out);
}

}  // namespace

int main() {
  std::int64_t v = 0;
  CHECK(step("0.10").units == 1 && step("0.10").decimals == 1);
  CHECK(step("5").units == 5 && step("5").decimals == 0);
  CHECK(step("1e-8").units == 1 && step("1e-8").decimals == 8);
  CHECK(step("0.005").units == 5 && step("0.005").decimals == 3);
  DecimalStep bad;
  CHECK(try_parse_step("0", bad) == DecimalError::kZeroStep);
  CHECK(try_parse_step("-0.1", bad) == DecimalError::kNegative);
  CHECK(try_parse_step("1e-19", bad) == DecimalError::kTooManyDecimals);

  CHECK(convert("61800.20", "0.1", v) == DecimalError::kOk && v == 618002);
  CHECK(convert("61800.20000000000000000000000000000000000000000", "0.1", v) == DecimalError::kOk && v == 618002);
  CHECK(convert("0061800.2", "0.1", v) == DecimalError::kOk && v == 618002);
  CHECK(convert("61800.25", "0.1", v) == DecimalError::kTooManyDecimals);
  CHECK(convert("100.5", "0.5", v) == DecimalError::kOk && v == 201);
  CHECK(convert("100.3", "0.5", v) == DecimalError::kNotMultiple);
  CHECK(convert("1.5e-3", "0.0001", v) == DecimalError::kOk && v == 15);
  CHECK(convert("2E+2", "1", v) == DecimalError::kOk && v == 200);
  CHECK(convert("-1", "1", v) == DecimalError::kNegative);
  CHECK(convert("-1.5", "0.1", v, true) == DecimalError::kOk && v == -15);
  CHECK(convert("-0", "1", v) == DecimalError::kOk && v == 0);
  CHECK(convert("NaN", "1", v) == DecimalError::kNonFinite);
  CHECK(convert("-inf", "1", v) == DecimalError::kNonFinite);
  CHECK(convert("Infinity", "1", v) == DecimalError::kNonFinite);
  CHECK(convert("", "1", v) == DecimalError::kEmpty);
  CHECK(convert(".", "1", v) == DecimalError::kMalformed);
  CHECK(convert("1.2.3", "0.1", v) == DecimalError::kMalformed);
  CHECK(convert("12a", "1", v) == DecimalError::kMalformed);
  CHECK(convert("1e", "1", v) == DecimalError::kMalformed);
  CHECK(convert(" 1", "1", v) == DecimalError::kMalformed);
  CHECK(convert("9223372036854775807", "1", v) == DecimalError::kOk && v == 9223372036854775807LL);
  CHECK(convert("9223372036854775808", "1", v) == DecimalError::kOverflow);
  CHECK(convert("922337203685477580.8", "0.1", v) == DecimalError::kOverflow);
  CHECK(convert("1e30", "1", v) == DecimalError::kOverflow);
  CHECK(convert("1e99999999", "1", v) == DecimalError::kOverflow);
  CHECK(convert("1e-99999999", "1", v) == DecimalError::kTooManyDecimals);
  CHECK(convert("0e99999999", "1", v) == DecimalError::kOk && v == 0);
  CHECK(convert("123456789012345678901234567890123456789012345", "1", v) == DecimalError::kOverflow);

  CHECK(format_steps(618002, step("0.1")) == "61800.2");
  CHECK(format_steps(15, step("0.0001")) == "0.0015");
  CHECK(format_steps(-15, step("0.1")) == "-1.5");
  CHECK(format_steps(201, step("0.5")) == "100.5");
  CHECK(format_steps(7, step("25")) == "175");
  CHECK(format_scaled(-(static_cast<__int128>(1) << 100), 0) == "-1267650600228229401496703205376");
  // The extremes of format_scaled_to's buffer: the most negative 128-bit value, and 54 decimals (a notional
  // of three 18-decimal steps) where the value is all leading zeros.
  const __int128 most_negative = -(((static_cast<__int128>(1) << 126) - 1) * 2) - 2;
  CHECK(format_scaled(most_negative, 0) == "-170141183460469231731687303715884105728");
  CHECK(format_scaled(most_negative, 3) == "-170141183460469231731687303715884105.728");
  CHECK(format_scaled(7, 54) == "0." + std::string(53, '0') + "7");
  CHECK(format_scaled(0, 2) == "0.00");
  char text[kMaxScaledChars];
  CHECK(std::string_view(text, format_scaled_to(text, -5, 1)) == "-0.5");

  Instrument instrument;
  InstrumentField field = InstrumentField::kNone;
  CHECK(try_make_instrument("BTCUSDT", "binance_usdm", "0.10", "0.001", "0.001", "100", "1", false, instrument,
                            field) == DecimalError::kOk);
  CHECK(instrument.min_qty_lots == 1 && instrument.notional_decimals() == 4 && instrument.min_notional_units == 1000000);
  CHECK(try_make_instrument("X", "v", "0.1", "0.001", "0.0005", "0", "1", false, instrument, field) ==
            DecimalError::kTooManyDecimals &&
        field == InstrumentField::kMinQty);
  return report("test_decimal");
}
