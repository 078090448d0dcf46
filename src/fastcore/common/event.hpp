#pragma once
/// The one event record that flows from parsers to books, the engine, the recorder and the backtester.
///
/// Invariants: exactly 64 bytes, 64-byte aligned, little-endian plain data with no padding holes the
/// numpy dtype in python/rentrade/events.py cannot see. Changing a field here means changing that dtype
/// (tests/test_events.py checks both agree through `_fastcore.event_layout()`).
#include <cstddef>
#include <cstdint>
#include <type_traits>

namespace fastcore::common {

/// Book side. Also the aggressor side of a trade (kBid = buyer took the ask).
enum class Side : std::uint8_t { kBid = 0, kAsk = 1 };

/// What an event means to a book.
enum class EventKind : std::uint8_t {
  kNone = 0,           ///< Empty slot; books ignore it.
  kClear = 1,          ///< Empties the instrument's book and sets its sequence; a snapshot starts with it.
  kSnapshotLevel = 2,  ///< One level of a snapshot (after a kClear); same effect as kDelta.
  kDelta = 3,          ///< Sets a price level's quantity; zero removes the level.
  kTrade = 4,          ///< A trade print; books do not change, signals and simulators read it.
  kBbo = 5,            ///< One side of a best bid/offer quote (two records per quote); books ignore it.
};

/// Flag bits in Event::flags.
inline constexpr std::uint8_t kFlagLastInMessage = 1U << 0;  ///< The book is consistent after this event.

// 64 bytes so one record is one cache line: a batch is read sequentially without split loads.
struct alignas(64) Event {
  std::int64_t ts_exchange_ns;  ///< Exchange timestamp, ns since the Unix epoch (0 when unknown).
  std::int64_t ts_local_ns;     ///< Local receive timestamp, ns since the Unix epoch.
  std::int64_t px_ticks;        ///< Price in ticks of the instrument.
  std::int64_t qty_lots;        ///< Quantity in lots of the instrument; >= 0 (0 removes a level).
  std::uint64_t seq;            ///< Exchange update id / sequence number (0 when the venue has none).
  std::uint64_t aux;            ///< Kind-specific: trade id for kTrade, otherwise 0.
  std::uint32_t instrument_id;  ///< Index of the instrument's book in a BookSet.
  EventKind kind;
  Side side;
  std::uint8_t flags;           ///< kFlag* bits.
  std::uint8_t venue_id;
  std::uint8_t reserved[8];     ///< Zero; keeps the record at one cache line.
};

static_assert(sizeof(Event) == 64, "Event must stay one cache line; update the numpy dtype too");
static_assert(alignof(Event) == 64, "Event must be cache-line aligned");
static_assert(std::is_trivially_copyable_v<Event>, "Event is copied as raw bytes to and from numpy");
static_assert(std::is_standard_layout_v<Event>, "offsetof() of Event fields must be well defined");
static_assert(offsetof(Event, instrument_id) == 48 && offsetof(Event, kind) == 52 &&
                  offsetof(Event, side) == 53 && offsetof(Event, flags) == 54 &&
                  offsetof(Event, venue_id) == 55 && offsetof(Event, reserved) == 56,
              "Event layout is mirrored by the numpy dtype in python/rentrade/events.py");

}  // namespace fastcore::common
