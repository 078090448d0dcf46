#pragma once
/// The levels of one book side that lie below its dense window, in key order, best first.
///
/// A sorted list of small sorted blocks (at most kBlock levels each) with an index of each block's
/// last key: finding a level is a binary search over blocks then within one block, and inserting or
/// erasing moves at most one block's worth of levels. A flat sorted array moved every deeper level on
/// each insert near the top of the overflow, which is where a real depth feed (Binance diffs reach
/// thousands of levels deep) lands most often.
///
/// Invariants: keys strictly decreasing across the whole sequence; every block in order_ holds
/// 1..kBlock levels; last_key_[i] is the last (worst) key of block order_[i]; size_ is the total.
/// Memory: a block is freed when it empties and sparse neighbours merge, so blocks stay on average
/// well filled; blocks are recycled through free_ (allocation only when the overflow outgrows its past).
#include <algorithm>
#include <cstdint>
#include <cstring>
#include <utility>
#include <vector>

namespace fastcore::book {

class FarLevels {
 public:
  /// Levels per block: one block's keys and quantities are 1 KiB, so an insert or erase moves at
  /// most that much memory.
  static constexpr std::uint32_t kBlock = 64;

  struct Entry {
    std::int64_t key;
    std::int64_t qty;
  };

  [[nodiscard]] std::size_t size() const noexcept { return size_; }
  [[nodiscard]] bool empty() const noexcept { return size_ == 0; }

  void clear() noexcept {
    for (const std::uint32_t block : order_) free_.push_back(block);
    order_.clear();
    last_key_.clear();
    size_ = 0;
  }

  /// Quantity stored at `key`, or null. The pointer is valid until the next insert or erase.
  [[nodiscard]] const std::int64_t* find(std::int64_t key) const noexcept {
    const std::size_t index = block_for(key);
    if (index == order_.size()) return nullptr;
    const Block& block = pool_[order_[index]];
    const std::uint32_t at = position_in(block, key);
    return at < block.count && block.key[at] == key ? &block.qty[at] : nullptr;
  }
  [[nodiscard]] std::int64_t* find(std::int64_t key) noexcept {
    return const_cast<std::int64_t*>(std::as_const(*this).find(key));  // same lookup, mutable result
  }

  /// Where `key` is or would go: one search for a caller that then updates, erases or inserts there
  /// (find() followed by erase() or insert() searched twice).
  struct Position {
    std::size_t index;  ///< Block index in key order (== the block count when `key` is worse than every level).
    std::uint32_t at;   ///< Place in that block.
    bool found;         ///< `key` is stored there.
  };
  [[nodiscard]] Position locate(std::int64_t key) const noexcept {
    const std::size_t index = block_for(key);
    if (index == order_.size()) return Position{index, 0, false};
    const Block& block = pool_[order_[index]];
    const std::uint32_t at = position_in(block, key);
    return Position{index, at, at < block.count && block.key[at] == key};
  }
  /// The stored quantity at a found position (locate(key).found); valid until the next insert or erase.
  [[nodiscard]] std::int64_t& qty_at(const Position& position) noexcept {
    return pool_[order_[position.index]].qty[position.at];
  }
  /// erase(key) at locate(key) when found (no insert or erase in between).
  void erase_at(const Position& position) noexcept { remove_at(position.index, position.at); }
  /// insert(key, qty) at locate(key) when not found (no insert or erase in between): the same levels and
  /// blocks. A full block (a split) or an empty overflow take insert() itself.
  void insert_at(const Position& position, std::int64_t key, std::int64_t qty) {
    std::size_t index = position.index;
    std::uint32_t at = position.at;
    if (index == order_.size()) {  // worse than everything: append to the last block, as insert() does
      if (order_.empty()) {
        insert(key, qty);
        return;
      }
      index = order_.size() - 1;
      at = pool_[order_[index]].count;
    }
    Block& block = pool_[order_[index]];
    if (block.count == kBlock) {
      insert(key, qty);
      return;
    }
    place(index, block, at, key, qty);
  }

  /// True when `key` is worse than every stored level (or there are none).
  [[nodiscard]] bool worse_than_all(std::int64_t key) const noexcept { return empty() || key < last_key_.back(); }

  /// Best (first) and worst (last) stored levels; unchecked, callers test !empty().
  [[nodiscard]] Entry front() const noexcept {
    const Block& block = pool_[order_.front()];
    return Entry{block.key[0], block.qty[0]};
  }
  [[nodiscard]] Entry back() const noexcept {
    const Block& block = pool_[order_.back()];
    return Entry{block.key[block.count - 1], block.qty[block.count - 1]};
  }

  /// Adds a level that is not stored yet (callers check with find()).
  void insert(std::int64_t key, std::int64_t qty) {
    if (order_.empty()) {
      const std::uint32_t block = new_block();
      order_.push_back(block);
      last_key_.push_back(key);
    }
    std::size_t index = block_for(key);
    if (index == order_.size()) index = order_.size() - 1;  // worse than everything: append to the last block
    if (pool_[order_[index]].count == kBlock) {
      split(index);
      if (key < last_key_[index]) ++index;  // the key belongs to the second half
    }
    Block& block = pool_[order_[index]];
    place(index, block, position_in(block, key), key, qty);
  }

  /// Removes the level at `key` if stored; returns whether it was.
  bool erase(std::int64_t key) noexcept {
    const std::size_t index = block_for(key);
    if (index == order_.size()) return false;
    Block& block = pool_[order_[index]];
    const std::uint32_t at = position_in(block, key);
    if (at == block.count || block.key[at] != key) return false;
    remove_at(index, at);
    return true;
  }

  /// Removes and returns the best level; unchecked, callers test !empty().
  Entry pop_front() noexcept {
    const Entry entry = front();
    remove_at(0, 0);
    return entry;
  }

  /// Removes the worst level; unchecked, callers test !empty().
  void pop_back() noexcept {
    const std::size_t index = order_.size() - 1;
    remove_at(index, pool_[order_[index]].count - 1);
  }

  /// Calls fn(Entry) best first; stops when fn returns false.
  template <class Fn>
  void for_each(Fn&& fn) const {
    for (const std::uint32_t block_index : order_) {
      const Block& block = pool_[block_index];
      for (std::uint32_t i = 0; i < block.count; ++i) {
        if (!fn(Entry{block.key[i], block.qty[i]})) return;
      }
    }
  }

 private:
  struct Block {
    std::int64_t key[kBlock];
    std::int64_t qty[kBlock];
    std::uint32_t count = 0;
  };

  // Index in order_ of the first block whose last key is <= key (the block `key` belongs in), or
  // order_.size() when `key` is worse than every level.
  [[nodiscard]] std::size_t block_for(std::int64_t key) const noexcept {
    std::size_t lo = 0;
    std::size_t hi = last_key_.size();
    while (lo < hi) {
      const std::size_t mid = lo + (hi - lo) / 2;
      if (last_key_[mid] > key) {
        lo = mid + 1;
      } else {
        hi = mid;
      }
    }
    return lo;
  }

  // First index in `block` whose key is <= key (keys are decreasing).
  [[nodiscard]] static std::uint32_t position_in(const Block& block, std::int64_t key) noexcept {
    std::uint32_t lo = 0;
    std::uint32_t hi = block.count;
    while (lo < hi) {
      const std::uint32_t mid = (lo + hi) / 2;
      if (block.key[mid] > key) {
        lo = mid + 1;
      } else {
        hi = mid;
      }
    }
    return lo;
  }

  std::uint32_t new_block() {
    if (!free_.empty()) {
      const std::uint32_t block = free_.back();
      free_.pop_back();
      pool_[block].count = 0;
      return block;
    }
    pool_.emplace_back();
    free_.reserve(pool_.size());  // so returning blocks (noexcept paths) never allocates
    return static_cast<std::uint32_t>(pool_.size() - 1);
  }

  // Puts a new level at `at` of block order_[index] (`block`, not full).
  void place(std::size_t index, Block& block, std::uint32_t at, std::int64_t key, std::int64_t qty) noexcept {
    const std::size_t tail = block.count - at;
    std::memmove(&block.key[at + 1], &block.key[at], tail * sizeof(std::int64_t));
    std::memmove(&block.qty[at + 1], &block.qty[at], tail * sizeof(std::int64_t));
    block.key[at] = key;
    block.qty[at] = qty;
    ++block.count;
    last_key_[index] = block.key[block.count - 1];
    ++size_;
  }

  // Moves the second half of full block order_[index] into a new block right after it.
  void split(std::size_t index) {
    const std::uint32_t fresh = new_block();  // may reallocate pool_: take references after it
    Block& full = pool_[order_[index]];
    Block& half = pool_[fresh];
    constexpr std::uint32_t kKeep = kBlock / 2;
    half.count = kBlock - kKeep;
    std::memcpy(half.key, &full.key[kKeep], half.count * sizeof(std::int64_t));
    std::memcpy(half.qty, &full.qty[kKeep], half.count * sizeof(std::int64_t));
    full.count = kKeep;
    const auto at = static_cast<std::ptrdiff_t>(index + 1);
    order_.insert(order_.begin() + at, fresh);
    last_key_.insert(last_key_.begin() + at, half.key[half.count - 1]);
    last_key_[index] = full.key[kKeep - 1];
  }

  void remove_at(std::size_t index, std::uint32_t at) noexcept {
    Block& block = pool_[order_[index]];
    const std::size_t tail = block.count - at - 1;
    std::memmove(&block.key[at], &block.key[at + 1], tail * sizeof(std::int64_t));
    std::memmove(&block.qty[at], &block.qty[at + 1], tail * sizeof(std::int64_t));
    --block.count;
    --size_;
    if (block.count == 0) {
      drop_block(index);
      return;
    }
    last_key_[index] = block.key[block.count - 1];
    // A sparse block merges into its successor when both fit in one: blocks stay reasonably full, so
    // memory follows the number of levels rather than the history of splits.
    if (block.count < kBlock / 4 && index + 1 < order_.size() &&
        block.count + pool_[order_[index + 1]].count <= kBlock) {
      merge_next_into(index);
    }
  }

  // Appends block order_[index + 1] to block order_[index] and drops the former.
  void merge_next_into(std::size_t index) noexcept {
    Block& into = pool_[order_[index]];
    const Block& next = pool_[order_[index + 1]];
    std::memcpy(&into.key[into.count], next.key, next.count * sizeof(std::int64_t));
    std::memcpy(&into.qty[into.count], next.qty, next.count * sizeof(std::int64_t));
    into.count += next.count;
    last_key_[index] = into.key[into.count - 1];
    drop_block(index + 1);
  }

  void drop_block(std::size_t index) noexcept {
    free_.push_back(order_[index]);  // capacity for it exists: free_ never holds more than pool_
    const auto at = static_cast<std::ptrdiff_t>(index);
    order_.erase(order_.begin() + at);
    last_key_.erase(last_key_.begin() + at);
  }

  std::vector<Block> pool_;
  std::vector<std::uint32_t> free_;
  std::vector<std::uint32_t> order_;     // blocks in key order, best first
  std::vector<std::int64_t> last_key_;   // parallel to order_
  std::size_t size_ = 0;
};

}  // namespace fastcore::book
