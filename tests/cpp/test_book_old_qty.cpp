// Book::try_apply(event, old_qty) and BookSide::qty_at_key: the reported previous quantity against
// qty_at() read before the same event, on random order flow that reaches every place a level can be
// (the window, the far overflow, above the window, an empty side, a side at its cap), plus trades,
// clears and refused events; the book itself must end equal to one fed through try_apply(event).
#include <cstdint>
#include <cstdio>
#include <limits>
#include <vector>

#include "book_support.hpp"
#include "check.hpp"
#include "fastcore/book/book.hpp"
#include "fastcore/sim/synthetic_market.hpp"

using namespace fastcore;
using book::Book;
using book_support::levels_of;
using book_support::same_levels;
using common::Event;
using common::EventKind;
using common::Side;

namespace {

// `jump`: how far prices wander (beyond the 8,192-tick window, levels go to the overflow and the
// window moves); `cap`: levels kept per side.
void reported_old_qty_matches_qty_at(std::uint64_t seed, std::int64_t jump, std::uint32_t cap) {
  sim::Rng rng(seed);
  Book reporting(cap);
  Book plain(cap);
  std::int64_t centre = 1'000'000;
  std::size_t levels_seen = 0;
  std::size_t resting_seen = 0;
  for (int i = 0; i < 20'000; ++i) {
    Event e{};
    const std::uint64_t what = rng.below(1000);
    e.kind = what < 3 ? EventKind::kClear : what < 40 ? EventKind::kTrade : what < 80 ? EventKind::kSnapshotLevel : EventKind::kDelta;
    e.side = rng.below(2) == 0 ? Side::kBid : Side::kAsk;
    if (rng.below(500) == 0) centre += static_cast<std::int64_t>(rng.below(2 * static_cast<std::uint64_t>(jump))) - jump;
    const std::int64_t offset = static_cast<std::int64_t>(rng.below(rng.below(10) == 0 ? 30'000 : 40));
    e.px_ticks = e.side == Side::kBid ? centre - offset : centre + 1 + offset;
    e.qty_lots = rng.below(3) == 0 ? 0 : 1 + static_cast<std::int64_t>(rng.below(100));
    if (rng.below(300) == 0) e.qty_lots = -1;                                     // refused
    if (rng.below(300) == 0) e.px_ticks = std::numeric_limits<std::int64_t>::min();  // refused
    if (rng.below(300) == 0) e.side = static_cast<Side>(2 + rng.below(3));           // refused
    e.seq = static_cast<std::uint64_t>(i);
    e.ts_exchange_ns = i;
    const bool is_level = (e.kind == EventKind::kDelta || e.kind == EventKind::kSnapshotLevel) &&
                          Book::check_level(e.side, e.px_ticks, e.qty_lots) == book::ApplyError::kOk;
    const std::int64_t expected = is_level ? reporting.side(e.side).qty_at(e.px_ticks) : -1;
    std::int64_t old_qty = -2;
    const book::ApplyError error = reporting.try_apply(e, old_qty);
    CHECK(error == plain.try_apply(e));
    CHECK_EQ(old_qty, expected);
    if (is_level) {
      ++levels_seen;
      if (expected > 0) ++resting_seen;
    }
  }
  std::printf("seed %llu: %zu level updates, %zu onto a resting level\n", static_cast<unsigned long long>(seed), levels_seen, resting_seen);
  CHECK(levels_seen > 10'000 && resting_seen > 500);  // both answers were exercised
  CHECK(same_levels(levels_of(reporting.bids()), levels_of(plain.bids())));
  CHECK(same_levels(levels_of(reporting.asks()), levels_of(plain.asks())));
  CHECK_EQ(reporting.updates(), plain.updates());
  CHECK_EQ(reporting.seq(), plain.seq());
  CHECK_EQ(reporting.ts_exchange_ns(), plain.ts_exchange_ns());
  CHECK_EQ(reporting.dropped_levels(), plain.dropped_levels());
}

void qty_at_key_everywhere() {
  Book book;
  const auto set = [&](Side side, std::int64_t px, std::int64_t qty) { CHECK(book.try_set_level(side, px, qty) == book::ApplyError::kOk); };
  const auto bid_key = [](std::int64_t px) { return book::BookSide::to_key(px, 0); };
  const auto ask_key = [](std::int64_t px) { return book::BookSide::to_key(px, -1); };
  CHECK_EQ(book.bids().qty_at_key(bid_key(100)), 0);  // empty side
  CHECK_EQ(book.asks().qty_at_key(ask_key(100)), 0);
  set(Side::kBid, 100, 7);
  set(Side::kBid, 99, 3);
  set(Side::kBid, 100 - 50'000, 11);  // far below the window: the overflow
  set(Side::kAsk, 101, 5);
  set(Side::kAsk, 101 + 50'000, 13);
  CHECK_EQ(book.bids().qty_at_key(bid_key(100)), 7);
  CHECK_EQ(book.bids().qty_at_key(bid_key(99)), 3);
  CHECK_EQ(book.bids().qty_at_key(bid_key(98)), 0);
  CHECK_EQ(book.bids().qty_at_key(bid_key(100 - 50'000)), 11);
  CHECK_EQ(book.bids().qty_at_key(bid_key(100 - 50'001)), 0);
  CHECK_EQ(book.bids().qty_at_key(bid_key(100 + 50'000)), 0);  // above the window
  CHECK_EQ(book.asks().qty_at_key(ask_key(101)), 5);
  CHECK_EQ(book.asks().qty_at_key(ask_key(101 + 50'000)), 13);
  CHECK_EQ(book.asks().qty_at_key(ask_key(102)), 0);
  CHECK_EQ(book.asks().qty_at_key(ask_key(101 - 50'000)), 0);

  // The overload's answers, one case each.
  std::int64_t old_qty = 0;
  Event e{};
  e.kind = EventKind::kDelta;
  e.side = Side::kBid;
  e.px_ticks = 100;
  e.qty_lots = 8;
  CHECK(book.try_apply(e, old_qty) == book::ApplyError::kOk && old_qty == 7 && book.bids().qty_at(100) == 8);
  e.qty_lots = 0;
  CHECK(book.try_apply(e, old_qty) == book::ApplyError::kOk && old_qty == 8 && book.bids().qty_at(100) == 0);
  CHECK(book.try_apply(e, old_qty) == book::ApplyError::kOk && old_qty == 0);  // a cancel where nothing rests
  e.px_ticks = 100 - 50'000;
  e.qty_lots = 4;
  CHECK(book.try_apply(e, old_qty) == book::ApplyError::kOk && old_qty == 11 && book.bids().qty_at(100 - 50'000) == 4);
  e.qty_lots = -1;
  CHECK(book.try_apply(e, old_qty) == book::ApplyError::kNegativeQty && old_qty == -1);
  e.kind = EventKind::kTrade;
  e.qty_lots = 1;
  CHECK(book.try_apply(e, old_qty) == book::ApplyError::kOk && old_qty == -1);
  e.kind = EventKind::kClear;
  CHECK(book.try_apply(e, old_qty) == book::ApplyError::kOk && old_qty == -1 && book.bids().empty());
}

}  // namespace

int main() {
  reported_old_qty_matches_qty_at(1, 10, book::Book::kDefaultMaxLevels);
  reported_old_qty_matches_qty_at(2, 100'000, book::Book::kDefaultMaxLevels);
  reported_old_qty_matches_qty_at(3, 10, 20);  // at the cap: new levels dropped, worst levels evicted
  reported_old_qty_matches_qty_at(4, 100'000, 3);
  qty_at_key_everywhere();
  return report("test_book_old_qty");
}
