#pragma once
/// Many books in one process, indexed by instrument id, with batch routing of events.
#include <cstddef>
#include <cstdint>
#include <span>
#include <vector>

#include "fastcore/book/book.hpp"

namespace fastcore::book {

class BookSet {
 public:
  /// `count` empty books with ids 0..count-1; each side capped at `max_levels_per_side`.
  explicit BookSet(std::size_t count, std::uint32_t max_levels_per_side = Book::kDefaultMaxLevels)
      : books_(count, Book(max_levels_per_side)) {}

  [[nodiscard]] std::size_t size() const noexcept { return books_.size(); }
  /// Unchecked: callers test id < size().
  [[nodiscard]] Book& operator[](std::size_t id) noexcept { return books_[id]; }
  [[nodiscard]] const Book& operator[](std::size_t id) const noexcept { return books_[id]; }

  /// Routes each event to its book, in order, stopping at the first refused event. Events before it
  /// stay applied; the refused one and those after it are not. Same result as calling
  /// Book::try_apply per event; with many books it prefetches the books of the events ahead.
  [[nodiscard]] BatchResult try_apply(std::span<const Event> events) noexcept {
    if (books_.size() == 1) return books_[0].try_apply_batch(events, 0);
    if (books_.size() < kPrefetchFromBooks) return apply_range(events, 0, events.size());
    // Two stages, because the slot an event touches is known only from its book's header: fetch the
    // header kHeaderAhead events ahead, then (header now cached) the quantity slot and bitmap word
    // kSlotAhead events ahead. Hints never change state, so stale ones (an event in between moved a
    // window) only cost a wasted fetch.
    const std::size_t n = events.size();
    Book* const books = books_.data();
    const std::size_t count = books_.size();
    BatchResult result;
    std::size_t i = 0;
    for (; i + kHeaderAhead < n; ++i) {
      const Event& header_next = events[i + kHeaderAhead];
      const Book& header_book = books[header_next.instrument_id < count ? header_next.instrument_id : 0];
      __builtin_prefetch(&header_book, 1);
      __builtin_prefetch(reinterpret_cast<const char*>(&header_book) + 64, 1);
      const Event& slot_next = events[i + kSlotAhead];
      books[slot_next.instrument_id < count ? slot_next.instrument_id : 0].prefetch_for(slot_next);
      if (!apply_one(books, count, events[i], result)) return result;
    }
    for (; i < n; ++i) {
      if (!apply_one(books, count, events[i], result)) return result;
    }
    return result;
  }

  /// Prefetch distances of try_apply (events ahead), measured on the synthetic 1,000-book market.
  static constexpr std::size_t kHeaderAhead = 16;
  static constexpr std::size_t kSlotAhead = 8;
  /// Below this many books every header stays in L1/L2 and prefetching only costs instructions.
  static constexpr std::size_t kPrefetchFromBooks = 64;

 private:
  BatchResult apply_range(std::span<const Event> events, std::size_t first, std::size_t last) noexcept {
    BatchResult result;
    Book* const books = books_.data();
    const std::size_t count = books_.size();
    for (std::size_t i = first; i < last; ++i) {
      if (!apply_one(books, count, events[i], result)) return result;
    }
    return result;
  }

  // Applies one event to books[0, count) and counts it; false (with the error set) when it is refused.
  // The loops pass books_'s data and size as locals: stores into books could alias the vector's own
  // pointers, so GCC would otherwise reload them on every event.
  [[gnu::always_inline]] static bool apply_one(Book* books, std::size_t count, const Event& event,
                                               BatchResult& result) noexcept {
    if (event.instrument_id >= count) [[unlikely]] {
      result.error = ApplyError::kUnknownBook;
      return false;
    }
    const ApplyError error = books[event.instrument_id].try_apply(event);
    if (error != ApplyError::kOk) [[unlikely]] {
      result.error = error;
      return false;
    }
    ++result.applied;
    return true;
  }

  std::vector<Book> books_;
};

}  // namespace fastcore::book
