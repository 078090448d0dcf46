// Profiling driver for the book's update paths on the synthetic market, for callgrind/cachegrind
// (instruction and modelled-mispredict counts, immune to a noisy machine) and for best-of-N timing.
// Usage: book_profile MODE [books=1] [events=1'000'000] [passes=2]
//   MODE: event (Book::try_apply per event), batch (Book::try_apply_batch, one book),
//         set (BookSet::try_apply), read (reads the records only: the memory floor)
// Count only the passes:
//   valgrind --tool=callgrind --branch-sim=yes --toggle-collect='*pass_*' build/bench/bench/cpp/book_profile batch
// Built only with -DRENTRADE_BUILD_BENCH=ON; never part of the default test run.
#include <algorithm>
#include <chrono>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <span>
#include <vector>

#include "fastcore/book/book_set.hpp"
#include "fastcore/sim/synthetic_market.hpp"

using namespace fastcore;
using common::Event;

namespace {

// noinline so callgrind's --toggle-collect can select exactly the passes.
[[gnu::noinline]] std::size_t pass_set(book::BookSet& set, std::span<const Event> events) {
  return set.try_apply(events).applied;
}

[[gnu::noinline]] std::size_t pass_event(book::BookSet& set, std::span<const Event> events) {
  book::Book* const books = &set[0];  // locals: through the set, GCC reloads its pointers per event
  const std::size_t count = set.size();
  std::size_t applied = 0;
  for (const Event& event : events) {
    if (event.instrument_id >= count || books[event.instrument_id].try_apply(event) != book::ApplyError::kOk) break;
    ++applied;
  }
  return applied;
}

// Compiles against sources from before Book::try_apply_batch too (the mode then reports 0 applied),
// so the same driver measures both sides of a change.
template <class B>
std::size_t apply_batch(B& book, std::span<const Event> events) {
  if constexpr (requires { book.try_apply_batch(events, 0U); }) {
    return book.try_apply_batch(events, 0U).applied;
  } else {
    return 0;
  }
}

[[gnu::noinline]] std::size_t pass_batch(book::BookSet& set, std::span<const Event> events) {
  return apply_batch(set[0], events);
}

[[gnu::noinline]] std::size_t pass_read(book::BookSet&, std::span<const Event> events) {
  std::int64_t sum = 0;
  for (const Event& event : events) sum += event.qty_lots ^ event.px_ticks ^ static_cast<std::int64_t>(event.seq);
  asm volatile("" : : "r"(sum));
  return events.size();
}

}  // namespace

int main(int argc, char** argv) {
  const char* mode = argc > 1 ? argv[1] : "batch";
  const auto books = static_cast<std::uint32_t>(argc > 2 ? std::atoi(argv[2]) : 1);
  const auto count = static_cast<std::size_t>(argc > 3 ? std::atoll(argv[3]) : 1'000'000);
  const int passes = argc > 4 ? std::atoi(argv[4]) : 2;
  std::size_t (*pass)(book::BookSet&, std::span<const Event>) = nullptr;
  if (std::strcmp(mode, "event") == 0) pass = pass_event;
  if (std::strcmp(mode, "batch") == 0 && books == 1) pass = pass_batch;
  if (std::strcmp(mode, "set") == 0) pass = pass_set;
  if (std::strcmp(mode, "read") == 0) pass = pass_read;
  if (pass == nullptr || books == 0 || passes < 1) {
    std::fprintf(stderr, "usage: book_profile event|batch|set|read [books] [events] [passes] (batch: 1 book)\n");
    return 2;
  }
  sim::SyntheticMarketConfig config;
  config.instruments = books;
  std::vector<Event> events(count);
  sim::SyntheticMarket(config).generate(events);
  std::size_t updates = 0;
  for (const Event& event : events) {
    updates += event.kind == common::EventKind::kDelta || event.kind == common::EventKind::kSnapshotLevel;
  }
  book::BookSet set(books);
  double best_ns = 1e300;
  for (int p = 0; p < passes; ++p) {
    const auto t0 = std::chrono::steady_clock::now();
    if (pass(set, events) != count) {
      std::fprintf(stderr, "an event was refused\n");
      return 1;
    }
    const auto ns = std::chrono::duration<double, std::nano>(std::chrono::steady_clock::now() - t0).count();
    best_ns = std::min(best_ns, ns);
  }
  std::printf("%s books=%u events=%zu level updates=%zu: best pass %.2f ns/event, %.2f ns/level update (%.1f M/s)\n",
              mode, books, count, updates, best_ns / static_cast<double>(count),
              best_ns / static_cast<double>(updates), static_cast<double>(updates) * 1e3 / best_ns);
  return 0;
}
