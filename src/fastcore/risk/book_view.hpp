#pragma once
/// The risk check's view of a Book: best prices, crossed, and the book's last local update. Kept out of
/// risk_check.hpp so the risk engine does not depend on the book's headers.
#include <cstdint>
#include <optional>

#include "fastcore/book/book.hpp"
#include "fastcore/risk/risk_check.hpp"

namespace fastcore::risk {

/// MarketView of `book` with the caller's last trade (nullopt: none yet) and resync flag. No allocation.
inline MarketView market_view(const book::Book& book, std::optional<std::int64_t> last_trade_px_ticks,
                              bool resyncing) noexcept {
  MarketView view;
  if (const auto bid = book.best(common::Side::kBid)) {
    view.has_bid = true;
    view.bid_px_ticks = bid->px_ticks;
  }
  if (const auto ask = book.best(common::Side::kAsk)) {
    view.has_ask = true;
    view.ask_px_ticks = ask->px_ticks;
  }
  view.has_last_trade = last_trade_px_ticks.has_value();
  view.last_trade_px_ticks = last_trade_px_ticks.value_or(0);
  view.book_ts_local_ns = book.ts_local_ns();
  view.crossed = book.is_crossed();
  view.resyncing = resyncing;
  return view;
}

}  // namespace fastcore::risk
