#pragma once
/// L2 (price-level) order book for one instrument, in integer ticks and lots.
///
/// The book applies what it is told and reports what it sees: it never "repairs" a crossed book
/// (is_crossed() says so, and the risk layer refuses to trade on it). Memory is bounded by
/// max_levels per side; past the cap the worst levels go, never the top (dropped_levels() counts them).
#include <bit>
#include <cstddef>
#include <cstdint>
#include <cstring>
#include <limits>
#include <optional>
#include <span>

#include "fastcore/book/book_side.hpp"
#include "fastcore/common/event.hpp"

namespace fastcore::book {

using common::Event;
using common::EventKind;
using common::Side;

/// Why an event was refused. A refused event leaves the book unchanged.
enum class ApplyError : std::uint8_t {
  kOk = 0,
  kNegativeQty,   ///< qty_lots < 0.
  kBadPrice,      ///< px_ticks == INT64_MIN (has no negation, so no ask key).
  kBadSide,       ///< side is neither kBid nor kAsk.
  kUnknownKind,   ///< kind outside EventKind.
  kUnknownBook,   ///< instrument_id has no book (BookSet only).
};

/// Readable text for an ApplyError (static storage).
const char* describe(ApplyError error) noexcept;

/// Result of applying a batch: how many events were applied before the first refused one.
struct BatchResult {
  std::size_t applied = 0;
  ApplyError error = ApplyError::kOk;  ///< kOk when the whole batch was applied.
};

/// Exact results of walking one side with a market order.
struct ImpactResult {
  std::int64_t filled_lots = 0;   ///< <= requested; less when the side runs out.
  __int128 notional = 0;          ///< Sum of px_ticks * qty_lots over the fills.
  std::int64_t touch_px = 0;      ///< Best price on the side walked (the slippage reference).
  std::int64_t worst_px = 0;      ///< Last price level touched.
  std::uint32_t levels = 0;       ///< Levels consumed, the last one possibly partly.
};

/// Why an analytics query could not answer.
enum class QueryError : std::uint8_t { kOk = 0, kEmptySide, kOverflow, kBadArgument };

// Cache-line aligned so a book's header is exactly two lines (see the fields).
class alignas(64) Book {
 public:
  /// Default per-side cap: deeper than any venue's snapshot (Binance: 1,000; Bybit: 500) with room
  /// for the levels diffs add below the snapshot's depth.
  static constexpr std::uint32_t kDefaultMaxLevels = 5000;

  explicit Book(std::uint32_t max_levels_per_side = kDefaultMaxLevels)
      : sides_{BookSide(true, max_levels_per_side), BookSide(false, max_levels_per_side)} {}

  /// Applies one event. Cost: one set_level() for deltas and snapshot levels, O(1) otherwise.
  // Always inlined: batch loops call it per event, and GCC otherwise keeps it out of line (a call
  // and register spills per ~5 ns update).
  [[nodiscard, gnu::always_inline]] ApplyError try_apply(const Event& event) noexcept {
    // A valid level update (nearly every event) passes three never-taken tests; everything else
    // (trades, clears, refusals) goes to apply_other(), out of line, which re-checks in full.
    if (is_valid_level(event)) [[likely]] {
      // The bookkeeping first: the book's address then dies before the side's update, which needs
      // every register it can get (after it, GCC kept the address alive and spilled update values).
      record(event);
      ++updates_;
      set_valid(event);
      return ApplyError::kOk;
    }
    if (is_passive(event.kind)) return ApplyError::kOk;  // trades, BBO, empty slots: not book state
    return apply_other(event);
  }

  /// try_apply() that also reports what the event's level held before it: for an accepted level update
  /// (kDelta, kSnapshotLevel) `old_qty` gets the quantity resting at its price just before (0 when no
  /// level rested there), for every other event (trades, clears, refusals) -1. Same book, sequence,
  /// timestamps and updates() as try_apply(event).
  // For the signal's incremental top-N sums (FeatureState::note_level): the update reads the slot it is
  // about to write, where a separate lookup before the update would test the event and the side again
  // and read the side's cold is_bid line for its key.
  [[nodiscard, gnu::always_inline]] ApplyError try_apply(const Event& event, std::int64_t& old_qty) noexcept {
    if (is_valid_level(event)) [[likely]] {
      const auto index = static_cast<std::size_t>(event.side);
      old_qty = sides_[index].qty_at_key(BookSide::to_key(event.px_ticks, -static_cast<std::int64_t>(index)));
      record(event);
      ++updates_;
      set_valid(event);
      return ApplyError::kOk;
    }
    old_qty = -1;
    if (is_passive(event.kind)) return ApplyError::kOk;
    return apply_other(event);
  }

  /// Applies `events` in order, each of which must carry `instrument_id` (else kUnknownBook),
  /// stopping at the first refused one: those before it stay applied, it and the rest do not. Same
  /// books, sequence, timestamps and updates() as try_apply() per event; faster, because the
  /// instrument, kind and side are tested in one compare and the sequence and timestamps are written
  /// once per call instead of per event.
  [[nodiscard]] BatchResult try_apply_batch(std::span<const Event> events, std::uint32_t instrument_id) noexcept {
    const Event* const begin = events.data();
    const Event* const end = begin + events.size();
    // Every event is counted up front and the rare ones that are not level updates are uncounted, so
    // the loop carries nothing per level update but the record pointer: with a counter and the
    // sequence bookkeeping in it as well, GCC ran out of registers and spilled the update's values.
    updates_ += events.size();
    ApplyError error = ApplyError::kOk;
    const Event* at = begin;
    for (; at != end; ++at) {
      if (is_valid_level_of(*at, instrument_id)) [[likely]] {
        set_valid(*at);
        continue;
      }
      if (at->instrument_id != instrument_id) [[unlikely]] {
        error = ApplyError::kUnknownBook;
        break;
      }
      if (is_passive(at->kind)) {
        --updates_;
        continue;
      }
      error = apply_other(*at);  // a clear, or a refusal; it counts what it applies itself
      if (error != ApplyError::kOk) [[unlikely]] break;
      --updates_;
    }
    updates_ -= static_cast<std::size_t>(end - at);  // the refused event and those after it
    // The sequence and timestamps are those of the last event that changed the book: the last record
    // before `at` that is not passive (a level update, or a clear that apply_other() recorded already).
    for (const Event* last = at; last != begin;) {
      --last;
      if (!is_passive(last->kind)) {
        record(*last);
        break;
      }
    }
    return BatchResult{static_cast<std::size_t>(at - begin), error};
  }

  /// Applies the events at the front of `events` while each is a level update try_apply() accepts, of
  /// `instrument_id`, with none of the `stop_flags` bits in its flags, for which `keep(event, side, key)` is
  /// true (`side` 0 bids / 1 asks, `key` the price's key on that side: price for bids, -price for asks).
  /// Stops before the first event that is not: that one is the caller's (e.g. through try_apply(), which
  /// also reports a refusal). Returns how many were applied; same book, sequence, timestamps and updates()
  /// as try_apply() per event.
  // For a caller that must see some events of a stream one by one and not others (the engine: level
  // updates below its signal's top N): one pass that tests, keys and applies each event once, where a
  // scan for the run followed by try_apply_batch() read and tested every event twice.
  template <class Keep>
  [[nodiscard, gnu::always_inline]] std::size_t apply_levels_while(std::span<const Event> events,
                                                                   std::uint32_t instrument_id, std::uint8_t stop_flags,
                                                                   Keep&& keep) noexcept {
    const Event* const begin = events.data();
    const Event* const end = begin + events.size();
    const Event* at = begin;
    for (; at != end; ++at) {
      if (!is_valid_level_of(*at, instrument_id, stop_flags)) break;
      const auto index = static_cast<std::size_t>(at->side);
      const std::int64_t key = BookSide::to_key(at->px_ticks, -static_cast<std::int64_t>(index));
      if (!keep(*at, index, key)) break;
      const BookSide::Left left = sides_[index].set_key_fast(key, at->qty_lots);
      if (left != BookSide::Left::kNothing) [[unlikely]] finish_level(*at, left);
    }
    const auto applied = static_cast<std::size_t>(at - begin);
    if (applied != 0) {
      record(at[-1]);
      updates_ += applied;
    }
    return applied;
  }

  /// Sets one level directly (the per-call path); same rules as a kDelta event.
  [[nodiscard]] ApplyError try_set_level(Side side, std::int64_t px_ticks, std::int64_t qty_lots) noexcept {
    const ApplyError error = set_checked(side, px_ticks, qty_lots);
    if (error == ApplyError::kOk) ++updates_;
    return error;
  }

  /// Why a level update with these fields would be refused (kOk if it would not).
  [[nodiscard]] static ApplyError check_level(Side side, std::int64_t px_ticks, std::int64_t qty_lots) noexcept {
    if (qty_lots < 0) return ApplyError::kNegativeQty;
    if (px_ticks == std::numeric_limits<std::int64_t>::min()) return ApplyError::kBadPrice;
    if (static_cast<std::uint8_t>(side) > 1) return ApplyError::kBadSide;
    return ApplyError::kOk;
  }

  /// Hints the cache lines that applying `event` will touch, reading only this book's header (which
  /// the caller should have prefetched earlier). For batch loops that know their next events; a
  /// hint for an event that turns out to do nothing costs one wasted prefetch.
  void prefetch_for(const Event& event) const noexcept {
    const auto index = static_cast<std::uint8_t>(event.side) & 1U;  // any side value gives a valid address
    sides_[index].prefetch_key(BookSide::to_key(event.px_ticks, -static_cast<std::int64_t>(index)));
  }

  /// Hints the cache lines of both best levels (see BookSide::prefetch_best); reads only this header.
  void prefetch_top() const noexcept {
    sides_[0].prefetch_best();
    sides_[1].prefetch_best();
  }

  /// Empties both sides; sequence and timestamps are the caller's to set.
  void clear() noexcept {
    sides_[0].clear();
    sides_[1].clear();
  }

  void set_sequence(std::uint64_t seq) noexcept { seq_ = seq; }
  void set_timestamps(std::int64_t ts_exchange_ns, std::int64_t ts_local_ns) noexcept {
    stamps_ = Stamps{ts_exchange_ns, ts_local_ns};
  }

  [[nodiscard]] const BookSide& side(Side s) const noexcept { return s == Side::kBid ? sides_[0] : sides_[1]; }
  [[nodiscard]] const BookSide& bids() const noexcept { return sides_[0]; }
  [[nodiscard]] const BookSide& asks() const noexcept { return sides_[1]; }

  /// Best level of a side, or nullopt when that side is empty.
  [[nodiscard]] std::optional<Level> best(Side s) const noexcept {
    const BookSide& book_side = side(s);
    if (book_side.empty()) return std::nullopt;
    return book_side.best();
  }

  /// True when both sides are non-empty and the best bid is at or above the best ask.
  [[nodiscard]] bool is_crossed() const noexcept {
    return !sides_[0].empty() && !sides_[1].empty() && sides_[0].best().px_ticks >= sides_[1].best().px_ticks;
  }

  /// Mid price in ticks, or nullopt unless both sides have a level.
  [[nodiscard]] std::optional<double> mid_ticks() const noexcept;
  /// Best ask minus best bid in ticks, or nullopt unless both sides have a level.
  [[nodiscard]] std::optional<std::int64_t> spread_ticks() const noexcept;
  /// Size-weighted mid (bid_px * ask_qty + ask_px * bid_qty) / (bid_qty + ask_qty), in ticks.
  [[nodiscard]] std::optional<double> microprice_ticks() const noexcept;

  /// Sum of px_ticks * qty_lots resting within +-bps_e4 / 10^8 of mid (bps_e4: basis points x 10^4),
  /// on the bid side, the ask side, or both. Exact; kEmptySide unless both sides have a level.
  [[nodiscard]] QueryError try_depth_notional(std::int64_t bps_e4, bool bids, bool asks,
                                              __int128& out) const noexcept;
  /// Walks the side a market order of `qty_lots` on `order_side` would take (kBid = buy, walks asks).
  [[nodiscard]] QueryError try_impact(Side order_side, std::int64_t qty_lots, ImpactResult& out) const noexcept;
  /// Largest quantity whose average fill price stays within bps_e4 / 10^8 of the touch.
  [[nodiscard]] QueryError try_max_qty_within(Side order_side, std::int64_t bps_e4,
                                              std::int64_t& out_lots) const noexcept;

  [[nodiscard]] std::uint64_t seq() const noexcept { return seq_; }
  [[nodiscard]] std::int64_t ts_exchange_ns() const noexcept { return stamps_.exchange_ns; }
  [[nodiscard]] std::int64_t ts_local_ns() const noexcept { return stamps_.local_ns; }
  /// Level-changing events applied since construction (clears included).
  [[nodiscard]] std::uint64_t updates() const noexcept { return updates_; }
  /// Levels dropped because a side was at its cap: the book below the kept depth is incomplete.
  [[nodiscard]] std::uint64_t dropped_levels() const noexcept { return sides_[0].dropped() + sides_[1].dropped(); }

 private:
  static constexpr std::int64_t kNoKey = std::numeric_limits<std::int64_t>::min();  // px without a negation

  // Kind kSnapshotLevel (2) or kDelta (3) and side 0 or 1: the kind and side bytes, adjacent in the
  // record, masked to everything but their low bits must read 2. Then the quantity's sign and the
  // one price with no key. Each test is a compare and a never-taken branch.
  [[gnu::always_inline]] static bool is_valid_level(const Event& event) noexcept {
    const unsigned kind_side = static_cast<unsigned>(event.kind) | static_cast<unsigned>(event.side) << 8;
    return (kind_side & 0xFEFEU) == 2U && event.qty_lots >= 0 && has_key(event.px_ticks);
  }

  // px != kNoKey, tested as "px - 1 does not overflow": a compare with 1 and a jo, where comparing
  // with INT64_MIN needed the 64-bit constant in a register of its own in every update loop.
  [[gnu::always_inline]] static bool has_key(std::int64_t px_ticks) noexcept {
    std::int64_t below = 0;
    return !__builtin_sub_overflow(px_ticks, 1, &below);
  }

  // is_valid_level() and instrument_id == id, the id, kind and side tested as one 8-byte word
  // (instrument_id, kind, side, flags, venue_id; venue_id and the flags but `stop_flags` masked off, and
  // those must be clear).
  [[gnu::always_inline]] static bool is_valid_level_of(const Event& event, std::uint32_t id,
                                                       std::uint8_t stop_flags = 0) noexcept {
    if constexpr (std::endian::native == std::endian::little) {
      static_assert(offsetof(Event, flags) == offsetof(Event, instrument_id) + 6);
      std::uint64_t word = 0;
      std::memcpy(&word, reinterpret_cast<const unsigned char*>(&event) + offsetof(Event, instrument_id), sizeof word);
      const std::uint64_t mask = 0x0000'FEFE'FFFF'FFFFULL | std::uint64_t{stop_flags} << 48;
      return (word & mask) == (std::uint64_t{id} | std::uint64_t{2} << 32) && event.qty_lots >= 0 &&
             has_key(event.px_ticks);
    } else {
      return event.instrument_id == id && (event.flags & stop_flags) == 0 && is_valid_level(event);
    }
  }

  // Trades, BBO quotes and empty slots: valid, but not book state (no sequence or timestamp change).
  [[gnu::always_inline]] static bool is_passive(EventKind kind) noexcept {
    const auto k = static_cast<unsigned>(kind);
    return k < 8 && ((1U << static_cast<unsigned>(EventKind::kNone) | 1U << static_cast<unsigned>(EventKind::kTrade) |
                      1U << static_cast<unsigned>(EventKind::kBbo)) >> k & 1U) != 0;
  }

  // A level update that is_valid_level() passed. Indexing by the side's value (and negating asks by
  // mask) avoids a data-dependent branch per update: sides alternate unpredictably.
  [[gnu::always_inline]] void set_valid(const Event& event) noexcept {
    const auto index = static_cast<std::size_t>(event.side);  // one width for both uses: GCC computed the side's address twice
    const BookSide::Left left =
        sides_[index].set_key_fast(BookSide::to_key(event.px_ticks, -static_cast<std::int64_t>(index)), event.qty_lots);
    if (left != BookSide::Left::kNothing) [[unlikely]] finish_level(event, left);
  }

  // The rest of a set_valid() that set_key_fast() left undone. Out of line and given only the event:
  // keeping the key, quantity and side alive for a call in the update loop cost registers (spilled
  // to the stack on every update); re-reading them from the event here costs nothing on the fast path.
  // (Passing the side instead of the book made GCC keep both and spill one more value.)
  [[gnu::noinline]] void finish_level(const Event& event, BookSide::Left left) noexcept {
    const auto index = static_cast<std::size_t>(event.side);
    sides_[index].finish(left, BookSide::to_key(event.px_ticks, -static_cast<std::int64_t>(index)), event.qty_lots);
  }

  void record(const Event& event) noexcept {
    // Both timestamps in one 16-byte copy (an SSE load and store, no general register).
    static_assert(offsetof(Event, ts_exchange_ns) == 0 && offsetof(Event, ts_local_ns) == 8);
    std::memcpy(&stamps_, &event, sizeof stamps_);
    seq_ = event.seq;
  }

  // Every event try_apply() does not finish inline: clears, unknown kinds and refused level updates.
  [[gnu::noinline]] ApplyError apply_other(const Event& event) noexcept;

  [[gnu::always_inline]] ApplyError set_checked(Side side, std::int64_t px_ticks, std::int64_t qty_lots) noexcept {
    if (qty_lots < 0 || px_ticks == kNoKey || static_cast<std::uint8_t>(side) > 1) [[unlikely]] {
      return check_level(side, px_ticks, qty_lots);
    }
    const auto index = static_cast<std::uint8_t>(side);
    sides_[index].set_key(BookSide::to_key(px_ticks, -static_cast<std::int64_t>(index)), qty_lots);
    return ApplyError::kOk;
  }

  // Sequence fields first, then the 32-byte sides: an update touches the first line (and the second
  // for asks). 128 bytes per book, so a BookSet indexes by shift and 1,000 headers are 128 KiB.
  // The timestamps in Event's order (its first two fields), so record() copies them as one block.
  // updates_ not next to seq_: with the two adjacent, GCC paired their stores into one vector store
  // (six instructions where three do).
  struct Stamps {  // trivial, so record() may memcpy into it
    std::int64_t exchange_ns;
    std::int64_t local_ns;
  };
  std::uint64_t updates_ = 0;
  Stamps stamps_{};
  std::uint64_t seq_ = 0;
  BookSide sides_[2];  // [kBid, kAsk]
};

static_assert(sizeof(Book) == 128, "Book's header must stay two cache lines");

}  // namespace fastcore::book
