// Sizing against the plan's worked numbers, refusals, and order sizes rounded down to lots and minimums.
#include "check.hpp"
#include "fastcore/risk/sizing.hpp"

using namespace fastcore;
using risk::Ratio;
using risk::SizeLimit;
using risk::SizingError;

namespace {

Ratio parse(const char* text) {
  Ratio out;
  CHECK(risk::try_parse_ratio(text, out) == SizingError::kOk);
  return out;
}

bool equals(Ratio r, __int128 num, __int128 den) { return r.num == num && r.den == den; }

void plan_numbers() {
  Ratio f;
  CHECK(risk::try_kelly(parse("0.479"), parse("2"), f) == SizingError::kOk);
  CHECK(equals(f, 437, 2000));  // 0.2185
  risk::Allocation a;
  CHECK(risk::try_allocate(parse("1000000"), 100, parse("0.479"), parse("2"), parse("0.25"), a) == SizingError::kOk);
  CHECK(equals(a.capital_fraction, 437, 8000));  // 0.054625: the plan's 5.46 %
  CHECK(equals(a.per_instrument, 2185, 4));      // 546.25: the plan's $546, rounded down
  CHECK(a.limit == SizeLimit::kNone);
}

void refusals() {
  Ratio f;
  CHECK(risk::try_kelly(parse("0"), parse("2"), f) == SizingError::kWinRateOutOfRange);
  CHECK(risk::try_kelly(parse("1"), parse("2"), f) == SizingError::kWinRateOutOfRange);
  CHECK(risk::try_kelly(parse("-0.2"), parse("2"), f) == SizingError::kWinRateOutOfRange);
  CHECK(risk::try_kelly(parse("0.5"), parse("0"), f) == SizingError::kPayoffNotPositive);
  CHECK(risk::try_kelly(parse("0.5"), parse("-1"), f) == SizingError::kPayoffNotPositive);
  risk::Allocation a;
  CHECK(risk::try_allocate(parse("1000"), 1, parse("0.5"), parse("2"), parse("0"), a) == SizingError::kFractionOutOfRange);
  CHECK(risk::try_allocate(parse("1000"), 1, parse("0.5"), parse("2"), parse("1.5"), a) == SizingError::kFractionOutOfRange);
  CHECK(risk::try_allocate(parse("0"), 1, parse("0.5"), parse("2"), parse("1"), a) == SizingError::kCapitalNotPositive);
  CHECK(risk::try_allocate(parse("1000"), 0, parse("0.5"), parse("2"), parse("1"), a) == SizingError::kBadInstrumentCount);
  Ratio r;
  CHECK(risk::try_parse_ratio("nan", r) == SizingError::kBadNumber);
  CHECK(risk::try_parse_ratio("0.5x", r) == SizingError::kBadNumber);
  CHECK(risk::try_parse_ratio("0.0000000000000000001", r) == SizingError::kBadNumber);
  CHECK(risk::try_parse_ratio("1e30", r) == SizingError::kOverflow);
  CHECK(equals(parse("1e6"), 1000000, 1));
  CHECK(equals(parse("2.50"), 5, 2));
}

void no_edge_means_no_size() {
  risk::Allocation a;
  // p = 0.3, b = 2: f* = 0.3 - 0.35 = -0.05.
  CHECK(risk::try_allocate(parse("1000000"), 10, parse("0.3"), parse("2"), parse("0.25"), a) == SizingError::kOk);
  CHECK(equals(a.kelly, -1, 20));
  CHECK(a.limit == SizeLimit::kNoEdge);
  CHECK(a.per_instrument.num == 0 && a.capital_fraction.num == 0);
  // Break-even (f* = 0) is no edge too.
  CHECK(risk::try_allocate(parse("1000"), 1, parse("0.5"), parse("1"), parse("1"), a) == SizingError::kOk);
  CHECK(a.limit == SizeLimit::kNoEdge);
}

void max_orders() {
  common::Instrument btc;
  common::InstrumentField failed{};
  CHECK(common::try_make_instrument("BTCUSDT", "binance_usdm", "0.1", "0.001", "0.001", "100", "1", false, btc,
                                    failed) == common::DecimalError::kOk);
  risk::OrderSize size;
  // $546.25 at 60000.0 is 0.0091 BTC: 9 lots, 540.0 USDT (above the 100 minimum).
  CHECK(risk::try_max_order(btc, 600000, Ratio{2185, 4}, size) == SizingError::kOk);
  CHECK_EQ(size.qty_lots, 9);
  CHECK(size.notional_units == 5400000);  // 540.0000 in 10^-4
  CHECK(size.limit == SizeLimit::kNone);
  // $50 buys 0.000 BTC.
  CHECK(risk::try_max_order(btc, 600000, Ratio{50, 1}, size) == SizingError::kOk);
  CHECK(size.qty_lots == 0 && size.limit == SizeLimit::kBelowOneLot);
  // $90 at 30000.0 buys 3 lots (90.0), below the 100 minimum notional.
  CHECK(risk::try_max_order(btc, 300000, Ratio{90, 1}, size) == SizingError::kOk);
  CHECK(size.qty_lots == 0 && size.limit == SizeLimit::kBelowMinNotional);
  common::Instrument eth;
  CHECK(common::try_make_instrument("ETHUSDT", "binance_usdm", "0.01", "0.001", "0.01", "0", "1", false, eth,
                                    failed) == common::DecimalError::kOk);
  // $20 at 3000.00 buys 6 lots (0.006), below the 0.01 minimum quantity.
  CHECK(risk::try_max_order(eth, 300000, Ratio{20, 1}, size) == SizingError::kOk);
  CHECK(size.qty_lots == 0 && size.limit == SizeLimit::kBelowMinQty);
  CHECK(risk::try_max_order(eth, 0, Ratio{20, 1}, size) == SizingError::kBadPrice);
  // Exactly affordable rounds to the lot, not below it.
  CHECK(risk::try_max_order(eth, 300000, Ratio{30, 1}, size) == SizingError::kOk);
  CHECK_EQ(size.qty_lots, 10);
}

}  // namespace

int main() {
  plan_numbers();
  refusals();
  no_edge_means_no_size();
  max_orders();
  return report("test_sizing");
}
