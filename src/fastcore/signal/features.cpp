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
// no int64 overflow to check. `edge_px` gets the price of the last level counted when the side has
// `levels` levels, else the worst price of the side's kind (so any change counts as inside). The first
// `cache` levels (price, lots) go to px/lots; `cached` gets how many were stored.
double top_qty(const book::BookSide& side, std::uint32_t levels, bool is_bid, std::int64_t& edge_px,
               std::uint32_t cache, std::int64_t* px, std::int64_t* lots, std::uint8_t& cached) noexcept {
  double total = 0.0;
  std::uint32_t left = levels;
  std::uint32_t n = 0;
  std::int64_t last_px = 0;
  side.for_each_level([&](book::Level level) {
    total += static_cast<double>(level.qty_lots);
    last_px = level.px_ticks;
    if (n < cache) {
      px[n] = level.px_ticks;
      lots[n] = level.qty_lots;
      ++n;
    }
    return --left != 0;
  });
  cached = static_cast<std::uint8_t>(n);
  edge_px = left == 0 ? last_px : is_bid ? std::numeric_limits<std::int64_t>::min() : std::numeric_limits<std::int64_t>::max();
  return total;
}

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
  if (event.kind == common::EventKind::kClear) {
    depth_dirty_ = 3;
    return;
  }
  // At or better than the side's N-th level: the top-N sum may have changed. Worse: it cannot have.
  const unsigned side = event.side == common::Side::kBid ? 0U : 1U;
  const bool inside = side == 0 ? event.px_ticks >= depth_edge_px_[0] : event.px_ticks <= depth_edge_px_[1];
  if (!inside || (static_cast<unsigned>(depth_dirty_) >> side & 1U) != 0) return;
  // A new size at a level of the last walk: the same levels stay the top N, only the sum moves
  // (exact: integers below 2^53). A new level or a removal changes the levels: walk again.
  if (event.qty_lots > 0) {
    const std::uint32_t cached = depth_cached_[side];
    for (std::uint32_t i = 0; i < cached; ++i) {
      if (depth_px_[side][i] == event.px_ticks) {
        depth_qty_[side] += static_cast<double>(event.qty_lots) - static_cast<double>(depth_lots_[side][i]);
        depth_lots_[side][i] = event.qty_lots;
        return;
      }
    }
  }
  depth_dirty_ = static_cast<std::uint8_t>(depth_dirty_ | (1U << side));
}

void FeatureState::on_book(const book::Book& book, std::int64_t ts_ns) noexcept {
  depth_dirty_ = 3;
  on_book_tracked(book, ts_ns);
}

void FeatureState::on_book_tracked(const book::Book& book, std::int64_t ts_ns) noexcept {
  const book::BookSide& bids = book.bids();
  const book::BookSide& asks = book.asks();
  if (bids.empty() || asks.empty()) {
    valid_ &= ~kBookMask;
    return;
  }
  const book::Level bid = bids.best();
  const book::Level ask = asks.best();
  if (bid.px_ticks >= ask.px_ticks) {  // crossed or locked: Book::is_crossed() without reading best() again
    valid_ &= ~kBookMask;
    return;
  }
  // The walk records its first kCachedLevels levels (fewer when the side is shorter or N is smaller).
  const std::uint32_t cache = config_.depth_levels < kCachedLevels ? config_.depth_levels : kCachedLevels;
  if ((depth_dirty_ & 1U) != 0) {
    depth_qty_[0] = top_qty(bids, config_.depth_levels, true, depth_edge_px_[0], cache, depth_px_[0], depth_lots_[0],
                            depth_cached_[0]);
  }
  if ((depth_dirty_ & 2U) != 0) {
    depth_qty_[1] = top_qty(asks, config_.depth_levels, false, depth_edge_px_[1], cache, depth_px_[1], depth_lots_[1],
                            depth_cached_[1]);
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
  valid_ |= kBookMask;  // kMidEmaDev is written below

  const std::int64_t dt = ts_ns - mid_ts_ns_;
  // The mid did not move since the last sample with time behind it, and that sample left both averages
  // tracking it: this update is a pure decay of both, deferred (see the header). 77 % of the synthetic
  // market's book messages leave the mid alone.
  if (dt > 0 && has_mid_ema_ && has_vol_ && has_ref_mid_ && mid == ema_mid_ && mid == ref_mid_) {
    mid_ts_ns_ = ts_ns;
    views_stale_ = true;
    ++book_updates_;
    return;
  }
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
  return SignalError::kOk;
}

SignalError Composite::try_set_threshold(double threshold) noexcept {
  if (!std::isfinite(threshold) || threshold < 0.0) return SignalError::kBadThreshold;
  threshold_ = threshold;
  return SignalError::kOk;
}

}  // namespace fastcore::signal
