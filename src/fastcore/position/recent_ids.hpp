#pragma once
/// The most recent fill ids of one venue, to recognise a fill that arrives twice (a WebSocket replay
/// after a reconnect, the same fill from the REST reconciliation and the stream).
///
/// Bounded memory: remembers exactly the last `capacity` ids pushed (FIFO eviction). A repeat is
/// recognised while its original is among the last `capacity` fills of the venue; an older replay is not
/// (the engine's reconciliation against the venue's reported position is the backstop). Allocates only in
/// the constructor.
///
/// Two parts: a ring of the ids in push order (the truth), and a linear-probing table at most half full
/// that indexes the window for lookups. push() only writes the ring, one sequential slot; the table is
/// brought up to date by the next lookup (contains()), which inserts the ids pushed since and erases the
/// ones that left the window, or rebuilds the table when `capacity` or more were pushed since. So a
/// caller that knows a fill is new without looking (PositionBook: an id above its instrument's largest,
/// the order venues number trades in) touches no random line of the table, and a lookup pays for the
/// pushes before it: about one insert and one erase each, at most one rebuild (O(capacity)) when it
/// follows a long run of pushes without lookups.
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
  /// Remembers the last `capacity` (>= 1) ids; memory is 64 to 128 bytes per id: the table is 2 to 4
  /// slots of 16 bytes per id and the ring 2 to 4 (powers of two). The ring holds twice the window so
  /// that a lookup can still read every id that left the window since the last one.
  explicit RecentIds(std::uint32_t capacity)
      : table_(std::bit_ceil(static_cast<std::size_t>(capacity) * 2)),
        ring_(std::bit_ceil(static_cast<std::size_t>(capacity) * 2)),
        capacity_(capacity),
        mask_(table_.size() - 1),
        ring_mask_(ring_.size() - 1),
        shift_(64 - std::countr_zero(table_.size())) {}

  /// The key of a fill, with its home slot computed once: Fibonacci hashing (one multiply, the top bits),
  /// which spreads sequential venue ids evenly where a plain mask would cluster them; a third of the
  /// latency of a full mixing finaliser.
  [[nodiscard]] FillKey key(std::uint64_t trade_id, std::uint32_t instrument_id) const noexcept {
    const std::uint64_t x = trade_id ^ (static_cast<std::uint64_t>(instrument_id) << 40);
    return FillKey{trade_id, instrument_id, static_cast<std::uint32_t>((x * 0x9E3779B97F4A7C15ULL) >> shift_)};
  }

  /// True when `key` (from key()) is among the remembered ids. Cost: a short probe, after bringing the
  /// table up to date (see the class comment).
  [[nodiscard]] bool contains(const FillKey& key) noexcept {
    sync();
    bool found = false;
    (void)find(key, found);
    return found;
  }

  /// Remembers `key` (from key(); trade_id != 0; not remembered: contains(key) would be false), and so
  /// forgets the oldest id once capacity() are remembered. Cost: one store to the ring's next slot.
  void push(const FillKey& key) noexcept {
    ring_[pushed_ & ring_mask_] = key;
    ++pushed_;
  }

  /// Remembers `key` (from key(); trade_id != 0) unless it already is.
  void insert(const FillKey& key) noexcept {
    if (!contains(key)) push(key);
  }

  /// Ids remembered now (<= capacity()).
  [[nodiscard]] std::size_t size() const noexcept { return pushed_ < capacity_ ? pushed_ : capacity_; }
  /// Ids remembered at most: the last capacity() pushed.
  [[nodiscard]] std::size_t capacity() const noexcept { return capacity_; }

 private:
  /// Brings the table to the window of the last capacity() pushes. Cost: an insert and an erase per
  /// push since the last call, or one rebuild when capacity() or more were pushed since.
  void sync() noexcept {
    if (synced_ == pushed_) return;
    if (pushed_ - synced_ >= capacity_) {
      // Every id the table holds has left the window: start again from the window itself.
      for (FillKey& slot : table_) slot = FillKey{};
      for (std::uint64_t seq = pushed_ - capacity_; seq < pushed_; ++seq) put(ring_[seq & ring_mask_]);
    } else {
      // In push order, the id that leaves first, so the table never holds more than capacity() ids.
      // Seq s - capacity is in the table: it was in the window at synced_ or put by this loop, and the
      // ring (2 x capacity or more) still holds it since s < synced_ + capacity.
      for (std::uint64_t seq = synced_; seq < pushed_; ++seq) {
        if (seq >= capacity_) erase(ring_[(seq - capacity_) & ring_mask_]);
        put(ring_[seq & ring_mask_]);
      }
    }
    synced_ = pushed_;
  }

  /// Where `key` (from key()) is in the table, or the empty slot that ends its probe chain: `found` says
  /// which. Cost: a short probe from its home (the table is at most half full).
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

  /// Adds `key` to the table (ids in the window are distinct, so it is not there yet).
  void put(const FillKey& key) noexcept {
    bool found = false;
    const std::size_t slot = find(key, found);
    table_[slot] = key;
  }

  /// Backward-shift deletion keeps probe chains intact without tombstones. `key` is in the table (see
  /// sync()); were it not, its probe chain ends at an empty slot and nothing changes.
  void erase(const FillKey& key) noexcept {
    bool found = false;
    std::size_t hole = find(key, found);
    if (!found) return;
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
  std::vector<FillKey> ring_;  ///< Id of push number s at s & ring_mask_.
  std::uint64_t capacity_;
  std::size_t mask_;
  std::size_t ring_mask_;
  int shift_;                  // 64 - log2(table size): the home slot is the product's top bits
  std::uint64_t pushed_ = 0;   ///< Pushes so far.
  std::uint64_t synced_ = 0;   ///< Pushes the table reflects.
};

}  // namespace fastcore::position
