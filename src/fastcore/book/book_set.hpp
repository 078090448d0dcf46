#pragma once
/// Many books in one process, indexed by instrument id, with batch routing of events.
#include <cstddef>
#include <cstdint>
#include <span>
#include <vector>

#include "fastcore/book/book.hpp"

namespace fastcore::book {

/// Result of applying a batch: how many events were applied before the first refused one.
struct BatchResult {
  std::size_t applied = 0;
  ApplyError error = ApplyError::kOk;  ///< kOk when the whole batch was applied.
};

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
  /// stay applied; the refused one and those after it are not.
  [[nodiscard]] BatchResult try_apply(std::span<const Event> events) noexcept {
    BatchResult result;
    const std::size_t count = books_.size();
    for (const Event& event : events) {
      if (event.instrument_id >= count) {
        result.error = ApplyError::kUnknownBook;
        return result;
      }
      const ApplyError error = books_[event.instrument_id].try_apply(event);
      if (error != ApplyError::kOk) {
        result.error = error;
        return result;
      }
      ++result.applied;
    }
    return result;
  }

 private:
  std::vector<Book> books_;
};

}  // namespace fastcore::book
