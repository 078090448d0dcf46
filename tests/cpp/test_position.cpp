// Positions: exact P&L cases (averaging, partial closes, flips, fees and rebates), duplicates, overflow
// refusal, totals across instruments of different scales, and a random walk against a cash ledger.
#include <deque>
#include <limits>
#include <set>
#include <string>
#include <vector>

#include "check.hpp"
#include "fastcore/perf/position_latency.hpp"
#include "fastcore/position/position_book.hpp"
#include "fastcore/sim/synthetic_market.hpp"

using namespace fastcore;
using position::Fill;
using position::Liquidity;
using position::Position;
using position::PositionBook;
using position::PositionError;
using common::Side;

namespace {

constexpr std::int64_t kMax = std::numeric_limits<std::int64_t>::max();

common::Instrument make(const char* symbol, const char* venue, const char* tick, const char* lot,
                        bool negative = false) {
  common::Instrument instrument;
  common::InstrumentField failed{};
  const auto error = common::try_make_instrument(symbol, venue, tick, lot, "0", "0", "1", negative, instrument, failed);
  CHECK(error == common::DecimalError::kOk);
  return instrument;
}

Fill fill(std::uint32_t instrument, Side side, std::int64_t px, std::int64_t qty, std::uint64_t id,
          std::int64_t fee = 0, Liquidity liquidity = Liquidity::kTaker, std::uint8_t venue = 0) {
  return Fill{0, px, qty, fee, id, instrument, side, liquidity, venue, 0};
}

__int128 unrealized(const Position& p, std::int64_t mark) {
  __int128 out = 0;
  CHECK(p.try_unrealized_tl(mark, out) == PositionError::kOk);
  return out;
}

void averaging_and_partial_close() {
  Position p;
  CHECK(p.try_apply(Side::kBid, 100, 10, 0, Liquidity::kTaker) == PositionError::kOk);
  CHECK(p.try_apply(Side::kBid, 110, 10, 0, Liquidity::kTaker) == PositionError::kOk);
  CHECK_EQ(p.net_lots(), 20);
  CHECK(p.open_cost_tl() == 2100);
  CHECK(p.avg_entry_px_ticks() == 105.0);
  CHECK(p.try_apply(Side::kAsk, 120, 5, 0, Liquidity::kTaker) == PositionError::kOk);
  CHECK(p.realized_tl() == 75);  // 5 x (120 - 105)
  CHECK(p.open_cost_tl() == 1575);
  CHECK(unrealized(p, 120) == 225);
  // Cash ledger: -1000 - 1100 + 600, plus 15 lots at 120.
  CHECK(p.realized_tl() + unrealized(p, 120) == -1500 + 15 * 120);
  CHECK(p.traded_tl() == 2700);
  CHECK_EQ(p.fills(), 3U);
}

void partial_close_rounds_toward_zero_and_keeps_the_rest() {
  Position p;
  CHECK(p.try_apply(Side::kBid, 100, 1, 0, Liquidity::kTaker) == PositionError::kOk);
  CHECK(p.try_apply(Side::kBid, 101, 1, 0, Liquidity::kTaker) == PositionError::kOk);
  CHECK(p.try_apply(Side::kAsk, 105, 1, 0, Liquidity::kTaker) == PositionError::kOk);
  CHECK(p.realized_tl() == 5);      // 105 - trunc(201 / 2)
  CHECK(p.open_cost_tl() == 101);   // the half tick stays in the basis
  CHECK(p.try_apply(Side::kAsk, 105, 1, 0, Liquidity::kTaker) == PositionError::kOk);
  CHECK(p.realized_tl() == 9);      // flat: exactly 210 - 201
  CHECK(p.open_cost_tl() == 0);
  CHECK_EQ(p.net_lots(), 0);
  // Shorts round the same way (toward zero in magnitude).
  Position s;
  CHECK(s.try_apply(Side::kAsk, 100, 2, 0, Liquidity::kTaker) == PositionError::kOk);
  CHECK(s.try_apply(Side::kAsk, 101, 1, 0, Liquidity::kTaker) == PositionError::kOk);
  CHECK(s.try_apply(Side::kBid, 90, 2, 0, Liquidity::kTaker) == PositionError::kOk);
  CHECK(s.realized_tl() == 200 - 180);  // trunc(301 x 2 / 3) = 200
  CHECK(s.open_cost_tl() == 101);
  CHECK_EQ(s.net_lots(), -1);
  CHECK(unrealized(s, 90) == 11);
}

void flips() {
  Position p;
  CHECK(p.try_apply(Side::kBid, 100, 10, 0, Liquidity::kTaker) == PositionError::kOk);
  CHECK(p.try_apply(Side::kAsk, 90, 15, 0, Liquidity::kTaker) == PositionError::kOk);  // long 10 -> short 5
  CHECK(p.realized_tl() == -100);
  CHECK_EQ(p.net_lots(), -5);
  CHECK(p.open_cost_tl() == 450);
  CHECK(p.avg_entry_px_ticks() == 90.0);
  CHECK(unrealized(p, 80) == 50);
  CHECK(p.try_apply(Side::kBid, 80, 8, 0, Liquidity::kTaker) == PositionError::kOk);  // short 5 -> long 3
  CHECK(p.realized_tl() == -50);
  CHECK_EQ(p.net_lots(), 3);
  CHECK(p.open_cost_tl() == 240);
  // Ledger: -1000 + 1350 - 640 = -290, plus 3 lots at 80.
  CHECK(p.realized_tl() + unrealized(p, 80) == -290 + 240);
}

void fees_and_rebates() {
  Position p;
  CHECK(p.try_apply(Side::kBid, 100, 1, -3, Liquidity::kMaker) == PositionError::kOk);
  CHECK(p.try_apply(Side::kAsk, 101, 1, 7, Liquidity::kTaker) == PositionError::kOk);
  CHECK(p.try_apply(Side::kBid, 100, 1, -2, Liquidity::kMaker) == PositionError::kOk);
  CHECK(p.maker_fee_units() == -5);
  CHECK(p.taker_fee_units() == 7);
}

void refusals_leave_state_unchanged() {
  Position p;
  CHECK(p.try_apply(Side::kBid, 100, 0, 0, Liquidity::kTaker) == PositionError::kBadQty);
  CHECK(p.try_apply(Side::kBid, 100, -1, 0, Liquidity::kTaker) == PositionError::kBadQty);
  CHECK(p.try_apply(static_cast<Side>(7), 100, 1, 0, Liquidity::kTaker) == PositionError::kBadSide);
  CHECK(p.try_apply(Side::kBid, 100, 1, 0, static_cast<Liquidity>(9)) == PositionError::kBadLiquidity);
  CHECK_EQ(p.fills(), 0U);
  // Net lots overflow.
  CHECK(p.try_apply(Side::kBid, 1, kMax, 0, Liquidity::kTaker) == PositionError::kOk);
  CHECK(p.try_apply(Side::kBid, 1, 1, 5, Liquidity::kTaker) == PositionError::kOverflow);
  CHECK_EQ(p.net_lots(), kMax);
  CHECK(p.taker_fee_units() == 0);
  // Extremes stay exact: int64 prices and lots keep every single product below 2^126, so a round trip
  // from -max to +max realizes 2 x max^2 without wrapping.
  Position q;
  CHECK(q.try_apply(Side::kBid, -kMax, kMax, 0, Liquidity::kTaker) == PositionError::kOk);
  __int128 out = 0;
  CHECK(q.try_unrealized_tl(kMax, out) == PositionError::kOk);
  CHECK(out == 2 * static_cast<__int128>(kMax) * kMax);
  CHECK(q.try_apply(Side::kAsk, kMax, kMax, 0, Liquidity::kTaker) == PositionError::kOk);
  CHECK(q.realized_tl() == 2 * static_cast<__int128>(kMax) * kMax);
  CHECK_EQ(q.net_lots(), 0);
  // Traded notional overflow after a few extreme round trips.
  Position r;
  PositionError last = PositionError::kOk;
  int applied = 0;
  for (int i = 0; i < 4 && last == PositionError::kOk; ++i) {
    last = r.try_apply(i % 2 == 0 ? Side::kBid : Side::kAsk, kMax, kMax, 0, Liquidity::kTaker);
    if (last == PositionError::kOk) ++applied;
  }
  CHECK(last == PositionError::kOverflow);
  CHECK_EQ(applied, 2);
  CHECK_EQ(r.net_lots(), 0);
}

void book_duplicates_and_validation() {
  const std::vector<common::Instrument> instruments{make("BTCUSDT", "binance", "0.1", "0.001"),
                                                    make("ETHUSDT", "binance", "0.01", "0.001"),
                                                    make("BTC-USDT", "okx", "0.1", "0.0001", true)};
  PositionBook book;
  CHECK(book.try_init(instruments, {}) == PositionError::kOk);
  CHECK_EQ(book.venues().size(), 2U);
  CHECK_EQ(book.venue_of(2), 1);
  CHECK_EQ(book.scale(), 5);  // 0.1 x 0.0001
  CHECK(book.try_apply_fill(fill(0, Side::kBid, 600000, 10, 42)) == PositionError::kOk);
  CHECK(book.try_apply_fill(fill(0, Side::kBid, 600000, 10, 42)) == PositionError::kDuplicate);
  CHECK(book.try_apply_fill(fill(0, Side::kAsk, 1, 1, 42)) == PositionError::kDuplicate);
  CHECK(book.try_apply_fill(fill(1, Side::kBid, 300000, 10, 42)) == PositionError::kOk);  // ids are per symbol
  CHECK_EQ(book.duplicates(), 2U);
  CHECK_EQ(book[0].net_lots(), 10);
  CHECK(book.try_apply_fill(fill(3, Side::kBid, 1, 1, 1)) == PositionError::kUnknownInstrument);
  CHECK(book.try_apply_fill(fill(2, Side::kBid, 1, 1, 1, 0, Liquidity::kTaker, 0)) == PositionError::kVenueMismatch);
  CHECK(book.try_apply_fill(fill(0, Side::kBid, 1, 1, 0)) == PositionError::kMissingTradeId);
  CHECK(book.try_apply_fill(fill(0, Side::kBid, -1, 1, 7)) == PositionError::kNegativePrice);
  CHECK(book.try_apply_fill(fill(2, Side::kBid, -1, 1, 7, 0, Liquidity::kTaker, 1)) == PositionError::kOk);
  // A fill refused for overflow is not remembered: the same id is still new.
  CHECK(book.try_apply_fill(fill(0, Side::kBid, 1, kMax, 8)) == PositionError::kOverflow);
  CHECK(book.try_apply_fill(fill(0, Side::kBid, 1, 1, 8)) == PositionError::kOk);

  const std::vector<std::string> mixed{"USDT", "USDT", "USDC"};
  PositionBook other;
  CHECK(other.try_init(instruments, mixed) == PositionError::kMixedQuote);
  CHECK(other.try_init(instruments, {}, 0) == PositionError::kBadCapacity);
}

void book_totals_in_one_unit() {
  // BTC: notional unit 10^-4 (0.1 x 0.001); ETH: 10^-5 (0.01 x 0.001); book unit 10^-5.
  const std::vector<common::Instrument> instruments{make("BTCUSDT", "binance", "0.1", "0.001"),
                                                    make("ETHUSDT", "bybit", "0.01", "0.001")};
  PositionBook book;
  CHECK(book.try_init(instruments, std::vector<std::string>{"USDT", "USDT"}) == PositionError::kOk);
  CHECK_EQ(book.scale(), 5);
  // Buy 0.010 BTC at 60000.0, sell at 60010.0: +0.10 USDT; fee 0.0006 USDT = 6 units of 10^-4.
  CHECK(book.try_apply_fill(fill(0, Side::kBid, 600000, 10, 1, 6)) == PositionError::kOk);
  CHECK(book.try_apply_fill(fill(0, Side::kAsk, 600100, 10, 2, -2, Liquidity::kMaker)) == PositionError::kOk);
  // Buy 1.000 ETH at 3000.00, mark 3001.50: +1.5 USDT unrealized.
  CHECK(book.try_apply_fill(fill(1, Side::kBid, 300000, 1000, 1, 0, Liquidity::kTaker, 1)) == PositionError::kOk);
  position::Totals totals;
  CHECK(book.try_totals(-1, totals) == PositionError::kOk);
  CHECK(totals.realized == 10000);  // 0.10000
  CHECK(totals.taker_fees == 60);   // 0.00060
  CHECK(totals.maker_fees == -20);
  CHECK_EQ(totals.open_without_mark, 1U);
  CHECK(totals.unrealized == 0);
  CHECK(book.try_set_mark(1, 300150) == PositionError::kOk);
  CHECK(book.try_totals(-1, totals) == PositionError::kOk);
  CHECK(totals.unrealized == 150000);  // 1.50000
  CHECK_EQ(totals.open_without_mark, 0U);
  CHECK_EQ(totals.fills, 3U);
  CHECK(totals.traded == (600000 * 10 + 600100 * 10) * 10 + 300000 * 1000);  // 1200.1 + 3000.00 USDT
  CHECK(book.try_totals(0, totals) == PositionError::kOk);
  CHECK(totals.unrealized == 0 && totals.realized == 10000 && totals.fills == 2);
  CHECK(book.try_totals(1, totals) == PositionError::kOk);
  CHECK(totals.realized == 0 && totals.unrealized == 150000);
}

void recent_ids_against_reference() {
  position::RecentIds ids(64);
  std::deque<position::FillKey> order;
  std::set<std::pair<std::uint64_t, std::uint32_t>> reference;
  sim::Rng rng(7);
  for (int step = 0; step < 200'000; ++step) {
    const position::FillKey key = ids.key(1 + rng.below(300), static_cast<std::uint32_t>(rng.below(3)));
    const bool expected = reference.count({key.trade_id, key.instrument_id}) != 0;
    CHECK_EQ(ids.contains(key), expected);
    if (expected) continue;
    ids.insert(key);
    order.push_back(key);
    reference.insert({key.trade_id, key.instrument_id});
    if (order.size() > 64) {
      reference.erase({order.front().trade_id, order.front().instrument_id});
      order.pop_front();
    }
    CHECK_EQ(ids.size(), order.size());
  }
}

void eviction_forgets_the_oldest() {
  const std::vector<common::Instrument> instruments{make("BTCUSDT", "binance", "0.1", "0.001")};
  PositionBook book;
  CHECK(book.try_init(instruments, {}, 4) == PositionError::kOk);
  for (std::uint64_t id = 1; id <= 5; ++id) CHECK(book.try_apply_fill(fill(0, Side::kBid, 1, 1, id)) == PositionError::kOk);
  CHECK(book.try_apply_fill(fill(0, Side::kBid, 1, 1, 5)) == PositionError::kDuplicate);
  CHECK(book.try_apply_fill(fill(0, Side::kBid, 1, 1, 2)) == PositionError::kDuplicate);
  CHECK(book.try_apply_fill(fill(0, Side::kBid, 1, 1, 1)) == PositionError::kOk);  // beyond the window
}

void random_fills_match_the_cash_ledger() {
  sim::Rng rng(11);
  Position p;
  __int128 cash = 0;
  std::int64_t net = 0;
  for (int step = 0; step < 1'000'000; ++step) {
    const Side side = rng.below(2) == 0 ? Side::kBid : Side::kAsk;
    const auto px = 1 + static_cast<std::int64_t>(rng.below(2'000'000));
    const auto qty = 1 + static_cast<std::int64_t>(rng.below(rng.below(10) == 0 ? 1'000'000 : 100));
    CHECK(p.try_apply(side, px, qty, 0, Liquidity::kTaker) == PositionError::kOk);
    const __int128 value = static_cast<__int128>(px) * qty;
    cash += side == Side::kBid ? -value : value;
    net += side == Side::kBid ? qty : -qty;
    if (step % 997 == 0) {
      const auto mark = 1 + static_cast<std::int64_t>(rng.below(2'000'000));
      CHECK(p.realized_tl() + unrealized(p, mark) == cash + static_cast<__int128>(net) * mark);
    }
  }
  CHECK_EQ(p.net_lots(), net);
  CHECK(p.realized_tl() + unrealized(p, 1000) == cash + static_cast<__int128>(net) * 1000);
}

// Checks every observable of `got` against `want`.
void same_position(const Position& got, const Position& want) {
  CHECK_EQ(got.net_lots(), want.net_lots());
  CHECK(got.open_cost_tl() == want.open_cost_tl());
  CHECK(got.realized_tl() == want.realized_tl());
  CHECK(got.traded_tl() == want.traded_tl());
  CHECK(got.maker_fee_units() == want.maker_fee_units());
  CHECK(got.taker_fee_units() == want.taker_fee_units());
  CHECK_EQ(got.fills(), want.fills());
}

// Runs of pushes without lookups (short ones: the incremental catch-up; ones of capacity or more: the
// rebuild), lookups in between, and keys that share a home slot, against a plain FIFO window.
void recent_ids_lazy_table_against_reference() {
  for (const std::uint32_t capacity : {1U, 2U, 7U, 64U}) {
    position::RecentIds ids(capacity);
    std::deque<position::FillKey> order;
    std::set<std::pair<std::uint64_t, std::uint32_t>> reference;
    sim::Rng rng(capacity);
    std::uint64_t next_id = 1;
    for (int round = 0; round < 3'000; ++round) {
      // Pushes of ids never seen (what PositionBook pushes without a lookup).
      const std::uint64_t run = rng.below(rng.below(4) == 0 ? 3 * capacity + 2 : 3);
      for (std::uint64_t k = 0; k < run; ++k) {
        const position::FillKey key = ids.key(next_id++, static_cast<std::uint32_t>(rng.below(3)));
        ids.push(key);
        order.push_back(key);
        reference.insert({key.trade_id, key.instrument_id});
        if (order.size() > capacity) {
          reference.erase({order.front().trade_id, order.front().instrument_id});
          order.pop_front();
        }
      }
      CHECK_EQ(ids.size(), order.size());
      // Lookups of recent, old and never-seen ids.
      for (int k = 0; k < 4; ++k) {
        const std::uint64_t back = 1 + rng.below(2 * capacity + 2);
        const std::uint64_t id = back < next_id ? next_id - back : next_id + back;
        const position::FillKey key = ids.key(id, static_cast<std::uint32_t>(rng.below(3)));
        CHECK_EQ(ids.contains(key), reference.count({key.trade_id, key.instrument_id}) != 0);
      }
    }
  }
  // Ids whose keys all share one home slot: one long probe chain, erased from the middle.
  position::RecentIds ids(16);
  const std::uint32_t home = ids.key(1, 0).home;
  std::vector<position::FillKey> same_home;
  for (std::uint64_t id = 1; same_home.size() < 60; ++id) {
    const position::FillKey key = ids.key(id, static_cast<std::uint32_t>(id % 5));
    if (key.home == home) same_home.push_back(key);
  }
  std::deque<position::FillKey> order;
  sim::Rng rng(5);
  for (std::size_t i = 0; i < same_home.size(); ++i) {
    ids.push(same_home[i]);
    order.push_back(same_home[i]);
    if (order.size() > 16) order.pop_front();
    if (rng.below(3) != 0) continue;
    for (std::size_t j = 0; j <= i; ++j) {
      const bool expected = j + order.size() > i;  // the last 16 pushed
      CHECK_EQ(ids.contains(same_home[j]), expected);
    }
  }
}

// Many instruments on two venues: ids mostly increasing per instrument (no lookup), with replays of
// recent and old fills and new ids out of order, against a reference window per venue. A new id is
// never refused; a replay inside the window always is.
void book_dedup_many_instruments_against_reference() {
  constexpr std::uint32_t kInstruments = 1'000;
  constexpr std::uint32_t kCapacity = 512;
  std::vector<common::Instrument> instruments;
  for (std::uint32_t i = 0; i < kInstruments; ++i) {
    std::string symbol(1, 'S');  // appended, not "S" + ...: GCC 12 warns falsely (-Wrestrict) on that form
    symbol += std::to_string(i);
    instruments.push_back(make(symbol.c_str(), i % 2 ? "binance" : "okx", "0.1", "0.001"));
  }
  PositionBook book;
  CHECK(book.try_init(instruments, {}, kCapacity) == PositionError::kOk);
  std::vector<Position> reference(kInstruments);
  std::vector<std::deque<std::pair<std::uint32_t, std::uint64_t>>> window(2);
  std::set<std::pair<std::uint32_t, std::uint64_t>> in_window;
  std::vector<std::vector<std::uint64_t>> applied(kInstruments);
  std::vector<std::uint64_t> next_id(kInstruments, 1'000);
  sim::Rng rng(17);
  std::uint64_t duplicates = 0;
  for (int step = 0; step < 300'000; ++step) {
    const auto id = static_cast<std::uint32_t>(rng.below(kInstruments));
    const std::uint64_t kind = rng.below(20);
    std::uint64_t trade_id = 0;
    if (kind == 0 && !applied[id].empty()) {
      trade_id = applied[id][applied[id].size() - 1 - rng.below(std::min<std::uint64_t>(applied[id].size(), 8))];
    } else if (kind == 1 && !applied[id].empty()) {
      trade_id = applied[id][rng.below(applied[id].size())];  // often beyond the window
    } else if (kind == 2) {
      trade_id = 1 + rng.below(next_id[id]);  // out of order: new or a replay
    } else {
      next_id[id] += 1 + rng.below(3);
      trade_id = next_id[id];
    }
    const std::uint8_t venue = book.venue_of(id);
    Fill f = fill(id, rng.below(2) == 0 ? Side::kBid : Side::kAsk, 600'000 + static_cast<std::int64_t>(rng.below(1'000)),
                  1 + static_cast<std::int64_t>(rng.below(50)), trade_id, static_cast<std::int64_t>(rng.below(100)) - 20,
                  rng.below(2) == 0 ? Liquidity::kMaker : Liquidity::kTaker, venue);
    const bool duplicate = in_window.count({id, trade_id}) != 0;
    const PositionError error = book.try_apply_fill(f);
    CHECK(error == (duplicate ? PositionError::kDuplicate : PositionError::kOk));
    if (duplicate) {
      ++duplicates;
      continue;
    }
    CHECK(reference[id].try_apply(f.side, f.px_ticks, f.qty_lots, f.fee_units, f.liquidity) == PositionError::kOk);
    applied[id].push_back(trade_id);
    window[venue].emplace_back(id, trade_id);
    in_window.insert({id, trade_id});
    if (window[venue].size() > kCapacity) {
      in_window.erase(window[venue].front());
      window[venue].pop_front();
    }
  }
  CHECK(duplicates > 1'000);  // the mix must exercise the lookup path (2,396 with this seed)
  CHECK_EQ(book.duplicates(), duplicates);
  for (std::uint32_t id = 0; id < kInstruments; ++id) {
    same_position(book[id], reference[id]);
    CHECK_EQ(book.net_lots(id), reference[id].net_lots());
  }
}

// Sums beyond 64 bits move an instrument to 128 bits, exactly and for good; one beyond 128 bits is
// refused without a trace (its id is not remembered either).
void book_widens_exactly() {
  const std::vector<common::Instrument> instruments{make("BIG", "v", "1", "1"), make("SMALL", "v", "1", "1")};
  PositionBook book;
  CHECK(book.try_init(instruments, {}) == PositionError::kOk);
  Position big;
  Position small;
  sim::Rng rng(23);
  std::uint64_t trade_id = 0;
  for (int step = 0; step < 20'000; ++step) {
    const std::uint32_t id = step % 2 == 0 ? 0U : 1U;
    // The big instrument's products reach 2^62 and its sums pass 2^63 after a few fills.
    const std::int64_t px = id == 0 ? (std::int64_t{1} << 40) + static_cast<std::int64_t>(rng.below(1'000))
                                    : 100 + static_cast<std::int64_t>(rng.below(10));
    const std::int64_t qty = id == 0 ? (std::int64_t{1} << 20) + static_cast<std::int64_t>(rng.below(1'000))
                                     : 1 + static_cast<std::int64_t>(rng.below(10));
    const Fill f = fill(id, rng.below(3) == 0 ? Side::kAsk : Side::kBid, px, qty, ++trade_id, 7);
    CHECK(book.try_apply_fill(f) == PositionError::kOk);
    Position& want = id == 0 ? big : small;
    CHECK(want.try_apply(f.side, f.px_ticks, f.qty_lots, f.fee_units, f.liquidity) == PositionError::kOk);
    if (step % 101 == 0) {
      same_position(book[0], big);
      same_position(book[1], small);
    }
  }
  CHECK(book.wide(0));
  CHECK(!book.wide(1));
  CHECK_EQ(book.net_lots(0), big.net_lots());
  CHECK_EQ(book.net_lots(1), small.net_lots());
  CHECK(big.traded_tl() > std::numeric_limits<std::int64_t>::max());
  same_position(book[0], big);
  same_position(book[1], small);
  // A fee sum beyond 64 bits widens as well.
  PositionBook fees;
  CHECK(fees.try_init(instruments, {}) == PositionError::kOk);
  CHECK(fees.try_apply_fill(fill(1, Side::kBid, 10, 1, 1, kMax)) == PositionError::kOk);
  CHECK(!fees.wide(1));
  CHECK(fees.try_apply_fill(fill(1, Side::kBid, 10, 1, 2, kMax)) == PositionError::kOk);
  CHECK(fees.wide(1));
  CHECK(fees[1].taker_fee_units() == static_cast<__int128>(kMax) * 2);
  CHECK_EQ(fees[1].fills(), 2U);
  // Beyond 128 bits: refused, nothing changes, and the id stays free.
  PositionBook huge;
  CHECK(huge.try_init(instruments, {}) == PositionError::kOk);
  CHECK(huge.try_apply_fill(fill(0, Side::kBid, kMax, kMax, 1)) == PositionError::kOk);
  CHECK(huge.wide(0));
  const Position before = huge[0];
  PositionError error = PositionError::kOk;
  std::uint64_t id = 1;
  for (int k = 0; k < 16 && error == PositionError::kOk; ++k) error = huge.try_apply_fill(fill(0, Side::kBid, kMax, kMax, ++id));
  CHECK(error == PositionError::kOverflow);
  const Position after_refusal = huge[0];
  CHECK(after_refusal.fills() >= before.fills());
  const std::uint64_t refused_id = id;
  CHECK(huge.try_apply_fill(fill(0, Side::kAsk, 1, 1, refused_id)) == PositionError::kOk);  // not a duplicate
  CHECK_EQ(huge[0].fills(), after_refusal.fills() + 1);
}

// CompactPosition computes what Position computes wherever it does not report kOverflow.
void compact_matches_wide() {
  sim::Rng rng(29);
  position::CompactPosition compact;
  Position wide;
  int overflows = 0;
  for (int step = 0; step < 200'000; ++step) {
    const Side side = rng.below(2) == 0 ? Side::kBid : Side::kAsk;
    const std::int64_t px = static_cast<std::int64_t>(rng.below(std::uint64_t{1} << (rng.below(4) == 0 ? 40 : 20)));
    const std::int64_t qty = 1 + static_cast<std::int64_t>(rng.below(std::uint64_t{1} << (rng.below(4) == 0 ? 30 : 10)));
    const std::int64_t fee = static_cast<std::int64_t>(rng.below(2'000)) - 1'000;
    const Liquidity liquidity = rng.below(2) == 0 ? Liquidity::kMaker : Liquidity::kTaker;
    const PositionError narrow_error = compact.try_apply(side, px, qty, fee, liquidity);
    if (narrow_error == PositionError::kOverflow) {
      ++overflows;
      compact = position::CompactPosition{};  // start both again from flat
      wide = Position{};
      continue;
    }
    CHECK(narrow_error == PositionError::kOk);
    CHECK(wide.try_apply(side, px, qty, fee, liquidity) == PositionError::kOk);
    same_position(Position(compact), wide);
  }
  CHECK(overflows > 0);
}

void latency_loop_does_the_work() {
  const std::vector<common::Instrument> instruments{make("A", "v", "1", "1"), make("B", "v", "1", "1")};
  PositionBook book;
  CHECK(book.try_init(instruments, {}) == PositionError::kOk);
  std::vector<Fill> fills;
  sim::Rng rng(3);
  for (std::uint64_t i = 1; i <= 10'000; ++i) {
    fills.push_back(fill(static_cast<std::uint32_t>(rng.below(2)), rng.below(2) == 0 ? Side::kBid : Side::kAsk,
                         100 + static_cast<std::int64_t>(rng.below(10)), 1 + static_cast<std::int64_t>(rng.below(5)), i));
  }
  const common::CycleClock clock(1'000'000);
  PositionError error = PositionError::kOk;
  const perf::LatencyRun run = perf::measure_position_update(book, fills, 2, clock, error);
  CHECK(error == PositionError::kOk);
  CHECK_EQ(run.timed_ops, 10'000U);
  CHECK_EQ(run.throughput_ops, 20'000U);
  CHECK_EQ(book[0].fills() + book[1].fills(), 30'000U);
}

}  // namespace

int main() {
  averaging_and_partial_close();
  partial_close_rounds_toward_zero_and_keeps_the_rest();
  flips();
  fees_and_rebates();
  refusals_leave_state_unchanged();
  book_duplicates_and_validation();
  book_totals_in_one_unit();
  recent_ids_against_reference();
  eviction_forgets_the_oldest();
  random_fills_match_the_cash_ledger();
  latency_loop_does_the_work();
  recent_ids_lazy_table_against_reference();
  book_dedup_many_instruments_against_reference();
  book_widens_exactly();
  compact_matches_wide();
  return report("test_position");
}
