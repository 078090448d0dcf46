#pragma once
/// One side of an L2 book: price levels sorted worst to best, so the levels that change most (the top)
/// sit at the end of two parallel arrays and are inserted, found and erased without moving the rest.
///
/// Invariants: keys strictly increasing; every stored quantity > 0; size() <= max_levels(). Prices are
/// stored as keys (bids: px, asks: -px) so both sides share one ordering where "greater is better".
#include <algorithm>
#include <cstdint>
#include <cstring>
#include <limits>
#include <vector>

namespace fastcore::book {

/// One price level: price in ticks, quantity in lots.
struct Level {
  std::int64_t px_ticks;
  std::int64_t qty_lots;
};

/// What set_level() did; used by callers that count drops or track the touch.
enum class LevelChange : std::uint8_t { kInserted, kUpdated, kErased, kAbsent, kDroppedByCap };

class BookSide {
 public:
  /// Levels scanned linearly from the top before falling back to binary search.
  static constexpr std::size_t kLinearScan = 16;

  BookSide(bool is_bid, std::uint32_t max_levels) : is_bid_(is_bid), max_levels_(max_levels) {
    const std::size_t initial = std::min<std::size_t>(max_levels, 256);
    keys_.reserve(initial);
    qty_.reserve(initial);
  }

  /// Sets the quantity at `px_ticks`; zero removes the level. Amortised O(1) near the top; O(depth)
  /// for a level `depth` away from it. Allocates only when the side grows past its previous capacity.
  /// At the cap a new level worse than every stored one is dropped, otherwise the worst level is; the
  /// top is never dropped.
  LevelChange set_level(std::int64_t px_ticks, std::int64_t qty_lots) noexcept {
    const std::int64_t key = to_key(px_ticks);
    const std::size_t n = keys_.size();
    // Fast path: a new best level (the most common insertion) appends at the end.
    if (n == 0 || key > keys_[n - 1]) {
      if (qty_lots == 0) return LevelChange::kAbsent;
      if (n == max_levels_) drop_worst();
      keys_.push_back(key);
      qty_.push_back(qty_lots);
      return LevelChange::kInserted;
    }
    const std::size_t pos = lower_position(key);  // first index whose key >= key
    if (keys_[pos] == key) {
      if (qty_lots == 0) {
        erase_at(pos);
        return LevelChange::kErased;
      }
      qty_[pos] = qty_lots;
      return LevelChange::kUpdated;
    }
    if (qty_lots == 0) return LevelChange::kAbsent;
    if (n == max_levels_) {
      if (pos == 0) return LevelChange::kDroppedByCap;  // worse than everything we keep
      drop_worst();
      insert_at(pos - 1, key, qty_lots);
      return LevelChange::kInserted;
    }
    insert_at(pos, key, qty_lots);
    return LevelChange::kInserted;
  }

  void clear() noexcept {
    keys_.clear();
    qty_.clear();
  }

  [[nodiscard]] std::size_t size() const noexcept { return keys_.size(); }
  [[nodiscard]] bool empty() const noexcept { return keys_.empty(); }
  [[nodiscard]] std::uint32_t max_levels() const noexcept { return max_levels_; }
  [[nodiscard]] bool is_bid() const noexcept { return is_bid_; }

  /// The level `depth` away from the top (0 = best). Unchecked: callers test depth < size().
  [[nodiscard]] Level at_depth(std::size_t depth) const noexcept {
    const std::size_t index = keys_.size() - 1 - depth;
    return Level{from_key(keys_[index]), qty_[index]};
  }

  /// Best level; unchecked, callers test !empty().
  [[nodiscard]] Level best() const noexcept { return at_depth(0); }

  /// Quantity resting at `px_ticks`, 0 if none.
  [[nodiscard]] std::int64_t qty_at(std::int64_t px_ticks) const noexcept {
    if (keys_.empty()) return 0;
    const std::int64_t key = to_key(px_ticks);
    if (key > keys_.back()) return 0;
    const std::size_t pos = lower_position(key);
    return keys_[pos] == key ? qty_[pos] : 0;
  }

  /// True if `a` is a better price than `b` on this side.
  [[nodiscard]] bool better(std::int64_t a, std::int64_t b) const noexcept { return to_key(a) > to_key(b); }

  /// Capacity in bytes held by the two arrays (for memory accounting).
  [[nodiscard]] std::size_t bytes_reserved() const noexcept {
    return keys_.capacity() * sizeof(std::int64_t) + qty_.capacity() * sizeof(std::int64_t);
  }

 private:
  [[nodiscard]] std::int64_t to_key(std::int64_t px) const noexcept { return is_bid_ ? px : -px; }
  [[nodiscard]] std::int64_t from_key(std::int64_t key) const noexcept { return is_bid_ ? key : -key; }

  // Precondition: size() > 0 and key <= keys_.back(), so the result is a valid index.
  [[nodiscard]] std::size_t lower_position(std::int64_t key) const noexcept {
    const std::int64_t* keys = keys_.data();
    const std::size_t n = keys_.size();
    // Most updates touch the first few levels: walk down from the top before searching.
    const std::size_t scan_end = n > kLinearScan ? n - kLinearScan : 0;
    std::size_t i = n - 1;
    while (i > scan_end && keys[i - 1] >= key) --i;
    if (i > scan_end || scan_end == 0) return i;  // keys[i] >= key and keys[i - 1] < key (or i == 0)
    // keys[scan_end] >= key: branch-free binary search over [0, scan_end], predictable on deep levels.
    const std::int64_t* base = keys;
    std::size_t len = scan_end + 1;
    while (len > 1) {
      const std::size_t half = len / 2;
      base = (base[half - 1] < key) ? base + half : base;
      len -= half;
    }
    const std::size_t index = static_cast<std::size_t>(base - keys);
    return keys[index] < key ? index + 1 : index;
  }

  void insert_at(std::size_t pos, std::int64_t key, std::int64_t qty) {
    keys_.insert(keys_.begin() + static_cast<std::ptrdiff_t>(pos), key);
    qty_.insert(qty_.begin() + static_cast<std::ptrdiff_t>(pos), qty);
  }

  void erase_at(std::size_t pos) noexcept {
    keys_.erase(keys_.begin() + static_cast<std::ptrdiff_t>(pos));
    qty_.erase(qty_.begin() + static_cast<std::ptrdiff_t>(pos));
  }

  void drop_worst() noexcept { erase_at(0); }

  std::vector<std::int64_t> keys_;
  std::vector<std::int64_t> qty_;
  bool is_bid_;
  std::uint32_t max_levels_;
};

}  // namespace fastcore::book
