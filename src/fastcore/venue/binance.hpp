#pragma once
/// Binance market data (USD-M futures and spot), from frame bytes to books.
///
/// BinanceFeed reads one WebSocket frame at a time (combined-stream `{"stream":..,"data":{..}}` or raw),
/// converts every price and quantity exactly through the symbol's instrument, runs depth diffs through
/// Binance's documented sync rules per symbol, applies them to a BookSet and hands the events of each
/// frame to an attached EventSink. Nothing is allocated per message: the scratch and per-symbol buffers
/// keep their capacity, so allocation happens only when a frame or a backlog is larger than any before.
///
/// Sync rules ("How to manage a local order book correctly"), with L the snapshot's lastUpdateId:
///
///   step             USD-M futures          spot
///   stale (dropped)  u < L                  u <= L
///   first applied    U <= L <= u            U <= L + 1 <= u
///   continuity       pu == previous u       U == previous u + 1
///
/// A broken rule, or a depth frame that cannot be read, resyncs that symbol alone: its book is cleared
/// (a kClear with seq 0 goes to the book and the sink), its state becomes kResync, later diffs are
/// buffered, and it waits for apply_snapshot(). Other symbols are not touched.
///
/// Two readers, one meaning: a fast path that expects the keys in the order Binance writes them (compact
/// JSON, known symbol, plain decimals) reads nearly every frame; on any surprise it gives up having
/// changed nothing, and a general JSON scanner (any key order, whitespace, escapes, every error with
/// its field) reads the frame instead. Both fill the same fields and share everything after, so the
/// path a frame takes never changes its events, status, counters or error text (tests/cpp/
/// test_binance_fast_path.cpp and the fuzzer check this on the recordings and on reordered frames).
///
/// Not thread-safe: one feed per thread (the event loop's). Frames are read only during the call.
#include <algorithm>
#include <array>
#include <cstddef>
#include <cstdint>
#include <cstring>
#include <memory>
#include <span>
#include <string_view>
#include <vector>

#include "fastcore/book/book_set.hpp"
#include "fastcore/common/decimal.hpp"
#include "fastcore/common/event.hpp"
#include "fastcore/common/event_sink.hpp"
#include "fastcore/common/instrument.hpp"
#include "fastcore/venue/wire_decimal.hpp"

namespace fastcore::venue {

/// Which Binance market's sync rule and field set a feed follows.
enum class BinanceMarket : std::uint8_t { kUsdm = 0, kSpot = 1 };

/// What on_frame() / apply_snapshot() did with a frame.
enum class FrameStatus : std::uint8_t {
  kOk = 0,             ///< Market data read; applied, buffered for a snapshot, or dropped as already known.
  kControl = 1,        ///< Not market data: a subscription ack, an error reply, another request's result.
  kNeedsSnapshot = 2,  ///< The frame's symbol now needs a REST depth snapshot (first diff, gap, or a
                       ///< snapshot older than the buffered diffs). Reported once per resync.
  kBadFrame = 3,       ///< Refused (malformed, missing or mistyped field, bad decimal, too large); counted.
  kUnknownSymbol = 4,  ///< Well-formed market data for a symbol the feed has no instrument for.
  kIgnored = 5,        ///< Well-formed market data of a type the feed does not read (kline, markPrice, ...).
};

/// Sync state of one symbol's book.
enum class SyncState : std::uint8_t {
  kSyncing = 0,  ///< Not synced yet: diffs are buffered until a snapshot.
  kLive = 1,     ///< Synced: the book is the exchange's; diffs apply as they arrive.
  kResync = 2,   ///< Sync lost (gap, bad depth frame, reset): book cleared, diffs buffered, needs a snapshot.
};

/// Why a frame was refused (counted per reason).
enum class BadFrameReason : std::uint8_t {
  kNone = 0,
  kTooLarge,       ///< Longer than max_frame_bytes.
  kMalformedJson,  ///< Not one well-formed JSON object.
  kMissingField,   ///< A field the message type requires is absent.
  kWrongType,      ///< A field has the wrong JSON type (a string id, an object for levels, ...).
  kBadNumber,      ///< An integer field is negative, fractional or out of range.
  kBadDecimal,     ///< A price or quantity the instrument cannot represent (NaN, too many decimals, huge).
  kBadUpdateIds,   ///< A depth update with U > u.
  kCount,
};

/// Readable names (static storage).
const char* describe(FrameStatus status) noexcept;
const char* describe(SyncState state) noexcept;
const char* describe(BadFrameReason reason) noexcept;

struct BinanceFeedConfig {
  BinanceMarket market = BinanceMarket::kUsdm;
  std::size_t max_frame_bytes = std::size_t{1} << 20;  ///< Larger frames are refused unread (kTooLarge).
  /// Diffs held per symbol while it waits for a snapshot; past it the oldest half is dropped (the next
  /// snapshot then reports kNeedsSnapshot again if it needed them).
  std::size_t max_buffered_diffs = 10'000;
  std::uint8_t venue_id = 1;  ///< Written into every event (rentrade.venues.binance_usdm.messages.BINANCE_VENUE_ID).
  /// Try the key-order fast path first (see BinanceFeed). false reads every frame with the general
  /// scanner: same results, slower; differential tests and the fuzzer compare the two.
  bool fast_path = true;
};

/// Feed-wide counters (monotonic).
struct FeedCounters {
  std::uint64_t frames = 0;          ///< on_frame() calls.
  std::uint64_t fast_path_frames = 0;  ///< Frames the key-order fast path read whole (the rest: the general scanner).
  std::uint64_t events = 0;          ///< Events applied to books or handed to the sink.
  std::uint64_t depth_updates = 0;   ///< depthUpdate frames read.
  std::uint64_t book_tickers = 0;    ///< bookTicker frames read.
  std::uint64_t trades = 0;          ///< trade and aggTrade frames read.
  std::uint64_t control = 0;         ///< kControl frames.
  std::uint64_t error_replies = 0;   ///< kControl frames that carried an exchange error.
  std::uint64_t ignored = 0;         ///< kIgnored frames.
  std::uint64_t unknown_symbol = 0;  ///< kUnknownSymbol frames.
  std::uint64_t bad_frames = 0;      ///< kBadFrame results, frames and snapshots.
  std::array<std::uint64_t, static_cast<std::size_t>(BadFrameReason::kCount)> bad_by_reason{};
  std::uint64_t applied_diffs = 0;   ///< Depth diffs applied to a live book.
  std::uint64_t buffered_diffs = 0;  ///< Depth diffs buffered while not synced.
  std::uint64_t stale_drops = 0;     ///< Diffs dropped because the book already had them.
  std::uint64_t gaps = 0;            ///< Continuity breaks (including snapshots that did not connect).
  std::uint64_t resyncs = 0;         ///< Transitions of a symbol into kResync.
  std::uint64_t snapshots = 0;       ///< Snapshots applied.
  std::uint64_t buffer_overflows = 0;  ///< Times a symbol's buffer hit max_buffered_diffs.
};

/// Per-symbol counters.
struct SymbolCounters {
  std::uint64_t applied_diffs = 0;
  std::uint64_t stale_drops = 0;
  std::uint64_t gaps = 0;
  std::uint64_t resyncs = 0;
  std::uint64_t snapshots = 0;
  std::uint64_t bad_frames = 0;
  std::uint64_t book_tickers = 0;
  std::uint64_t trades = 0;
};

class BinanceFeed {
 public:
  /// Books for `instruments` live in `books` at the same index (instrument_id); the feed keeps a
  /// reference to `books`, which must outlive it and have at least instruments.size() books.
  BinanceFeed(std::vector<common::Instrument> instruments, book::BookSet& books, BinanceFeedConfig config);

  BinanceFeed(const BinanceFeed&) = delete;
  BinanceFeed& operator=(const BinanceFeed&) = delete;

  /// Reads one WebSocket text frame received at `ts_local_ns`. Cost: tens of ns per price level plus a
  /// few hundred ns per frame (bench/BENCHMARKS.md); no allocation once buffers are warm (running out
  /// of memory while growing one terminates, as everywhere noexcept). `frame` is not retained.
  [[nodiscard]] FrameStatus on_frame(std::string_view frame, std::int64_t ts_local_ns) noexcept;

  /// Applies a REST depth snapshot body (`{"lastUpdateId":..,"bids":..,"asks":..}`) for `instrument_id`.
  /// kOk: applied with the buffered diffs that follow it; the symbol is live. kNeedsSnapshot: it does
  /// not connect to the buffered diffs (too old, or the buffer has a hole): fetch another. kBadFrame:
  /// unreadable (book and state unchanged). Allocates only while the snapshot is the largest yet.
  [[nodiscard]] FrameStatus apply_snapshot(std::uint32_t instrument_id, std::string_view body,
                                           std::int64_t ts_local_ns) noexcept;

  /// Where each frame's events go after they are applied (nullptr: nowhere). Not owned.
  void set_sink(common::EventSink* sink) noexcept { sink_ = sink; }
  [[nodiscard]] common::EventSink* sink() const noexcept { return sink_; }

  /// Case-insensitive symbol lookup without allocation; false when unknown.
  [[nodiscard]] bool try_find(std::string_view symbol, std::uint32_t& instrument_id) const noexcept;

  /// Forces `instrument_id` into kResync (book cleared, buffer dropped), e.g. after a reconnect.
  void resync(std::uint32_t instrument_id) noexcept;
  /// resync() for every symbol.
  void resync_all() noexcept;

  [[nodiscard]] std::size_t size() const noexcept { return symbols_.size(); }
  [[nodiscard]] const common::Instrument& instrument(std::uint32_t id) const noexcept { return symbols_[id].instrument; }
  [[nodiscard]] SyncState state(std::uint32_t id) const noexcept { return symbols_[id].state; }
  [[nodiscard]] const SymbolCounters& symbol_counters(std::uint32_t id) const noexcept { return symbols_[id].counters; }
  /// Diffs currently buffered for `id` (waiting for a snapshot).
  [[nodiscard]] std::size_t buffered(std::uint32_t id) const noexcept {
    return symbols_[id].diffs.size() - symbols_[id].head;
  }
  [[nodiscard]] const FeedCounters& counters() const noexcept { return counters_; }
  /// Depth frames and bookTickers whose head (keys and integers up to the bids or the decimals) the
  /// fast path read by its learned layout (HeadShape) rather than key by key; diagnostics for tests
  /// and benchmarks.
  [[nodiscard]] std::uint64_t head_shape_frames() const noexcept { return head_shape_frames_; }
  /// bookTickers whose tail (`,"T":n,"E":n}`) the fast path read by its learned layout (TailShape);
  /// diagnostics for tests and benchmarks.
  [[nodiscard]] std::uint64_t tail_shape_frames() const noexcept { return tail_shape_frames_; }
  [[nodiscard]] BinanceMarket market() const noexcept { return config_.market; }
  [[nodiscard]] const BinanceFeedConfig& config() const noexcept { return config_; }
  /// Instrument id of the symbol the last frame was about, or UINT32_MAX when it named none.
  [[nodiscard]] std::uint32_t last_instrument_id() const noexcept { return last_id_; }
  /// Reason of the last kBadFrame.
  [[nodiscard]] BadFrameReason last_bad_reason() const noexcept { return last_reason_; }
  /// Text of the last refusal or exchange error reply, naming symbol, field and value ("" if none).
  [[nodiscard]] std::string_view last_error() const noexcept { return {last_error_.data(), last_error_len_}; }
  /// The events of the last frame or snapshot (valid until the next call).
  [[nodiscard]] std::span<const common::Event> last_events() const noexcept { return last_events_; }

  static constexpr std::uint32_t kNoInstrument = UINT32_MAX;

 private:
  /// A growable array of events like std::vector<Event>, except that growing it does not zero the new
  /// room: the fast path writes each event whole, straight into the free capacity, and commits the new
  /// end once per level array (std::vector would zero every event first, or check capacity through
  /// memory per push). Grows by doubling; never shrinks.
  class EventBuffer {
   public:
    void clear() noexcept { size_ = 0; }
    [[nodiscard]] bool empty() const noexcept { return size_ == 0; }
    [[nodiscard]] std::size_t size() const noexcept { return size_; }
    [[nodiscard]] std::size_t capacity() const noexcept { return capacity_; }
    [[nodiscard]] common::Event* begin() noexcept { return data_.get(); }
    [[nodiscard]] common::Event* end() noexcept { return data_.get() + size_; }
    [[nodiscard]] const common::Event* begin() const noexcept { return data_.get(); }
    [[nodiscard]] const common::Event* end() const noexcept { return data_.get() + size_; }
    [[nodiscard]] common::Event& front() noexcept { return data_[0]; }
    [[nodiscard]] common::Event& back() noexcept { return data_[size_ - 1]; }
    [[nodiscard]] common::Event* data() noexcept { return data_.get(); }
    [[nodiscard]] const common::Event* data() const noexcept { return data_.get(); }
    /// Room for at least `capacity` events (existing ones kept).
    void reserve(std::size_t capacity) noexcept {
      if (capacity <= capacity_) return;
      std::unique_ptr<common::Event[]> grown(new common::Event[capacity]);
      if (size_ != 0) std::memcpy(static_cast<void*>(grown.get()), data_.get(), size_ * sizeof(common::Event));
      data_ = std::move(grown);
      capacity_ = capacity;
    }
    /// Room for `extra` more events past the current end.
    void reserve_more(std::size_t extra) noexcept {
      if (capacity_ - size_ < extra) reserve(std::max(size_ + extra, capacity_ * 2));
    }
    void push_back(const common::Event& event) noexcept {
      reserve_more(1);
      data_[size_++] = event;
    }
    /// A zeroed event at the end.
    common::Event& emplace_back() noexcept {
      reserve_more(1);
      common::Event& event = data_[size_++];
      event = common::Event{};
      return event;
    }
    void assign(std::size_t count, const common::Event& event) noexcept {
      size_ = 0;
      reserve(count);
      for (std::size_t i = 0; i < count; ++i) data_[i] = event;
      size_ = count;
    }
    void append(const common::Event* first, const common::Event* last) noexcept {
      const auto count = static_cast<std::size_t>(last - first);
      reserve_more(count);
      if (count != 0) std::memcpy(static_cast<void*>(data_.get() + size_), first, count * sizeof(common::Event));
      size_ += count;
    }
    /// Fast path: end of the free capacity, and committing events written in [end(), new_end).
    [[nodiscard]] common::Event* capacity_end() noexcept { return data_.get() + capacity_; }
    void commit(common::Event* new_end) noexcept { size_ = static_cast<std::size_t>(new_end - data_.get()); }

   private:
    std::unique_ptr<common::Event[]> data_;
    std::size_t size_ = 0;
    std::size_t capacity_ = 0;
  };

  struct BufferedDiff {
    std::uint64_t first_id;
    std::uint64_t last_id;
    std::uint64_t prev_id;
    std::size_t begin;  ///< Index of its first event in Symbol::buffer.
    std::uint32_t count;
  };
  /// The byte layout of the last depth level the fast path read for a symbol (digit counts, point,
  /// separators), learned from a level it read byte by byte: a level of the same layout is then
  /// checked with two 16-byte compares and its two decimals converted without a loop over the digits
  /// (FastReader::shaped_level()). Only a cache: a level of another layout is read byte by byte.
  struct LevelShape {
    /// One decimal of the level as FastReader::learn_field() learns it (the shapes keep its parts in
    /// arrays side by side): the 8 bytes read for it (from `at`, which for a short price lies up to
    /// 5 bytes before the level: the frame always has its keys there), chosen so that the decimal's
    /// last digit read is the word's last byte; which bytes hold digits once the word is shifted up one
    /// byte (`up_bytes`: the integer digits, moved over the point) or left in place (`stay_bytes`:
    /// the kept fraction digits, or the integer digits when no fraction digit is kept), and the
    /// power of ten up to the step's decimals times the step's odd_inverse (wire_exact_steps()
    /// multiplies by both). The digits then fill the word's top bytes, zeros below: no shift.
    struct Field {
      std::uint64_t up_bytes = 0;
      std::uint64_t stay_bytes = 0;
      std::uint64_t multiplier = 1;
      std::int32_t at = 0;
    };
    static constexpr std::size_t kWords = 3;  ///< Levels of 16 to 24 bytes (USD-M: `["61800.20","0.014"]` is 20)
    std::uint64_t pattern[kWords] = {};       ///< The level's bytes where `literal` is set
    std::uint64_t literal[kWords] = {};       ///< 0xFF over bytes that must equal `pattern`
    std::uint64_t digit_high[kWords] = {};    ///< 0x80 over bytes that must be digits
    /// The x86 check (SSE2) of the same bytes as two 16-byte blocks at 0 and size - 16: a byte is
    /// accepted when, plus `block_offset`, it is above `block_floor` as a signed byte (a digit:
    /// offset 0x7F - '9', floor 0x75; a literal byte c: offset 0x7F - c, floor 0x7E). One add and
    /// one compare a block, whatever each byte must be.
    alignas(16) std::uint8_t block_offset[2][16] = {};
    alignas(16) std::uint8_t block_floor[2][16] = {};
    /// Price and quantity side by side (index 0 and 1), so that one 16-byte load takes a mask of both.
    alignas(16) std::uint64_t up_bytes[2] = {};
    alignas(16) std::uint64_t stay_bytes[2] = {};
    std::uint64_t multiplier[2] = {1, 1};
    /// Unit steps (x86): the multipliers (at most kMaxLaneMultiplier) as 64-bit lanes, and 10^4 times
    /// them, for the two-lane multiply of FastReader::shaped_level(); a unit-step layout whose
    /// multiplier is larger is not learned.
    alignas(16) std::uint64_t lane_multiplier[2] = {1, 1};
    alignas(16) std::uint64_t lane_multiplier_hi[2] = {10000, 10000};
    static constexpr std::uint64_t kMaxLaneMultiplier = 100000;  ///< 10^4 times it stays below 2^32
    std::int64_t at[2] = {};  // 64-bit: used as an address offset at every level
    /// Bytes from '[' to ']'; kUnlearned: nothing learned (larger than any frame's rest, so that one
    /// compare of the bytes left against it also says whether there is a layout)
    static constexpr std::size_t kUnlearned = ~std::size_t{0};
    std::size_t size = kUnlearned;
  };
  /// The byte layout of the last bookTicker's `,"b":"<px>","B":"<qty>","a":"<px>","A":"<qty>"` the fast
  /// path read for a symbol, learned like LevelShape: a bookTicker laid out the same is checked with
  /// four 16-byte compares and its four decimals converted without a loop over the digits
  /// (FastReader::shaped_bbo()). Only a cache: any other layout is read byte by byte, then learned.
  struct BboShape {
    static constexpr std::size_t kMin = 32;  ///< Regions of 32 to 64 bytes (USD-M BTCUSDT: 54)
    static constexpr std::size_t kMax = 64;
    static constexpr std::size_t kWords = 8;  ///< Portable check: words at 0, 8, 16, 24, size - 32, ..., size - 8
    std::uint64_t pattern[kWords] = {};
    std::uint64_t literal[kWords] = {};
    std::uint64_t digit_high[kWords] = {};
    /// SSE2 check (as LevelShape's): blocks at 0, 16, size - 32, size - 16.
    alignas(16) std::uint8_t block_offset[4][16] = {};
    alignas(16) std::uint8_t block_floor[4][16] = {};
    /// b, B, a, A as in LevelShape (LevelShape::Field's parts side by side: b and B, a and A in one
    /// 16-byte load each).
    alignas(16) std::uint64_t up_bytes[4] = {};
    alignas(16) std::uint64_t stay_bytes[4] = {};
    std::uint64_t multiplier[4] = {1, 1, 1, 1};
    alignas(16) std::uint64_t lane_multiplier[4] = {1, 1, 1, 1};  ///< As LevelShape's, valid when `lanes`
    alignas(16) std::uint64_t lane_multiplier_hi[4] = {10000, 10000, 10000, 10000};
    bool lanes = false;  ///< Unit tick and lot and every multiplier at most kMaxLaneMultiplier
    std::int32_t at[4] = {};
    std::uint32_t size = 0;            ///< Bytes of the region; 0: nothing learned
  };
  /// The byte layout of the head of the last depth frame the fast path read key by key for a
  /// symbol: from the frame's first byte to the bids' `[` (`{"stream":"<name>","data":{"e":
  /// "depthUpdate","E":<n>,"T":<n>,"s":"<S>","U":<n>,"u":<n>,"pu":<n>,"b":` or a shorter form), every
  /// byte literal but the integers' digits. A frame whose head is laid out the same (nearly every
  /// one: the integers keep their number of digits) is checked with one add and one compare per 16
  /// bytes and its integers converted where they are (FastReader::shaped_head()); any other is read
  /// key by key, and learned when two in a row missed. Only a cache. A symbol's USD-M bookTickers
  /// have one too (Symbol::ticker_head: to the `,"b":"` of the decimals, its one integer `u`).
  struct HeadShape {
    static constexpr std::size_t kMax = 192;  ///< Heads of 16 to 192 bytes (USD-M combined: ~150)
    static constexpr std::size_t kBlocks = kMax / 16;
    static constexpr std::size_t kInts = 4;   ///< E, U, u, pu (T is checked, not read)
    alignas(16) std::uint8_t block_offset[kBlocks][16] = {};  ///< As LevelShape's
    alignas(16) std::uint8_t block_floor[kBlocks][16] = {};
    std::uint32_t block_at[kBlocks] = {};     ///< Blocks at 0, 16, ..., the last at size - 16
    std::uint32_t blocks = 0;
    std::uint32_t size = 0;                   ///< 0: nothing learned
    std::uint32_t int_at[kInts] = {};
    std::uint32_t int_digits[kInts] = {};     ///< 1..19; 0: absent (spot has no pu)
    std::uint32_t present = 0;                ///< The Fields bits the head sets
    bool depth = true;                        ///< A depth head (E, U, u, pu); else a bookTicker's (u)
    std::uint32_t type_at = 0;                ///< Where `depthUpdate` (`bookTicker`) is: checked first, as one word
    std::uint64_t type_word = 0;
    std::uint32_t misses = 0;                 ///< Frames of this symbol in a row that missed it
  };
  /// The byte layout of the tail of the last USD-M bookTicker the fast path read key by key for a
  /// symbol: after A's closing quote, `,"T":<n>,"E":<n>}` (the message's `}`; a combined stream's
  /// own `}` is not part of it), every byte literal but the two integers' digits. A tail laid out the
  /// same (nearly every one: the timestamps keep their 13 digits) is checked with one add and one
  /// compare per 16 bytes and E converted where it is (FastReader::shaped_tail()); any other is read
  /// key by key, and learned when two in a row missed. Only a cache.
  struct TailShape {
    static constexpr std::size_t kMin = 16;   ///< Tails of 16 to 48 bytes (USD-M: 38)
    static constexpr std::size_t kMax = 48;
    static constexpr std::size_t kBlocks = 3;
    alignas(16) std::uint8_t block_offset[kBlocks][16] = {};  ///< As LevelShape's
    alignas(16) std::uint8_t block_floor[kBlocks][16] = {};
    std::uint32_t block_at[kBlocks] = {};     ///< At 0, min(16, size - 16), size - 16
    /// Bytes of the tail; kUnlearned: nothing learned (larger than any frame's rest, as LevelShape's)
    static constexpr std::size_t kUnlearned = ~std::size_t{0};
    std::size_t size = kUnlearned;
    std::uint32_t e_end = 0;                  ///< E's digits (1 to 16) end here, at the message's `}`
    /// Over E's digits in the two words that end at e_end (the first digits, then the last 8): the
    /// bytes before the digits are masked off (leading zeros), so no branch on the digit count.
    std::uint64_t e_mask[2] = {};
    std::uint32_t misses = 0;                 ///< Tails of this symbol in a row that missed it
  };
  struct Symbol {
    common::Instrument instrument;
    LevelShape level_shape;          ///< Fast path only: see LevelShape
    HeadShape depth_head;            ///< Fast path only: see HeadShape
    HeadShape ticker_head;           ///< Fast path only: a bookTicker's head to its `,"b":"` (USD-M, with "e")
    BboShape bbo_shape;              ///< Fast path only: see BboShape
    TailShape ticker_tail;           ///< Fast path only: see TailShape
    WireStep wire_tick;              ///< instrument.tick prepared for the fast path
    WireStep wire_lot;               ///< instrument.lot prepared for the fast path
    SyncState state = SyncState::kSyncing;
    bool awaiting_first = false;     ///< Live, snapshot applied, no diff applied since.
    bool snapshot_requested = false; ///< kNeedsSnapshot already reported for this resync.
    std::uint64_t last_id = 0;       ///< Live: u of the last applied diff (or the snapshot's L).
    std::vector<common::Event> buffer;  ///< Events of buffered diffs.
    std::vector<BufferedDiff> diffs;
    std::size_t head = 0;            ///< First live entry of `diffs` (older ones are consumed).
    SymbolCounters counters;
  };
  struct Fields;
  class Scanner;
  friend class Scanner;
  class FastReader;
  friend class FastReader;
  /// Exact (upper-case) symbol of at most 16 bytes as two zero-padded words: one probe, no per-byte loop.
  struct FastSymbol {
    std::uint64_t word0 = 0;
    std::uint64_t word1 = 0;
    std::uint32_t size = 0;
    std::uint32_t id = kNoInstrument;  // kNoInstrument: empty slot
  };
  [[nodiscard]] bool fast_find(const char* text, std::size_t size, std::uint32_t& instrument_id) const noexcept;

  FrameStatus classify_and_apply(Fields& fields, std::int64_t ts_local_ns) noexcept;
  FrameStatus on_depth(Fields& fields, std::int64_t ts_local_ns) noexcept;
  FrameStatus on_book_ticker(Fields& fields, std::int64_t ts_local_ns) noexcept;
  /// A checked bookTicker's two kBbo events (b, B, a, A in `values`) to the sink (inline: defined
  /// and used in binance.cpp only).
  inline FrameStatus emit_book_ticker(std::uint32_t id, std::uint64_t seq, std::uint64_t event_time_ms,
                                      const std::int64_t* values, std::int64_t ts_local_ns) noexcept;
  FrameStatus on_trade(Fields& fields, std::int64_t ts_local_ns) noexcept;
  FrameStatus bad(BadFrameReason reason, std::uint32_t id, const char* what, const char* field,
                  std::string_view value) noexcept;
  FrameStatus bad_decimal(common::DecimalError error, std::uint32_t id, const char* what, const char* field,
                          std::string_view value, bool is_price) noexcept;
  void start_resync(std::uint32_t id, std::int64_t ts_local_ns, bool emit_clear) noexcept;
  void buffer_diff(Symbol& symbol, std::uint64_t first, std::uint64_t last, std::uint64_t prev,
                   std::span<const common::Event> events);
  bool continues(std::uint64_t first, std::uint64_t prev, std::uint64_t previous_last) const noexcept {
    return config_.market == BinanceMarket::kUsdm ? prev == previous_last : first == previous_last + 1;
  }
  void apply_events(std::uint32_t id, std::span<const common::Event> events) noexcept;
  void emit(std::span<const common::Event> events) noexcept;

  BinanceFeedConfig config_;
  book::BookSet& books_;
  std::vector<Symbol> symbols_;
  // Open-addressing table of instrument ids by upper-case symbol (power-of-two size, at most half full).
  std::vector<std::uint32_t> table_;
  std::size_t table_mask_ = 0;
  // Fast path's table: exact upper-case bytes to the id try_find() gives for them (power of two, <= half full).
  std::vector<FastSymbol> fast_table_;
  std::size_t fast_mask_ = 0;
  /// The fast path's last symbol found (a frame's symbol is nearly always the last one's): its bytes
  /// as fast_find() keys them, the masks over its bytes, and its id; size 0: none yet.
  struct LastSymbol {
    std::uint64_t word0 = 0;
    std::uint64_t word1 = 0;
    std::uint64_t mask0 = 0;
    std::uint64_t mask1 = 0;
    std::size_t size = 0;
    std::uint32_t id = kNoInstrument;
  };
  LastSymbol last_symbol_;
  std::uint64_t head_shape_frames_ = 0;
  std::uint64_t tail_shape_frames_ = 0;
  EventBuffer scratch_;                  ///< Events of the frame being read.
  alignas(16) std::int64_t bbo_steps_[4] = {};  ///< bookTicker b, B, a, A as read by the fast path.
  const char* frame_end_ = nullptr;      ///< End of the frame being read (for levels read late).
  EventBuffer snapshot_;                 ///< Snapshot plus released diffs.
  std::span<const common::Event> last_events_;
  common::EventSink* sink_ = nullptr;
  FeedCounters counters_;
  std::uint32_t last_id_ = kNoInstrument;
  BadFrameReason last_reason_ = BadFrameReason::kNone;
  std::array<char, 320> last_error_{};
  std::size_t last_error_len_ = 0;
};

}  // namespace fastcore::venue

namespace fastcore::venue {

/// on_frame() for callers that cannot name C++ types (the Cython listener): the status as an int.
inline int binance_on_frame(BinanceFeed& feed, const char* data, std::size_t size, std::int64_t ts_local_ns) noexcept {
  return static_cast<int>(feed.on_frame(std::string_view(data, size), ts_local_ns));
}

}  // namespace fastcore::venue
