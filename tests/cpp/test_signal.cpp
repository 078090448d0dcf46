// Signals: each feature against values computed by hand (EMA after known dt, top-N imbalance on a
// known book, volatility on a known mid path, trade flow), "no value" on empty and crossed books, the
// composite's decision, and determinism on the synthetic market.
#include <cmath>
#include <cstring>
#include <vector>

#include "check.hpp"
#include "fastcore/perf/signal_latency.hpp"
#include "fastcore/signal/features.hpp"
#include "fastcore/sim/synthetic_market.hpp"

using namespace fastcore;
using book::Book;
using common::Side;
using signal::Feature;
using signal::FeatureConfig;
using signal::FeatureState;

namespace {

constexpr std::int64_t kHalf = 1'000'000;  // half-life used throughout: 1 ms

bool near(std::optional<double> value, double expected) {
  return value.has_value() && std::fabs(*value - expected) <= 1e-12 * (1.0 + std::fabs(expected));
}

FeatureConfig config(std::uint32_t depth = 5) {
  FeatureConfig c;
  c.mid_half_life_ns = kHalf;
  c.vol_half_life_ns = kHalf;
  c.flow_half_life_ns = kHalf;
  c.depth_levels = depth;
  return c;
}

void set(Book& book, Side side, std::int64_t px, std::int64_t qty) { CHECK(book.try_set_level(side, px, qty) == book::ApplyError::kOk); }

void quote(Book& book, std::int64_t bid, std::int64_t ask) {
  book.clear();
  set(book, Side::kBid, bid, 10);
  set(book, Side::kAsk, ask, 10);
}

common::Event trade(Side aggressor, std::int64_t qty, std::int64_t ts) {
  common::Event e{};
  e.kind = common::EventKind::kTrade;
  e.side = aggressor;
  e.qty_lots = qty;
  e.px_ticks = 100;
  e.ts_exchange_ns = ts;
  return e;
}

void decay_formula() {
  CHECK(signal::decay_alpha(kHalf, kHalf) == 0.5);
  CHECK(signal::decay_alpha(2 * kHalf, kHalf) == 0.75);
  CHECK(signal::decay_alpha(0, kHalf) == 0.0);
  CHECK(signal::decay_alpha(-5, kHalf) == 0.0);
  CHECK(std::fabs(signal::decay_alpha(kHalf / 2, kHalf) - (1.0 - 1.0 / std::sqrt(2.0))) < 1e-15);
}

void top_of_book_and_mid_ema() {
  FeatureState s(config());
  Book book;
  set(book, Side::kBid, 100, 10);
  set(book, Side::kAsk, 102, 30);
  s.on_book(book, 1000);
  CHECK(near(s.get(Feature::kMicroprice), 100.5));  // (100 x 30 + 102 x 10) / 40
  CHECK(near(s.get(Feature::kMicroOffset), -0.5));  // (100.5 - 101) / (2 / 2)
  CHECK(near(s.get(Feature::kSpread), 2.0));
  CHECK(near(s.get(Feature::kMid), 101.0));
  CHECK(near(s.get(Feature::kMidEma), 101.0));  // first sample seeds
  CHECK(near(s.get(Feature::kMidEmaDev), 0.0));
  CHECK(!s.get(Feature::kVolatility));  // no return yet
  CHECK(!s.get(Feature::kTradeFlow));

  quote(book, 104, 106);  // mid 105, one half-life later
  s.on_book(book, 1000 + kHalf);
  CHECK(near(s.get(Feature::kMidEma), 103.0));  // 101 + 0.5 x (105 - 101)
  CHECK(near(s.get(Feature::kMidEmaDev), 2.0));

  quote(book, 106, 108);  // mid 107 at the same timestamp: dt = 0 does not move the EMA
  s.on_book(book, 1000 + kHalf);
  CHECK(near(s.get(Feature::kMidEma), 103.0));
  CHECK(near(s.get(Feature::kMidEmaDev), 4.0));
  s.on_book(book, 1000);  // a late event: ignored by the average, clock does not go back
  CHECK(near(s.get(Feature::kMidEma), 103.0));
  s.on_book(book, 1000 + 3 * kHalf);  // two half-lives after the last advance: alpha 0.75
  CHECK(near(s.get(Feature::kMidEma), 103.0 + 0.75 * 4.0));
}

void top_n_imbalance() {
  Book book;
  set(book, Side::kBid, 100, 10);
  set(book, Side::kBid, 99, 20);
  set(book, Side::kBid, 98, 1000);
  set(book, Side::kAsk, 102, 30);
  set(book, Side::kAsk, 103, 40);
  set(book, Side::kAsk, 104, 5000);
  set(book, Side::kAsk, 50'000, 7);  // far from the touch (overflow storage): only a deep N reaches it
  const auto imbalance = [&](std::uint32_t n) {
    FeatureState s(config(n));
    s.on_book(book, 0);
    return s.get(Feature::kImbalance);
  };
  CHECK(near(imbalance(1), (10.0 - 30.0) / 40.0));
  CHECK(near(imbalance(2), (30.0 - 70.0) / 100.0));
  CHECK(near(imbalance(3), (1030.0 - 5070.0) / 6100.0));
  CHECK(near(imbalance(4), (1030.0 - 5077.0) / 6107.0));
  CHECK(near(imbalance(64), (1030.0 - 5077.0) / 6107.0));
  CHECK(signal::validate(config(0)) == signal::SignalError::kBadDepth);
  CHECK(signal::validate(config(65)) == signal::SignalError::kBadDepth);
  CHECK(signal::validate(config(64)) == signal::SignalError::kOk);
}

void scaled_decay_matches_division() {
  // decay_alpha_scaled (1 / half-life precomputed) against the division form: within 1e-15 relative.
  for (const std::int64_t half : {std::int64_t{1}, std::int64_t{7}, std::int64_t{49}, kHalf, std::int64_t{999'999'937}}) {
    const double inverse = 1.0 / static_cast<double>(half);
    for (const std::int64_t dt : {std::int64_t{1}, std::int64_t{3}, half / 3 + 1, half, 5 * half + 11, 60 * half}) {
      const double a = signal::decay_alpha(dt, half);
      const double b = signal::decay_alpha_scaled(dt, inverse);
      CHECK(std::fabs(a - b) <= 1e-15 * std::fabs(a) + 1e-300);
    }
  }
  CHECK(signal::decay_alpha_scaled(0, 1.0) == 0.0 && signal::decay_alpha_scaled(-3, 1.0) == 0.0);
}

// Step by step as the header defines it (no deferral), for the mid EMA and the variance.
struct StepReference {
  double ema = 0, var = 0, ref = 0;
  std::int64_t ts = 0;
  bool started = false, has_vol = false;
  void update(double mid, std::int64_t t) {
    if (!started) {
      ema = ref = mid;
      ts = t;
      started = true;
      return;
    }
    const std::int64_t dt = t - ts;
    if (dt <= 0) return;
    ema += signal::decay_alpha(dt, kHalf) * (mid - ema);
    const double r = std::log(mid / ref);
    ref = mid;
    var = has_vol ? var + signal::decay_alpha(dt, 3 * kHalf) * (r * r - var) : r * r;
    has_vol = true;
    ts = t;
  }
};

void deferred_decay_matches_step_by_step() {
  // Long runs of an unchanged mid (deferred) between moves, uneven gaps, a late event: the deferred state
  // must match the step-by-step definition to 1e-12 relative, and reading it must not change later values.
  FeatureConfig c = config();
  c.vol_half_life_ns = 3 * kHalf;
  FeatureState read_often(c);
  FeatureState never_read(c);
  StepReference ref;
  Book book;
  sim::Rng rng(11);
  std::int64_t ts = 1'000;
  std::int64_t bid = 1'000;
  for (int i = 0; i < 20'000; ++i) {
    if (rng.below(5) == 0) bid += static_cast<std::int64_t>(rng.below(7)) - 3;  // the mid moves one update in five
    quote(book, bid, bid + 2);
    ts += rng.below(10) == 0 ? -static_cast<std::int64_t>(rng.below(1'000)) : static_cast<std::int64_t>(rng.below(400'000));
    read_often.on_book(book, ts);
    never_read.on_book(book, ts);
    ref.update(static_cast<double>(bid) + 1.0, ts);
    if (ts < ref.ts) ts = ref.ts;  // the feature clock never goes back; keep the stream near it
    if (i % 3 == 0) {
      CHECK(near(read_often.get(Feature::kMidEma), ref.ema));
      // Absolute to the EMA's own scale: the deviation is a difference of two numbers near 1,000.
      const auto dev = read_often.get(Feature::kMidEmaDev);
      CHECK(dev && std::fabs(*dev - (static_cast<double>(bid) + 1.0 - ref.ema)) <= 1e-12 * (1.0 + ref.ema));
      if (ref.has_vol) CHECK(near(read_often.get(Feature::kVolatility), std::sqrt(ref.var)));
    }
  }
  CHECK(std::memcmp(read_often.values().data(), never_read.values().data(), sizeof(double) * signal::kFeatureCount) == 0);
}

void top_n_sums_follow_level_changes() {
  // The same changes noted with the level's previous size (sums adjusted, levels probed in and out) and
  // without it (the side walked again): either way the sum is the book's.
  for (const bool known : {true, false}) {
    FeatureState s(config(3));
    Book book;
    set(book, Side::kBid, 100, 10);
    set(book, Side::kBid, 99, 20);
    set(book, Side::kBid, 98, 30);
    set(book, Side::kBid, 97, 40);
    set(book, Side::kAsk, 101, 60);
    s.on_book(book, 1);
    CHECK(near(s.get(Feature::kImbalance), (60.0 - 60.0) / 120.0));
    const auto level = [&](Side side, std::int64_t px, std::int64_t qty, std::int64_t ts) {
      common::Event e{};
      e.kind = common::EventKind::kDelta;
      e.side = side;
      e.px_ticks = px;
      e.qty_lots = qty;
      const std::int64_t old_qty = book.side(side).qty_at(px);
      set(book, side, px, qty);
      if (known) s.note_level(e, old_qty, book);
      else s.note_level(e);
      s.on_book_tracked(book, ts);
    };
    level(Side::kBid, 99, 5, 2);   // size change below the best: 10 + 5 + 30 = 45
    CHECK(near(s.get(Feature::kImbalance), (45.0 - 60.0) / 105.0));
    level(Side::kBid, 97, 1, 3);   // below the top 3: no change
    CHECK(near(s.get(Feature::kImbalance), (45.0 - 60.0) / 105.0));
    level(Side::kBid, 99, 0, 4);   // removal: 97 enters, 10 + 30 + 1 = 41
    CHECK(near(s.get(Feature::kImbalance), (41.0 - 60.0) / 101.0));
    level(Side::kBid, 100, 7, 5);  // size change at the best: 7 + 30 + 1 = 38
    CHECK(near(s.get(Feature::kImbalance), (38.0 - 60.0) / 98.0));
    level(Side::kBid, 99, 4, 6);   // new level inside: 97 leaves, 7 + 4 + 30 = 41
    CHECK(near(s.get(Feature::kImbalance), (41.0 - 60.0) / 101.0));
    level(Side::kBid, 96, 0, 7);   // a cancel where no level rests: no change
    CHECK(near(s.get(Feature::kImbalance), (41.0 - 60.0) / 101.0));
    level(Side::kAsk, 102, 5, 8);  // new ask level inside (fewer than 3 asks): 65
    CHECK(near(s.get(Feature::kImbalance), (41.0 - 65.0) / 106.0));
    level(Side::kAsk, 101, 0, 9);  // the best ask goes: 5 left
    CHECK(near(s.get(Feature::kImbalance), (41.0 - 5.0) / 46.0));
    level(Side::kAsk, 102, 0, 10);  // the ask side emptied: no book features
    CHECK(!s.get(Feature::kImbalance));
    level(Side::kAsk, 120, 9, 11);  // back, far away
    CHECK(near(s.get(Feature::kImbalance), (41.0 - 9.0) / 50.0));
  }
}

// The incremental top-N sums (the book's reported size + note_level) against a full recompute (on_book) after
// every message of random order flow: levels entering and leaving the top N (dense and sparse prices,
// so the probes both find the next level and give up), sides emptied, crossed and locked books, clears,
// snapshots, cancels where no level rests, refused events, a capped book, and notes without the
// previous size mixed in. Every value and valid bit must be bit-identical.
void incremental_top_n_matches_full_recompute() {
  sim::Rng rng(11);
  std::size_t compared = 0;
  for (int round = 0; round < 60; ++round) {
    const std::uint32_t depth = std::vector<std::uint32_t>{1, 2, 3, 5, 8}[rng.below(5)];
    const std::uint32_t cap = rng.below(4) == 0 ? 3 + static_cast<std::uint32_t>(rng.below(8)) : 5000;
    const std::int64_t spread_px = 1 + static_cast<std::int64_t>(rng.below(3)) * static_cast<std::int64_t>(rng.below(12));
    Book book(cap);
    FeatureState tracked(config(depth));
    FeatureState full(config(depth));
    std::int64_t ts = 1;
    for (int message = 0; message < 400; ++message) {
      const std::uint64_t length = 1 + rng.below(rng.below(4) == 0 ? 12 : 3);
      for (std::uint64_t i = 0; i < length; ++i) {
        common::Event e{};
        const std::uint64_t what = rng.below(100);
        e.kind = what < 2 ? common::EventKind::kClear : what < 8 ? common::EventKind::kSnapshotLevel : common::EventKind::kDelta;
        e.side = rng.below(2) == 0 ? Side::kBid : Side::kAsk;
        // Bids around 1,000 and asks just above (sometimes through them: crossed books); a gap of
        // `spread_px` ticks between price slots makes some rounds sparse.
        const std::int64_t offset = static_cast<std::int64_t>(rng.below(rng.below(3) == 0 ? 40 : 10)) * spread_px;
        e.px_ticks = e.side == Side::kBid ? 1000 - offset : 1002 + offset - static_cast<std::int64_t>(rng.below(4));
        e.qty_lots = rng.below(3) == 0 ? 0 : 1 + static_cast<std::int64_t>(rng.below(50));
        if (rng.below(200) == 0) e.qty_lots = -1;  // refused by the book: not noted (as the engine does)
        e.ts_exchange_ns = ts;
        if (i + 1 == length) e.flags = common::kFlagLastInMessage;
        // The previous size as the engine takes it: from the book's update.
        std::int64_t old_qty = -1;
        if (book.try_apply(e, old_qty) != book::ApplyError::kOk) break;
        if (rng.below(50) == 0) tracked.note_level(e);  // previous size unknown
        else tracked.note_level(e, old_qty, book);
      }
      // A refused event changed neither the book nor the state (not noted): the message ends there.
      tracked.on_book_tracked(book, ts);
      full.on_book(book, ts);
      ts += static_cast<std::int64_t>(rng.below(3)) * kHalf / 4;  // some messages share a timestamp
      CHECK_EQ(tracked.valid_mask(), full.valid_mask());
      CHECK(std::memcmp(tracked.values().data(), full.values().data(), sizeof(double) * signal::kFeatureCount) == 0);
      CHECK_EQ(tracked.book_updates(), full.book_updates());
      ++compared;
    }
  }
  CHECK(compared == 60U * 400U);
}

void volatility_on_known_path() {
  FeatureState s(config());
  Book book;
  quote(book, 99, 101);  // mid 100
  s.on_book(book, 0);
  CHECK(!s.get(Feature::kVolatility));
  quote(book, 109, 111);  // mid 110
  s.on_book(book, kHalf);
  const double r1 = std::log(110.0 / 100.0);
  CHECK(near(s.get(Feature::kVolatility), std::fabs(r1)));  // first return seeds the EWMA
  quote(book, 98, 100);  // mid 99
  s.on_book(book, 2 * kHalf);
  const double r2 = std::log(99.0 / 110.0);
  CHECK(near(s.get(Feature::kVolatility), std::sqrt(0.5 * r1 * r1 + 0.5 * r2 * r2)));

  // A move inside one timestamp is not lost: 99 -> 120 (same ts) -> 121 gives one return ln(121/99).
  FeatureState t(config());
  quote(book, 98, 100);
  t.on_book(book, 0);
  quote(book, 119, 121);
  t.on_book(book, 0);
  CHECK(!t.get(Feature::kVolatility));
  quote(book, 120, 122);
  t.on_book(book, kHalf);
  CHECK(near(t.get(Feature::kVolatility), std::fabs(std::log(121.0 / 99.0))));
}

void trade_flow() {
  FeatureState s(config());
  s.on_trade(trade(Side::kBid, 10, 0));
  CHECK(near(s.get(Feature::kTradeFlow), 1.0));
  s.on_trade(trade(Side::kAsk, 30, 0));  // same timestamp: both count in full
  CHECK(near(s.get(Feature::kTradeFlow), -0.5));
  s.on_trade(trade(Side::kBid, 20, kHalf));  // buys 10 x 0.5 + 20 = 25, sells 15
  CHECK(near(s.get(Feature::kTradeFlow), 0.25));
  s.on_trade(trade(Side::kAsk, 0, 2 * kHalf));  // zero quantity: ignored
  common::Event not_a_trade = trade(Side::kAsk, 100, 2 * kHalf);
  not_a_trade.kind = common::EventKind::kDelta;
  s.on_trade(not_a_trade);
  CHECK(near(s.get(Feature::kTradeFlow), 0.25));
  CHECK_EQ(s.trades(), 3U);
  s.reset();
  CHECK(!s.get(Feature::kTradeFlow));
  CHECK_EQ(s.valid_mask(), 0U);
}

void empty_and_crossed_books_have_no_value() {
  FeatureState s(config());
  signal::Composite composite;
  CHECK(composite.try_set_weight(Feature::kImbalance, 1.0) == signal::SignalError::kOk);
  CHECK(composite.try_set_threshold(0.1) == signal::SignalError::kOk);
  Book book;
  set(book, Side::kBid, 100, 10);
  s.on_book(book, 0);  // ask side empty
  CHECK(s.valid_mask() == 0U);
  CHECK(!composite.evaluate(s).has_value && composite.evaluate(s).decision == 0);
  set(book, Side::kAsk, 101, 10);
  s.on_book(book, 1);
  CHECK(composite.evaluate(s).has_value);
  set(book, Side::kBid, 102, 10);  // crossed: 102 >= 101
  CHECK(book.is_crossed());
  s.on_book(book, 2);
  for (Feature f : {Feature::kMicroprice, Feature::kMicroOffset, Feature::kImbalance, Feature::kSpread, Feature::kMid,
                    Feature::kMidEmaDev}) {
    CHECK(!s.get(f));
  }
  CHECK(near(s.get(Feature::kMidEma), 100.5));  // the average of the past stays
  const signal::CompositeValue value = composite.evaluate(s);
  CHECK(!value.has_value && value.decision == 0 && value.value == 0.0);
  CHECK(!std::isnan(value.value));
}

void composite_decision() {
  FeatureState s(config());
  Book book;
  set(book, Side::kBid, 100, 30);
  set(book, Side::kAsk, 102, 10);
  s.on_book(book, 0);  // imbalance +0.5
  s.on_trade(trade(Side::kAsk, 10, 0));  // flow -1
  signal::Composite c;
  CHECK(c.try_set_weight(Feature::kImbalance, 1.0) == signal::SignalError::kOk);
  CHECK(c.try_set_weight(Feature::kTradeFlow, 0.25) == signal::SignalError::kOk);
  CHECK(c.try_set_threshold(0.2) == signal::SignalError::kOk);
  signal::CompositeValue v = c.evaluate(s);
  CHECK(v.has_value && near(v.value, 0.25) && v.decision == 1);
  CHECK(c.try_set_threshold(0.3) == signal::SignalError::kOk);
  CHECK(c.evaluate(s).decision == 0);
  CHECK(c.try_set_weight(Feature::kTradeFlow, 3.0) == signal::SignalError::kOk);  // 0.5 - 3 = -2.5
  v = c.evaluate(s);
  CHECK(near(v.value, -1.0) && v.decision == -1);  // clamped
  c.set_mode(signal::CompositeMode::kRaw);
  CHECK(near(c.evaluate(s).value, -2.5));
  CHECK(c.try_set_weight(Feature::kVolatility, 1.0) == signal::SignalError::kOk);  // no value yet
  CHECK(!c.evaluate(s).has_value);
  CHECK(c.try_set_weight(Feature::kVolatility, 0.0) == signal::SignalError::kOk);  // left out again
  CHECK(c.evaluate(s).has_value);
  CHECK(c.try_set_weight(Feature::kSpread, std::nan("")) == signal::SignalError::kBadWeight);
  CHECK(c.try_set_weight(Feature::kSpread, INFINITY) == signal::SignalError::kBadWeight);
  CHECK(c.try_set_threshold(-1.0) == signal::SignalError::kBadThreshold);
  CHECK(c.try_set_threshold(0.0) == signal::SignalError::kOk);
  signal::Composite empty;  // no weights: sum 0, has a value, never enters
  CHECK(empty.evaluate(s).has_value && empty.evaluate(s).decision == 0);
}

// The composite sums only its weighted features: bit-identical to summing all nine in feature order with
// the unweighted ones masked to +0.0 (the form it replaced), under random weight sets (zeros, -0.0,
// weights set and cleared again) on features from the synthetic market, in both modes.
void composite_sum_of_weighted_terms_is_exact() {
  sim::SyntheticMarketConfig market;
  std::vector<common::Event> events(20'000);
  sim::SyntheticMarket(market).generate(events);
  book::BookSet books(1);
  signal::SignalSet signals(1, config());
  sim::Rng rng(5);
  signal::Composite c;
  std::size_t compared = 0;
  for (const common::Event& e : events) {
    std::int64_t old_qty = -1;
    CHECK(books[0].try_apply(e, old_qty) == book::ApplyError::kOk);
    if (!signals.on_event(e, books[0], old_qty) && e.kind != common::EventKind::kTrade) continue;
    if (rng.below(8) == 0) {  // a new weight for one feature
      const auto feature = static_cast<Feature>(rng.below(signal::kFeatureCount));
      const std::uint64_t kind = rng.below(4);
      const double weight = kind == 0 ? 0.0 : kind == 1 ? -0.0 : (static_cast<double>(rng.below(2001)) - 1000.0) / 997.0;
      CHECK(c.try_set_weight(feature, weight) == signal::SignalError::kOk);
      c.set_mode(rng.below(2) == 0 ? signal::CompositeMode::kRaw : signal::CompositeMode::kClamped);
    }
    const FeatureState& s = signals[0];
    std::uint32_t needed = 0;
    for (std::size_t i = 0; i < signal::kFeatureCount; ++i) {
      if (c.weight(static_cast<Feature>(i)) != 0.0) needed |= 1U << i;
    }
    const signal::CompositeValue v = c.evaluate(s);
    CHECK(v.has_value == ((s.valid_mask() & needed) == needed));
    if (!v.has_value) continue;
    double sum = 0.0;
    for (std::size_t i = 0; i < signal::kFeatureCount; ++i) {
      sum += c.weight(static_cast<Feature>(i)) * ((needed >> i & 1U) != 0 ? s.values()[i] : 0.0);
    }
    if (c.mode() == signal::CompositeMode::kClamped) sum = sum > 1.0 ? 1.0 : sum < -1.0 ? -1.0 : sum;
    CHECK(std::memcmp(&sum, &v.value, sizeof sum) == 0);
    ++compared;
  }
  CHECK(compared > 10'000);
}

void names_round_trip() {
  for (std::size_t i = 0; i < signal::kFeatureCount; ++i) {
    Feature parsed{};
    CHECK(signal::try_parse_feature(signal::feature_name(static_cast<Feature>(i)), parsed));
    CHECK(static_cast<std::size_t>(parsed) == i);
  }
  Feature parsed{};
  CHECK(!signal::try_parse_feature("nope", parsed));
}

std::vector<std::uint64_t> run_synthetic(std::uint32_t instruments, std::uint32_t depth) {
  sim::SyntheticMarketConfig market;
  market.instruments = instruments;
  market.seed = 7;
  std::vector<common::Event> events(200'000);
  sim::SyntheticMarket(market).generate(events);
  book::BookSet books(instruments);
  signal::SignalSet signals(instruments, config(depth));
  // The same features through the untracked path (a full top-N walk every time): the cache must agree.
  std::vector<FeatureState> plain(instruments, FeatureState(config(depth)));
  std::vector<std::uint64_t> trace;
  for (const common::Event& event : events) {
    // The engine's order: the level's previous size, the book update, then the signal.
    std::int64_t old_qty = -1;
    CHECK(books[event.instrument_id].try_apply(event, old_qty) == book::ApplyError::kOk);
    const bool book_updated = signals.on_event(event, books[event.instrument_id], old_qty);
    if (book_updated) plain[event.instrument_id].on_book(books[event.instrument_id], signal::event_time_ns(event));
    if (event.kind == common::EventKind::kTrade) plain[event.instrument_id].on_trade(event);
    if (book_updated || event.kind == common::EventKind::kTrade) {
      const FeatureState& s = signals[event.instrument_id];
      CHECK(s.valid_mask() == plain[event.instrument_id].valid_mask());
      CHECK(std::memcmp(s.values().data(), plain[event.instrument_id].values().data(), sizeof(double) * signal::kFeatureCount) == 0);
      for (std::size_t i = 0; i < signal::kFeatureCount; ++i) {
        if ((s.valid_mask() >> i & 1U) == 0) continue;
        const double v = s.values()[i];
        CHECK(std::isfinite(v));
        std::uint64_t bits = 0;
        std::memcpy(&bits, &v, sizeof bits);
        trace.push_back(bits);
      }
    }
  }
  for (std::uint32_t id = 0; id < instruments; ++id) {
    const FeatureState& s = signals[id];
    CHECK(s.book_updates() > 0 && s.trades() > 0);
    const auto imbalance = s.get(Feature::kImbalance);
    CHECK(imbalance && *imbalance >= -1.0 && *imbalance <= 1.0);
    CHECK(s.get(Feature::kVolatility).has_value());
  }
  return trace;
}

void deterministic_on_synthetic_market() {
  for (std::uint32_t depth : {1U, 5U, 20U}) {
    const auto a = run_synthetic(3, depth);
    const auto b = run_synthetic(3, depth);
    CHECK(!a.empty());
    CHECK(a == b);
  }
}

void latency_loop_does_the_work() {
  sim::SyntheticMarketConfig market;
  std::vector<common::Event> events(50'000);
  sim::SyntheticMarket(market).generate(events);
  book::BookSet books(1);
  signal::SignalSet signals(1, config());
  signal::Composite composite;
  CHECK(composite.try_set_weight(Feature::kImbalance, 1.0) == signal::SignalError::kOk);
  CHECK(composite.try_set_threshold(0.1) == signal::SignalError::kOk);
  const common::CycleClock clock;
  std::uint64_t decisions = 0;
  const perf::LatencyRun run = perf::measure_signal_update(books, signals, composite, events, 2, clock, decisions);
  CHECK(run.error == book::ApplyError::kOk);
  CHECK(run.timed_ops > 1000);
  CHECK(run.throughput_ops == 2 * run.timed_ops);
  CHECK(decisions > 0);
  CHECK(signals[0].book_updates() + signals[0].trades() == 3 * run.timed_ops);
}

}  // namespace

int main() {
  decay_formula();
  scaled_decay_matches_division();
  deferred_decay_matches_step_by_step();
  top_n_sums_follow_level_changes();
  incremental_top_n_matches_full_recompute();
  top_of_book_and_mid_ema();
  top_n_imbalance();
  volatility_on_known_path();
  trade_flow();
  empty_and_crossed_books_have_no_value();
  composite_decision();
  composite_sum_of_weighted_terms_is_exact();
  names_round_trip();
  deterministic_on_synthetic_market();
  latency_loop_does_the_work();
  return report("test_signal");
}
