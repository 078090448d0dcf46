// The engine's quiet runs (level updates below the signal's top N inside a message, applied by
// Book::apply_levels_while without notes) against the per-event reference: a Book fed with
// try_apply(event, old_qty) and a FeatureState with every level noted, trades added and the book
// update at each message end, as the engine did before the runs. Random multi-event messages near
// and far from the top (window, overflow, window moves), trades inside and at the end of messages,
// clears, and spans that cut messages anywhere. After every span: the same book (levels, sequence,
// timestamps, updates), the same feature values bit for bit, the same counters.
// Also Book::apply_levels_while itself: where it stops and what it leaves, against try_apply per event.
#include <cstdint>
#include <cstdio>
#include <cstring>
#include <limits>
#include <span>
#include <string>
#include <vector>

#include "book_support.hpp"
#include "check.hpp"
#include "fastcore/book/book.hpp"
#include "fastcore/common/decimal.hpp"
#include "fastcore/common/instrument.hpp"
#include "fastcore/engine/engine.hpp"
#include "fastcore/signal/features.hpp"
#include "fastcore/sim/synthetic_market.hpp"

using namespace fastcore;
using book::Book;
using book_support::same_book;
using common::Event;
using common::EventKind;
using common::Side;

namespace {

bool same_bits(double a, double b) { return std::memcmp(&a, &b, sizeof a) == 0; }

bool same_features(const signal::FeatureState& a, const signal::FeatureState& b) {
  if (a.valid_mask() != b.valid_mask() || a.book_updates() != b.book_updates() || a.trades() != b.trades()) return false;
  const auto& x = a.values();
  const auto& y = b.values();
  for (std::size_t i = 0; i < signal::kFeatureCount; ++i) {
    if ((a.valid_mask() >> i & 1U) != 0 && !same_bits(x[i], y[i])) return false;
  }
  return true;
}

// Random order flow of one instrument in messages of 1..`max_message` events around a wandering
// centre: most levels deep (below the top N, many beyond the 8,192-tick window), some at the top,
// trades inside and at the end of messages, an occasional clear with a new snapshot.
std::vector<Event> make_flow(std::uint64_t seed, std::size_t count, std::uint64_t max_message) {
  sim::Rng rng(seed);
  std::vector<Event> events;
  events.reserve(count + 64);
  std::int64_t centre = 1'000'000;
  std::int64_t ts = 1'700'000'000'000'000'000;
  std::uint64_t seq = 1;
  while (events.size() < count) {
    const std::uint64_t size = 1 + rng.below(max_message);
    ts += 1 + static_cast<std::int64_t>(rng.below(3'000'000));
    // A jump (beyond the window: levels move to the overflow and back) only with a new snapshot, so the
    // old top does not cross the new one; otherwise a small drift now and then.
    const bool clear = rng.below(300) == 0;
    if (clear) centre += static_cast<std::int64_t>(rng.below(20'000)) - 10'000;
    else if (rng.below(50) == 0) centre += static_cast<std::int64_t>(rng.below(7)) - 3;
    for (std::uint64_t k = 0; k < size; ++k) {
      Event e{};
      e.ts_exchange_ns = ts;
      e.ts_local_ns = ts + 5'000;
      e.seq = seq++;
      e.instrument_id = 0;
      const std::uint64_t what = rng.below(100);
      if (clear && k == 0) {
        e.kind = EventKind::kClear;
      } else if (what < 6) {
        e.kind = EventKind::kTrade;
        e.side = rng.below(2) == 0 ? Side::kBid : Side::kAsk;
        e.px_ticks = centre;
        e.qty_lots = 1 + static_cast<std::int64_t>(rng.below(50));
        e.aux = seq;
      } else {
        e.kind = clear ? EventKind::kSnapshotLevel : EventKind::kDelta;
        e.side = rng.below(2) == 0 ? Side::kBid : Side::kAsk;
        // A tenth at the top (inside the top 5 most of the time), the rest deep, some beyond the window.
        const std::uint64_t band = rng.below(10);
        const auto offset = static_cast<std::int64_t>(band == 0 ? rng.below(8) : band < 8 ? 5 + rng.below(2'000)
                                                                                            : rng.below(30'000));
        e.px_ticks = e.side == Side::kBid ? centre - offset : centre + 1 + offset;
        e.qty_lots = rng.below(3) == 0 && !clear ? 0 : 1 + static_cast<std::int64_t>(rng.below(100));
      }
      events.push_back(e);
    }
    events.back().flags = common::kFlagLastInMessage;
  }
  return events;
}

// The engine's message loop before quiet runs, for one instrument: every event through the book with its
// previous size, every level noted, trades to the flow, the book update at each message end.
struct Reference {
  Book book;
  signal::FeatureState features;
  std::uint64_t events = 0;
  std::uint64_t messages = 0;

  explicit Reference(const signal::FeatureConfig& config) : features(config) {}

  void apply(std::span<const Event> span) {
    for (const Event& event : span) {
      std::int64_t old_qty = -1;
      CHECK(book.try_apply(event, old_qty) == book::ApplyError::kOk);
      ++events;
      if (event.kind == EventKind::kTrade) {
        features.on_trade(event);
      } else if (static_cast<unsigned>(event.kind) - 1U < 3U) {
        features.note_level(event, old_qty, book);
      }
      if ((event.flags & common::kFlagLastInMessage) != 0) {
        ++messages;
        if (event.kind != EventKind::kTrade && static_cast<unsigned>(event.kind) - 1U < 3U) {
          features.on_book_tracked(book, signal::event_time_ns(event));
        }
      }
    }
  }
};

// `engine` on one instrument, BTCUSDT (tick 0.1, lot 0.001); the engine keeps its own copy.
void init_btcusdt(engine::Engine& engine, const engine::EngineConfig& config) {
  common::Instrument instrument;
  common::InstrumentField failed{};
  CHECK(common::try_make_instrument("BTCUSDT", "binance", "0.1", "0.001", "0.001", "0", "1", false, instrument,
                                    failed) == common::DecimalError::kOk);
  CHECK(engine.try_init(std::span<const common::Instrument>(&instrument, 1), config, nullptr) ==
        engine::EngineError::kOk);
}

void engine_matches_per_event_reference(std::uint64_t seed, std::uint64_t max_message, std::uint32_t depth) {
  const std::vector<Event> flow = make_flow(seed, 60'000, max_message);
  engine::EngineConfig config;
  config.timing = false;
  config.features.depth_levels = depth;
  engine::Engine engine;
  init_btcusdt(engine, config);
  Reference reference(config.features);
  sim::Rng rng(seed ^ 0x5151);
  std::size_t at = 0;
  std::size_t spans = 0;
  std::size_t mismatches = 0;
  while (at < flow.size()) {
    // Spans of any length, cutting messages anywhere (the backtest's spans do).
    const std::size_t length = std::min<std::size_t>(flow.size() - at, 1 + rng.below(rng.below(4) == 0 ? 500 : 40));
    const std::span<const Event> span(flow.data() + at, length);
    const engine::ApplyResult result = engine.try_on_events(span);
    CHECK(result.error == engine::EngineError::kOk);
    CHECK_EQ(result.applied, length);
    reference.apply(span);
    at += length;
    ++spans;
    if (!same_book(engine.books()[0], reference.book) || !same_features(engine.signals()[0], reference.features)) {
      ++mismatches;
    }
  }
  CHECK_EQ(mismatches, 0U);
  CHECK_EQ(engine.counters().events, reference.events);
  CHECK_EQ(engine.counters().messages, reference.messages);
  std::printf("seed %llu, messages up to %llu, depth %u: %zu spans, %llu messages, %llu sane book updates, %llu levels dropped\n",
              static_cast<unsigned long long>(seed), static_cast<unsigned long long>(max_message), depth, spans,
              static_cast<unsigned long long>(reference.messages),
              static_cast<unsigned long long>(reference.features.book_updates()),
              static_cast<unsigned long long>(reference.book.dropped_levels()));
}

// A refused event inside a quiet run: the engine stops there with the book's reason, the events before it
// applied (as one try_apply per event would leave them), and goes on from the next call.
void refused_event_inside_a_run() {
  std::vector<Event> flow = make_flow(7, 2'000, 60);
  engine::EngineConfig config;
  config.timing = false;
  engine::Engine engine;
  init_btcusdt(engine, config);
  Reference reference(config.features);
  // Warm up so the signal has its top N, then break a deep level in the middle of a long message.
  const std::size_t warm = 1'500;
  CHECK(engine.try_on_events(std::span<const Event>(flow.data(), warm)).error == engine::EngineError::kOk);
  reference.apply(std::span<const Event>(flow.data(), warm));
  std::size_t bad = warm;
  while (bad < flow.size() && !(flow[bad].kind == EventKind::kDelta && (flow[bad].flags & common::kFlagLastInMessage) == 0 &&
                                bad > 0 && flow[bad - 1].kind == EventKind::kDelta &&
                                (flow[bad - 1].flags & common::kFlagLastInMessage) == 0)) {
    ++bad;
  }
  CHECK(bad < flow.size());
  flow[bad].qty_lots = -5;
  const engine::ApplyResult result = engine.try_on_events(std::span<const Event>(flow.data() + warm, flow.size() - warm));
  CHECK(result.error == engine::EngineError::kBadEvent);
  CHECK(result.book_error == book::ApplyError::kNegativeQty);
  CHECK_EQ(result.applied, bad - warm);
  reference.apply(std::span<const Event>(flow.data() + warm, bad - warm));
  CHECK(same_book(engine.books()[0], reference.book));
  CHECK_EQ(engine.counters().events, reference.events);
}

// Book::apply_levels_while: applies exactly the leading events that are accepted level updates of the
// instrument passing the test, and leaves the same book as try_apply per event over those.
void apply_levels_while_matches_try_apply() {
  sim::Rng rng(11);
  Book run_book;
  Book plain;
  std::size_t runs = 0;
  std::size_t applied_total = 0;
  for (int round = 0; round < 3'000; ++round) {
    std::vector<Event> batch(1 + rng.below(40));
    const std::int64_t centre = 1'000'000 + static_cast<std::int64_t>(rng.below(50));
    for (Event& e : batch) {
      e = Event{};
      const std::uint64_t what = rng.below(200);
      e.kind = what == 0 ? EventKind::kClear : what < 8 ? EventKind::kTrade : what < 20 ? EventKind::kSnapshotLevel
                                                                                       : EventKind::kDelta;
      e.side = rng.below(2) == 0 ? Side::kBid : Side::kAsk;
      const auto offset = static_cast<std::int64_t>(rng.below(rng.below(8) == 0 ? 20'000 : 300));
      e.px_ticks = e.side == Side::kBid ? centre - offset : centre + 1 + offset;
      e.qty_lots = rng.below(3) == 0 ? 0 : 1 + static_cast<std::int64_t>(rng.below(100));
      e.instrument_id = rng.below(100) == 0 ? 1 : 0;
      if (rng.below(150) == 0) e.qty_lots = -1;
      if (rng.below(150) == 0) e.px_ticks = std::numeric_limits<std::int64_t>::min();
      if (rng.below(150) == 0) e.side = static_cast<Side>(2);
      e.seq = static_cast<std::uint64_t>(round) * 100 + rng.below(100);
      if (rng.below(20) == 0) e.flags = common::kFlagLastInMessage;
      if (rng.below(20) == 0) e.venue_id = 3;  // not part of the test
      e.ts_exchange_ns = static_cast<std::int64_t>(rng.next() >> 2);
      e.ts_local_ns = static_cast<std::int64_t>(rng.next() >> 2);
    }
    // Stop flags: none, or the last-in-message bit (set on some events above).
    const auto stop_flags = static_cast<std::uint8_t>(rng.below(2) == 0 ? 0 : common::kFlagLastInMessage);
    // The test: keys at least `floor` away from the centre on their side (bids: px <= centre - floor).
    const auto floor = static_cast<std::int64_t>(rng.below(400));
    std::size_t expected = 0;
    const auto keep = [&](const Event& e, std::size_t side, std::int64_t key) {
      CHECK_EQ(side, static_cast<std::size_t>(e.side));
      CHECK_EQ(key, side == 0 ? e.px_ticks : -e.px_ticks);
      return side == 0 ? key <= centre - floor : key <= -(centre + 1 + floor);
    };
    for (const Event& e : batch) {
      const bool level = (e.kind == EventKind::kDelta || e.kind == EventKind::kSnapshotLevel) && e.instrument_id == 0 &&
                         e.qty_lots >= 0 && e.px_ticks != std::numeric_limits<std::int64_t>::min() &&
                         static_cast<unsigned>(e.side) <= 1U;
      if (!level || (e.flags & stop_flags) != 0 || !(e.side == Side::kBid ? e.px_ticks <= centre - floor : e.px_ticks >= centre + 1 + floor)) break;
      ++expected;
    }
    const std::size_t applied = run_book.apply_levels_while(batch, 0, stop_flags, keep);
    CHECK_EQ(applied, expected);
    for (std::size_t i = 0; i < applied; ++i) CHECK(plain.try_apply(batch[i]) == book::ApplyError::kOk);
    // The rest one by one in both books, so the next round starts from the same state.
    for (std::size_t i = applied; i < batch.size(); ++i) {
      if (batch[i].instrument_id != 0) continue;
      CHECK(run_book.try_apply(batch[i]) == plain.try_apply(batch[i]));
    }
    CHECK(same_book(run_book, plain));
    runs += applied != 0;
    applied_total += applied;
  }
  CHECK(runs > 500);
  std::printf("apply_levels_while: %zu runs, %zu events applied in runs\n", runs, applied_total);
}

}  // namespace

int main() {
  apply_levels_while_matches_try_apply();
  engine_matches_per_event_reference(1, 120, 5);  // long depth messages, mostly deep: long quiet runs
  engine_matches_per_event_reference(2, 3, 5);    // short messages: few runs
  engine_matches_per_event_reference(3, 60, 1);
  engine_matches_per_event_reference(4, 60, 20);
  refused_event_inside_a_run();
  return report("test_engine_runs");
}
