#pragma once
/// One side of an L2 book: a dense window of price slots around the top plus a sorted overflow for
/// levels far below it.
///
/// Prices are stored as keys (bids: px, asks: -px) so both sides share one ordering where "greater
/// is better". Invariants:
///   - every level with key >= base_ sits in the window at slot key - base_ (< kWindow), every level
///     with key < base_ sits in far (a FarLevels: sorted blocks, best first);
///   - a non-empty side has its best level in the window; an empty side has best_key_ == kEmptyKey
///     (INT64_MIN, which no price maps to: Book refuses px INT64_MIN) and no level anywhere;
///   - stored quantities are > 0 and size() <= max_levels() (room_ == max_levels() - size());
///   - base_ <= INT64_MAX - (kWindow - 1): the window never wraps, so offset(key) < kWindow alone
///     means "in the window".
///   - base_ is a multiple of 64: a key's low 6 bits are its slot's bit in its bitmap word.
/// An update inside the window is O(1): one slot, one bitmap bit, and a bitmap scan when the best
/// level goes. Levels below it cost O(log far levels + one block). Memory is fixed per
/// side (kWindow slots) plus the overflow, which max_levels bounds.
///
/// Layout: the side object itself is 32 bytes of hot fields (two sides and the book's sequence share
/// two cache lines); the window, its bitmap and every cold field live in one heap block (Storage).
#include <algorithm>
#include <bit>
#include <cassert>
#include <cstdint>
#include <limits>
#include <memory>
#include <new>
#include <vector>

#include "fastcore/book/far_levels.hpp"
#include "fastcore/common/huge_pages.hpp"

namespace fastcore::book {

/// One price level: price in ticks, quantity in lots.
struct Level {
  std::int64_t px_ticks;
  std::int64_t qty_lots;
};

/// What set_level() did.
enum class LevelChange : std::uint8_t {
  kInserted,
  kUpdated,
  kErased,
  kAbsent,
  kDroppedByCap,
  kRefused,  ///< set_level() only: qty < 0 or px == INT64_MIN (no key); nothing changed.
};

/// `word` with bit `n % 64` set where `value_mask` is all ones and cleared where it is 0; `was_mask`
/// receives all ones if that bit was set before, else 0. Portable form, and the reference assign_bit()
/// is tested against.
[[gnu::always_inline]] inline std::uint64_t assign_bit_portable(std::uint64_t word, std::uint64_t n,
                                                                std::uint64_t value_mask,
                                                                std::uint64_t& was_mask) noexcept {
  const std::uint64_t bit = std::uint64_t{1} << (n & 63);
  was_mask = 0 - static_cast<std::uint64_t>((word & bit) != 0);
  return (word & ~bit) | (bit & value_mask);
}

/// assign_bit_portable() without a shift on x86-64: bts and btr take the bit number in any register
/// (and bts leaves the old bit in the carry flag, which sbb turns into the mask), where a variable
/// shift needs its count in cl. The wheel targets baseline x86-64 (no BMI2 shlx), and pinning cl for
/// the shift made GCC spill 3-5 values of the book update to the stack on every event.
[[gnu::always_inline]] inline std::uint64_t assign_bit(std::uint64_t word, std::uint64_t n, std::uint64_t value_mask,
                                                       std::uint64_t& was_mask) noexcept {
#if defined(__x86_64__) && (defined(__GNUC__) || defined(__clang__))
  std::uint64_t set = word;
  std::uint64_t cleared = word;
  // Register operands: the bit number is taken mod 64, as in the portable form.
  asm("btsq %[n], %[set]\n\tsbbq %[was], %[was]" : [set] "+r"(set), [was] "=r"(was_mask) : [n] "r"(n) : "cc");
  asm("btrq %[n], %[cleared]" : [cleared] "+r"(cleared) : [n] "r"(n) : "cc");
  // A select by mask, not a `?:`: GCC turned that into a branch on the value (random in a feed).
  return cleared | (set & value_mask);
#else
  return assign_bit_portable(word, n, value_mask, was_mask);
#endif
}

/// Index of the highest set bit of a non-zero `word` (0 for 0). Portable form, and the reference
/// highest_bit_or_garbage() is tested against.
[[gnu::always_inline]] inline std::uint64_t highest_bit_portable(std::uint64_t word) noexcept {
  return static_cast<std::uint64_t>(63 - std::countl_zero(word | 1));
}

/// highest_bit_portable() for a non-zero `word` as one bsr on x86-64 (any value for 0): std::countl_zero
/// is bsr plus a test for zero on baseline x86-64 (no lzcnt), and `word | 1` an instruction more.
/// Inline asm, so a zero word is not undefined behaviour in C++ (callers test it themselves).
[[gnu::always_inline]] inline std::uint64_t highest_bit_or_garbage(std::uint64_t word) noexcept {
#if defined(__x86_64__) && (defined(__GNUC__) || defined(__clang__))
  std::uint64_t bit;
  asm("bsrq %[word], %[bit]" : [bit] "=r"(bit) : [word] "rm"(word) : "cc");
  return bit;
#else
  return highest_bit_portable(word);
#endif
}

class BookSide {
 public:
  /// Ticks covered by the dense window: 8,192 slots (64 KiB a side, about 130 MiB for 1,000 books).
  /// On Binance BTCUSDT depth@0ms at a 0.1 tick the median diff lands ~900 ticks from mid and a tenth
  /// land beyond ~6,000; with 2,048 slots most deep diffs went to the overflow (27 M updates/s on that
  /// recording), with 8,192 most stay in the window (55 M/s); 16,384 reached 74 M/s for twice the memory.
  static constexpr std::uint64_t kWindow = 8192;
  /// Room kept above the best when the window moves, so an improving price does not move it again.
  static constexpr std::uint64_t kHeadroom = kWindow / 4;
  /// The window moves down when the best falls this close to its bottom and deeper levels exist.
  static constexpr std::uint64_t kLowWater = kWindow / 8;
  static_assert(kLowWater % 64 == 0, "set_key_fast tests the removed best's slot for the next best's word");

  BookSide(bool is_bid, std::uint32_t max_levels) : room_(max_levels), store_(new_storage(nullptr)) {
    store_->max_levels = max_levels;
    store_->is_bid = is_bid;
  }
  BookSide(const BookSide& other)
      : base_(other.base_),
        best_key_(other.best_key_),
        room_(other.room_),
        store_(new_storage(other.store_.get())) {}
  BookSide(BookSide&&) noexcept = default;
  BookSide& operator=(const BookSide& other) {
    BookSide copy(other);
    return *this = std::move(copy);
  }
  BookSide& operator=(BookSide&&) noexcept = default;
  ~BookSide() = default;

  /// The process-wide pool every side's window block comes from, in transparent huge pages where the
  /// system gives them (tests read its chunks' backing).
  // Why (fastcore/common/huge_pages.hpp): 1,000 books' ~135 MiB of windows in ~68 TLB entries instead of
  // ~33,000. Never destroyed (a BookSide in a static object may outlive any other static), so it keeps
  // its peak size for the process. One per shared object linking the core (hidden symbols); a block
  // freed into another one's pool is equally valid there (same size; chunks are never unmapped).
  static common::BlockPool& storage_pool();

  /// Key of the best level of an empty side. No price has it: a bid's key is its price and an ask's
  /// is -price, and px INT64_MIN (whose negation does not exist) is refused.
  static constexpr std::int64_t kEmptyKey = std::numeric_limits<std::int64_t>::min();

  /// Sets the quantity at `px_ticks`; zero removes the level. O(1) inside the window. At the cap a
  /// new level worse than every stored one is dropped, otherwise the worst level is: never the top.
  /// kRefused (and no change) for qty_lots < 0 or px_ticks == INT64_MIN.
  // Not on any hot path (Book calls set_key()): what changed is read back with qty_at().
  LevelChange set_level(std::int64_t px_ticks, std::int64_t qty_lots) {
    if (qty_lots < 0 || px_ticks == std::numeric_limits<std::int64_t>::min()) return LevelChange::kRefused;
    const bool had = qty_at(px_ticks) != 0;
    set_key(to_key(px_ticks), qty_lots);
    if (qty_lots == 0) return had ? LevelChange::kErased : LevelChange::kAbsent;
    if (qty_at(px_ticks) == 0) return LevelChange::kDroppedByCap;
    return had ? LevelChange::kUpdated : LevelChange::kInserted;
  }

  /// What set_key_fast() left undone.
  enum class Left : std::uint8_t {
    kNothing,      ///< The update is complete.
    kSlow,         ///< The key is outside the window (nothing changed), or a new level at the cap (only
                   ///< its quantity slot was written; finish() settles it).
    kBestRemoved,  ///< The best level was removed and its bitmap word is empty or near the window's
                   ///< floor; the next best is still to be found.
  };

  /// set_level() for a price already turned into this side's key (Book passes -side as the mask).
  /// Preconditions (Book checks them): key != kEmptyKey and qty_lots >= 0.
  // Always inlined, with one out-of-line call for everything but the common case.
  [[gnu::always_inline]] void set_key(std::int64_t key, std::int64_t qty_lots) {
    const Left left = set_key_fast(key, qty_lots);
    if (left != Left::kNothing) [[unlikely]] finish(left, key, qty_lots);
  }

  /// The common case of set_key(), with no call: an update inside the window with room under the cap.
  /// Whatever it returns other than kNothing must be passed to finish() before the side is used again.
  /// Batch loops run this in a loop of their own and leave it for finish(): a loop without calls
  /// keeps its values in registers (with a call in it, GCC spilled half of them to the stack).
  [[gnu::always_inline]] Left set_key_fast(std::int64_t key, std::int64_t qty_lots) noexcept {
    const std::uint64_t slot = offset(key);
    // One predictable branch for "below the window" and "above it" (both wrap to >= kWindow: the
    // window never wraps past the top of the key range, see window_base_for). An empty side needs no
    // test of its own: its window is parked at the top of the key range (park()), so its first level
    // takes the slow path, which centres the window on it; and a key that does fall in an empty
    // window is simply stored as the new best below, which is correct wherever the window is.
    if (slot >= kWindow) [[unlikely]] return Left::kSlow;
    Storage& s = *store_;
    // The quantity first: the block's address then dies early (GCC spilled it to the stack when it
    // was kept for a store at the end). If the cap test below fails, finish() clears the slot again.
    s.qty[slot] = qty_lots;
    // Branch-free bookkeeping (masks and bit instructions instead of ifs): whether a level appears, changes or
    // goes is data-dependent (cancels are a third of a feed), and a mispredicted branch costs more
    // than these few instructions. Whether the level was there comes from the bitmap word, which is
    // read anyway and stays in L1 (1 KiB a side), not from the quantity slot (64 KiB a side): the slot
    // is only written, and a store that misses the cache does not hold up the updates after it.
    // The statements are ordered so that each value dies as early as it can: GCC does not schedule
    // before register allocation on x86, and with everything alive at once it spilled six values to
    // the stack on every update (now none or one in a bare loop; see assign_bit for the other half).
    std::uint64_t* const word = s.bits + (slot >> 6);
    // All ones if the update leaves a level, else 0. Opaque to GCC (the empty asm), so that it cannot
    // trace the masks below back to `qty_lots != 0`: when it could, it branched on the quantity (random
    // in a feed: a third of updates cancel) and duplicated the rest of the update on both sides.
    std::uint64_t has = 0 - static_cast<std::uint64_t>(qty_lots != 0);
    asm("" : "+r"(has));
    std::uint64_t had = 0;  // all ones if a level was there
    const std::uint64_t old_word = *word;
    const std::uint64_t new_word = assign_bit(old_word, slot, has, had);  // the bit becomes `has`
    // The masks are -1 or 0, so this is room_ - 1 for a new level, + 1 for a removed one: negative
    // only for a new level at the cap (room_ 0), one sign test.
    const std::int64_t room = room_ + static_cast<std::int64_t>(has) - static_cast<std::int64_t>(had);
    if (room < 0) [[unlikely]] return Left::kSlow;
    room_ = room;
    *word = new_word;
    // Removing the best (key == best and qty == 0) is one test of one word. Written as `!has && key ==
    // best` GCC branched on `has` first, and `has` is random in a feed (a third of updates cancel):
    // that branch was most of the mispredictions of the whole update.
    const std::int64_t best = best_key_;
    const bool removes_best =
        ((static_cast<std::uint64_t>(key) ^ static_cast<std::uint64_t>(best)) | static_cast<std::uint64_t>(qty_lots)) == 0;
    // A new best only if a level is there: the candidate is the key or the old best, selected by mask
    // (no 64-bit kEmptyKey constant in a register), then max() is a cmov.
    const auto candidate = static_cast<std::int64_t>(
        static_cast<std::uint64_t>(best) ^ ((static_cast<std::uint64_t>(key) ^ static_cast<std::uint64_t>(best)) & has));
    best_key_ = std::max(best, candidate);
    // Removing the best is a branch: rarer (about one update in ten). Computing the next best on every
    // update instead (branch-free, a bsr and a cmov) halved callgrind's mispredictions but was slower
    // in the runs-of-16 A/B (bench/BENCHMARKS.md, best-removal section); this branch was not.
    if (removes_best) [[unlikely]] {
      // Nearly always the next best is in the same bitmap word: no window bit is set above the best,
      // so it is the word's highest set bit, and the base is a multiple of 64 (window_base_for), so
      // its key is the removed key's word start plus that bit. Inline, no call (finish() cost about
      // 50 instructions per removal). An empty word, or a next best within kLowWater of the window's
      // floor (which may move the window), is left to finish().
      if (new_word != 0 && slot >= kLowWater) {
        best_key_ = static_cast<std::int64_t>((static_cast<std::uint64_t>(key) & ~std::uint64_t{63}) +
                                              highest_bit_or_garbage(new_word));
        return Left::kNothing;
      }
      return Left::kBestRemoved;
    }
    return Left::kNothing;
  }

  /// Completes the set_key_fast(key, qty_lots) call that returned `left` (not kNothing).
  void finish(Left left, std::int64_t key, std::int64_t qty_lots) {
    const std::uint64_t slot = offset(key);
    if (left == Left::kBestRemoved) {
      on_best_removed(slot);
      return;
    }
    // A new level at the cap: set_key_fast() wrote its quantity slot before the cap test. The slot
    // had no level, so it held 0; restoring that first leaves set_key_slow() the state it expects.
    if (slot < kWindow) store_->qty[slot] = 0;
    (void)set_key_slow(key, qty_lots);
  }

  /// Hints the cache lines an update of `key` will touch (the quantity slot and its bitmap word).
  /// Never faults and changes nothing; a stale hint only costs a wasted prefetch.
  void prefetch_key(std::int64_t key) const noexcept {
    const std::uint64_t slot = offset(key) & (kWindow - 1);  // masked: a key outside still gives a valid address
    __builtin_prefetch(&store_->qty[slot], 1);
    __builtin_prefetch(&store_->bits[slot >> 6], 1);
  }

  /// Hints the cache lines of the best level (its slot and bitmap word), reading only this header: for
  /// loops that will read the top of many books (signals). Any state, even empty, gives a valid address.
  void prefetch_best() const noexcept { prefetch_key(best_key_); }

  /// Removes every level. O(window words + levels).
  // Out of line: a rare event kept out of the update loops it would otherwise bloat.
  [[gnu::noinline]] void clear() noexcept {
    Storage& s = *store_;
    for_each_window_slot_ascending([&s](std::uint64_t slot) { s.qty[slot] = 0; });
    for (auto& word : s.bits) word = 0;
    park();
    s.far.clear();
    room_ = s.max_levels;
  }

  [[nodiscard]] std::size_t size() const noexcept { return static_cast<std::size_t>(store_->max_levels - room_); }
  [[nodiscard]] bool empty() const noexcept { return best_key_ == kEmptyKey; }
  [[nodiscard]] std::uint32_t max_levels() const noexcept { return store_->max_levels; }
  [[nodiscard]] bool is_bid() const noexcept { return store_->is_bid; }

  /// Best level; unchecked, callers test !empty().
  [[nodiscard]] Level best() const noexcept { return Level{from_key(best_key_), store_->qty[offset(best_key_)]}; }

  /// Quantity resting at `px_ticks`, 0 if none.
  [[nodiscard]] std::int64_t qty_at(std::int64_t px_ticks) const noexcept {
    if (empty() || px_ticks == std::numeric_limits<std::int64_t>::min()) return 0;  // no level has that price
    const std::int64_t key = to_key(px_ticks);
    if (key >= base_) {
      const std::uint64_t slot = offset(key);
      return slot < kWindow ? store_->qty[slot] : 0;
    }
    const std::int64_t* qty = store_->far.find(key);
    return qty != nullptr ? *qty : 0;
  }

  /// qty_at() for a price already turned into this side's key (to_key(px, mask)): one slot read for a
  /// key in the window, the overflow's lookup below it, 0 above it or where no level rests.
  // For Book::try_apply(event, old_qty): the slot read is the line the update writes next, and the key
  // is the one the update computes, so no is_bid (a cold line) and no second key.
  [[nodiscard, gnu::always_inline]] std::int64_t qty_at_key(std::int64_t key) const noexcept {
    const std::uint64_t slot = offset(key);
    if (slot < kWindow) [[likely]] return store_->qty[slot];  // 0 = no level (an empty side's window too)
    if (key >= base_) return 0;                                 // above the window: better than every level
    const std::int64_t* qty = store_->far.find(key);
    return qty != nullptr ? *qty : 0;
  }

  /// Calls fn(Level) from the best level down; stops when fn returns false. O(levels visited + W/64).
  template <class Fn>
  void for_each_level(Fn&& fn) const {
    if (empty()) return;
    const Storage& s = *store_;
    const std::uint64_t top = offset(best_key_);
    for (std::uint64_t word = top >> 6;; --word) {
      std::uint64_t bits = s.bits[word];
      if (word == top >> 6 && (top & 63) != 63) bits &= (2ULL << (top & 63)) - 1;  // nothing above the best
      while (bits != 0) {
        const int bit = 63 - std::countl_zero(bits);
        bits &= ~(1ULL << bit);
        const std::uint64_t slot = (word << 6) + static_cast<std::uint64_t>(bit);
        if (!fn(Level{from_key(key_at(slot)), s.qty[slot]})) return;
      }
      if (word == 0) break;
    }
    s.far.for_each([&](FarLevels::Entry entry) { return fn(Level{from_key(entry.key), entry.qty}); });
  }

  /// Levels lost to the cap (new levels refused plus worst levels evicted) since construction.
  [[nodiscard]] std::uint64_t dropped() const noexcept { return store_->dropped; }

  /// True if `a` is a better price than `b` on this side.
  [[nodiscard]] bool better(std::int64_t a, std::int64_t b) const noexcept { return to_key(a) > to_key(b); }

  /// Key of `px` on a side whose negate mask is `mask` (0 for bids, -1 for asks): (x ^ -1) + 1 == -x,
  /// branch-free because sides alternate unpredictably in a feed.
  static std::int64_t to_key(std::int64_t px, std::int64_t mask) noexcept { return (px ^ mask) - mask; }

 private:
  struct KeyQty {
    std::int64_t key;
    std::int64_t qty;
  };
  // The window, its bitmap and the cold fields in one block: one allocation and one pointer per side.
  // Bitmap first so the bitmap words and the slots of the best levels sit at fixed offsets from it.
  struct alignas(64) Storage {  // cache-line aligned so slot i and i + 7 share a line when i % 8 == 0
    std::uint64_t bits[kWindow / 64] = {};  // one bit per slot: occupied
    std::int64_t qty[kWindow] = {};         // 0 = no level
    // Cold: touched only for levels below the window, window moves and the cap.
    FarLevels far;
    std::vector<KeyQty> scratch;  // reused by move_window(): no allocation once warmed up
    std::uint64_t dropped = 0;
    void* allocation = nullptr;  // what new_storage() got from the pool (Storage sits inside it)
    std::uint32_t max_levels = 0;
    bool is_bid = true;
  };

  // Cache colouring. Blocks of one size sit at a fixed stride (in the pool below, as they did from
  // malloc; with the 2,048-slot window of the time, 16,896 bytes: 264 lines, a multiple of 8), so the
  // slots near every side's best landed in 1/8 of the L2 sets and 1,000 books thrashed them. Each block is placed at one
  // of kColours line offsets inside a slightly larger allocation, picked by hashing its address. In
  // 2 MiB pages a virtual line offset is also the physical one, so the colours reach the physically
  // indexed L2 as laid out (in 4 KiB pages only an address's low 12 bits are the same in both).
  static constexpr std::size_t kColours = 16;
  static constexpr std::size_t kAllocationBytes = sizeof(Storage) + (kColours - 1) * 64;
  struct StorageDeleter {
    void operator()(Storage* storage) const noexcept {
      void* allocation = storage->allocation;
      storage->~Storage();
      storage_pool().deallocate(allocation);
    }
  };
  // A new block, empty or a copy of `from`.
  static Storage* new_storage(const Storage* from) {
    void* allocation = storage_pool().allocate();
    const std::uintptr_t line = reinterpret_cast<std::uintptr_t>(allocation) >> 6;
    const std::size_t colour = static_cast<std::size_t>((line * 0x9E3779B97F4A7C15ULL) >> 60) & (kColours - 1);
    void* at = static_cast<char*>(allocation) + colour * 64;
    Storage* storage = nullptr;
    try {
      storage = from != nullptr ? new (at) Storage(*from) : new (at) Storage();
    } catch (...) {
      storage_pool().deallocate(allocation);
      throw;
    }
    storage->allocation = allocation;
    return storage;
  }

  [[nodiscard]] std::int64_t to_key(std::int64_t px) const noexcept { return to_key(px, store_->is_bid ? 0 : -1); }
  [[nodiscard]] std::int64_t from_key(std::int64_t key) const noexcept { return to_key(key); }

  // Unsigned distance from the window base: never overflows, and keys below base_ wrap to huge values.
  [[nodiscard]] std::uint64_t offset(std::int64_t key) const noexcept {
    return static_cast<std::uint64_t>(key) - static_cast<std::uint64_t>(base_);
  }
  [[nodiscard]] std::int64_t key_at(std::uint64_t slot) const noexcept {
    return static_cast<std::int64_t>(static_cast<std::uint64_t>(base_) + slot);
  }

  // Highest base: the window's top is the top of the key range.
  static constexpr std::int64_t kTopBase = std::numeric_limits<std::int64_t>::max() - static_cast<std::int64_t>(kWindow - 1);
  static_assert(kTopBase % 64 == 0, "window bases are multiples of 64");

  // Marks the side empty (its window must be empty and far too) and parks the window at the top of
  // the key range, where no realistic price lands, so the next level goes through set_key_slow(),
  // which places the window around it with headroom.
  void park() noexcept {
    best_key_ = kEmptyKey;
    base_ = kTopBase;
  }

  // Base that puts `best` kHeadroom slots below the window's top, saturating at both ends of the key
  // range: the window never wraps past the top, so offset() < kWindow alone means "in the window".
  static std::int64_t window_base_for(std::int64_t best) noexcept {
    constexpr auto kBelow = static_cast<std::int64_t>(kWindow - kHeadroom);
    if (best < std::numeric_limits<std::int64_t>::min() + kBelow) return std::numeric_limits<std::int64_t>::min();
    // Rounded down to a multiple of 64 (at most 63 less headroom): a key's low 6 bits are then its
    // bitmap bit, which set_key_fast() uses to find the next best. INT64_MIN and kTopBase are multiples.
    const std::int64_t base = best - kBelow < kTopBase ? best - kBelow : kTopBase;
    return static_cast<std::int64_t>(static_cast<std::uint64_t>(base) & ~std::uint64_t{63});
  }

  // Cold (reached through finish()): every case but an in-window update with room under the cap.
  LevelChange set_key_slow(std::int64_t key, std::int64_t qty_lots) {
    if (empty()) {  // far is empty too by the invariant
      if (qty_lots == 0) return LevelChange::kAbsent;
      if (room_ == 0) {  // max_levels == 0 keeps nothing
        ++store_->dropped;
        return LevelChange::kDroppedByCap;
      }
      base_ = window_base_for(key);
      insert_in_window(key, qty_lots);
      best_key_ = key;
      return LevelChange::kInserted;
    }
    if (key < base_) return set_far(key, qty_lots);
    const std::uint64_t slot = offset(key);
    if (slot >= kWindow) {  // better than anything the window covers
      if (qty_lots == 0) return LevelChange::kAbsent;
      if (room_ == 0) drop_worst();
      move_window(key);
      insert_in_window(key, qty_lots);
      best_key_ = key;
      return LevelChange::kInserted;
    }
    // In the window, a new level at the cap.
    if (is_worst_candidate(key)) {
      ++store_->dropped;
      return LevelChange::kDroppedByCap;
    }
    drop_worst();
    if (empty()) {  // the cap took the only level: start over around this one
      base_ = window_base_for(key);
      insert_in_window(key, qty_lots);
      best_key_ = key;
      return LevelChange::kInserted;
    }
    insert_in_window(key, qty_lots);
    if (key > best_key_) best_key_ = key;
    return LevelChange::kInserted;
  }

  // Puts a level into the window without counting it (a level moving between window and far).
  void store_in_window(std::int64_t key, std::int64_t qty) noexcept {
    const std::uint64_t slot = offset(key);
    store_->qty[slot] = qty;
    store_->bits[slot >> 6] |= 1ULL << (slot & 63);
  }
  // Adds a new level to the window.
  void insert_in_window(std::int64_t key, std::int64_t qty) noexcept {
    store_in_window(key, qty);
    --room_;
  }

  template <class Fn>
  void for_each_window_slot_ascending(Fn&& fn) const {
    const Storage& s = *store_;
    for (std::uint64_t word = 0; word < kWindow / 64; ++word) {
      std::uint64_t bits = s.bits[word];
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
    const Storage& s = *store_;
    std::uint64_t word = (slot - 1) >> 6;
    std::uint64_t bits = s.bits[word] & ((2ULL << ((slot - 1) & 63)) - 1);
    while (true) {
      if (bits != 0) return (word << 6) + static_cast<std::uint64_t>(63 - std::countl_zero(bits));
      if (word == 0) return kWindow;
      bits = s.bits[--word];
    }
  }

  void on_best_removed(std::uint64_t slot) {
    const std::uint64_t next = highest_below(slot);
    if (next != kWindow) {
      best_key_ = key_at(next);
      // Keep room below the best: a best near the window's floor with deeper levels waiting in far
      // would send every nearby update to the slow overflow.
      if (next < kLowWater && !store_->far.empty()) move_window(best_key_);
      return;
    }
    if (store_->far.empty()) {  // side is now empty
      park();
      return;
    }
    move_window(store_->far.front().key);  // pulls at least far's best into the window and sets best_key_
  }

  // Re-bases the window so `new_best` sits kHeadroom below its top; levels move between the window
  // and far to keep the invariants. O(window levels + moved far levels); rare (price jumps).
  [[gnu::noinline]] void move_window(std::int64_t new_best) {
    Storage& s = *store_;
    const std::int64_t new_base = window_base_for(new_best);
    std::vector<KeyQty>& moved = s.scratch;
    moved.clear();
    for_each_window_slot_ascending([&](std::uint64_t slot) {
      moved.push_back(KeyQty{key_at(slot), s.qty[slot]});
      s.qty[slot] = 0;
    });
    for (auto& word : s.bits) word = 0;
    base_ = new_base;
    // Window levels now below the base (an ascending prefix of `moved`) are better than every far
    // level: they go to far's front, worst first so each lands ahead of the last. Callers move the
    // window only to a key at least as good as every stored level, so nothing that was in the window
    // lands above its top.
    std::size_t below = 0;
    while (below < moved.size() && moved[below].key < base_) ++below;
    for (std::size_t i = 0; i < below; ++i) s.far.insert(moved[i].key, moved[i].qty);
    for (std::size_t i = below; i < moved.size(); ++i) {
      assert(offset(moved[i].key) < kWindow);
      store_in_window(moved[i].key, moved[i].qty);
    }
    // Far levels now inside the window come off far's front (its best end).
    while (!s.far.empty() && s.far.front().key >= base_) {
      const FarLevels::Entry entry = s.far.pop_front();
      store_in_window(entry.key, entry.qty);
    }
    const std::uint64_t top = highest_below(kWindow);
    best_key_ = top != kWindow ? key_at(top) : kEmptyKey;
  }

  LevelChange set_far(std::int64_t key, std::int64_t qty) {
    FarLevels& far = store_->far;
    // One search for the update, the erase or the insert (deep levels of a depth feed come here: a tenth
    // of BTCUSDT's updates).
    const FarLevels::Position position = far.locate(key);
    if (position.found) {
      if (qty != 0) {
        far.qty_at(position) = qty;
        return LevelChange::kUpdated;
      }
      far.erase_at(position);
      ++room_;
      return LevelChange::kErased;
    }
    if (qty == 0) return LevelChange::kAbsent;
    if (room_ == 0) {
      if (far.worse_than_all(key)) {
        ++store_->dropped;
        return LevelChange::kDroppedByCap;
      }
      drop_worst();  // far's last level, worse than `key`: the position may have moved, so search again
      far.insert(key, qty);
      --room_;
      return LevelChange::kInserted;
    }
    far.insert_at(position, key, qty);
    --room_;
    return LevelChange::kInserted;
  }

  // Whether a new level at `key` would be the worst one kept (so the cap drops it instead).
  [[nodiscard]] bool is_worst_candidate(std::int64_t key) const noexcept {
    if (!store_->far.empty()) return false;  // far levels are all below any window key
    std::uint64_t lowest = kWindow;
    for (std::uint64_t word = 0; word < kWindow / 64; ++word) {
      if (store_->bits[word] != 0) {
        lowest = (word << 6) + static_cast<std::uint64_t>(std::countr_zero(store_->bits[word]));
        break;
      }
    }
    return lowest == kWindow || key < key_at(lowest);
  }

  // Removes the worst level: far's bottom, else the window's lowest slot (never the best unless it
  // is the only level, which leaves the side empty).
  void drop_worst() noexcept {
    Storage& s = *store_;
    ++s.dropped;
    ++room_;
    if (!s.far.empty()) {
      s.far.pop_back();
      return;
    }
    for (std::uint64_t word = 0; word < kWindow / 64; ++word) {
      if (s.bits[word] != 0) {
        const std::uint64_t slot = (word << 6) + static_cast<std::uint64_t>(std::countr_zero(s.bits[word]));
        s.qty[slot] = 0;
        s.bits[word] &= s.bits[word] - 1;
        if (slot == offset(best_key_)) park();  // far is empty here: nothing is left
        return;
      }
    }
  }

  // The only fields an in-window update reads: 32 bytes, so a Book's two sides and its sequence
  // fields fit two cache lines and 1,000 books' headers stay in L2. (No count of window levels:
  // emptiness is best_key_ == kEmptyKey, and the window empties only when its best goes.)
  std::int64_t base_ = kTopBase;  // parked: see park()
  std::int64_t best_key_ = kEmptyKey;
  // max_levels - size(): 0 means at the cap. 64 bits (the header had 4 bytes of padding) so an
  // update computes the new room and tests its sign in one width.
  std::int64_t room_;
  std::unique_ptr<Storage, StorageDeleter> store_;
};

static_assert(sizeof(BookSide) == 32, "BookSide's hot fields must stay 32 bytes: Book packs two sides in 2 lines");

}  // namespace fastcore::book
