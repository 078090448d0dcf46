#include "fastcore/sim/synthetic_market.hpp"

#include <algorithm>

namespace fastcore::sim {
namespace {

using common::Event;
using common::EventKind;
using common::Side;

constexpr std::uint64_t rotl(std::uint64_t x, int k) noexcept { return (x << k) | (x >> (64 - k)); }

std::uint64_t splitmix64(std::uint64_t& x) noexcept {
  std::uint64_t z = (x += 0x9E3779B97F4A7C15ULL);
  z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ULL;
  z = (z ^ (z >> 27)) * 0x94D049BB133111EBULL;
  return z ^ (z >> 31);
}

}  // namespace

Rng::Rng(std::uint64_t seed) noexcept {
  for (auto& word : state_) word = splitmix64(seed);
}

std::uint64_t Rng::next() noexcept {
  const std::uint64_t result = rotl(state_[1] * 5, 7) * 9;
  const std::uint64_t t = state_[1] << 17;
  state_[2] ^= state_[0];
  state_[3] ^= state_[1];
  state_[1] ^= state_[2];
  state_[0] ^= state_[3];
  state_[2] ^= t;
  state_[3] = rotl(state_[3], 45);
  return result;
}

std::uint64_t Rng::below(std::uint64_t bound) noexcept {
  return static_cast<std::uint64_t>((static_cast<unsigned __int128>(next()) * bound) >> 64);
}

SyntheticMarket::SyntheticMarket(const SyntheticMarketConfig& config)
    : config_(config),
      rng_(config.seed),
      books_(config.instruments, book::Book()),
      seq_(config.instruments, 1'000'000),
      ts_exchange_ns_(config.start_ts_ns) {
  pending_.reserve(2 * static_cast<std::size_t>(config.snapshot_levels) + 4);
}

std::int64_t SyntheticMarket::random_qty() noexcept {
  // Uniform in [1, 2 * mean]: mean as configured, never zero.
  return 1 + static_cast<std::int64_t>(rng_.below(static_cast<std::uint64_t>(2 * config_.mean_qty_lots)));
}

std::int64_t SyntheticMarket::random_depth() noexcept {
  // Four in five changes are near the touch (geometric, mean 3 ticks); the rest anywhere in the book.
  if (rng_.below(5) != 0) {
    std::int64_t depth = 0;
    while (depth < 64 && rng_.below(4) != 0) ++depth;
    return depth;
  }
  return static_cast<std::int64_t>(rng_.below(2ULL * config_.snapshot_levels));
}

void SyntheticMarket::emit(const Event& event) {
  book::Book& target = books_[event.instrument_id];
  (void)target.try_apply(event);  // generated events are valid by construction
  pending_.push_back(event);
}

void SyntheticMarket::emit_snapshot(std::uint32_t id) {
  const std::uint64_t seq = ++seq_[id];
  Event clear{};
  clear.kind = EventKind::kClear;
  clear.instrument_id = id;
  clear.seq = seq;
  clear.venue_id = config_.venue_id;
  clear.ts_exchange_ns = ts_exchange_ns_;
  clear.ts_local_ns = ts_exchange_ns_ + 1'000'000;
  emit(clear);
  // Contiguous ticks near the top, then gaps that widen with depth, as on a real perpetual.
  const std::int64_t mid = config_.start_px_ticks + static_cast<std::int64_t>(id) * 1000;
  for (Side side : {Side::kBid, Side::kAsk}) {
    std::int64_t offset = 0;
    for (std::uint32_t level = 0; level < config_.snapshot_levels; ++level) {
      offset += 1 + static_cast<std::int64_t>(rng_.below(1 + level / 25));
      Event event = clear;
      event.kind = EventKind::kSnapshotLevel;
      event.side = side;
      event.px_ticks = side == Side::kBid ? mid - offset : mid + offset - 1;
      event.qty_lots = random_qty();
      emit(event);
    }
  }
  pending_.back().flags = common::kFlagLastInMessage;
}

void SyntheticMarket::emit_trade(std::uint32_t id) {
  const book::Book& current = books_[id];
  const Side aggressor = rng_.below(2) == 0 ? Side::kBid : Side::kAsk;
  const book::BookSide& resting = current.side(aggressor == Side::kBid ? Side::kAsk : Side::kBid);
  if (resting.empty()) return emit_level_change(id);
  const book::Level touch = resting.best();
  const std::int64_t qty = std::min(touch.qty_lots, random_qty());
  Event trade{};
  trade.kind = EventKind::kTrade;
  trade.instrument_id = id;
  trade.side = aggressor;
  trade.px_ticks = touch.px_ticks;
  trade.qty_lots = qty;
  trade.aux = ++trade_id_;
  trade.seq = seq_[id];
  trade.venue_id = config_.venue_id;
  trade.ts_exchange_ns = ts_exchange_ns_;
  trade.ts_local_ns = ts_exchange_ns_ + 1'000'000;
  emit(trade);
  Event delta = trade;
  delta.kind = EventKind::kDelta;
  delta.side = aggressor == Side::kBid ? Side::kAsk : Side::kBid;
  delta.qty_lots = touch.qty_lots - qty;
  delta.aux = 0;
  delta.seq = ++seq_[id];
  delta.flags = common::kFlagLastInMessage;
  emit(delta);
}

void SyntheticMarket::emit_level_change(std::uint32_t id) {
  const book::Book& current = books_[id];
  const Side side = rng_.below(2) == 0 ? Side::kBid : Side::kAsk;
  const auto best_bid = current.best(Side::kBid);
  const auto best_ask = current.best(Side::kAsk);
  const std::int64_t mid = config_.start_px_ticks + static_cast<std::int64_t>(id) * 1000;
  const std::int64_t bid_top = best_bid ? best_bid->px_ticks : (best_ask ? best_ask->px_ticks - 1 : mid - 1);
  const std::int64_t ask_top = best_ask ? best_ask->px_ticks : bid_top + 1;
  std::int64_t px = 0;
  if (ask_top - bid_top > 1 && rng_.below(2) == 0) {
    // A gap at the touch is filled half the time: the spread stays tight and the mid drifts.
    px = side == Side::kBid ? bid_top + 1 : ask_top - 1;
  } else {
    const std::int64_t depth = random_depth();
    px = side == Side::kBid ? bid_top - depth : ask_top + depth;
  }
  // One in three changes cancels the level; a cancel at an empty price is a harmless no-op delta.
  const std::int64_t qty = rng_.below(3) == 0 ? 0 : random_qty();
  Event delta{};
  delta.kind = EventKind::kDelta;
  delta.instrument_id = id;
  delta.side = side;
  delta.px_ticks = px;
  delta.qty_lots = qty;
  delta.seq = ++seq_[id];
  delta.flags = common::kFlagLastInMessage;
  delta.venue_id = config_.venue_id;
  delta.ts_exchange_ns = ts_exchange_ns_;
  delta.ts_local_ns = ts_exchange_ns_ + 1'000'000;
  emit(delta);
}

void SyntheticMarket::emit_message(std::uint32_t id) {
  ts_exchange_ns_ += 1 + static_cast<std::int64_t>(rng_.below(200'000));  // about 10k messages/s
  if (rng_.below(config_.trade_one_in) == 0) {
    emit_trade(id);
  } else {
    emit_level_change(id);
  }
}

void SyntheticMarket::generate(std::span<Event> out) {
  std::size_t written = 0;
  while (written < out.size()) {
    if (pending_pos_ == pending_.size()) {
      pending_.clear();
      pending_pos_ = 0;
      if (snapshots_done_ < config_.instruments) {
        emit_snapshot(snapshots_done_++);
      } else {
        emit_message(static_cast<std::uint32_t>(rng_.below(config_.instruments)));
      }
    }
    const std::size_t take = std::min(out.size() - written, pending_.size() - pending_pos_);
    std::copy_n(pending_.begin() + static_cast<std::ptrdiff_t>(pending_pos_), take,
                out.begin() + static_cast<std::ptrdiff_t>(written));
    pending_pos_ += take;
    written += take;
  }
}

}  // namespace fastcore::sim
