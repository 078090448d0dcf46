#pragma once
/// One side of an L2 book: a dense window of price slots around the top plus a sorted overflow for
/// levels far below it.
///
/// Prices are stored as keys (bids: px, asks: -px) so both sides share one ordering where "greater
/// is better". Invariants:
///   - every level with key >= base_ sits in the window at slot key - base_ (< kWindow), every level
///     with key < base_ sits in far_ (ascending keys);
///   - a non-empty side has its best level in the window (best_key_ valid iff window_count_ > 0);
///   - stored quantities are > 0 and size() <= max_levels().
/// An update inside the window is O(1): one slot, one bitmap bit, and a bitmap scan when the best
/// level goes. Levels outside it (rare: deep in the book) cost O(far levels). Memory is fixed per
/// side (kWindow slots) plus the overflow, which max_levels bounds.
#include <bit>
#include <cassert>
#include <cstdint>
#include <limits>
#include <vector>

namespace fastcore::book {

/// One price level: price in ticks, quantity in lots.
struct Level {
  std::int64_t px_ticks;
  std::int64_t qty_lots;
};

/// What set_level() did.
enum class LevelChange : std::uint8_t { kInserted, kUpdated, kErased, kAbsent, kDroppedByCap };

// Cache-line aligned so the hot fields below share one line.
class alignas(64) BookSide {
 public:
  /// Ticks covered by the dense window. 2,048 slots (16 KiB) hold the whole active part of a liquid
  /// perpetual's book (BTCUSDT: +-200 USD at a 0.1 tick) while 1,000 books stay within tens of MiB.
  static constexpr std::uint64_t kWindow = 2048;
  /// Room kept above the best when the window moves, so an improving price does not move it again.
  static constexpr std::uint64_t kHeadroom = kWindow / 4;
  /// The window moves down when the best falls this close to its bottom and deeper levels exist.
  static constexpr std::uint64_t kLowWater = kWindow / 8;

  BookSide(bool is_bid, std::uint32_t max_levels)
      : negate_mask_(is_bid ? 0 : -1),
        max_levels_(max_levels),
        qty_(kWindow, 0),
        bits_(kWindow / 64, 0),
        is_bid_(is_bid) {}

  /// Sets the quantity at `px_ticks`; zero removes the level. O(1) inside the window. At the cap a
  /// new level worse than every stored one is dropped, otherwise the worst level is: never the top.
  LevelChange set_level(std::int64_t px_ticks, std::int64_t qty_lots) {
    const std::int64_t key = to_key(px_ticks);
    if (window_count_ == 0) {  // empty side (far_ is empty too by the invariant)
      if (qty_lots == 0) return LevelChange::kAbsent;
      base_ = window_base_for(key);
      store_in_window(key, qty_lots);
      best_key_ = key;
      return LevelChange::kInserted;
    }
    if (key < base_) return set_far(key, qty_lots);
    const std::uint64_t slot = offset(key);
    if (slot >= kWindow) {  // better than anything the window covers
      if (qty_lots == 0) return LevelChange::kAbsent;
      if (size() == max_levels_) drop_worst();
      move_window(key);
      store_in_window(key, qty_lots);
      best_key_ = key;
      return LevelChange::kInserted;
    }
    std::int64_t& cell = qty_[slot];
    if (cell != 0) {
      if (qty_lots != 0) {
        cell = qty_lots;
        return LevelChange::kUpdated;
      }
      cell = 0;
      bits_[slot >> 6] &= ~(1ULL << (slot & 63));
      --window_count_;
      if (key == best_key_) on_best_removed(slot);
      return LevelChange::kErased;
    }
    if (qty_lots == 0) return LevelChange::kAbsent;
    if (size() == max_levels_) {
      if (is_worst_candidate(key)) {
        ++dropped_;
        return LevelChange::kDroppedByCap;
      }
      drop_worst();
      if (window_count_ == 0) {  // the cap took the only window level: start over around this one
        base_ = window_base_for(key);
        store_in_window(key, qty_lots);
        best_key_ = key;
        return LevelChange::kInserted;
      }
    }
    cell = qty_lots;
    bits_[slot >> 6] |= 1ULL << (slot & 63);
    ++window_count_;
    if (key > best_key_) best_key_ = key;
    return LevelChange::kInserted;
  }

  void clear() noexcept {
    for_each_window_slot_ascending([this](std::uint64_t slot) { qty_[slot] = 0; });
    for (auto& word : bits_) word = 0;
    window_count_ = 0;
    far_keys_.clear();
    far_qty_.clear();
  }

  [[nodiscard]] std::size_t size() const noexcept { return window_count_ + far_keys_.size(); }
  [[nodiscard]] bool empty() const noexcept { return window_count_ == 0; }
  [[nodiscard]] std::uint32_t max_levels() const noexcept { return max_levels_; }
  [[nodiscard]] bool is_bid() const noexcept { return is_bid_; }

  /// Best level; unchecked, callers test !empty().
  [[nodiscard]] Level best() const noexcept { return Level{from_key(best_key_), qty_[offset(best_key_)]}; }

  /// Quantity resting at `px_ticks`, 0 if none.
  [[nodiscard]] std::int64_t qty_at(std::int64_t px_ticks) const noexcept {
    if (window_count_ == 0) return 0;
    const std::int64_t key = to_key(px_ticks);
    if (key >= base_) {
      const std::uint64_t slot = offset(key);
      return slot < kWindow ? qty_[slot] : 0;
    }
    const std::size_t pos = far_lower_bound(key);
    return pos < far_keys_.size() && far_keys_[pos] == key ? far_qty_[pos] : 0;
  }

  /// Calls fn(Level) from the best level down; stops when fn returns false. O(levels visited + W/64).
  template <class Fn>
  void for_each_level(Fn&& fn) const {
    if (window_count_ == 0) return;
    const std::uint64_t top = offset(best_key_);
    for (std::uint64_t word = top >> 6;; --word) {
      std::uint64_t bits = bits_[word];
      if (word == top >> 6 && (top & 63) != 63) bits &= (2ULL << (top & 63)) - 1;  // nothing above the best
      while (bits != 0) {
        const int bit = 63 - std::countl_zero(bits);
        bits &= ~(1ULL << bit);
        const std::uint64_t slot = (word << 6) + static_cast<std::uint64_t>(bit);
        if (!fn(Level{from_key(key_at(slot)), qty_[slot]})) return;
      }
      if (word == 0) break;
    }
    for (std::size_t i = far_keys_.size(); i-- > 0;) {
      if (!fn(Level{from_key(far_keys_[i]), far_qty_[i]})) return;
    }
  }

  /// Levels lost to the cap (new levels refused plus worst levels evicted) since construction.
  [[nodiscard]] std::uint64_t dropped() const noexcept { return dropped_; }

  /// True if `a` is a better price than `b` on this side.
  [[nodiscard]] bool better(std::int64_t a, std::int64_t b) const noexcept { return to_key(a) > to_key(b); }

 private:
  // Branch-free negation for asks ((x ^ -1) + 1 == -x): sides alternate unpredictably in a feed.
  [[nodiscard]] std::int64_t to_key(std::int64_t px) const noexcept { return (px ^ negate_mask_) - negate_mask_; }
  [[nodiscard]] std::int64_t from_key(std::int64_t key) const noexcept { return to_key(key); }

  // Unsigned distance from the window base: never overflows, and keys below base_ wrap to huge values.
  [[nodiscard]] std::uint64_t offset(std::int64_t key) const noexcept {
    return static_cast<std::uint64_t>(key) - static_cast<std::uint64_t>(base_);
  }
  [[nodiscard]] std::int64_t key_at(std::uint64_t slot) const noexcept {
    return static_cast<std::int64_t>(static_cast<std::uint64_t>(base_) + slot);
  }

  // Base that puts `best` kHeadroom slots below the window's top (saturating at the key range's floor).
  static std::int64_t window_base_for(std::int64_t best) noexcept {
    constexpr auto kBelow = static_cast<std::int64_t>(kWindow - kHeadroom);
    return best < std::numeric_limits<std::int64_t>::min() + kBelow ? std::numeric_limits<std::int64_t>::min()
                                                                     : best - kBelow;
  }

  void store_in_window(std::int64_t key, std::int64_t qty) noexcept {
    const std::uint64_t slot = offset(key);
    qty_[slot] = qty;
    bits_[slot >> 6] |= 1ULL << (slot & 63);
    ++window_count_;
  }

  template <class Fn>
  void for_each_window_slot_ascending(Fn&& fn) const {
    for (std::uint64_t word = 0; word < bits_.size(); ++word) {
      std::uint64_t bits = bits_[word];
      while (bits != 0) {
        const int bit = std::countr_zero(bits);
        bits &= bits - 1;
        fn((word << 6) + static_cast<std::uint64_t>(bit));
      }
    }
  }

  // Highest occupied slot strictly below `slot`, or kWindow if none.
  [[nodiscard]] std::uint64_t highest_below(std::uint64_t slot) const noexcept {
    if (slot == 0) return kWindow;
    std::uint64_t word = (slot - 1) >> 6;
    std::uint64_t bits = bits_[word] & ((2ULL << ((slot - 1) & 63)) - 1);
    while (true) {
      if (bits != 0) return (word << 6) + static_cast<std::uint64_t>(63 - std::countl_zero(bits));
      if (word == 0) return kWindow;
      bits = bits_[--word];
    }
  }

  void on_best_removed(std::uint64_t slot) {
    const std::uint64_t next = highest_below(slot);
    if (next != kWindow) {
      best_key_ = key_at(next);
      // Keep room below the best: a best near the window's floor with deeper levels waiting in far_
      // would send every nearby update to the slow overflow.
      if (next < kLowWater && !far_keys_.empty()) move_window(best_key_);
      return;
    }
    if (far_keys_.empty()) return;  // side is now empty
    move_window(far_keys_.back());  // pulls at least far_'s best into the window and sets best_key_
  }

  // Re-bases the window so `new_best` sits kHeadroom below its top; levels move between the window
  // and far_ to keep the invariants. O(window levels + moved far levels); rare (price jumps).
  void move_window(std::int64_t new_best) {
    const std::int64_t new_base = window_base_for(new_best);
    std::vector<KeyQty>& moved = scratch_;
    moved.clear();
    for_each_window_slot_ascending([&](std::uint64_t slot) {
      moved.push_back(KeyQty{key_at(slot), qty_[slot]});
      qty_[slot] = 0;
    });
    for (auto& word : bits_) word = 0;
    window_count_ = 0;
    base_ = new_base;
    // Window levels now below the base are better than every far level: they append in order.
    // Callers move the window only to a key at least as good as every stored level, so nothing that
    // was in the window can land above the new window's top.
    for (const KeyQty& level : moved) {
      if (level.key < base_) {
        far_keys_.push_back(level.key);
        far_qty_.push_back(level.qty);
      } else {
        assert(offset(level.key) < kWindow);
        store_in_window(level.key, level.qty);
      }
    }
    // Far levels now inside the window come off far_'s top end.
    while (!far_keys_.empty() && far_keys_.back() >= base_) {
      store_in_window(far_keys_.back(), far_qty_.back());
      far_keys_.pop_back();
      far_qty_.pop_back();
    }
    if (window_count_ != 0) best_key_ = key_at(highest_below(kWindow));
  }

  [[nodiscard]] std::size_t far_lower_bound(std::int64_t key) const noexcept {
    std::size_t lo = 0;
    std::size_t hi = far_keys_.size();
    while (lo < hi) {
      const std::size_t mid = lo + (hi - lo) / 2;
      if (far_keys_[mid] < key) {
        lo = mid + 1;
      } else {
        hi = mid;
      }
    }
    return lo;
  }

  LevelChange set_far(std::int64_t key, std::int64_t qty) {
    const std::size_t pos = far_lower_bound(key);
    const auto at = static_cast<std::ptrdiff_t>(pos);
    if (pos < far_keys_.size() && far_keys_[pos] == key) {
      if (qty != 0) {
        far_qty_[pos] = qty;
        return LevelChange::kUpdated;
      }
      far_keys_.erase(far_keys_.begin() + at);
      far_qty_.erase(far_qty_.begin() + at);
      return LevelChange::kErased;
    }
    if (qty == 0) return LevelChange::kAbsent;
    if (size() == max_levels_) {
      if (pos == 0) {  // worse than everything kept
        ++dropped_;
        return LevelChange::kDroppedByCap;
      }
      drop_worst();
      const auto shifted = at - 1;  // drop_worst removed far_[0], which was below `pos`
      far_keys_.insert(far_keys_.begin() + shifted, key);
      far_qty_.insert(far_qty_.begin() + shifted, qty);
      return LevelChange::kInserted;
    }
    far_keys_.insert(far_keys_.begin() + at, key);
    far_qty_.insert(far_qty_.begin() + at, qty);
    return LevelChange::kInserted;
  }

  // Whether a new level at `key` would be the worst one kept (so the cap drops it instead).
  [[nodiscard]] bool is_worst_candidate(std::int64_t key) const noexcept {
    if (!far_keys_.empty()) return false;  // far levels are all below any window key
    std::uint64_t lowest = kWindow;
    for (std::uint64_t word = 0; word < bits_.size(); ++word) {
      if (bits_[word] != 0) {
        lowest = (word << 6) + static_cast<std::uint64_t>(std::countr_zero(bits_[word]));
        break;
      }
    }
    return lowest == kWindow || key < key_at(lowest);
  }

  // Removes the worst level: far_'s bottom, else the window's lowest slot (never the best unless it
  // is the only level).
  void drop_worst() noexcept {
    ++dropped_;
    if (!far_keys_.empty()) {
      far_keys_.erase(far_keys_.begin());
      far_qty_.erase(far_qty_.begin());
      return;
    }
    for (std::uint64_t word = 0; word < bits_.size(); ++word) {
      if (bits_[word] != 0) {
        const std::uint64_t slot = (word << 6) + static_cast<std::uint64_t>(std::countr_zero(bits_[word]));
        qty_[slot] = 0;
        bits_[word] &= bits_[word] - 1;
        --window_count_;
        return;
      }
    }
  }

  // Hot fields first: an update inside the window reads only this cache line, one quantity slot and
  // one bitmap word. With 1,000 books live, that is what keeps the working set in L2.
  std::int64_t base_ = 0;
  std::int64_t best_key_ = 0;
  std::int64_t negate_mask_;  // 0 for bids, -1 (all ones) for asks
  std::uint32_t window_count_ = 0;
  std::uint32_t max_levels_;
  std::vector<std::int64_t> qty_;     // kWindow slots; 0 = no level
  std::vector<std::uint64_t> bits_;   // one bit per slot: occupied
  // Cold: touched only for levels below the window, window moves and the cap.
  std::vector<std::int64_t> far_keys_;
  std::vector<std::int64_t> far_qty_;
  struct KeyQty {
    std::int64_t key;
    std::int64_t qty;
  };
  std::vector<KeyQty> scratch_;       // reused by move_window(): no allocation once warmed up
  std::uint64_t dropped_ = 0;
  bool is_bid_;
};

}  // namespace fastcore::book
