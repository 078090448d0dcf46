#include "fastcore/signal/features.hpp"

#include <limits>

namespace fastcore::signal {
namespace {

constexpr const char* kNames[kFeatureCount] = {"microprice", "micro_offset", "imbalance",   "spread",    "mid",
                                               "mid_ema",    "mid_ema_dev",  "volatility",  "trade_flow"};

// Instantaneous book features: cleared whenever the book is not sane, so a stale value is never read.
constexpr std::uint32_t kBookMask = (1U << static_cast<unsigned>(Feature::kMicroprice)) |
                                    (1U << static_cast<unsigned>(Feature::kMicroOffset)) |
                                    (1U << static_cast<unsigned>(Feature::kImbalance)) |
                                    (1U << static_cast<unsigned>(Feature::kSpread)) |
                                    (1U << static_cast<unsigned>(Feature::kMid)) |
                                    (1U << static_cast<unsigned>(Feature::kMidEmaDev));

// Sum of the quantities of the best `levels` levels of a side, in a double: exact to 2^53 lots, and
// no int64 overflow to check. `count` gets how many levels were summed and `edge_key` the key (`mask`:
// 0 bids, -1 asks) of the last one when that is `levels`, else `no_edge` (every price is inside).
double top_qty(const book::BookSide& side, std::uint32_t levels, std::int64_t mask, std::int64_t no_edge,
               std::int64_t& edge_key, std::uint8_t& count) noexcept {
  double total = 0.0;
  std::uint32_t left = levels;
  std::int64_t last_px = 0;
  side.for_each_level([&](book::Level level) {
    total += static_cast<double>(level.qty_lots);
    last_px = level.px_ticks;
    return --left != 0;
  });
  count = static_cast<std::uint8_t>(levels - left);
  edge_key = left == 0 ? book::BookSide::to_key(last_px, mask) : no_edge;
  return total;
}

// Price of `key` on the side with negate mask `mask`; key != INT64_MIN (its negation overflows).
std::int64_t px_of(std::int64_t key, std::int64_t mask) noexcept { return book::BookSide::to_key(key, mask); }

}  // namespace

const char* feature_name(Feature feature) noexcept {
  const auto index = static_cast<std::size_t>(feature);
  return index < kFeatureCount ? kNames[index] : "unknown";
}

bool try_parse_feature(std::string_view name, Feature& out) noexcept {
  for (std::size_t i = 0; i < kFeatureCount; ++i) {
    if (name == kNames[i]) {
      out = static_cast<Feature>(i);
      return true;
    }
  }
  return false;
}

const char* describe(SignalError error) noexcept {
  switch (error) {
    case SignalError::kOk: return "ok";
    case SignalError::kBadHalfLife: return "half-life must be > 0 ns";
    case SignalError::kBadDepth: return "depth_levels must be between 1 and 64";
    case SignalError::kBadWeight: return "weight must be a finite number";
    case SignalError::kBadThreshold: return "threshold must be a finite number >= 0";
    case SignalError::kUnknownFeature: return "unknown feature name";
    case SignalError::kUnknownInstrument: return "instrument_id has no signal state";
  }
  return "unknown signal error";
}

SignalError validate(const FeatureConfig& config) noexcept {
  if (config.mid_half_life_ns <= 0 || config.vol_half_life_ns <= 0 || config.flow_half_life_ns <= 0) {
    return SignalError::kBadHalfLife;
  }
  if (config.depth_levels < 1 || config.depth_levels > kMaxDepthLevels) return SignalError::kBadDepth;
  return SignalError::kOk;
}

void FeatureState::note_level(const common::Event& event) noexcept {
  const auto side = static_cast<unsigned>(event.side);
  if (event.kind == common::EventKind::kClear || side > 1U || event.px_ticks == std::numeric_limits<std::int64_t>::min()) {
    depth_dirty_ = kAllDirty;
    return;
  }
  if (book::BookSide::to_key(event.px_ticks, -static_cast<std::int64_t>(side)) >= depth_edge_key_[side]) mark_walk(side);
}

void FeatureState::note_levels_changed(unsigned side, std::int64_t key, std::int64_t old_qty, std::int64_t qty,
                                       const book::Book& book) noexcept {
  const book::BookSide& levels = side == 0 ? book.bids() : book.asks();
  // Unknown previous size, a size the book refuses, or a side at its cap (the book may have refused the
  // level or evicted its worst one): walk.
  if (old_qty < 0 || qty < 0 || levels.size() >= levels.max_levels()) {
    mark_walk(side);
    return;
  }
  depth_dirty_ = static_cast<std::uint8_t>(depth_dirty_ | kTopChanged);
  const std::int64_t mask = -static_cast<std::int64_t>(side);
  const std::int64_t edge = depth_edge_key_[side];
  const std::uint32_t n = config_.depth_levels;
  std::uint8_t& count = depth_count_[side];
  if (qty != 0) {  // a new level inside the top N
    if (count < n) {  // the side had fewer than N levels: all of them are summed
      depth_qty_[side] += static_cast<double>(qty);
      if (++count == n) mark_walk(side);  // the edge is now a level: found by the walk
      return;
    }
    // The N-th level leaves; the new N-th is the worst level better than it: the first level above
    // the old edge, at most `key` (the new level, which is better than the edge: it was not a level).
    const std::int64_t edge_qty = levels.qty_at(px_of(edge, mask));
    std::int64_t next = edge + 1;
    for (int probes = 0; next < key && levels.qty_at(px_of(next, mask)) == 0; ++next) {
      if (++probes == kMaxProbes) {
        mark_walk(side);
        return;
      }
    }
    depth_qty_[side] += static_cast<double>(qty) - static_cast<double>(edge_qty);
    depth_edge_key_[side] = next;
    return;
  }
  // A level of the top N removed.
  depth_qty_[side] -= static_cast<double>(old_qty);
  if (count < n) {  // every level was summed, and still is
    --count;
    return;
  }
  // The best level worse than the edge (if any) enters the top N.
  std::int64_t next = edge;
  for (int probes = 0; probes < kMaxProbes && next - 1 != std::numeric_limits<std::int64_t>::min(); ++probes) {
    --next;
    const std::int64_t entering = levels.qty_at(px_of(next, mask));
    if (entering != 0) {
      depth_qty_[side] += static_cast<double>(entering);
      depth_edge_key_[side] = next;
      return;
    }
  }
  if (levels.size() < n) {  // no level below: the side has fewer than N levels now, all summed
    count = static_cast<std::uint8_t>(levels.size());
    depth_edge_key_[side] = kNoEdge;
    return;
  }
  mark_walk(side);
}

void FeatureState::on_book(const book::Book& book, std::int64_t ts_ns) noexcept {
  depth_dirty_ = kAllDirty;
  on_book_tracked(book, ts_ns);
}

bool FeatureState::update_book_features(const book::Book& book) noexcept {
  const book::BookSide& bids = book.bids();
  const book::BookSide& asks = book.asks();
  // Not sane: the book features have no value. depth_dirty_ stays as it is, so the next update looks
  // at the book again.
  if (bids.empty() || asks.empty()) {
    valid_ &= ~kBookMask;
    return false;
  }
  const book::Level bid = bids.best();
  const book::Level ask = asks.best();
  if (bid.px_ticks >= ask.px_ticks) {  // crossed or locked: Book::is_crossed() without reading best() again
    valid_ &= ~kBookMask;
    return false;
  }
  if ((depth_dirty_ & 1U) != 0) {
    depth_qty_[0] = top_qty(bids, config_.depth_levels, 0, kNoEdge, depth_edge_key_[0], depth_count_[0]);
  }
  if ((depth_dirty_ & 2U) != 0) {
    depth_qty_[1] = top_qty(asks, config_.depth_levels, -1, kNoEdge, depth_edge_key_[1], depth_count_[1]);
  }
  depth_dirty_ = 0;
  // Half-sum in doubles: exact for prices below 2^52 ticks, and no int64 overflow on the sum.
  const double mid = (static_cast<double>(bid.px_ticks) + static_cast<double>(ask.px_ticks)) * 0.5;
  const double spread = static_cast<double>(ask.px_ticks) - static_cast<double>(bid.px_ticks);
  const double bid_qty = static_cast<double>(bid.qty_lots);
  const double ask_qty = static_cast<double>(ask.qty_lots);
  const double top = bid_qty + ask_qty;
  const double depth = depth_qty_[0] + depth_qty_[1];
  // The book keeps only levels with qty > 0, so top and depth are > 0. One division serves both
  // ratios (a division is the longest step here): x / top == x * depth / (top * depth).
  const double inverse = 1.0 / (top * depth);
  const double offset = (bid_qty - ask_qty) * depth * inverse;  // == (microprice - mid) / (spread / 2)
  values_[static_cast<std::size_t>(Feature::kMicroprice)] = mid + offset * spread * 0.5;
  values_[static_cast<std::size_t>(Feature::kMicroOffset)] = offset;
  values_[static_cast<std::size_t>(Feature::kImbalance)] = (depth_qty_[0] - depth_qty_[1]) * top * inverse;
  values_[static_cast<std::size_t>(Feature::kSpread)] = spread;
  values_[static_cast<std::size_t>(Feature::kMid)] = mid;
  valid_ |= kBookMask;  // kMidEmaDev is written when read (fill_views)
  return true;
}

void FeatureState::update_averages(double mid, std::int64_t dt, std::int64_t ts_ns) noexcept {
  if (dt > 0) settle();
  if (!has_mid_ema_) {
    ema_ = mid;
    ema_mid_ = mid;
    has_mid_ema_ = true;
    mid_ts_ns_ = ts_ns;
    decay_from_ns_ = ts_ns;
  } else if (dt > 0) {
    ema_ += decay_alpha_scaled(dt, inverse_mid_half_life_) * (mid - ema_);
    ema_mid_ = mid;
  }
  valid_ |= (1U << static_cast<unsigned>(Feature::kMidEma)) | (1U << static_cast<unsigned>(Feature::kMidEmaDev));

  // Log returns need a positive mid (instruments may quote negative prices): otherwise no sample,
  // and the next positive mid starts a new reference.
  if (mid > 0.0) {
    if (!has_ref_mid_) {
      ref_mid_ = mid;
      has_ref_mid_ = true;
    } else if (dt > 0) {
      // Only a sample with time behind it moves the reference: a move within one timestamp is kept
      // whole for the next return instead of being lost. Most updates leave the mid alone: no log.
      const double r = mid != ref_mid_ ? std::log(mid / ref_mid_) : 0.0;
      ref_mid_ = mid;
      if (!has_vol_) {
        var_ = r * r;
        has_vol_ = true;
      } else {
        var_ += decay_alpha_scaled(dt, inverse_vol_half_life_) * (r * r - var_);
      }
      valid_ |= 1U << static_cast<unsigned>(Feature::kVolatility);
    }
  } else {
    has_ref_mid_ = false;
  }
  if (dt > 0) {
    mid_ts_ns_ = ts_ns;  // never backwards: a late event does not rewind the clock
    decay_from_ns_ = ts_ns;
  }
  views_stale_ = true;
  ++book_updates_;
}

void FeatureState::settle() noexcept {
  const std::int64_t pending = mid_ts_ns_ - decay_from_ns_;
  if (pending <= 0) return;
  // 1 - decay_alpha = 2^(-pending/h): the composition of every deferred step.
  ema_ = ema_mid_ + (ema_ - ema_mid_) * (1.0 - decay_alpha_scaled(pending, inverse_mid_half_life_));
  var_ *= 1.0 - decay_alpha_scaled(pending, inverse_vol_half_life_);
  decay_from_ns_ = mid_ts_ns_;
}

void FeatureState::fill_views() const noexcept {
  const std::int64_t pending = mid_ts_ns_ - decay_from_ns_;
  double ema = ema_;
  double var = var_;
  if (pending > 0) {
    ema = ema_mid_ + (ema_ - ema_mid_) * (1.0 - decay_alpha_scaled(pending, inverse_mid_half_life_));
    var = var_ * (1.0 - decay_alpha_scaled(pending, inverse_vol_half_life_));
  }
  values_[static_cast<std::size_t>(Feature::kMidEma)] = ema;
  // The mid of the last sane update (its slot stays when the book goes insane; the valid bit says so).
  values_[static_cast<std::size_t>(Feature::kMidEmaDev)] = values_[static_cast<std::size_t>(Feature::kMid)] - ema;
  values_[static_cast<std::size_t>(Feature::kVolatility)] = std::sqrt(var);
  views_stale_ = false;
}

void FeatureState::on_trade(const common::Event& trade) noexcept {
  if (trade.kind != common::EventKind::kTrade || trade.qty_lots <= 0 ||
      static_cast<std::uint8_t>(trade.side) > static_cast<std::uint8_t>(common::Side::kAsk)) {
    return;
  }
  const std::int64_t ts_ns = event_time_ns(trade);
  if (has_flow_) {
    const std::int64_t dt = ts_ns - flow_ts_ns_;
    if (dt > 0) {
      const double keep = 1.0 - decay_alpha_scaled(dt, inverse_flow_half_life_);
      buy_volume_ *= keep;
      sell_volume_ *= keep;
      flow_ts_ns_ = ts_ns;
    }
  } else {
    has_flow_ = true;
    flow_ts_ns_ = ts_ns;
  }
  const double qty = static_cast<double>(trade.qty_lots);
  if (trade.side == common::Side::kBid) buy_volume_ += qty;
  else sell_volume_ += qty;
  const double total = buy_volume_ + sell_volume_;
  // Decaying both volumes by one factor leaves the ratio unchanged, so no decay is needed at read time.
  set(Feature::kTradeFlow, (buy_volume_ - sell_volume_) / total);
  ++trades_;
}

void FeatureState::reset() noexcept { *this = FeatureState(config_); }

SignalError Composite::try_set_weight(Feature feature, double weight) noexcept {
  const auto index = static_cast<std::size_t>(feature);
  if (index >= kFeatureCount) return SignalError::kUnknownFeature;
  if (!std::isfinite(weight)) return SignalError::kBadWeight;
  weights_[index] = weight;
  if (weight != 0.0) needed_ |= 1U << index;
  else needed_ &= ~(1U << index);
  pack_terms();
  return SignalError::kOk;
}

void Composite::pack_terms() noexcept {
  term_count_ = 0;
  for (std::size_t i = 0; i < kFeatureCount; ++i) {
    if ((needed_ >> i & 1U) == 0) continue;
    term_weights_[term_count_] = weights_[i];
    term_features_[term_count_] = static_cast<std::uint8_t>(i);
    ++term_count_;
  }
}

SignalError Composite::try_set_threshold(double threshold) noexcept {
  if (!std::isfinite(threshold) || threshold < 0.0) return SignalError::kBadThreshold;
  threshold_ = threshold;
  return SignalError::kOk;
}

}  // namespace fastcore::signal
