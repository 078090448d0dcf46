#pragma once
/// Deterministic synthetic order flow for N instruments: opening snapshots, then a stream of
/// L2 deltas and trades shaped like a liquid perpetual (most changes near the touch, a long tail of
/// deep updates, trades that eat the touch, a drifting mid). The same seed gives the same bytes on
/// every platform: integer-only randomness, no <random> distributions.
#include <cstdint>
#include <span>
#include <vector>

#include "fastcore/book/book.hpp"
#include "fastcore/common/event.hpp"

namespace fastcore::sim {

struct SyntheticMarketConfig {
  std::uint32_t instruments = 1;
  std::uint64_t seed = 1;
  std::int64_t start_px_ticks = 600'000;   ///< 60,000.0 at a 0.1 tick, like BTCUSDT.
  std::uint32_t snapshot_levels = 500;     ///< Per side in each opening snapshot.
  std::int64_t mean_qty_lots = 200;        ///< Mean resting size per level.
  std::uint32_t trade_one_in = 10;         ///< One message in this many is a trade.
  std::int64_t start_ts_ns = 1'700'000'000'000'000'000;
  std::uint8_t venue_id = 0;
};

/// xoshiro256** seeded by splitmix64: fast, and defined bit-for-bit by its integer arithmetic.
class Rng {
 public:
  explicit Rng(std::uint64_t seed) noexcept;
  std::uint64_t next() noexcept;
  /// Uniform in [0, bound) (bound > 0), by multiply-shift: no modulo bias worth measuring here.
  std::uint64_t below(std::uint64_t bound) noexcept;

 private:
  std::uint64_t state_[4];
};

class SyntheticMarket {
 public:
  explicit SyntheticMarket(const SyntheticMarketConfig& config);

  /// Writes exactly out.size() events: the opening snapshots first (one kClear plus levels per
  /// instrument), then order flow. Successive calls continue the same stream.
  void generate(std::span<common::Event> out);

  /// The generator's own view of instrument `id`'s book after the events generated so far.
  [[nodiscard]] const book::Book& book(std::uint32_t id) const noexcept { return books_[id]; }

 private:
  void emit(const common::Event& event);
  void emit_snapshot(std::uint32_t id);
  void emit_message(std::uint32_t id);
  void emit_trade(std::uint32_t id);
  void emit_level_change(std::uint32_t id);
  std::int64_t random_qty() noexcept;
  std::int64_t random_depth() noexcept;

  SyntheticMarketConfig config_;
  Rng rng_;
  std::vector<book::Book> books_;
  std::vector<std::uint64_t> seq_;
  std::vector<common::Event> pending_;  // events of the current message not yet handed out
  std::size_t pending_pos_ = 0;
  std::uint32_t snapshots_done_ = 0;
  std::uint64_t trade_id_ = 0;
  std::int64_t ts_exchange_ns_;
};

}  // namespace fastcore::sim
