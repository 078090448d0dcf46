#pragma once
/// What the book, venue and engine tests share: comparing books level by level.
#include <cstddef>
#include <vector>

#include "fastcore/book/book.hpp"

namespace book_support {

/// The side's levels, best first.
inline std::vector<fastcore::book::Level> levels_of(const fastcore::book::BookSide& side) {
  std::vector<fastcore::book::Level> out;
  side.for_each_level([&](fastcore::book::Level level) {
    out.push_back(level);
    return true;
  });
  return out;
}

/// The same prices and quantities in the same order.
inline bool same_levels(const std::vector<fastcore::book::Level>& a, const std::vector<fastcore::book::Level>& b) {
  if (a.size() != b.size()) return false;
  for (std::size_t i = 0; i < a.size(); ++i) {
    if (a[i].px_ticks != b[i].px_ticks || a[i].qty_lots != b[i].qty_lots) return false;
  }
  return true;
}

/// The same levels on both sides, sequence, timestamps, update count and levels dropped by the cap.
inline bool same_book(const fastcore::book::Book& a, const fastcore::book::Book& b) {
  return same_levels(levels_of(a.bids()), levels_of(b.bids())) && same_levels(levels_of(a.asks()), levels_of(b.asks())) &&
         a.seq() == b.seq() && a.ts_exchange_ns() == b.ts_exchange_ns() && a.ts_local_ns() == b.ts_local_ns() &&
         a.updates() == b.updates() && a.dropped_levels() == b.dropped_levels();
}

}  // namespace book_support
