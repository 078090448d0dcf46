// The book against a std::map reference on random operations that exercise the dense window,
// window moves (price jumps), the far overflow, the level cap and crossed books.
#include <algorithm>
#include <cstdio>
#include <cstring>
#include <iterator>
#include <limits>
#include <map>
#include <utility>
#include <vector>

#include "book_support.hpp"
#include "check.hpp"
#include "fastcore/book/book_set.hpp"
#include "fastcore/perf/book_latency.hpp"
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

// The cap against a reference that models it: a new level worse than every kept one is dropped,
// otherwise the worst kept level goes. Small caps with prices spread past the window exercise the
// far overflow's drops as well as the window's.
void capped_random_walk_against_reference(std::uint64_t seed, std::uint32_t cap) {
  sim::Rng rng(seed);
  Book book(cap);
  Reference reference;
  std::int64_t center = 1'000'000;
  const auto set_capped = [cap](auto& side, std::int64_t px, std::int64_t qty) {
    if (qty == 0) {
      side.erase(px);
      return;
    }
    if (side.count(px) != 0 || side.size() < cap) {
      side[px] = qty;
      return;
    }
    const auto worst = std::prev(side.end());
    if (side.key_comp()(worst->first, px)) return;  // worse than every kept level: dropped
    side.erase(worst);
    side[px] = qty;
  };
  for (int step = 0; step < 100'000; ++step) {
    if (rng.below(500) == 0) center += static_cast<std::int64_t>(rng.below(6001)) - 3000;
    const Side side = rng.below(2) == 0 ? Side::kBid : Side::kAsk;
    const std::int64_t spread = rng.below(4) == 0 ? 5'000 : 100;
    const std::int64_t px = center + static_cast<std::int64_t>(rng.below(static_cast<std::uint64_t>(2 * spread))) - spread;
    const std::int64_t qty = rng.below(3) == 0 ? 0 : 1 + static_cast<std::int64_t>(rng.below(1000));
    CHECK(book.try_set_level(side, px, qty) == book::ApplyError::kOk);
    side == Side::kBid ? set_capped(reference.bids, px, qty) : set_capped(reference.asks, px, qty);
    if (step % 499 == 0) {
      CHECK(same_side(book.bids(), reference.bids));
      CHECK(same_side(book.asks(), reference.asks));
    }
  }
  CHECK(same_side(book.bids(), reference.bids));
  CHECK(same_side(book.asks(), reference.asks));
  CHECK(book.bids().size() <= cap && book.asks().size() <= cap);
}

template <class Fn>
bool same_books(const book::BookSet& a, const book::BookSet& b, Fn&& describe_failure) {
  for (std::size_t id = 0; id < a.size(); ++id) {
    const bool same = book_support::same_book(a[id], b[id]);
    if (!same) {
      describe_failure(id);
      return false;
    }
  }
  return true;
}

// BookSet::try_apply prefetches the books of the events ahead once it holds many books: the books it
// leaves must equal those of applying the same events one by one, including where a batch stops.
void prefetching_batch_equals_one_by_one() {
  constexpr std::uint32_t kBooks = 300;
  static_assert(kBooks >= book::BookSet::kPrefetchFromBooks, "the batch must take the prefetching path");
  sim::SyntheticMarketConfig config;
  config.instruments = kBooks;
  config.seed = 7;
  config.snapshot_levels = 200;
  std::vector<common::Event> events(kBooks * 401 + 300'000);
  sim::SyntheticMarket(config).generate(events);
  book::BookSet batched(kBooks);
  book::BookSet one_by_one(kBooks);
  // Uneven chunks, so batches start and end anywhere relative to the prefetch distances.
  std::size_t at = 0;
  for (std::size_t chunk = 1; at < events.size(); chunk = chunk * 7 % 1000 + 1) {
    const std::size_t n = std::min(chunk, events.size() - at);
    const auto result = batched.try_apply(std::span<const common::Event>(events).subspan(at, n));
    CHECK(result.applied == n && result.error == book::ApplyError::kOk);
    at += n;
  }
  for (const auto& event : events) CHECK(one_by_one[event.instrument_id].try_apply(event) == book::ApplyError::kOk);
  CHECK(same_books(batched, one_by_one, [](std::size_t id) { std::fprintf(stderr, "book %zu differs\n", id); }));
  // A refused event in the middle of a long batch: everything before it applied, nothing after.
  std::vector<common::Event> tail(events.end() - 5'000, events.end());
  tail[2'500].qty_lots = -1;
  const auto result = batched.try_apply(tail);
  CHECK(result.applied == 2'500 && result.error == book::ApplyError::kNegativeQty);
  for (std::size_t i = 0; i < 2'500; ++i) (void)one_by_one[tail[i].instrument_id].try_apply(tail[i]);
  CHECK(same_books(batched, one_by_one, [](std::size_t id) { std::fprintf(stderr, "book %zu differs after a refusal\n", id); }));
  tail[2'500].qty_lots = 1;
  tail[2'600].instrument_id = kBooks;
  CHECK(batched.try_apply(tail).error == book::ApplyError::kUnknownBook);
}

// The in-core measurement applies the stream for real in both timed passes: it ends with the same
// books as applying it once, and times every level update of the order flow (not the opening snapshots).
void measurement_does_the_work() {
  sim::SyntheticMarketConfig config;
  config.instruments = 3;
  std::vector<common::Event> events(50'000);
  sim::SyntheticMarket(config).generate(events);
  book::BookSet measured(3);
  book::BookSet reference(3);
  const common::CycleClock clock(1'000'000);
  const perf::LatencyRun run = perf::measure_book_apply(measured, events, 2, clock);
  CHECK(run.error == book::ApplyError::kOk);
  CHECK(run.throughput_ops == 2 * events.size());
  std::uint64_t updates = 0;
  std::uint64_t snapshot_levels = 0;
  for (const auto& event : events) {
    updates += event.kind == common::EventKind::kDelta;
    snapshot_levels += event.kind == common::EventKind::kSnapshotLevel;
    (void)reference[event.instrument_id].try_apply(event);
  }
  CHECK(snapshot_levels > 0 && updates > 0);  // both kinds are in the stream; only the flow is timed
  CHECK(run.timed_ops == updates && run.histogram.count() == updates);
  CHECK(run.run_updates == updates && run.run_histogram.count() >= updates / perf::kRunLength);
  CHECK(run.per_update_in_runs_ns > 0.0);
  for (std::size_t id = 0; id < 3; ++id) {
    CHECK(measured[id].best(Side::kBid)->px_ticks == reference[id].best(Side::kBid)->px_ticks);
    CHECK(measured[id].bids().size() == reference[id].bids().size());
    CHECK(measured[id].asks().size() == reference[id].asks().size());
  }
}

// The window's bookkeeping at the ends of the key range, where its unsigned offsets could wrap.
void window_at_the_ends_of_the_key_range() {
  const std::int64_t max = std::numeric_limits<std::int64_t>::max();
  const std::int64_t min = std::numeric_limits<std::int64_t>::min();
  for (const Side side : {Side::kBid, Side::kAsk}) {
    Book book;
    Reference reference;
    sim::Rng rng(11);
    for (int step = 0; step < 20'000; ++step) {
      const std::int64_t offset = static_cast<std::int64_t>(rng.below(3000));
      const std::int64_t px = rng.below(2) == 0 ? max - offset : min + 1 + offset;
      const std::int64_t qty = rng.below(3) == 0 ? 0 : 1 + static_cast<std::int64_t>(rng.below(9));
      CHECK(book.try_set_level(side, px, qty) == book::ApplyError::kOk);
      reference.set(side, px, qty);
    }
    CHECK(same_side(book.bids(), reference.bids));
    CHECK(same_side(book.asks(), reference.asks));
  }
}

// Each side owns its window block: copies are deep, assignment replaces, moves transfer.
void copies_are_independent() {
  Book original;
  for (std::int64_t px = 90; px < 100; ++px) (void)original.try_set_level(Side::kBid, px, px);
  (void)original.try_set_level(Side::kBid, 100 - 5'000, 7);  // a far level too
  Book copy = original;
  (void)original.try_set_level(Side::kBid, 99, 0);
  (void)original.try_set_level(Side::kBid, 100 - 5'000, 0);
  CHECK(copy.best(Side::kBid)->px_ticks == 99 && copy.bids().size() == 11 && copy.bids().qty_at(100 - 5'000) == 7);
  CHECK(original.best(Side::kBid)->px_ticks == 98 && original.bids().size() == 9);
  Book assigned;
  (void)assigned.try_set_level(Side::kAsk, 5, 5);
  assigned = copy;
  CHECK(assigned.asks().empty() && assigned.bids().size() == 11);
  Book moved = std::move(assigned);
  CHECK(moved.bids().size() == 11 && moved.best(Side::kBid)->qty_lots == 99);
}

// Book::try_apply_batch (the path of OrderBook.apply_events and of a one-book BookSet) against
// try_apply per event: same levels, sequence, timestamps and update count, for batches cut anywhere,
// with clears, trades and refusals inside them.
void batch_equals_one_by_one() {
  sim::SyntheticMarketConfig config;
  config.seed = 21;
  config.snapshot_levels = 300;
  std::vector<common::Event> events(200'000);
  sim::SyntheticMarket(config).generate(events);
  // A clear and a fresh snapshot in the middle, far from the old prices (the window moves), and
  // records the book ignores (BBO, empty slot).
  events[50'000].kind = common::EventKind::kClear;
  for (std::size_t i = 50'001; i < 50'400; ++i) {
    events[i].kind = common::EventKind::kSnapshotLevel;
    events[i].px_ticks = (i % 2 == 0 ? 2'000'000 - static_cast<std::int64_t>(i - 50'000) : 2'000'001 + static_cast<std::int64_t>(i - 50'000));
    events[i].side = i % 2 == 0 ? Side::kBid : Side::kAsk;
    events[i].qty_lots = 5;
  }
  events[60'000].kind = common::EventKind::kBbo;
  events[60'001].kind = common::EventKind::kNone;
  book::BookSet batched_set(1);
  Book& batched = batched_set[0];
  book::BookSet one_set(1);
  Book& one = one_set[0];
  std::size_t at = 0;
  for (std::size_t chunk = 1; at < events.size(); chunk = chunk * 13 % 3001 + 1) {
    const std::size_t n = std::min(chunk, events.size() - at);
    const auto result = batched.try_apply_batch(std::span<const common::Event>(events).subspan(at, n), 0);
    CHECK(result.applied == n && result.error == book::ApplyError::kOk);
    at += n;
  }
  for (const auto& event : events) CHECK(one.try_apply(event) == book::ApplyError::kOk);
  CHECK(same_books(batched_set, one_set, [](std::size_t) { std::fprintf(stderr, "batch differs from one by one\n"); }));
  CHECK(batched.updates() > 0 && batched.seq() == one.seq());

  // Each refusal stops the batch at the refused event with the book as try_apply left it there.
  struct Bad {
    void (*spoil)(common::Event&);
    book::ApplyError error;
  };
  const Bad bad[] = {
      {[](common::Event& e) { e.qty_lots = -1; }, book::ApplyError::kNegativeQty},
      {[](common::Event& e) { e.px_ticks = std::numeric_limits<std::int64_t>::min(); }, book::ApplyError::kBadPrice},
      {[](common::Event& e) { e.side = static_cast<Side>(2); }, book::ApplyError::kBadSide},
      {[](common::Event& e) { e.kind = static_cast<common::EventKind>(9); }, book::ApplyError::kUnknownKind},
      {[](common::Event& e) { e.instrument_id = 1; }, book::ApplyError::kUnknownBook},
  };
  std::vector<common::Event> tail(events.end() - 3'000, events.end());
  std::size_t offset = 0;
  for (const Bad& b : bad) {
    std::vector<common::Event> spoiled = tail;
    std::size_t where = 1'000 + offset;
    while (spoiled[where].kind != common::EventKind::kDelta) ++where;  // a level update, so every spoil applies
    offset += 97;
    b.spoil(spoiled[where]);
    const auto result = batched.try_apply_batch(spoiled, 0);
    CHECK(result.applied == where && result.error == b.error);
    for (std::size_t i = 0; i < where; ++i) CHECK(one.try_apply(spoiled[i]) == book::ApplyError::kOk);
    if (b.error != book::ApplyError::kUnknownBook) CHECK(one.try_apply(spoiled[where]) == b.error);
    CHECK(same_books(batched_set, one_set, [&](std::size_t) {
      std::fprintf(stderr, "batch differs after refusal %s\n", book::describe(b.error));
    }));
  }
  // A batch of only passive records changes no sequence, timestamp or count.
  std::vector<common::Event> trades(5, events[0]);
  for (auto& e : trades) {
    e.kind = common::EventKind::kTrade;
    e.seq = 999'999'999;
  }
  const std::uint64_t seq = batched.seq();
  const std::uint64_t updates = batched.updates();
  CHECK(batched.try_apply_batch(trades, 0).applied == 5);
  CHECK(batched.seq() == seq && batched.updates() == updates);
  CHECK(batched.try_apply_batch({}, 0).applied == 0 && batched.updates() == updates);
  // A one-book BookSet takes the same path: a wrong id is an unknown book there.
  trades[3].instrument_id = 1;
  const auto routed = batched_set.try_apply(trades);
  CHECK(routed.applied == 3 && routed.error == book::ApplyError::kUnknownBook);
}

// Sides that empty often (few levels, many cancels, jumps far away): an empty side keeps no
// stale best, and the next level anywhere starts it afresh.
void sides_that_empty_against_reference() {
  sim::Rng rng(31);
  Book book;
  Reference reference;
  std::int64_t center = 500'000;
  for (int step = 0; step < 300'000; ++step) {
    if (rng.below(300) == 0) center += static_cast<std::int64_t>(rng.below(200'001)) - 100'000;
    const Side side = rng.below(2) == 0 ? Side::kBid : Side::kAsk;
    const std::int64_t px = center + static_cast<std::int64_t>(rng.below(6));
    const std::int64_t qty = rng.below(2) == 0 ? 0 : 1 + static_cast<std::int64_t>(rng.below(9));
    CHECK(book.try_set_level(side, px, qty) == book::ApplyError::kOk);
    reference.set(side, px, qty);
    CHECK(book.bids().empty() == reference.bids.empty() && book.asks().empty() == reference.asks.empty());
    if (!reference.bids.empty()) CHECK(book.best(Side::kBid)->px_ticks == reference.bids.begin()->first);
    if (!reference.asks.empty()) CHECK(book.best(Side::kAsk)->px_ticks == reference.asks.begin()->first);
    if (step % 1009 == 0) {
      CHECK(same_side(book.bids(), reference.bids));
      CHECK(same_side(book.asks(), reference.asks));
    }
  }
  CHECK(same_side(book.bids(), reference.bids));
  CHECK(same_side(book.asks(), reference.asks));
}

// BookSide::set_level reports what it did.
void set_level_reports_the_change() {
  book::BookSide side(true, 2);
  CHECK(side.set_level(100, 0) == book::LevelChange::kAbsent);
  CHECK(side.set_level(100, 5) == book::LevelChange::kInserted);
  CHECK(side.set_level(100, 6) == book::LevelChange::kUpdated);
  CHECK(side.set_level(90, 1) == book::LevelChange::kInserted);
  CHECK(side.set_level(80, 1) == book::LevelChange::kDroppedByCap);  // worse than both kept levels
  CHECK(side.set_level(100, 0) == book::LevelChange::kErased);
  CHECK(side.set_level(100, -1) == book::LevelChange::kRefused);
  CHECK(side.set_level(std::numeric_limits<std::int64_t>::min(), 1) == book::LevelChange::kRefused);
  CHECK(side.size() == 1 && side.best().px_ticks == 90 && side.qty_at(std::numeric_limits<std::int64_t>::min()) == 0);
}


// assign_bit() (bts/btr on x86-64) against its portable form, every bit number mod 64 and both values.
void assign_bit_matches_portable() {
  sim::Rng rng(11);
  for (int i = 0; i < 20'000; ++i) {
    const std::uint64_t word = rng.next() & rng.next();  // sparse and dense words alike
    const std::uint64_t n = rng.below(256);              // the bit number is taken mod 64
    const std::uint64_t value = rng.below(2) == 0 ? 0 : ~std::uint64_t{0};
    std::uint64_t was = 12345;
    std::uint64_t was_portable = 54321;
    const std::uint64_t got = book::assign_bit(word, n, value, was);
    const std::uint64_t want = book::assign_bit_portable(word, n, value, was_portable);
    CHECK(got == want && was == was_portable);
    CHECK(was == (((word >> (n & 63)) & 1U) != 0 ? ~std::uint64_t{0} : 0));
    CHECK(((got >> (n & 63)) & 1U) == (value & 1U) && (got | (std::uint64_t{1} << (n & 63))) == (word | (std::uint64_t{1} << (n & 63))));
  }
}

// highest_bit_or_garbage() (bsr on x86-64) against its portable form for every non-zero word shape.
void highest_bit_matches_portable() {
  sim::Rng rng(12);
  for (int i = 0; i < 20'000; ++i) {
    std::uint64_t word = rng.next() >> rng.below(64);  // every highest bit
    if (word == 0) word = 1;
    const std::uint64_t bit = book::highest_bit_or_garbage(word);
    CHECK(bit == book::highest_bit_portable(word) && bit < 64 && (word >> bit) == 1);
  }
  for (std::uint64_t bit = 0; bit < 64; ++bit) CHECK(book::highest_bit_or_garbage(std::uint64_t{1} << bit) == bit);
}

common::Event level_event(Side side, std::int64_t px, std::int64_t qty, std::uint64_t seq) {
  common::Event event{};
  event.kind = common::EventKind::kDelta;
  event.side = side;
  event.px_ticks = px;
  event.qty_lots = qty;
  event.seq = seq;
  event.ts_exchange_ns = static_cast<std::int64_t>(seq) * 1000 + 1;
  event.ts_local_ns = static_cast<std::int64_t>(seq) * 1000 + 2;
  return event;
}

// The update writes the quantity slot before its cap test; a new level the cap then drops must leave
// no quantity behind (qty_at reads the slot), in every way the cap can refuse or evict through events.
void cap_leaves_no_stale_quantity() {
  {
    Book book(2);
    CHECK(book.try_apply(level_event(Side::kBid, 100, 5, 1)) == book::ApplyError::kOk);
    CHECK(book.try_apply(level_event(Side::kBid, 90, 6, 2)) == book::ApplyError::kOk);
    CHECK(book.try_apply(level_event(Side::kBid, 80, 7, 3)) == book::ApplyError::kOk);  // worse than both: dropped
    CHECK(book.bids().qty_at(80) == 0 && book.bids().size() == 2 && book.dropped_levels() == 1);
    CHECK(book.seq() == 3 && book.ts_exchange_ns() == 3001 && book.ts_local_ns() == 3002 && book.updates() == 3);
    CHECK(book.try_apply(level_event(Side::kBid, 95, 8, 4)) == book::ApplyError::kOk);  // evicts 90
    CHECK(book.bids().qty_at(90) == 0 && book.bids().qty_at(95) == 8 && book.bids().size() == 2);
    CHECK(book.try_apply(level_event(Side::kBid, 90, 0, 5)) == book::ApplyError::kOk);  // absent: nothing
    CHECK(book.bids().qty_at(90) == 0 && book.bids().size() == 2);
    // At the cap, an existing level changes and a removal frees room on the fast path.
    CHECK(book.try_apply(level_event(Side::kBid, 95, 9, 6)) == book::ApplyError::kOk && book.bids().qty_at(95) == 9);
    CHECK(book.try_apply(level_event(Side::kBid, 95, 0, 7)) == book::ApplyError::kOk);
    CHECK(book.try_apply(level_event(Side::kBid, 80, 3, 8)) == book::ApplyError::kOk && book.bids().qty_at(80) == 3);
    CHECK(book.bids().size() == 2 && book.dropped_levels() == 2);
  }
  {
    // Cap 1: a better level evicts the only one, and the window starts over around the new level.
    Book book(1);
    CHECK(book.try_apply(level_event(Side::kAsk, 100, 5, 1)) == book::ApplyError::kOk);
    CHECK(book.try_apply(level_event(Side::kAsk, 99, 6, 2)) == book::ApplyError::kOk);
    // 98 is where 99's slot under the old window lands under the new one.
    CHECK(book.asks().qty_at(100) == 0 && book.asks().qty_at(98) == 0 && book.asks().qty_at(99) == 6);
    CHECK(book.asks().size() == 1);
    CHECK(book.try_apply(level_event(Side::kAsk, 101, 7, 3)) == book::ApplyError::kOk);  // worse: dropped
    CHECK(book.asks().qty_at(101) == 0 && book.asks().qty_at(100) == 0 && book.best(Side::kAsk)->px_ticks == 99);
  }
  {
    // Cap 0 keeps nothing, even for a price that falls inside an empty side's parked window.
    Book book(0);
    const std::int64_t max = std::numeric_limits<std::int64_t>::max();
    CHECK(book.try_apply(level_event(Side::kBid, max, 5, 1)) == book::ApplyError::kOk);
    CHECK(book.try_apply(level_event(Side::kBid, 100, 5, 2)) == book::ApplyError::kOk);
    CHECK(book.bids().empty() && book.bids().qty_at(max) == 0 && book.bids().qty_at(100) == 0);
    CHECK(book.dropped_levels() == 2 && book.updates() == 2);
  }
}

// Through events, the one price with no key is refused (the fast path tests it as "px - 1 overflows")
// and the next one up is an ordinary price on both sides.
void event_prices_at_the_bottom_of_the_range() {
  const std::int64_t min = std::numeric_limits<std::int64_t>::min();
  Book book;
  CHECK(book.try_apply(level_event(Side::kBid, min, 1, 1)) == book::ApplyError::kBadPrice);
  CHECK(book.try_apply(level_event(Side::kAsk, min, 1, 2)) == book::ApplyError::kBadPrice);
  CHECK(book.updates() == 0 && book.seq() == 0);
  CHECK(book.try_apply(level_event(Side::kBid, min + 1, 1, 3)) == book::ApplyError::kOk);
  CHECK(book.try_apply(level_event(Side::kAsk, min + 1, 2, 4)) == book::ApplyError::kOk);
  CHECK(book.best(Side::kBid)->px_ticks == min + 1 && book.best(Side::kAsk)->px_ticks == min + 1);
  const common::Event batch[] = {level_event(Side::kBid, min + 2, 3, 5), level_event(Side::kAsk, min, 1, 6)};
  const book::BatchResult result = book.try_apply_batch(batch, 0);
  CHECK(result.applied == 1 && result.error == book::ApplyError::kBadPrice && book.seq() == 5);
}

// Removing the best level, the update that has to find the next best: in the same 64-slot bitmap
// word, in a lower word, in the overflow below the window (far), or nowhere (the side empties);
// near the window's floor (which moves the window) and at the cap. Against the reference after every
// step; a third of the steps cancel the current best on purpose (a feed does it about one update in ten).
void best_removal_against_reference(std::uint64_t seed, std::int64_t spread, std::uint32_t cap) {
  sim::Rng rng(seed);
  Book book(cap);
  Reference reference;
  std::int64_t center = -3'000'000 + static_cast<std::int64_t>(seed) * 1'000'003;  // negative and positive prices
  for (int step = 0; step < 150'000; ++step) {
    if (rng.below(5000) == 0) center += static_cast<std::int64_t>(rng.below(40'001)) - 20'000;
    const Side side = rng.below(2) == 0 ? Side::kBid : Side::kAsk;
    std::int64_t px = center + static_cast<std::int64_t>(rng.below(static_cast<std::uint64_t>(2 * spread + 1))) - spread;
    std::int64_t qty = rng.below(3) == 0 ? 0 : 1 + static_cast<std::int64_t>(rng.below(50));
    const auto best = book.best(side);
    if (best && rng.below(3) == 0) {  // cancel the best
      px = best->px_ticks;
      qty = 0;
    }
    CHECK(book.try_apply(level_event(side, px, qty, static_cast<std::uint64_t>(step) + 1)) == book::ApplyError::kOk);
    if (cap >= 1'000'000) reference.set(side, px, qty);
    if (cap < 1'000'000) continue;  // the reference does not model the cap: checked separately below
    const bool bids_empty = reference.bids.empty();
    const bool asks_empty = reference.asks.empty();
    CHECK(book.bids().empty() == bids_empty && book.asks().empty() == asks_empty);
    if (!bids_empty) CHECK(book.best(Side::kBid)->px_ticks == reference.bids.begin()->first);
    if (!bids_empty) CHECK(book.best(Side::kBid)->qty_lots == reference.bids.begin()->second);
    if (!asks_empty) CHECK(book.best(Side::kAsk)->px_ticks == reference.asks.begin()->first);
    if (!asks_empty) CHECK(book.best(Side::kAsk)->qty_lots == reference.asks.begin()->second);
    if (step % 2003 == 0) {
      CHECK(same_side(book.bids(), reference.bids));
      CHECK(same_side(book.asks(), reference.asks));
    }
  }
  if (cap >= 1'000'000) {
    CHECK(same_side(book.bids(), reference.bids));
    CHECK(same_side(book.asks(), reference.asks));
  }
  // Under a cap the best is still the best of what is kept: the highest bid and lowest ask listed.
  for (const book::BookSide* side : {&book.bids(), &book.asks()}) {
    CHECK(side->size() <= cap);
    bool first = true;
    std::int64_t previous = 0;
    side->for_each_level([&](Level level) {
      if (first) CHECK(level.px_ticks == side->best().px_ticks && level.qty_lots == side->best().qty_lots);
      if (!first) CHECK(side->better(previous, level.px_ticks));
      first = false;
      previous = level.px_ticks;
      return true;
    });
  }
}

// The cases of best_removal_against_reference one by one, on both sides (asks are stored negated).
void best_removal_cases() {
  for (const Side side : {Side::kBid, Side::kAsk}) {
    const std::int64_t dir = side == Side::kBid ? 1 : -1;  // +1: better is higher
    std::uint64_t seq = 0;
    Book book;
    auto set = [&](std::int64_t px, std::int64_t qty) {
      CHECK(book.try_apply(level_event(side, px, qty, ++seq)) == book::ApplyError::kOk);
    };
    auto best_px = [&]() { return book.best(side) ? book.best(side)->px_ticks : std::int64_t{-1}; };
    const std::int64_t top = 1'000'000;
    // Neighbours (mostly in the same 64-slot bitmap word), one 40 away and one 300 away
    // (other words), one 20,000 away (below the 8,192-slot window: in far).
    for (const std::int64_t depth : {0, 1, 3, 40, 300, 20'000}) set(top - dir * depth, 10 + depth);
    CHECK(best_px() == top);
    set(top, 0);
    CHECK(best_px() == top - dir * 1 && book.best(side)->qty_lots == 11);
    set(top - dir * 1, 0);
    CHECK(best_px() == top - dir * 3 && book.best(side)->qty_lots == 13);
    set(top - dir * 3, 0);
    CHECK(best_px() == top - dir * 40 && book.best(side)->qty_lots == 50);
    set(top - dir * 40, 0);
    CHECK(best_px() == top - dir * 300 && book.best(side)->qty_lots == 310);
    set(top - dir * 300, 0);  // only far is left: the window moves down to it
    CHECK(best_px() == top - dir * 20'000 && book.best(side)->qty_lots == 20'010);
    CHECK(book.side(side).size() == 1);
    set(top - dir * 20'000, 0);  // the side empties
    CHECK(book.side(side).empty() && book.side(side).size() == 0 && !book.best(side));
    // Starts afresh anywhere; removing a level that is not the best leaves the best alone.
    set(-top, 5);
    set(-top - dir, 6);
    set(-top - dir, 0);
    CHECK(best_px() == -top && book.side(side).size() == 1);
    // A best that walks down one level at a time, across many words, with deeper levels in far:
    // the window follows it (it moves when the best nears its floor).
    book.clear();
    for (std::int64_t depth = 0; depth < 30'000; depth += 7) set(top - dir * depth, 1 + depth);
    for (std::int64_t depth = 0; depth < 30'000; depth += 7) {
      CHECK(best_px() == top - dir * depth && book.best(side)->qty_lots == 1 + depth);
      set(top - dir * depth, 0);
    }
    CHECK(book.side(side).empty());
  }
  // At the cap, removing the best frees room and the next best is the next kept level.
  Book book(3);
  std::uint64_t seq = 0;
  for (const std::int64_t px : {100, 101, 102, 103, 104}) {
    CHECK(book.try_apply(level_event(Side::kBid, px, px, ++seq)) == book::ApplyError::kOk);
  }
  CHECK(book.bids().size() == 3 && book.best(Side::kBid)->px_ticks == 104 && book.dropped_levels() == 2);
  CHECK(book.try_apply(level_event(Side::kBid, 104, 0, ++seq)) == book::ApplyError::kOk);
  CHECK(book.best(Side::kBid)->px_ticks == 103 && book.bids().size() == 2);
  CHECK(book.try_apply(level_event(Side::kBid, 99, 9, ++seq)) == book::ApplyError::kOk);  // room again
  CHECK(book.bids().size() == 3 && book.bids().qty_at(99) == 9 && book.dropped_levels() == 2);
  for (const std::int64_t px : {103, 102, 99}) {
    CHECK(book.try_apply(level_event(Side::kBid, px, 0, ++seq)) == book::ApplyError::kOk);
  }
  CHECK(book.bids().empty() && book.bids().size() == 0);
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
  capped_random_walk_against_reference(4, 50);
  capped_random_walk_against_reference(5, 3);
  capped_random_walk_against_reference(6, 1);
  prefetching_batch_equals_one_by_one();
  measurement_does_the_work();
  window_at_the_ends_of_the_key_range();
  copies_are_independent();
  batch_equals_one_by_one();
  sides_that_empty_against_reference();
  set_level_reports_the_change();
  assign_bit_matches_portable();
  cap_leaves_no_stale_quantity();
  event_prices_at_the_bottom_of_the_range();
  highest_bit_matches_portable();
  best_removal_cases();
  best_removal_against_reference(7, 6, 1'000'000);      // a few levels: words empty often, sides too
  best_removal_against_reference(8, 100, 1'000'000);    // the next best mostly in the same word
  best_removal_against_reference(9, 5'000, 1'000'000);  // sparse: other words and far
  best_removal_against_reference(10, 100, 4);           // at the cap
  return report("test_book");
}
