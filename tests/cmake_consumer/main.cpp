// Builds against the installed headers and static core only: an instrument converts decimal strings
// exactly, a book takes two levels, and the program prints what a caller would read back.
#include <cstdio>

#include "fastcore/book/book.hpp"
#include "fastcore/common/instrument.hpp"

int main() {
  using fastcore::common::Side;
  fastcore::common::Instrument instrument;
  fastcore::common::InstrumentField failed{};
  if (fastcore::common::try_make_instrument("BTCUSDT", "binance_usdm", "0.1", "0.001", "0.001", "5", "1", false,
                                            instrument, failed) != fastcore::common::DecimalError::kOk) {
    std::puts("instrument refused");
    return 1;
  }
  std::int64_t bid_ticks = 0;
  std::int64_t ask_ticks = 0;
  std::int64_t lots = 0;
  if (instrument.try_price_to_ticks("65000.1", bid_ticks) != fastcore::common::DecimalError::kOk ||
      instrument.try_price_to_ticks("65000.3", ask_ticks) != fastcore::common::DecimalError::kOk ||
      instrument.try_qty_to_lots("1.25", lots) != fastcore::common::DecimalError::kOk) {
    std::puts("conversion refused");
    return 1;
  }
  fastcore::book::Book book;
  if (book.try_set_level(Side::kBid, bid_ticks, lots) != fastcore::book::ApplyError::kOk ||
      book.try_set_level(Side::kAsk, ask_ticks, 2 * lots) != fastcore::book::ApplyError::kOk) {
    std::puts("book refused a level");
    return 1;
  }
  const auto spread = book.spread_ticks();
  std::printf("bid=%lld ask=%lld spread=%lld\n", static_cast<long long>(book.best(Side::kBid)->px_ticks),
              static_cast<long long>(book.best(Side::kAsk)->px_ticks), static_cast<long long>(spread.value_or(-1)));
  return 0;
}
