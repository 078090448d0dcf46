#pragma once
// The store behind rentrade.BookSet and the OrderBook views into it (shared by the book and perf bindings).
#include <memory>
#include <vector>

#include "bindings.hpp"
#include "fastcore/book/book_set.hpp"

namespace rentrade_bindings {

/// Books and their instruments, shared by a BookSet and every OrderBook view into it.
struct BookStore {
  BookStore(std::vector<fastcore::common::Instrument> list, std::uint32_t max_levels)
      : books(list.size(), max_levels), instruments(std::move(list)) {}
  fastcore::book::BookSet books;
  std::vector<fastcore::common::Instrument> instruments;
};

/// One book: either standalone (a store of one) or a view into a BookSet's store.
struct OrderBookView {
  std::shared_ptr<BookStore> store;
  std::uint32_t id;

  [[nodiscard]] fastcore::book::Book& book() const noexcept { return store->books[id]; }
  [[nodiscard]] const fastcore::common::Instrument& instrument() const noexcept { return store->instruments[id]; }
};

}  // namespace rentrade_bindings
