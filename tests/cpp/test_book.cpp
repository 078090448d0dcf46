// The book against a std::map reference on random operations that exercise the dense window,
// window moves (price jumps), the far overflow, the level cap and crossed books.
#include <cstring>
#include <limits>
#include <map>
#include <vector>

#include "check.hpp"
#include "fastcore/book/book_set.hpp"
#include "fastcore/sim/synthetic_market.hpp"

using namespace fastcore;
using book::Book;
using book::Level;
using common::Side;

namespace {

struct Reference {
  std::map<std::int64_t, std::int64_t, std::greater<>> bids;
  std::map<std::int64_t, std::int64_t> asks;
  void set(Side side, std::int64_t px, std::int64_t qty) {
    if (side == Side::kBid) {
      qty == 0 ? (void)bids.erase(px) : (void)(bids[px] = qty);
    } else {
      qty == 0 ? (void)asks.erase(px) : (void)(asks[px] = qty);
    }
  }
};

template <class Map>
bool same_side(const book::BookSide& side, const Map& reference) {
  std::vector<Level> levels;
  side.for_each_level([&](Level level) {
    levels.push_back(level);
    return true;
  });
  if (levels.size() != reference.size() || side.size() != reference.size()) return false;
  std::size_t i = 0;
  for (const auto& [px, qty] : reference) {
    if (levels[i].px_ticks != px || levels[i].qty_lots != qty) return false;
    if (side.qty_at(px) != qty) return false;
    ++i;
  }
  return true;
}

void random_walk_against_reference(std::uint64_t seed, std::int64_t jump_ticks) {
  sim::Rng rng(seed);
  Book book(1'000'000);  // no cap here: the reference does not model it (cap_keeps_the_top does)
  Reference reference;
  std::int64_t center = 1'000'000;
  for (int step = 0; step < 200'000; ++step) {
    if (rng.below(2000) == 0) center += static_cast<std::int64_t>(rng.below(static_cast<std::uint64_t>(2 * jump_ticks + 1))) - jump_ticks;
    const Side side = rng.below(2) == 0 ? Side::kBid : Side::kAsk;
    // Mostly near the center, sometimes far (beyond the window), crossing allowed.
    const std::int64_t spread = rng.below(10) == 0 ? 20'000 : 300;
    const std::int64_t px = center + static_cast<std::int64_t>(rng.below(static_cast<std::uint64_t>(2 * spread))) - spread;
    const std::int64_t qty = rng.below(3) == 0 ? 0 : 1 + static_cast<std::int64_t>(rng.below(1000));
    CHECK(book.try_set_level(side, px, qty) == book::ApplyError::kOk);
    reference.set(side, px, qty);
    if (step % 997 == 0) {
      CHECK(same_side(book.bids(), reference.bids));
      CHECK(same_side(book.asks(), reference.asks));
    }
  }
  CHECK(same_side(book.bids(), reference.bids));
  CHECK(same_side(book.asks(), reference.asks));
  const bool crossed = !reference.bids.empty() && !reference.asks.empty() &&
                       reference.bids.begin()->first >= reference.asks.begin()->first;
  CHECK(book.is_crossed() == crossed);
}

void cap_keeps_the_top() {
  Book book(10);
  for (std::int64_t px = 100; px < 200; ++px) CHECK(book.try_set_level(Side::kBid, px, 1) == book::ApplyError::kOk);
  CHECK(book.bids().size() == 10);
  CHECK(book.best(Side::kBid)->px_ticks == 199);
  CHECK(book.dropped_levels() == 90);
  // A level worse than all kept ones is dropped, a better one evicts the worst.
  CHECK(book.try_set_level(Side::kBid, 5, 1) == book::ApplyError::kOk && book.bids().qty_at(5) == 0);
  CHECK(book.try_set_level(Side::kBid, 1'000'000, 7) == book::ApplyError::kOk);
  CHECK(book.best(Side::kBid)->qty_lots == 7 && book.bids().size() == 10 && book.bids().qty_at(190) == 0);
}

void extremes() {
  Book book;
  const std::int64_t max = std::numeric_limits<std::int64_t>::max();
  const std::int64_t min = std::numeric_limits<std::int64_t>::min();
  CHECK(book.try_set_level(Side::kBid, max, 1) == book::ApplyError::kOk);
  CHECK(book.try_set_level(Side::kBid, min + 1, 2) == book::ApplyError::kOk);
  CHECK(book.try_set_level(Side::kAsk, max, 3) == book::ApplyError::kOk);
  CHECK(book.try_set_level(Side::kAsk, min + 1, 4) == book::ApplyError::kOk);
  CHECK(book.try_set_level(Side::kAsk, min, 4) == book::ApplyError::kBadPrice);
  CHECK(book.try_set_level(Side::kAsk, 5, -1) == book::ApplyError::kNegativeQty);
  CHECK(book.best(Side::kBid)->px_ticks == max && book.best(Side::kAsk)->px_ticks == min + 1);
  CHECK(book.bids().size() == 2 && book.asks().size() == 2 && book.is_crossed());
  CHECK(book.try_set_level(Side::kBid, max, 0) == book::ApplyError::kOk);
  CHECK(book.best(Side::kBid)->px_ticks == min + 1);
  CHECK(book.try_set_level(Side::kBid, min + 1, 0) == book::ApplyError::kOk && book.bids().empty());
}

void analytics() {
  Book book;
  (void)book.try_set_level(Side::kBid, 99, 10);
  (void)book.try_set_level(Side::kBid, 98, 20);
  (void)book.try_set_level(Side::kAsk, 101, 10);
  (void)book.try_set_level(Side::kAsk, 103, 30);
  CHECK(*book.mid_ticks() == 100.0 && *book.spread_ticks() == 2);
  book::ImpactResult impact;
  CHECK(book.try_impact(Side::kBid, 25, impact) == book::QueryError::kOk);
  CHECK(impact.filled_lots == 25 && impact.notional == 101 * 10 + 103 * 15 && impact.levels == 2);
  CHECK(book.try_impact(Side::kBid, 1000, impact) == book::QueryError::kOk && impact.filled_lots == 40);
  std::int64_t lots = 0;
  // Within 100 bps of 101 (limit 102.01): all of 101 plus the largest q with (1010 + 103q)/(10+q) <= 102.01.
  CHECK(book.try_max_qty_within(Side::kBid, 100 * 10'000, lots) == book::QueryError::kOk && lots == 10 + 10);  // 0.99 q <= 10.1
  __int128 notional = 0;
  // +-200 bps of mid 100: bids >= 98, asks <= 102.
  CHECK(book.try_depth_notional(200 * 10'000, true, true, notional) == book::QueryError::kOk);
  CHECK(notional == 99 * 10 + 98 * 20 + 101 * 10);
}

void book_set_routes_and_stops() {
  book::BookSet books(3);
  std::vector<common::Event> events(4);
  for (std::uint32_t i = 0; i < 4; ++i) {
    events[i] = common::Event{};
    events[i].kind = common::EventKind::kDelta;
    events[i].instrument_id = i % 3;
    events[i].px_ticks = 100 + i;
    events[i].qty_lots = 1;
  }
  events[3].qty_lots = -1;
  const auto result = books.try_apply(events);
  CHECK(result.applied == 3 && result.error == book::ApplyError::kNegativeQty);
  CHECK(books[0].best(Side::kBid)->px_ticks == 100 && books[2].best(Side::kBid)->px_ticks == 102);
  events[3].qty_lots = 1;
  events[3].instrument_id = 3;
  CHECK(books.try_apply(events).error == book::ApplyError::kUnknownBook);
}

void synthetic_market_is_deterministic_and_uncrossed() {
  sim::SyntheticMarketConfig config;
  config.instruments = 5;
  config.seed = 42;
  std::vector<common::Event> a(100'000);
  std::vector<common::Event> b(100'000);
  sim::SyntheticMarket(config).generate(a);
  sim::SyntheticMarket(config).generate(b);
  CHECK(std::memcmp(a.data(), b.data(), a.size() * sizeof(common::Event)) == 0);
  book::BookSet books(5);
  for (const auto& event : a) {
    CHECK(books[event.instrument_id].try_apply(event) == book::ApplyError::kOk);
    if (event.flags & common::kFlagLastInMessage) CHECK(!books[event.instrument_id].is_crossed());
  }
}

}  // namespace

int main() {
  random_walk_against_reference(1, 10);
  random_walk_against_reference(2, 5'000);
  random_walk_against_reference(3, 1'000'000'000);
  cap_keeps_the_top();
  extremes();
  analytics();
  book_set_routes_and_stops();
  synthetic_market_is_deterministic_and_uncrossed();
  return report("test_book");
}
