#pragma once
/// Latency and throughput of signal updates (features + composite), measured inside the core so no
/// binding overhead is counted. Reuses the book's LatencyRun record: `error` reports a refused event.
#include <algorithm>
#include <cstdint>
#include <span>

#include "fastcore/common/clock.hpp"
#include "fastcore/perf/book_latency.hpp"
#include "fastcore/signal/features.hpp"

namespace fastcore::perf {

/// Applies `events` to `books` (untimed) and times all the signal's work for one message as one sample:
/// for each level event, noting it (with the level's previous size, which the book's update reports:
/// Book::try_apply(event, old_qty), untimed like the rest of the update); after the event flagged
/// kFlagLastInMessage, the book features plus one composite evaluation. A trade is its own sample (the
/// flow update). Each piece is timed alone, so the book updates between them are not counted, and the
/// timer overhead is subtracted per piece. Then
/// `passes` more times untimed for throughput (book updates included there: the signal reads the book
/// the events build). `decisions` counts non-zero entry decisions so the work cannot be optimised away: callers
/// must read it (core_bench did not, and GCC dropped the composite's sum from the inlined loop).
inline LatencyRun measure_signal_update(book::BookSet& books, signal::SignalSet& signals,
                                        const signal::Composite& composite, std::span<const common::Event> events,
                                        int passes, const common::CycleClock& clock, std::uint64_t& decisions) {
  LatencyRun run;
  decisions = 0;
  run.timer_overhead_ns = static_cast<double>(clock.overhead_ticks()) * clock.ns_per_tick();
  const std::uint64_t overhead = clock.overhead_ticks();
  const auto known = [&](const common::Event& event) -> bool {
    if (event.instrument_id >= books.size() || event.instrument_id >= signals.size()) {
      run.error = book::ApplyError::kUnknownBook;
      return false;
    }
    return true;
  };
  std::int64_t message_ticks = 0;  // the signal's work so far in the current message, overhead removed
  for (const common::Event& event : events) {
    if (!known(event)) return run;
    book::Book& book = books[event.instrument_id];
    std::int64_t old_qty = -1;
    run.error = book.try_apply(event, old_qty);
    if (run.error != book::ApplyError::kOk) return run;
    const bool is_trade = event.kind == common::EventKind::kTrade;
    const bool is_book_end = static_cast<unsigned>(event.kind) - 1U < 3U && (event.flags & common::kFlagLastInMessage) != 0;
    const std::uint64_t t0 = common::CycleClock::start();
    const bool book_updated = signals.on_event(event, book, old_qty);
    if (is_book_end && book_updated) decisions += composite.evaluate(signals[event.instrument_id]).decision != 0;
    const std::uint64_t t1 = common::CycleClock::stop();
    message_ticks += static_cast<std::int64_t>(t1 - t0) - static_cast<std::int64_t>(overhead);
    if (!is_trade && !is_book_end) continue;  // inside a message: its pieces add up until the message ends
    run.histogram.record(clock.to_ns(static_cast<std::uint64_t>(std::max<std::int64_t>(message_ticks, 0))));
    message_ticks = 0;
    ++run.timed_ops;
  }
  const std::int64_t start_ns = common::monotonic_ns();
  for (int pass = 0; pass < passes; ++pass) {
    for (const common::Event& event : events) {
      if (!known(event)) return run;
      book::Book& book = books[event.instrument_id];
      std::int64_t old_qty = -1;
      run.error = book.try_apply(event, old_qty);
      if (run.error != book::ApplyError::kOk) return run;
      if (signals.on_event(event, book, old_qty)) {
        decisions += composite.evaluate(signals[event.instrument_id]).decision != 0;
        ++run.throughput_ops;
      } else if (event.kind == common::EventKind::kTrade) {
        ++run.throughput_ops;
      }
    }
  }
  run.throughput_ns = common::monotonic_ns() - start_ns;
  return run;
}

}  // namespace fastcore::perf
