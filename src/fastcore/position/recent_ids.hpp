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
/// symbol, so the id alone is not unique across instruments of a venue), plus its hash slot.
struct FillKey {
  std::uint64_t trade_id = 0;  ///< 0 marks an empty slot; the book refuses fills with id 0.
  std::uint32_t instrument_id = 0;
  std::uint32_t home = 0;      ///< Home slot in the table (from RecentIds::key()); fills what would be padding.
  [[nodiscard]] bool same_fill(const FillKey& other) const noexcept {
    return trade_id == other.trade_id && instrument_id == other.instrument_id;
  }
};

static_assert(sizeof(FillKey) == 16, "four keys per cache line");

class RecentIds {
 public:
  /// Remembers the last `capacity` (>= 1) ids; memory is 48 to 80 bytes per id (the table is 2 to 4
  /// slots of 16 bytes per id, a power of two). Half full at most: a probe averages under 2.5 slots, four
  /// to a cache line, and the table is half the size a quarter-full one would be, so at the default
  /// capacity it stays in L2 beside the positions of 1,000 instruments (the lookup is the fill's one
  /// likely cache miss).
  explicit RecentIds(std::uint32_t capacity)
      : table_(std::bit_ceil(static_cast<std::size_t>(capacity) * 2)), ring_(static_cast<std::size_t>(capacity) + 1),
        mask_(table_.size() - 1),
        shift_(64 - std::countr_zero(table_.size())) {}

  /// The key of a fill, with its home slot computed once: Fibonacci hashing (one multiply, the top bits),
  /// which spreads sequential venue ids evenly where a plain mask would cluster them; a third of the
  /// latency of a full mixing finaliser.
  [[nodiscard]] FillKey key(std::uint64_t trade_id, std::uint32_t instrument_id) const noexcept {
    const std::uint64_t x = trade_id ^ (static_cast<std::uint64_t>(instrument_id) << 40);
    return FillKey{trade_id, instrument_id, static_cast<std::uint32_t>((x * 0x9E3779B97F4A7C15ULL) >> shift_)};
  }

  /// Where `key` (from key()) is, or the empty slot that ends its probe chain: `found` says which.
  /// Cost: a short probe from its home (the table is at most half full).
  [[nodiscard]] std::size_t find(const FillKey& key, bool& found) const noexcept {
    std::size_t i = key.home;
    while (table_[i].trade_id != 0) {
      if (table_[i].same_fill(key)) {
        found = true;
        return i;
      }
      i = (i + 1) & mask_;
    }
    found = false;
    return i;
  }

  /// Starts loading the table slot the next insert will erase (the oldest id's home), so that cache miss
  /// overlaps the caller's other work. Cost: one prefetch; no effect on the contents.
  void prefetch_eviction() const noexcept {
    const std::size_t after = next_ + 1 == ring_.size() ? 0 : next_ + 1;
    __builtin_prefetch(&table_[ring_[after].home], 1);
  }

  /// Starts loading the table slot where find(key) begins. Cost: one prefetch; no effect on the contents.
  void prefetch(const FillKey& key) const noexcept { __builtin_prefetch(&table_[key.home]); }

  /// True when `key` (from key()) is among the remembered ids.
  [[nodiscard]] bool contains(const FillKey& key) const noexcept {
    bool found = false;
    (void)find(key, found);
    return found;
  }

  /// Remembers `key` in `slot`, the empty slot find() just returned for it (no other insert in between),
  /// then forgets the oldest id if that makes capacity() + 1. Cost: a store, plus one erase when full.
  void insert_at(std::size_t slot, const FillKey& key) noexcept {
    table_[slot] = key;
    ring_[next_] = key;
    next_ = next_ + 1 == ring_.size() ? 0 : next_ + 1;
    // The ring has capacity + 1 entries, so the one at next_ is the oldest once it is full.
    if (size_ + 1 == ring_.size()) erase(ring_[next_]);
    else ++size_;
  }

  /// Remembers `key` (from key(); not remembered yet, trade_id != 0).
  void insert(const FillKey& key) noexcept {
    bool found = false;
    const std::size_t slot = find(key, found);
    if (!found) insert_at(slot, key);
  }

  /// Ids remembered now (<= capacity()).
  [[nodiscard]] std::size_t size() const noexcept { return size_; }
  /// Ids remembered at most: the last capacity() inserted.
  [[nodiscard]] std::size_t capacity() const noexcept { return ring_.size() - 1; }

 private:
  /// Backward-shift deletion keeps probe chains intact without tombstones.
  void erase(const FillKey& key) noexcept {
    std::size_t hole = key.home;
    while (!table_[hole].same_fill(key)) hole = (hole + 1) & mask_;
    for (std::size_t j = (hole + 1) & mask_; table_[j].trade_id != 0; j = (j + 1) & mask_) {
      const std::size_t want = table_[j].home;
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
  int shift_;  // 64 - log2(table size): the home slot is the product's top bits
  std::size_t next_ = 0;
  std::size_t size_ = 0;
};

}  // namespace fastcore::position
