// The simulated venue's cost per event next to a bare book on the same synthetic stream, without Python.
// Usage: sim_bench [runs]. Prints ns per event for Book::try_apply and SimulatedExchange::on_events, run
// alternately (A, B, A, B, ...) so a noisy host affects both alike; the medians are the figures to read.
#include <algorithm>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <vector>

#include "fastcore/book/book.hpp"
#include "fastcore/sim/exchange.hpp"
#include "fastcore/sim/synthetic_market.hpp"

int main(int argc, char** argv) {
  using Clock = std::chrono::steady_clock;
  const int runs = argc > 1 ? std::max(1, std::atoi(argv[1])) : 5;
  fastcore::sim::SyntheticMarket market(fastcore::sim::SyntheticMarketConfig{});
  std::vector<fastcore::common::Event> events(2'000'000);
  market.generate(events);
  std::vector<double> book_ns;
  std::vector<double> venue_ns;
  std::uint64_t check = 0;
  for (int run = 0; run < runs; ++run) {
    fastcore::book::Book book;
    const auto t0 = Clock::now();
    for (const auto& event : events) check += book.try_apply(event) == fastcore::book::ApplyError::kOk;
    const auto t1 = Clock::now();
    fastcore::sim::ExchangeConfig config;
    config.instruments.resize(1);
    fastcore::sim::SimulatedExchange venue(config);
    fastcore::sim::ExchangeError error = fastcore::sim::ExchangeError::kOk;
    const auto t2 = Clock::now();
    check += venue.on_events(events, error);
    const auto t3 = Clock::now();
    // The work was done: both saw every event and end with the same top of book.
    if (error != fastcore::sim::ExchangeError::kOk || venue.book(0).best(fastcore::common::Side::kBid)->px_ticks !=
                                                          book.best(fastcore::common::Side::kBid)->px_ticks) {
      std::fprintf(stderr, "sim_bench: the venue's book differs from the bare book\n");
      return 1;
    }
    book_ns.push_back(std::chrono::duration<double, std::nano>(t1 - t0).count() / static_cast<double>(events.size()));
    venue_ns.push_back(std::chrono::duration<double, std::nano>(t3 - t2).count() / static_cast<double>(events.size()));
    std::printf("run %d: book %.1f ns/event, venue %.1f ns/event\n", run + 1, book_ns.back(), venue_ns.back());
  }
  std::sort(book_ns.begin(), book_ns.end());
  std::sort(venue_ns.begin(), venue_ns.end());
  std::printf("median: book %.1f ns/event, venue %.1f ns/event (%zu events, checksum %llu)\n",
              book_ns[book_ns.size() / 2], venue_ns[venue_ns.size() / 2], events.size(),
              static_cast<unsigned long long>(check));
  return 0;
}
