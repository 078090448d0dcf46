#pragma once
/// The most recent fill ids of one venue, to recognise a fill that arrives twice (a WebSocket replay
/// after a reconnect, the same fill from the REST reconciliation and the stream).
///
/// Bounded memory: remembers exactly the last `capacity` ids inserted (FIFO eviction), in a linear-probing
/// table at most half full plus a ring of insertion order. A repeat is recognised while its original is
/// among the last `capacity` fills of the venue; an older replay is not (the engine's reconciliation
/// against the venue's reported position is the backstop). Allocates only in the constructor.
#include <bit>
#include <cstdint>
#include <vector>

namespace fastcore::position {

/// A fill's identity: the venue's trade id within one instrument (Binance and OKX number trades per
/// symbol, so the id alone is not unique across instruments of a venue).
struct FillKey {
  std::uint64_t trade_id = 0;  ///< 0 marks an empty slot; the book refuses fills with id 0.
  std::uint32_t instrument_id = 0;
  friend bool operator==(const FillKey&, const FillKey&) = default;
};

class RecentIds {
 public:
  /// Remembers up to `capacity` (>= 1) ids; memory is 48 to 80 bytes per id (table rounded up to a power of two).
  explicit RecentIds(std::uint32_t capacity)
      : table_(std::bit_ceil(static_cast<std::size_t>(capacity) * 2)), ring_(capacity),
        mask_(table_.size() - 1) {}

  /// True when `key` is among the remembered ids. Cost: one hash and a short probe.
  [[nodiscard]] bool contains(FillKey key) const noexcept {
    for (std::size_t i = home(key);; i = (i + 1) & mask_) {
      if (table_[i] == key) return true;
      if (table_[i].trade_id == 0) return false;
    }
  }

  /// Remembers `key` (which must not be remembered yet, and trade_id != 0), forgetting the oldest
  /// id when full. Cost: one probe, plus one erase when full.
  void insert(FillKey key) noexcept {
    if (size_ == ring_.size()) erase(ring_[next_]);
    else ++size_;
    ring_[next_] = key;
    next_ = next_ + 1 == ring_.size() ? 0 : next_ + 1;
    std::size_t i = home(key);
    while (table_[i].trade_id != 0) i = (i + 1) & mask_;
    table_[i] = key;
  }

  [[nodiscard]] std::size_t size() const noexcept { return size_; }
  [[nodiscard]] std::size_t capacity() const noexcept { return ring_.size(); }

 private:
  [[nodiscard]] std::size_t home(FillKey key) const noexcept {
    // splitmix64 finaliser: venue ids are often sequential, which a plain mask would cluster.
    std::uint64_t x = key.trade_id ^ (static_cast<std::uint64_t>(key.instrument_id) << 40);
    x = (x ^ (x >> 30)) * 0xBF58476D1CE4E5B9ULL;
    x = (x ^ (x >> 27)) * 0x94D049BB133111EBULL;
    x ^= x >> 31;
    return static_cast<std::size_t>(x) & mask_;
  }

  /// Backward-shift deletion keeps probe chains intact without tombstones.
  void erase(FillKey key) noexcept {
    std::size_t hole = home(key);
    while (!(table_[hole] == key)) hole = (hole + 1) & mask_;
    for (std::size_t j = (hole + 1) & mask_; table_[j].trade_id != 0; j = (j + 1) & mask_) {
      const std::size_t want = home(table_[j]);
      // Entry j may move into the hole only if its home is not cyclically within (hole, j].
      const bool stays = hole < j ? (hole < want && want <= j) : (hole < want || want <= j);
      if (stays) continue;
      table_[hole] = table_[j];
      hole = j;
    }
    table_[hole] = FillKey{};
  }

  std::vector<FillKey> table_;
  std::vector<FillKey> ring_;
  std::size_t mask_;
  std::size_t next_ = 0;
  std::size_t size_ = 0;
};

}  // namespace fastcore::position
