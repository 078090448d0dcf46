#include "fastcore/venue/binance.hpp"

#include <algorithm>
#include <bit>
#include <cstddef>
#include <cstdio>
#include <cstring>
#include <limits>

#include "fastcore/venue/wire_decimal.hpp"

// The SSE2 string scan and event store below are x86-64 baseline; other architectures get their
// portable twins. FASTCORE_NO_SIMD builds the portable twins on x86 too (to check they compile).
#if defined(__x86_64__) && !defined(FASTCORE_NO_SIMD)
#define FASTCORE_BINANCE_X86 1
#include <emmintrin.h>
#else
#define FASTCORE_BINANCE_X86 0
#endif

namespace fastcore::venue {

using common::DecimalError;
using common::Event;
using common::EventKind;
using common::Side;

namespace {

constexpr std::int64_t kNsPerMs = 1'000'000;
constexpr int kMaxDepth = 32;  // nesting Binance never comes near; bounds the skipper's recursion

enum class EventType : std::uint8_t { kNone, kDepth, kBookTicker, kTrade, kAggTrade, kOther };

// Bits of Fields::present.
enum : std::uint32_t {
  kHasE = 1U << 0,          // "e"
  kHasEventTime = 1U << 1,  // "E"
  kHasSymbol = 1U << 2,
  kHasFirstId = 1U << 3,    // "U"
  kHasLastId = 1U << 4,     // "u"
  kHasPrevId = 1U << 5,     // "pu"
  kHasBidLevels = 1U << 6,
  kHasAskLevels = 1U << 7,
  kHasBidPx = 1U << 8,      // "b" string (bookTicker)
  kHasBidQty = 1U << 9,     // "B"
  kHasAskPx = 1U << 10,     // "a" string
  kHasAskQty = 1U << 11,    // "A"
  kHasPx = 1U << 12,        // "p"
  kHasQty = 1U << 13,       // "q"
  kHasTradeId = 1U << 14,   // "t"
  kHasAggId = 1U << 15,     // "a" integer (aggTrade)
  kHasMaker = 1U << 16,     // "m"
  kHasResult = 1U << 17,
  kHasId = 1U << 18,
  kHasError = 1U << 19,     // "error" or "code"
  kHasLastUpdateId = 1U << 20,
  kHasStream = 1U << 21,
  kHasData = 1U << 22,
  kHasMsg = 1U << 23,
};

// Bytes that end or complicate a JSON string: the quote, the backslash and control characters.
constexpr std::array<bool, 256> kStringStop = [] {
  std::array<bool, 256> table{};
  for (std::size_t c = 0; c < 0x20; ++c) table[c] = true;
  table[static_cast<unsigned char>('"')] = true;
  table[static_cast<unsigned char>('\\')] = true;
  return table;
}();

constexpr bool is_ws(char c) noexcept { return c == ' ' || c == '\n' || c == '\r' || c == '\t'; }
constexpr bool is_digit(char c) noexcept { return static_cast<unsigned>(c - '0') < 10U; }
constexpr char upper(char c) noexcept { return (c >= 'a' && c <= 'z') ? static_cast<char>(c - 'a' + 'A') : c; }

std::uint64_t hash_symbol(std::string_view symbol) noexcept {
  std::uint64_t h = 1469598103934665603ULL;  // FNV-1a over the upper-cased bytes
  for (const char c : symbol) {
    h ^= static_cast<unsigned char>(upper(c));
    h *= 1099511628211ULL;
  }
  return h;
}

// True when [p, end) begins with the N-1 bytes of `text` (a literal): word compares against constants.
template <std::size_t N>
[[gnu::always_inline]] inline bool starts_with(const char* p, const char* end, const char (&text)[N]) noexcept {
  constexpr std::size_t kSize = N - 1;
  static_assert(kSize >= 1 && kSize <= 16, "literals of 1 to 16 bytes");
  if (static_cast<std::size_t>(end - p) < kSize) return false;
  if constexpr (kSize == 1) {
    return *p == text[0];
  } else if constexpr (kSize <= 3) {
    std::uint16_t a = 0;
    std::uint16_t b = 0;
    std::memcpy(&a, p, 2);
    std::memcpy(&b, text, 2);
    return a == b && (kSize == 2 || p[2] == text[2]);
  } else if constexpr (kSize <= 8) {
    // Two overlapping 4-byte loads cover 4 to 8 bytes.
    std::uint32_t a0 = 0, a1 = 0, b0 = 0, b1 = 0;
    std::memcpy(&a0, p, 4);
    std::memcpy(&a1, p + kSize - 4, 4);
    std::memcpy(&b0, text, 4);
    std::memcpy(&b1, text + kSize - 4, 4);
    return ((a0 ^ b0) | (a1 ^ b1)) == 0;
  } else {
    // Two overlapping 8-byte loads cover 9 to 16 bytes.
    std::uint64_t a0 = 0, a1 = 0, b0 = 0, b1 = 0;
    std::memcpy(&a0, p, 8);
    std::memcpy(&a1, p + kSize - 8, 8);
    std::memcpy(&b0, text, 8);
    std::memcpy(&b1, text + kSize - 8, 8);
    return ((a0 ^ b0) | (a1 ^ b1)) == 0;
  }
}

// The plain decimal Binance sends ("61800.20", "0.014", "297": digits, an optional point, digits, the
// closing quote) as a whole number of `step`s, p moved past the quote. Anything else, or anything the
// step cannot represent exactly, returns false with no error kind: the fast path then leaves the frame
// to the Scanner, whose read_quoted_steps()/try_to_steps() names the error. For what it accepts it
// computes what read_quoted_steps() computes (its fast branch, minus the slow one; the step prepared
// by make_wire_step() is the same step, so the same count); the fuzzer and
// tests/cpp/test_binance_fast_path.cpp compare the two paths.
//
// Safe without bounds checks: every loop stops at a non-digit, and the frame's last byte is none
// (wire_text_ends_safely()); a '.' is followed by at least one more byte for the same reason.
[[gnu::always_inline]] inline bool quick_steps(const char*& p, const WireStep& step, std::int64_t& out) noexcept {
  const char* q = p;
  std::uint64_t mantissa = 0;
  unsigned digit = static_cast<unsigned>(*q - '0');
  if (digit > 9U) return false;
  do {
    mantissa = mantissa * 10U + digit;
    digit = static_cast<unsigned>(*++q - '0');
  } while (digit <= 9U);
  const std::ptrdiff_t int_digits = q - p;
  const std::int32_t decimals = step.decimals;
  if (int_digits + decimals > 18 || decimals < 0) return false;
  std::int32_t fraction = 0;
  if (*q == '.') {
    const char* const fraction_start = ++q;
    digit = static_cast<unsigned>(*q - '0');
    while (digit <= 9U && fraction < decimals) {
      mantissa = mantissa * 10U + digit;
      ++fraction;
      digit = static_cast<unsigned>(*++q - '0');
    }
    while (*q == '0') ++q;
    if (q == fraction_start) return false;  // "1." (a finer digit stops before the quote check)
  }
  if (*q != '"') return false;
  if (!wire_exact_steps(mantissa * static_cast<std::uint64_t>(detail::kPow10[decimals - fraction]), step, out)) {
    return false;
  }
  p = q + 1;
  return true;
}

// SWAR helpers for 8 text bytes loaded little-endian (first byte lowest) and xor-ed with '0's, so
// that a digit byte holds its value 0..9.
constexpr std::uint64_t kAsciiZeros = 0x3030303030303030ULL;

[[gnu::always_inline]] inline std::uint64_t load_word(const char* p) noexcept {
  std::uint64_t word = 0;
  std::memcpy(&word, p, 8);
  return word;
}

// 0x80 in every byte that is not a digit. A carry out of a byte >= 0x8A (never a digit) may also mark
// the byte after it: a mark there can only refuse text that was refused anyway.
[[gnu::always_inline]] inline std::uint64_t non_digit_bytes(std::uint64_t x) noexcept {
  return ((x + 0x7676767676767676ULL) | x) & 0x8080808080808080ULL;
}

// The number the eight digit values of x write, first digit in the lowest byte: pairs, quads and the
// eight combined with three multiplies.
[[gnu::always_inline]] inline std::uint64_t eight_digits_value(std::uint64_t x) noexcept {
  x = x * 10U + (x >> 8);
  return (((x & 0x000000FF000000FFULL) * (100U + (1000000ULL << 32))) +
          (((x >> 16) & 0x000000FF000000FFULL) * (1U + (10000ULL << 32)))) >>
         32;
}

#if FASTCORE_BINANCE_X86
// Writes a depth event of one stamp (all but its price and quantity) with three 16-byte stores from
// registers. Built once per level array, in registers: copying a local Event instead makes the
// compiler rebuild it with byte stores each time and read them back as 16-byte loads (a
// store-forwarding stall per event), and even once per array an Event filled field by field and read
// back as parts stalls the same way.
struct EventProto {
  __m128i head;  // ts_exchange_ns, ts_local_ns
  __m128i seq;   // seq, aux (0)
  __m128i tail;  // instrument_id, kind, side, flags (0), venue_id, reserved (0)
  EventProto(std::int64_t ts_exchange_ns, std::int64_t ts_local_ns, std::uint64_t sequence, std::uint32_t instrument_id,
             EventKind kind, Side side, std::uint8_t venue_id, std::uint8_t flags = 0) noexcept {
    // Little-endian (x86); event.hpp pins these offsets.
    static_assert(offsetof(Event, ts_exchange_ns) == 0 && offsetof(Event, ts_local_ns) == 8 &&
                  offsetof(Event, seq) == 32 && offsetof(Event, aux) == 40);
    const std::uint64_t ids = instrument_id | std::uint64_t{static_cast<std::uint8_t>(kind)} << 32 |
                              std::uint64_t{static_cast<std::uint8_t>(side)} << 40 | std::uint64_t{flags} << 48 |
                              std::uint64_t{venue_id} << 56;
    head = _mm_set_epi64x(ts_local_ns, ts_exchange_ns);
    seq = _mm_cvtsi64_si128(static_cast<std::int64_t>(sequence));
    tail = _mm_cvtsi64_si128(static_cast<std::int64_t>(ids));
  }
  // All of the event but px_ticks and qty_lots (bytes 16 to 31), which the level reader writes for
  // every level it accepts.
  [[gnu::always_inline]] void store_except_prices(Event* to) const noexcept {
    // Each part is stored by an asm `movaps` of the register: otherwise GCC sees a copy (when the
    // parts spill to the stack in the reader) and may emit `rep movs` (microcoded, tens of cycles
    // to start) for every event. (Passing the parts through an empty asm instead made GCC copy the
    // three registers at every level: three more instructions an event.)
    static_assert(offsetof(Event, px_ticks) == 16 && offsetof(Event, qty_lots) == 24 && alignof(Event) >= 16);
    auto* out = reinterpret_cast<__m128i*>(to);
    asm volatile("movaps %1, %0" : "=m"(out[0]) : "x"(head));
    asm volatile("movaps %1, %0" : "=m"(out[2]) : "x"(seq));
    asm volatile("movaps %1, %0" : "=m"(out[3]) : "x"(tail));
  }
  // A copy whose parts the compiler cannot trace back to this one, for a loop without calls: there
  // they stay in registers, where values live across the level reader's calls (the byte reader's
  // learn_shape(), the buffer's growth) are kept on the stack (every xmm register is caller-saved).
  [[gnu::always_inline]] EventProto in_registers() const noexcept {
    EventProto copy = *this;
    asm("" : "+x"(copy.head), "+x"(copy.seq), "+x"(copy.tail));
    return copy;
  }
};

// The first byte of [p, end) that stops a plain JSON string (a quote, a backslash, a control byte),
// or end: 16 bytes a step (SSE2, x86-64's baseline).
[[gnu::always_inline]] inline const char* find_string_stop(const char* p, const char* end) noexcept {
  while (end - p >= 16) {
    const __m128i v = _mm_loadu_si128(reinterpret_cast<const __m128i*>(p));
    const __m128i control = _mm_cmpeq_epi8(_mm_min_epu8(v, _mm_set1_epi8(0x1F)), v);  // v <= 0x1F
    const __m128i stop = _mm_or_si128(_mm_or_si128(_mm_cmpeq_epi8(v, _mm_set1_epi8('"')),
                                                   _mm_cmpeq_epi8(v, _mm_set1_epi8('\\'))),
                                      control);
    const auto bits = static_cast<std::uint32_t>(_mm_movemask_epi8(stop));
    if (bits != 0) return p + __builtin_ctz(bits);
    p += 16;
  }
  while (p < end && !kStringStop[static_cast<unsigned char>(*p)]) ++p;
  return p;
}
#else
struct EventProto {
  Event event{};
  EventProto(std::int64_t ts_exchange_ns, std::int64_t ts_local_ns, std::uint64_t sequence, std::uint32_t instrument_id,
             EventKind kind, Side side, std::uint8_t venue_id, std::uint8_t flags = 0) noexcept {
    event.flags = flags;
    event.ts_exchange_ns = ts_exchange_ns;
    event.ts_local_ns = ts_local_ns;
    event.seq = sequence;
    event.instrument_id = instrument_id;
    event.kind = kind;
    event.side = side;
    event.venue_id = venue_id;
  }
  [[gnu::always_inline]] void store_except_prices(Event* to) const noexcept { *to = event; }
  [[gnu::always_inline]] const EventProto& in_registers() const noexcept { return *this; }
};

[[gnu::always_inline]] inline const char* find_string_stop(const char* p, const char* end) noexcept {
  while (p < end && !kStringStop[static_cast<unsigned char>(*p)]) ++p;
  return p;
}
#endif

// The leading digits of the 8 bytes at `p`: their count (0..8) and, when there are any, their value.
// Binance's millisecond timestamps have 13 digits and its update ids 7 to 13: a word at a time, the
// digits found by the first non-digit byte and moved to the word's top (the bytes after them shifted
// out, zeros below as leading zeros), costs a few instructions per 8 digits instead of a dependent
// multiply-add and a branch per digit.
[[gnu::always_inline]] inline unsigned leading_digits(const char* p, std::uint64_t& value) noexcept {
  const std::uint64_t x = load_word(p) ^ kAsciiZeros;
  // The first marked byte is the first non-digit (a false mark only ever follows a true one).
  const std::uint64_t marks = non_digit_bytes(x);
  const unsigned count = marks == 0 ? 8U : static_cast<unsigned>(__builtin_ctzll(marks)) / 8U;
  if (count != 0) value = eight_digits_value(x << (8U * (8U - count) & 63U));
  return count;
}

// The value of the n (1..19) digits at `p`, a word at a time: reads whole words from p on (up to 5
// bytes past the digits), which the caller makes sure lie inside its buffer.
[[gnu::always_inline]] inline std::uint64_t known_digits(const char* p, unsigned n) noexcept {
  std::uint64_t value = 0;
  while (n > 8) {
    value = value * 100000000U + eight_digits_value(load_word(p) ^ kAsciiZeros);
    p += 8;
    n -= 8;
  }
  return value * static_cast<std::uint64_t>(detail::kPow10[n]) +
         eight_digits_value((load_word(p) ^ kAsciiZeros) << ((8U * (8U - n)) & 63U));
}

// The number of leading digits (0..8) of the 8 bytes at `p`.
[[gnu::always_inline]] inline unsigned digit_count(const char* p) noexcept {
  const std::uint64_t marks = non_digit_bytes(load_word(p) ^ kAsciiZeros);
  return marks == 0 ? 8U : static_cast<unsigned>(__builtin_ctzll(marks)) / 8U;
}

constexpr std::size_t kFastSymbolBytes = 16;

// The first `size` (1..16) bytes at `text` as two zero-padded little-endian words; reads 16 bytes,
// which the caller guarantees are inside its buffer.
template <typename Key>
Key fast_symbol_key_impl(const char* text, std::size_t size) noexcept {
  std::uint64_t word0 = 0;
  std::uint64_t word1 = 0;
  std::memcpy(&word0, text, 8);
  std::memcpy(&word1, text + 8, 8);
  if (size < 8) {
    word0 &= (std::uint64_t{1} << (8 * size)) - 1U;
    word1 = 0;
  } else if (size < 16) {
    word1 &= (std::uint64_t{1} << (8 * (size - 8))) - 1U;
  }
  Key key;
  key.word0 = word0;
  key.word1 = word1;
  key.size = static_cast<std::uint32_t>(size);
  return key;
}

template <typename Key>
std::size_t fast_symbol_hash_impl(const Key& key) noexcept {
  const std::uint64_t h = (key.word0 * 0x9E3779B97F4A7C15ULL) ^ (key.word1 * 0xC2B2AE3D27D4EB4FULL) ^ key.size;
  return static_cast<std::size_t>(h ^ (h >> 29));
}

bool equal_upper(std::string_view text, std::string_view upper_symbol) noexcept {
  if (text.size() != upper_symbol.size()) return false;
  for (std::size_t i = 0; i < text.size(); ++i) {
    if (upper(text[i]) != upper_symbol[i]) return false;
  }
  return true;
}

// Appends `text` to `out` (bounded), replacing bytes that are not printable ASCII and cutting long values.
void append_sanitised(char* out, std::size_t capacity, std::size_t& len, std::string_view text) noexcept {
  constexpr std::size_t kMaxValue = 64;
  const std::size_t take = std::min(text.size(), kMaxValue);
  for (std::size_t i = 0; i < take && len + 1 < capacity; ++i) {
    const auto c = static_cast<unsigned char>(text[i]);
    out[len++] = (c >= 0x20 && c < 0x7f) ? static_cast<char>(c) : '?';
  }
  if (text.size() > kMaxValue) {
    for (const char c : std::string_view("...")) {
      if (len + 1 < capacity) out[len++] = c;
    }
  }
  out[len] = '\0';
}

void append(char* out, std::size_t capacity, std::size_t& len, std::string_view text) noexcept {
  for (const char c : text) {
    if (len + 1 >= capacity) break;
    out[len++] = c;
  }
  out[len] = '\0';
}

// A string the scanner has delimited (no escapes): its closing quote directly follows the view, which
// is what read_quoted_steps() needs to stop inside the buffer.
DecimalError field_to_steps(std::string_view text, common::DecimalStep step, bool allow_negative,
                            std::int64_t& out) noexcept {
  const char* p = text.data();
  return read_quoted_steps(p, text.data() + text.size() + 1, step, allow_negative, out).decimal;
}

}  // namespace

const char* describe(FrameStatus status) noexcept {
  switch (status) {
    case FrameStatus::kOk: return "ok";
    case FrameStatus::kControl: return "control frame";
    case FrameStatus::kNeedsSnapshot: return "needs a depth snapshot";
    case FrameStatus::kBadFrame: return "bad frame";
    case FrameStatus::kUnknownSymbol: return "unknown symbol";
    case FrameStatus::kIgnored: return "ignored message type";
  }
  return "unknown status";
}

const char* describe(SyncState state) noexcept {
  switch (state) {
    case SyncState::kSyncing: return "syncing";
    case SyncState::kLive: return "live";
    case SyncState::kResync: return "resync";
  }
  return "unknown state";
}

const char* describe(BadFrameReason reason) noexcept {
  switch (reason) {
    case BadFrameReason::kNone: return "none";
    case BadFrameReason::kTooLarge: return "too_large";
    case BadFrameReason::kMalformedJson: return "malformed_json";
    case BadFrameReason::kMissingField: return "missing_field";
    case BadFrameReason::kWrongType: return "wrong_type";
    case BadFrameReason::kBadNumber: return "bad_number";
    case BadFrameReason::kBadDecimal: return "bad_decimal";
    case BadFrameReason::kBadUpdateIds: return "bad_update_ids";
    case BadFrameReason::kCount: break;
  }
  return "unknown";
}

// A stretch of the frame. Deliberately left uninitialised: Fields is built for every frame, and
// zeroing eight string_views cost as much as the fast path's whole read of a bookTicker; each is
// read only after its presence bit (or mismatch_field) says it was written.
struct FrameText {
  const char* ptr;
  std::size_t len;
  FrameText& operator=(std::string_view text) noexcept {
    ptr = text.data();
    len = text.size();
    return *this;
  }
  operator std::string_view() const noexcept { return {ptr, len}; }  // NOLINT: used as a view
  [[nodiscard]] const char* data() const noexcept { return ptr; }
  [[nodiscard]] std::size_t size() const noexcept { return len; }
};

// Everything one frame said, as positions into the frame (nothing is copied).
struct BinanceFeed::Fields {
  std::uint32_t present = 0;
  EventType type = EventType::kNone;
  std::uint32_t id = kNoInstrument;
  bool maker = false;
  std::uint64_t event_time_ms = 0;
  std::uint64_t first_id = 0;
  std::uint64_t last_id = 0;
  std::uint64_t prev_id = 0;
  std::uint64_t trade_id = 0;
  std::uint64_t agg_id = 0;
  std::uint64_t last_update_id = 0;
  FrameText symbol;
  FrameText bid_px, bid_qty, ask_px, ask_qty, px, qty, stream;
  const char* bid_levels = nullptr;  // '[' of a "b" array not read yet (its symbol came later)
  const char* ask_levels = nullptr;
  bool bid_levels_read = false;
  bool ask_levels_read = false;
  // The fast path converted bookTicker's b, B, a, A into BinanceFeed::bbo_steps_ already.
  bool bbo_read = false;
  // The fast path wrote the depth events with their timestamps and seq already (see on_depth()).
  bool stamped = false;
  // First field whose JSON type did not fit (judged once the message type is known).
  const char* mismatch_field = nullptr;
  std::string_view mismatch_value;
  BadFrameReason mismatch_reason = BadFrameReason::kNone;

  [[nodiscard]] bool has(std::uint32_t bits) const noexcept { return (present & bits) == bits; }
};

// Recursive-descent reader over one frame. Any structural error stops it (returns false) with the
// reason and the field it was reading; the frame is then refused whole.
class BinanceFeed::Scanner {
 public:
  Scanner(BinanceFeed& feed, Fields& fields, const char* begin, const char* end, EventBuffer* out,
          bool snapshot) noexcept
      : feed_(feed), f_(fields), p_(begin), end_(end), out_(out), snapshot_(snapshot) {}

  bool frame() noexcept {
    skip_ws();
    if (!object(0, true)) return false;
    skip_ws();
    if (p_ != end_) return fail(BadFrameReason::kMalformedJson, "frame", "text after the JSON object");
    return true;
  }

  // Reads a level array starting at '[' (deferred "b"/"a"), appending events to out_.
  bool levels_at(const char* at, Side side, EventKind kind, const char* field) noexcept {
    p_ = at;
    return levels(side, kind, field);
  }

  BadFrameReason error_reason = BadFrameReason::kNone;
  const char* error_field = "";
  std::string_view error_value;
  DecimalError error_decimal = DecimalError::kOk;
  bool error_is_price = true;

 private:
  bool fail(BadFrameReason why, const char* where, std::string_view what) noexcept {
    error_reason = why;
    error_field = where;
    error_value = what;
    return false;
  }
  std::string_view rest() const noexcept { return rest_from(p_); }
  // Up to 32 bytes from `from` for an error message, never past the frame.
  std::string_view rest_from(const char* from) const noexcept {
    return {from, static_cast<std::size_t>(std::clamp<std::ptrdiff_t>(end_ - from, 0, 32))};
  }
  void skip_ws() noexcept {
    while (p_ < end_ && is_ws(*p_)) ++p_;
  }
  [[gnu::always_inline]] bool expect(char c, const char* where) noexcept {
    if (p_ < end_ && *p_ == c) [[likely]] {
      ++p_;
      return true;
    }
    skip_ws();
    if (p_ >= end_ || *p_ != c) return fail(BadFrameReason::kMalformedJson, where, rest());
    ++p_;
    return true;
  }

  // A string after its opening quote. `plain` is false when it holds an escape (symbols, decimals and
  // keys never do; such a string is kept only for skipping).
  bool string(std::string_view& out, bool& plain, const char* where) noexcept {
    const char* const start = p_;
    plain = true;
    while (true) {
      while (p_ < end_ && !kStringStop[static_cast<unsigned char>(*p_)]) ++p_;
      if (p_ >= end_) break;
      const char c = *p_;
      if (c == '"') {
        out = {start, static_cast<std::size_t>(p_ - start)};
        ++p_;
        return true;
      }
      if (c != '\\') return fail(BadFrameReason::kMalformedJson, where, "control character in a string");
      plain = false;
      ++p_;
      if (p_ >= end_) break;
      const char e = *p_;
      if (e == 'u') {
        for (int i = 0; i < 4; ++i) {
          ++p_;
          if (p_ >= end_ || !std::isxdigit(static_cast<unsigned char>(*p_))) {
            return fail(BadFrameReason::kMalformedJson, where, "bad \\u escape");
          }
        }
      } else if (e == '\0' || std::strchr("\"\\/bfnrt", e) == nullptr) {
        return fail(BadFrameReason::kMalformedJson, where, "bad escape");
      }
      ++p_;
    }
    return fail(BadFrameReason::kMalformedJson, where, "unterminated string");
  }

  bool number_skip(const char* where) noexcept {
    const char* const start = p_;
    if (p_ < end_ && *p_ == '-') ++p_;
    if (p_ >= end_ || !is_digit(*p_)) return fail(BadFrameReason::kMalformedJson, where, rest_from(start));
    while (p_ < end_ && is_digit(*p_)) ++p_;
    if (p_ < end_ && *p_ == '.') {
      ++p_;
      if (p_ >= end_ || !is_digit(*p_)) return fail(BadFrameReason::kMalformedJson, where, "bad number");
      while (p_ < end_ && is_digit(*p_)) ++p_;
    }
    if (p_ < end_ && (*p_ == 'e' || *p_ == 'E')) {
      ++p_;
      if (p_ < end_ && (*p_ == '+' || *p_ == '-')) ++p_;
      if (p_ >= end_ || !is_digit(*p_)) return fail(BadFrameReason::kMalformedJson, where, "bad number");
      while (p_ < end_ && is_digit(*p_)) ++p_;
    }
    return true;
  }

  bool literal(std::string_view word, const char* where) noexcept {
    if (static_cast<std::size_t>(end_ - p_) < word.size() || std::memcmp(p_, word.data(), word.size()) != 0) {
      return fail(BadFrameReason::kMalformedJson, where, rest());
    }
    p_ += word.size();
    return true;
  }

  bool skip_value(int depth, const char* where) noexcept {
    skip_ws();
    if (p_ >= end_) return fail(BadFrameReason::kMalformedJson, where, "frame ends before a value");
    if (depth > kMaxDepth) return fail(BadFrameReason::kMalformedJson, where, "nested too deep");
    switch (*p_) {
      case '"': {
        ++p_;
        std::string_view ignored;
        bool plain = true;
        return string(ignored, plain, where);
      }
      case '{': {
        ++p_;
        skip_ws();
        if (p_ < end_ && *p_ == '}') {
          ++p_;
          return true;
        }
        while (true) {
          if (!expect('"', where)) return false;
          std::string_view key;
          bool plain = true;
          if (!string(key, plain, where) || !expect(':', where) || !skip_value(depth + 1, where)) return false;
          skip_ws();
          if (p_ < end_ && *p_ == ',') {
            ++p_;
            continue;
          }
          return expect('}', where);
        }
      }
      case '[': {
        ++p_;
        skip_ws();
        if (p_ < end_ && *p_ == ']') {
          ++p_;
          return true;
        }
        while (true) {
          if (!skip_value(depth + 1, where)) return false;
          skip_ws();
          if (p_ < end_ && *p_ == ',') {
            ++p_;
            continue;
          }
          return expect(']', where);
        }
      }
      case 't': return literal("true", where);
      case 'f': return literal("false", where);
      case 'n': return literal("null", where);
      default: return number_skip(where);
    }
  }

  // A value the message type expects to be of a JSON type it is not: skip it, note the first one.
  bool mismatch(const char* where) noexcept {
    const char* const start = p_;
    if (!skip_value(1, where)) return false;
    if (f_.mismatch_field == nullptr) {
      f_.mismatch_field = where;
      f_.mismatch_value = {start, static_cast<std::size_t>(p_ - start)};
      f_.mismatch_reason = BadFrameReason::kWrongType;
    }
    return true;
  }

  // A non-negative integer that fits uint64. Strings, fractions and negatives are noted as mismatches.
  bool uint_field(std::uint64_t& out, std::uint32_t bit, const char* where) noexcept {
    skip_ws();
    if (p_ >= end_) return fail(BadFrameReason::kMalformedJson, where, "frame ends before a value");
    if (!is_digit(*p_)) {
      if (*p_ != '-') return mismatch(where);
      const char* const start = p_;
      if (!number_skip(where)) return false;
      return note_bad_number(where, start);
    }
    const char* const start = p_;
    std::uint64_t value = 0;
    bool overflow = false;
    // 19 digits always fit a uint64; only a 20th needs a check (the frame's last byte is no digit).
    while (is_digit(*p_) && p_ - start < 19) value = value * 10 + static_cast<std::uint64_t>(*p_++ - '0');
    while (is_digit(*p_)) {
      const auto digit = static_cast<std::uint64_t>(*p_ - '0');
      overflow |= __builtin_mul_overflow(value, 10U, &value) || __builtin_add_overflow(value, digit, &value);
      ++p_;
    }
    if (p_ < end_ && (*p_ == '.' || *p_ == 'e' || *p_ == 'E')) {
      p_ = start;
      if (!number_skip(where)) return false;
      return note_bad_number(where, start);
    }
    if (overflow) return note_bad_number(where, start);
    out = value;
    f_.present |= bit;
    return true;
  }

  bool note_bad_number(const char* where, const char* start) noexcept {
    if (f_.mismatch_field == nullptr) {
      f_.mismatch_field = where;
      f_.mismatch_value = {start, static_cast<std::size_t>(p_ - start)};
      f_.mismatch_reason = BadFrameReason::kBadNumber;
    }
    return true;
  }

  template <typename Text>
  bool string_field(Text& out, std::uint32_t bit, const char* where) noexcept {
    skip_ws();
    if (p_ >= end_ || *p_ != '"') return mismatch(where);
    ++p_;
    const char* const start = p_;
    bool plain = true;
    std::string_view text;
    if (!string(text, plain, where)) return false;
    out = text;
    if (!plain) {
      if (f_.mismatch_field == nullptr) {
        f_.mismatch_field = where;
        f_.mismatch_value = {start, text.size()};
        f_.mismatch_reason = BadFrameReason::kWrongType;
      }
      return true;
    }
    f_.present |= bit;
    return true;
  }

  bool bool_field(bool& out, std::uint32_t bit, const char* where) noexcept {
    skip_ws();
    if (p_ < end_ && *p_ == 't') {
      if (!literal("true", where)) return false;
      out = true;
    } else if (p_ < end_ && *p_ == 'f') {
      if (!literal("false", where)) return false;
      out = false;
    } else {
      return mismatch(where);
    }
    f_.present |= bit;
    return true;
  }

  // Hot path: one level array, read straight into events.
  bool levels(Side side, EventKind kind, const char* where) noexcept {
    const common::Instrument& instrument = feed_.symbols_[f_.id].instrument;
    if (!expect('[', where)) return false;
    skip_ws();
    if (p_ < end_ && *p_ == ']') {
      ++p_;
      return true;
    }
    Event event{};
    event.instrument_id = f_.id;
    event.kind = kind;
    event.side = side;
    event.venue_id = feed_.config_.venue_id;
    while (true) {
      if (!expect('[', where) || !expect('"', where)) return false;
      const char* const px_start = p_;
      WireDecimalResult result =
          read_quoted_steps(p_, end_, instrument.tick, instrument.allow_negative_price, event.px_ticks);
      if (!result.json_ok) return fail(BadFrameReason::kMalformedJson, where, rest_from(px_start));
      if (result.decimal != DecimalError::kOk) return bad_decimal(result.decimal, where, px_start, true);
      if (!expect(',', where) || !expect('"', where)) return false;
      const char* const qty_start = p_;
      result = read_quoted_steps(p_, end_, instrument.lot, false, event.qty_lots);
      if (!result.json_ok) return fail(BadFrameReason::kMalformedJson, where, rest_from(qty_start));
      if (result.decimal != DecimalError::kOk) return bad_decimal(result.decimal, where, qty_start, false);
      if (!expect(']', where)) return false;
      out_->push_back(event);
      skip_ws();
      if (p_ < end_ && *p_ == ',') {
        ++p_;
        continue;
      }
      return expect(']', where);
    }
  }

  bool bad_decimal(DecimalError error, const char* where, const char* start, bool is_price) noexcept {
    error_is_price = is_price;
    // The value is the string just read: from its first byte to the byte before the closing quote.
    const char* stop = p_ > start ? p_ - 1 : start;
    error_decimal = error;
    return fail(BadFrameReason::kBadDecimal, where, {start, static_cast<std::size_t>(stop - start)});
  }

  // "b"/"a": a level array (depth), a quoted price (bookTicker), or for "a" an integer (aggTrade id).
  bool book_field(bool bid, const char* where) noexcept {
    skip_ws();
    if (p_ >= end_) return fail(BadFrameReason::kMalformedJson, where, "frame ends before a value");
    if (*p_ == '[') {
      (bid ? f_.bid_levels : f_.ask_levels) = p_;
      if (f_.type == EventType::kDepth && f_.id != kNoInstrument && !snapshot_) {
        if (!levels(bid ? Side::kBid : Side::kAsk, EventKind::kDelta, where)) return false;
        (bid ? f_.bid_levels_read : f_.ask_levels_read) = true;
      } else if (!skip_value(1, where)) {
        return false;
      }
      f_.present |= bid ? kHasBidLevels : kHasAskLevels;
      return true;
    }
    if (*p_ == '"') return string_field(bid ? f_.bid_px : f_.ask_px, bid ? kHasBidPx : kHasAskPx, where);
    if (!bid && is_digit(*p_)) return uint_field(f_.agg_id, kHasAggId, where);
    return mismatch(where);
  }

  bool snapshot_levels(bool bid, const char* where) noexcept {
    skip_ws();
    if (p_ >= end_ || *p_ != '[') return mismatch(where);
    if (!levels(bid ? Side::kBid : Side::kAsk, EventKind::kSnapshotLevel, where)) return false;
    f_.present |= bid ? kHasBidLevels : kHasAskLevels;
    return true;
  }

  bool event_type() noexcept {
    std::string_view type;
    if (!string_field(type, kHasE, "e")) return false;
    if (!f_.has(kHasE)) return true;
    if (type == "depthUpdate") {
      f_.type = EventType::kDepth;
    } else if (type == "bookTicker") {
      f_.type = EventType::kBookTicker;
    } else if (type == "trade") {
      f_.type = EventType::kTrade;
    } else if (type == "aggTrade") {
      f_.type = EventType::kAggTrade;
    } else {
      f_.type = EventType::kOther;
    }
    return true;
  }

  bool symbol() noexcept {
    if (!string_field(f_.symbol, kHasSymbol, "s")) return false;
    if (f_.has(kHasSymbol)) {
      std::uint32_t id = kNoInstrument;
      if (feed_.try_find(f_.symbol, id)) f_.id = id;
    }
    return true;
  }

  bool value_for(std::string_view key, int depth, bool top) noexcept {
    if (key.size() == 1) {
      switch (key[0]) {
        case 'e': return event_type();
        case 'E': return uint_field(f_.event_time_ms, kHasEventTime, "E");
        case 's': return symbol();
        case 'U': return uint_field(f_.first_id, kHasFirstId, "U");
        case 'u': return uint_field(f_.last_id, kHasLastId, "u");
        case 'b': return book_field(true, "b");
        case 'a': return book_field(false, "a");
        case 'B': return string_field(f_.bid_qty, kHasBidQty, "B");
        case 'A': return string_field(f_.ask_qty, kHasAskQty, "A");
        case 'p': return string_field(f_.px, kHasPx, "p");
        case 'q': return string_field(f_.qty, kHasQty, "q");
        case 't': return uint_field(f_.trade_id, kHasTradeId, "t");
        case 'm': return bool_field(f_.maker, kHasMaker, "m");
        default: return skip_value(depth + 1, "?");
      }
    }
    if (key == "pu") return uint_field(f_.prev_id, kHasPrevId, "pu");
    if (snapshot_) {
      if (key == "lastUpdateId") return uint_field(f_.last_update_id, kHasLastUpdateId, "lastUpdateId");
      if (key == "bids") return snapshot_levels(true, "bids");
      if (key == "asks") return snapshot_levels(false, "asks");
    } else if (key == "lastUpdateId") {
      f_.present |= kHasLastUpdateId;
      return skip_value(depth + 1, "lastUpdateId");
    }
    if (top) {
      if (key == "data") {
        skip_ws();
        if (p_ >= end_ || *p_ != '{') return mismatch("data");
        f_.present |= kHasData;
        return object(depth + 1, false);
      }
      if (key == "stream") return string_field(f_.stream, kHasStream, "stream");
      if (key == "result") {
        f_.present |= kHasResult;
        return skip_value(depth + 1, "result");
      }
      if (key == "id") {
        f_.present |= kHasId;
        return skip_value(depth + 1, "id");
      }
      if (key == "error" || key == "code") {
        f_.present |= kHasError;
        return skip_value(depth + 1, "error");
      }
      if (key == "msg") {
        f_.present |= kHasMsg;
        return skip_value(depth + 1, "msg");
      }
    }
    return skip_value(depth + 1, "?");
  }

  bool object(int depth, bool top) noexcept {
    if (!expect('{', "frame")) return false;
    skip_ws();
    if (p_ < end_ && *p_ == '}') {
      ++p_;
      return true;
    }
    while (true) {
      if (!expect('"', "key")) return false;
      std::string_view key;
      if (end_ - p_ >= 2 && p_[1] == '"' && !kStringStop[static_cast<unsigned char>(p_[0])]) {
        key = {p_, 1};  // Binance's keys are mostly one letter
        p_ += 2;
      } else {
        bool plain = true;
        if (!string(key, plain, "key")) return false;
        if (!plain) key = {};  // an escaped key is none of ours: skipped
      }
      if (!expect(':', "key") || !value_for(key, depth, top)) return false;
      skip_ws();
      if (p_ < end_ && *p_ == ',') {
        ++p_;
        continue;
      }
      return expect('}', "frame");
    }
  }

  BinanceFeed& feed_;
  Fields& f_;
  const char* p_;
  const char* end_;
  EventBuffer* out_;
  bool snapshot_;
};

// -------------------------------------------------------------------------------------------------
// The fast path. Binance writes each message kind with the same keys in the same order and no
// whitespace; this reader expects exactly these shapes (optional keys in brackets):
//
//   frame        {"stream":"<name>","data":<message>}   or   <message>
//   depth        {"e":"depthUpdate","E":n[,"T":n],"s":"<S>","U":n,"u":n[,"pu":n],"b":<levels>,"a":<levels>}
//   bookTicker   {["e":"bookTicker",]"u":n,"s":"<S>","b":"<px>","B":"<qty>","a":"<px>","A":"<qty>"[,"T":n,"E":n]}
//   trade        {"e":"trade","E":n[,"T":n],"s":"<S>","t":n,"p":"<px>","q":"<qty>"[,"X":"<s>"][,"T":n],"m":<bool>[,"M":<bool>]}
//   levels       [] or [["<px>","<qty>"],...]
//
// (USD-M, spot, raw and combined streams as recorded in ../shared/data.) It fills the Fields the
// Scanner would fill from the same bytes and appends the same events to scratch_. Anything else (other
// key orders or keys, whitespace, escapes, a symbol not in fast_table_, an integer over 19 digits, a
// decimal the quick reader refuses, other message types) returns false having written only Fields and
// scratch_, which on_frame() resets before the Scanner reads the frame: errors are always reported by
// the Scanner, with its field names.
//
class BinanceFeed::FastReader {
  // Where an integer's digits lie in the frame (from == nullptr: the field was not there).
  struct Span {
    const char* from;
    const char* to;
  };

 public:
  FastReader(BinanceFeed& feed, Fields& fields, const char* begin, const char* end, std::int64_t ts_local_ns) noexcept
      : feed_(feed), f_(fields), begin_(begin), p_(begin), end_(end), ts_local_ns_(ts_local_ns) {}

  [[gnu::always_inline]] bool frame() noexcept {
    // A depth frame of the last symbol's head layout (HeadShape): its head without the key reader.
    // Other frames of the symbol (bookTickers) are told apart here by one word: "depthUpd" where
    // the head has it. The integers' words may reach up to 7 bytes past the head (known_digits()).
    const std::uint32_t last = feed_.last_symbol_.id;
    if (last != kNoInstrument) {
      HeadShape& head = feed_.symbols_[last].depth_head;
      if (head.size != 0) {
        if (static_cast<std::size_t>(end_ - p_) >= head.size + 8 && load_word(p_ + head.type_at) == head.type_word) {
          const HeadResult result = shaped_frame<true>(head, last);
          if (result != HeadResult::kMiss) return result == HeadResult::kRead;
        }
        tried_head_ = last;  // a miss, if this is a depth frame of that symbol (depth() counts it)
      }
      // The same for a bookTicker (USD-M's, which carry "e"): its head ends where its decimals start.
      HeadShape& ticker = feed_.symbols_[last].ticker_head;
      if (ticker.size != 0) {
        if (static_cast<std::size_t>(end_ - p_) >= ticker.size + 8 &&
            load_word(p_ + ticker.type_at) == ticker.type_word) {
          const HeadResult result = shaped_frame<false>(ticker, last);
          if (result != HeadResult::kMiss) return result == HeadResult::kRead;
        }
        tried_ticker_ = last;  // a miss, if this is a bookTicker of that symbol (book_ticker() counts it)
      }
    }
    if (lit("{\"stream\":\"")) {
      if (!plain_string(f_.stream) || !lit(",\"data\":{")) return false;
      f_.present |= kHasStream | kHasData;
      return message() && lit("}") && p_ == end_;
    }
    return lit("{") && message() && p_ == end_;
  }

 private:
  // Consumes `text` when the frame continues with it: at most two word compares against constants.
  template <std::size_t N>
  [[gnu::always_inline]] bool lit(const char (&text)[N]) noexcept {
    if (!starts_with(p_, end_, text)) return false;
    p_ += N - 1;
    return true;
  }

  // 1 to 19 digits (always fits a uint64); the Scanner handles longer ones and their overflow check.
  // The cursor is copied to a register: through the member, every digit would store and reload it.
  [[gnu::always_inline]] bool uint(std::uint64_t& out) noexcept {
    const char* p = p_;
    if (end_ - p >= 24) [[likely]] {
      // Up to 19 digits and the byte after them lie within 24 bytes: at most three words, no byte
      // loop and no count check past the third word.
      std::uint64_t value = 0;
      const unsigned first = leading_digits(p, value);
      if (first < 8) {
        if (first == 0) return false;
        out = value;
        p_ = p + first;
        return true;
      }
      std::uint64_t chunk = 0;
      const unsigned second = leading_digits(p + 8, chunk);
      value = value * static_cast<std::uint64_t>(detail::kPow10[second]) + chunk;
      if (second < 8) {
        out = value;
        p_ = p + 8 + second;
        return true;
      }
      chunk = 0;
      const unsigned third = leading_digits(p + 16, chunk);
      if (third > 3) return false;  // 20 digits or more: the Scanner's (overflow checks)
      out = value * static_cast<std::uint64_t>(detail::kPow10[third]) + chunk;
      p_ = p + 16 + third;
      return true;
    }
    if (p >= end_) return false;
    const char* const start = p;
    std::uint64_t value = 0;
    // Past 19 digits the value may wrap: such a number is refused below anyway.
    while (end_ - p >= 8) {
      std::uint64_t chunk = 0;
      const unsigned count = leading_digits(p, chunk);
      if (count == 0) break;
      value = value * static_cast<std::uint64_t>(detail::kPow10[count]) + chunk;
      p += count;
      if (count < 8) break;
    }
    // The rest byte by byte (the last bytes of a frame); stops inside the frame: its last byte is no
    // digit (on_frame checked wire_text_ends_safely).
    unsigned digit = static_cast<unsigned>(*p - '0');
    while (digit <= 9U) {
      value = value * 10U + digit;
      digit = static_cast<unsigned>(*++p - '0');
    }
    const std::ptrdiff_t digits = p - start;
    if (digits == 0 || digits > 19) return false;
    out = value;
    p_ = p;
    return true;
  }

  // uint() without its value: only the digits' count (1 to 19) is checked.
  bool skip_uint() noexcept {
    const char* const p = p_;
    if (end_ - p >= 24) [[likely]] {
      const unsigned first = digit_count(p);
      unsigned count = first;
      if (first == 8) {
        const unsigned second = digit_count(p + 8);
        count += second;
        if (second == 8) count += digit_count(p + 16);
      }
      if (count == 0 || count > 19) return false;
      p_ = p + count;
      return true;
    }
    std::uint64_t ignored = 0;
    return uint(ignored);
  }

  // After the opening quote: a string with no escape or control character.
  template <typename Text>
  bool plain_string(Text& out) noexcept {
    const char* const start = p_;
    const char* const p = find_string_stop(start, end_);
    if (p >= end_ || *p != '"') return false;
    out = std::string_view(start, static_cast<std::size_t>(p - start));
    p_ = p + 1;
    return true;
  }

  // Whether the bytes at p_ are a bookTicker's tail laid out as `tail` (TailShape, learned from a
  // tail the key reader read), and then E set and p_ past the message's `}`. The key reader takes
  // the same steps through such a tail: its first byte is `,` (so no `}` right after the decimals),
  // its keys are the same bytes, T and E have the same number of digits (1..19: the same count
  // check; E's value is that of the same digits) between the same bytes, and its last byte is `}`.
  // E's two words end at its last digit and start at most 16 bytes before it, inside the frame:
  // the tail follows the decimals' region (32 bytes or more) and E ends 12 bytes or more into it.
  [[gnu::always_inline]] bool shaped_tail(const TailShape& tail) noexcept {
    const char* const t = p_;
    if (static_cast<std::size_t>(end_ - t) < tail.size) return false;  // also when nothing is learned
#if FASTCORE_BINANCE_X86
    const __m128i all =
        _mm_and_si128(_mm_and_si128(block_match(t, tail.block_offset[0], tail.block_floor[0]),
                                    block_match(t + tail.block_at[1], tail.block_offset[1], tail.block_floor[1])),
                      block_match(t + tail.block_at[2], tail.block_offset[2], tail.block_floor[2]));
    if (_mm_movemask_epi8(all) != 0xFFFF) return false;
#else
    for (std::size_t i = 0; i < TailShape::kBlocks; ++i) {
      if (!block_matches(t + tail.block_at[i], tail.block_offset[i], tail.block_floor[i])) return false;
    }
#endif
    const char* const e_end = t + tail.e_end;
    f_.event_time_ms = eight_digits_value((load_word(e_end - 16) ^ kAsciiZeros) & tail.e_mask[0]) * 100000000U +
                       eight_digits_value((load_word(e_end - 8) ^ kAsciiZeros) & tail.e_mask[1]);
    f_.present |= kHasEventTime;
    p_ = t + tail.size;
    return true;
  }

  // Learns the tail [t, t + size) the key reader just accepted (T's digits at [t_from, t_to), E's at
  // [e_from, e_to), offsets into it) as `tail`, when it has kMin to kMax bytes and E at most 16
  // digits; otherwise forgets the layout.
  [[gnu::noinline]] static void learn_tail(const char* t, std::size_t size, std::size_t t_from, std::size_t t_to,
                                           std::size_t e_from, std::size_t e_to, TailShape& tail) noexcept {
    tail.size = TailShape::kUnlearned;
    if (size < TailShape::kMin || size > TailShape::kMax || e_to - e_from > 16) return;
    TailShape learned;
    learned.block_at[0] = 0;
    learned.block_at[1] = static_cast<std::uint32_t>(std::min<std::size_t>(16, size - 16));
    learned.block_at[2] = static_cast<std::uint32_t>(size - 16);
    for (std::size_t b = 0; b < TailShape::kBlocks; ++b) {
      for (std::size_t j = 0; j < 16; ++j) {
        const std::size_t i = learned.block_at[b] + j;
        const bool digit = (i >= t_from && i < t_to) || (i >= e_from && i < e_to);
        learn_block_byte(digit, static_cast<std::uint8_t>(t[i]), learned.block_offset[b][j], learned.block_floor[b][j]);
      }
    }
    const std::size_t digits = e_to - e_from;
    const auto keep = [](std::size_t n) { return n == 0 ? 0 : ~std::uint64_t{0} << (8 * (8 - n)); };  // the last n bytes
    learned.e_mask[0] = keep(digits > 8 ? digits - 8 : 0);
    learned.e_mask[1] = keep(std::min<std::size_t>(digits, 8));
    learned.e_end = static_cast<std::uint32_t>(e_to);
    learned.size = size;
    tail = learned;
  }

  bool boolean(bool& out) noexcept {
    if (lit("true")) {
      out = true;
      return true;
    }
    out = false;
    return lit("false");
  }

  // After the opening quote: a decimal the quick reader converts without error.
  [[gnu::always_inline]] bool steps(const WireStep& step, bool allow_negative, std::int64_t& out) noexcept {
    const char* p = p_;
    if (allow_negative || p >= end_) return false;  // signed prices are rare: the Scanner reads them
    if (!quick_steps(p, step, out)) return false;
    p_ = p;
    return true;
  }

  bool decimal_field(FrameText& text, const WireStep& step, bool allow_negative, std::int64_t& out) noexcept {
    const char* const start = p_;
    if (!steps(step, allow_negative, out)) return false;
    text = std::string_view(start, static_cast<std::size_t>(p_ - 1 - start));  // p_ is past the closing quote
    return true;
  }

  bool symbol() noexcept {
    const char* const start = p_;
    // The last symbol found again (nearly every frame): its bytes and the closing quote after them.
    // Its bytes hold no quote, backslash or control byte (plain_string() delimited them), so the
    // string ends at that quote, as plain_string() would find, and fast_find() would give the same id.
    const BinanceFeed::LastSymbol& last = feed_.last_symbol_;
    if (end_ - start > 16 && last.size != 0) {
      const std::uint64_t word0 = load_word(start) & last.mask0;
      const std::uint64_t word1 = load_word(start + 8) & last.mask1;
      if (((word0 ^ last.word0) | (word1 ^ last.word1)) == 0 && start[last.size] == '"') {
        f_.symbol = std::string_view(start, last.size);
        f_.present |= kHasSymbol;
        f_.id = last.id;
        p_ = start + last.size + 1;
        return true;
      }
    }
    if (!plain_string(f_.symbol)) return false;
    f_.present |= kHasSymbol;
    std::uint32_t id = kNoInstrument;
    // fast_find() loads 16 bytes from the symbol's start: a frame always has more after it.
    if (end_ - start < 16 || !feed_.fast_find(start, f_.symbol.size(), id)) return false;
    f_.id = id;
    remember_symbol(start, f_.symbol.size(), id);
    return true;
  }

  // Keeps a symbol fast_find() found (1 to 16 bytes, 16 loadable at `text`) as the feed's last one.
  [[gnu::noinline]] void remember_symbol(const char* text, std::size_t size, std::uint32_t id) noexcept {
    BinanceFeed::LastSymbol& last = feed_.last_symbol_;
    const auto bytes = [](std::size_t n) { return n >= 8 ? ~std::uint64_t{0} : (std::uint64_t{1} << (8 * n)) - 1U; };
    last.mask0 = bytes(size);
    last.mask1 = size <= 8 ? 0 : bytes(size - 8);
    last.word0 = load_word(text) & last.mask0;
    last.word1 = load_word(text + 8) & last.mask1;
    last.size = size;
    last.id = id;
  }

  // Steps of units 1 (nearly every instrument: "0.10" is 1 x 10^-1) need no exact-division test:
  // the level loop is built for them apart, without that test's branches per decimal.
  // Both level arrays, from the bids' `[` to the asks' `]` (`,"a":` between them): one call, so that
  // the setup (symbol, steps, shape, buffer room) is done once a frame.
  bool levels() noexcept {
    const Symbol& symbol = feed_.symbols_[f_.id];
    return symbol.wire_tick.unit && symbol.wire_lot.unit ? levels_impl<true>() : levels_impl<false>();
  }

  [[gnu::always_inline]] bool message() noexcept {
    if (!lit("\"e\":\"")) return book_ticker();  // spot bookTickers carry no "e"
    f_.present |= kHasE;
    type_at_ = p_;
    if (lit("depthUpdate\"")) {
      f_.type = EventType::kDepth;
      return depth();
    }
    if (lit("bookTicker\",")) {
      f_.type = EventType::kBookTicker;
      return book_ticker();
    }
    if (lit("trade\"")) {
      f_.type = EventType::kTrade;
      return trade();
    }
    return false;
  }

  // An integer field after its key, its digits noted (for learn_head()).
  bool uint_span(std::uint64_t& out, Span& span) noexcept {
    span.from = p_;
    if (!uint(out)) return false;
    span.to = p_;
    return true;
  }

  bool depth() noexcept {
    t_.from = nullptr;
    ints_[3].from = nullptr;
    if (!lit(",\"E\":") || !uint_span(f_.event_time_ms, ints_[0])) return false;
    f_.present |= kHasEventTime;
    if (lit(",\"T\":")) {
      t_.from = p_;
      if (!skip_uint()) return false;
      t_.to = p_;
    }
    if (!lit(",\"s\":\"") || !symbol()) return false;
    if (!lit(",\"U\":") || !uint_span(f_.first_id, ints_[1]) || !lit(",\"u\":") || !uint_span(f_.last_id, ints_[2])) {
      return false;
    }
    f_.present |= kHasFirstId | kHasLastId;
    if (lit(",\"pu\":")) {
      if (!uint_span(f_.prev_id, ints_[3])) return false;
      f_.present |= kHasPrevId;
    }
    if (!lit(",\"b\":")) return false;
    f_.bid_levels = p_;
    // A new head layout for the symbol when it has none, or when two of its frames in a row missed it.
    HeadShape& head = feed_.symbols_[f_.id].depth_head;
    if (head.size == 0 || (tried_head_ == f_.id && ++head.misses >= 2)) learn_head(head);
    return depth_levels();
  }

  // A depth frame from the bids' `[` (its head read key by key or by shaped_head()) to its `}`.
  bool depth_levels() noexcept {
    if (!levels()) return false;  // sets f_.ask_levels
    f_.present |= kHasBidLevels | kHasAskLevels;
    f_.bid_levels_read = true;
    f_.ask_levels_read = true;
    f_.stamped = true;
    return lit("}");
  }

  enum class HeadResult : std::uint8_t { kMiss, kRead, kRefused };

  // A depth frame (kDepth) or a bookTicker whose head has the layout `head` of symbol `id` (see
  // shaped_head()), read whole; kMiss (nothing read) when its head does not have it.
  template <bool kDepth>
  [[gnu::noinline]] HeadResult shaped_frame(HeadShape& head, std::uint32_t id) noexcept {
    if (!shaped_head(head, id)) return HeadResult::kMiss;
    head.misses = 0;
    ++feed_.head_shape_frames_;
    const bool body = kDepth ? depth_levels() : book_ticker_rest();
    const bool read = body && ((head.present & kHasStream) == 0 || lit("}")) && p_ == end_;
    return read ? HeadResult::kRead : HeadResult::kRefused;
  }

  // The head of a depth frame (from its first byte, at p_, to the bids' `[`) when it is laid out as
  // `head` (learned from a head of symbol `id` the key reader read): every byte the same but the
  // integers' digits, which must be digits. Then it fills the Fields the key reader fills from the
  // same bytes, all but the stream's and the symbol's texts (only learn_head(), after the key reader,
  // and classify_and_apply(), for frames of no type, read them), and leaves p_ at the `[`. The key
  // reader takes the same steps through such a head: its keys, names and symbol are the same bytes,
  // and each integer has the same number of digits between the same bytes (so the same count check
  // and, converted here, the same value).
  [[gnu::always_inline]] bool shaped_head(const HeadShape& head, std::uint32_t id) noexcept {
    const char* const b = p_;  // frame() checked the length and the type word
#if FASTCORE_BINANCE_X86
    __m128i all = _mm_set1_epi8(-1);
    for (std::uint32_t i = 0; i < head.blocks; ++i) {
      all = _mm_and_si128(all, block_match(b + head.block_at[i], head.block_offset[i], head.block_floor[i]));
    }
    if (_mm_movemask_epi8(all) != 0xFFFF) return false;
#else
    for (std::uint32_t i = 0; i < head.blocks; ++i) {
      if (!block_matches(b + head.block_at[i], head.block_offset[i], head.block_floor[i])) return false;
    }
#endif
    f_.present = head.present;
    if (head.depth) {  // E, U, u, pu
      f_.type = EventType::kDepth;
      f_.event_time_ms = known_digits(b + head.int_at[0], head.int_digits[0]);
      f_.first_id = known_digits(b + head.int_at[1], head.int_digits[1]);
      f_.last_id = known_digits(b + head.int_at[2], head.int_digits[2]);
      if (head.int_digits[3] != 0) f_.prev_id = known_digits(b + head.int_at[3], head.int_digits[3]);
    } else {  // a bookTicker's u
      f_.type = EventType::kBookTicker;
      f_.last_id = known_digits(b + head.int_at[0], head.int_digits[0]);
    }
    f_.id = id;
    p_ = b + head.size;
    if (head.depth) f_.bid_levels = p_;
    return true;
  }

  // Learns the head the key reader just read (from begin_ to p_, the bids' `[`) as `head`, when it
  // has 16 to HeadShape::kMax bytes; otherwise forgets the layout.
  [[gnu::noinline]] void learn_head(HeadShape& head) noexcept {
    head.size = 0;
    const auto size = static_cast<std::size_t>(p_ - begin_);
    if (size < 16 || size > HeadShape::kMax) return;
    std::uint8_t digit[HeadShape::kMax] = {};
    const auto mark = [&](const Span& span) {
      if (span.from == nullptr) return;
      for (const char* c = span.from; c < span.to; ++c) digit[c - begin_] = 1;
    };
    for (const Span& span : ints_) mark(span);
    mark(t_);
    HeadShape learned;
    learned.blocks = static_cast<std::uint32_t>((size + 15) / 16);
    for (std::size_t b = 0; b < learned.blocks; ++b) {
      const std::size_t at = std::min(16 * b, size - 16);
      learned.block_at[b] = static_cast<std::uint32_t>(at);
      for (std::size_t j = 0; j < 16; ++j) {
        learn_block_byte(digit[at + j] != 0, static_cast<std::uint8_t>(begin_[at + j]), learned.block_offset[b][j],
                         learned.block_floor[b][j]);
      }
    }
    for (std::size_t k = 0; k < HeadShape::kInts; ++k) {
      if (ints_[k].from == nullptr) continue;
      learned.int_at[k] = static_cast<std::uint32_t>(ints_[k].from - begin_);
      learned.int_digits[k] = static_cast<std::uint32_t>(ints_[k].to - ints_[k].from);
    }
    learned.present = f_.present;
    learned.depth = f_.type == EventType::kDepth;
    learned.type_at = static_cast<std::uint32_t>(type_at_ - begin_);
    learned.type_word = load_word(type_at_);  // inside the head: `depthUpdate",` or `bookTicker",` follows
    learned.size = static_cast<std::uint32_t>(size);
    head = learned;
  }

  // The level loop, with the cursor in a register: `["` px `","` qty `"]` then `,` or `]`. Each event
  // is written whole into scratch_'s free capacity, stamped as on_depth() would stamp it
  // (Fields::stamped), and the array's events are committed at its end; a refused frame's events are
  // dropped with scratch_.
  //
  // Levels laid out as the symbol's last one (LevelShape; nearly every level on the wire: Binance
  // pads prices and quantities to fixed decimals) are read in runs by shaped_level(): the bytes and
  // the buffer room a run may use are worked out once, before it, as the last position at which a
  // level may start, so that each level costs one compare of the cursor besides its own checks. Any
  // other level is read byte by byte, and then becomes the shape when the previous level missed it
  // too.
  template <bool kUnitSteps>
  [[gnu::noinline]] bool levels_impl() noexcept {
    Symbol& symbol = feed_.symbols_[f_.id];
    const WireStep& tick = symbol.wire_tick;
    const WireStep& lot = symbol.wire_lot;
    if (symbol.instrument.allow_negative_price) return false;  // rare: the Scanner reads signed prices
    LevelShape& shape = symbol.level_shape;
    // Wraps for a timestamp out of range; on_depth() refuses such a frame before any event is used.
    const auto ts_exchange_ns = static_cast<std::int64_t>(f_.event_time_ms * static_cast<std::uint64_t>(kNsPerMs));
    EventBuffer& out = feed_.scratch_;
    const char* const end = end_;
    // Unrolled: a loop over the two sides costs a branch that the predictor misses once a frame.
#pragma GCC unroll 2
    for (const Side side : {Side::kBid, Side::kAsk}) {
      if (side == Side::kAsk) {
        if (!lit(",\"a\":")) return false;
        f_.ask_levels = p_;
      }
      if (!lit("[")) return false;
      if (lit("]")) continue;
      const EventProto proto(ts_exchange_ns, ts_local_ns_, f_.last_id, f_.id, EventKind::kDelta, side,
                             feed_.config_.venue_id);
      // Room for 64 levels, then 64 more at a time.
      out.reserve_more(64);
      Event* write = out.end();
      Event* room_end = out.capacity_end();
      const char* p = p_;
      std::uint32_t misses = 0;
      while (true) {
        // A run of shaped levels. Each needs its `size` bytes and one more (a frame never ends with a
        // level: `]` follows), so size + 1 >= 17 bytes with its `,`; and one event of room.
        const std::size_t size = shape.size;  // kUnlearned (above any frame's rest) when nothing is learned
        const auto left = static_cast<std::size_t>(end - p);
        if (size < left) {
          const std::size_t stride = size + 1;
          if (static_cast<std::size_t>(room_end - write) < std::min<std::size_t>(64, left / 16)) [[unlikely]] {
            out.commit(write);
            out.reserve_more(64);
            write = out.end();
            room_end = out.capacity_end();
          }
          // The last start of a level that leaves a byte after it, and that finds room for its event.
          const char* last = end - stride;
          const auto room = static_cast<std::size_t>(room_end - write);  // >= 1: left >= 17
          if (room * stride <= left) last = p + (room - 1) * stride;
          Event* const run_start = write;
          // Made here, where they can stay in registers for the run (no call inside).
          const EventProto run_proto = proto.in_registers();
          const ShapedConstants k;
          const std::ptrdiff_t px_at = shape.at[0];
          const std::ptrdiff_t qty_at = shape.at[1];
          bool array_end = false;
          while (p <= last) {
            run_proto.store_except_prices(write);  // shaped_level() writes px_ticks and qty_lots
            if (!shaped_level<kUnitSteps>(p, size, px_at, qty_at, shape, k, tick, lot, write)) break;
            ++write;
            const char next = p[size];
            p += stride;
            if (next != ',') {
              if (next != ']') return false;
              array_end = true;
              break;
            }
          }
          if (array_end) {
            out.commit(write);
            p_ = p;
            break;
          }
          if (write != run_start) misses = 0;
        }
        // One level byte by byte.
        if (write == room_end) [[unlikely]] {
          out.commit(write);
          out.reserve_more(64);
          write = out.end();
          room_end = out.capacity_end();
        }
        Event* const event = write;
        proto.store_except_prices(event);
        const char* const level = p;
        if (end - p < 10 || !starts_with(p, end, "[\"")) return false;
        p += 2;
        if (!quick_steps(p, tick, event->px_ticks) || !starts_with(p, end, ",\"")) return false;
        p += 2;
        if (p >= end || !quick_steps(p, lot, event->qty_lots) || p >= end || *p != ']') return false;
        ++p;
        // A new layout once two levels in a row missed the shape (one odd level keeps it).
        if (shape.size == LevelShape::kUnlearned || ++misses >= 2) {
          learn_shape(level, static_cast<std::size_t>(p - level), tick, lot, shape);
          misses = 0;
        }
        ++write;
        if (p < end && *p == ',') {
          ++p;
          continue;
        }
        if (p >= end || *p != ']') return false;
        out.commit(write);
        p_ = p + 1;
        break;
      }
    }
    return true;
  }

  // The value of one decimal of a text that matched its shape (LevelShape::Field, in parts): its word's
  // integer digits shifted up one byte over the point, its kept fraction digits left in place, so
  // that the digits fill the word's top bytes with zeros below (leading zeros). Times the field's
  // multiplier it is the value scaled to the step's decimals, times its odd_inverse.
  [[gnu::always_inline]] static std::uint64_t shaped_value(const char* p, std::ptrdiff_t at, std::uint64_t up_bytes,
                                                           std::uint64_t stay_bytes) noexcept {
    const std::uint64_t x = load_word(p + at) ^ kAsciiZeros;
    return eight_digits_value(((x << 8) & up_bytes) | (x & stay_bytes));
  }

#if FASTCORE_BINANCE_X86
  // Constants of the shaped conversion. The pair multiplier is made opaque (once per run of levels
  // or bookTicker): as a compile-time constant GCC turns the 16-bit multiply by 2561 into two shifts
  // and two adds (five instructions for one, and a longer chain). The others stay constants (memory
  // operands).
  struct ShapedConstants {
    __m128i pair = _mm_set1_epi16(10 * 256 + 1);
    ShapedConstants() noexcept { asm("" : "+x"(pair)); }
  };

  // Two decimals of a shape, whose words start at `at0` and `at1` and whose masks lie side by side
  // where `up_bytes` and `stay_bytes` point (16-byte aligned), in one 16-byte register (SSE2) as four 32-bit lanes: the
  // first decimal's value of its word's first four digit bytes, of its last four, then the second
  // one's (each word: shaped_value()'s digits). The words' digits gathered with one shift and two
  // masks, then pairs (one 16-bit multiply: the high byte of digit0 + 256 * digit1 times 2561 is
  // 10 * digit0 + digit1), then quads (pmaddwd by 100, 1).
  [[gnu::always_inline]] static __m128i shaped_quads(const char* p, std::ptrdiff_t at0, std::ptrdiff_t at1,
                                                     const std::uint64_t* up_bytes, const std::uint64_t* stay_bytes,
                                                     const ShapedConstants& k) noexcept {
    const __m128i words = _mm_unpacklo_epi64(_mm_loadl_epi64(reinterpret_cast<const __m128i*>(p + at0)),
                                             _mm_loadl_epi64(reinterpret_cast<const __m128i*>(p + at1)));
    const __m128i x = _mm_xor_si128(words, _mm_set1_epi8('0'));
    __m128i digits = _mm_or_si128(_mm_and_si128(_mm_slli_epi64(x, 8), _mm_load_si128(reinterpret_cast<const __m128i*>(up_bytes))),
                                  _mm_and_si128(x, _mm_load_si128(reinterpret_cast<const __m128i*>(stay_bytes))));
    digits = _mm_srli_epi16(_mm_mullo_epi16(digits, k.pair), 8);  // 0..99 per 16 bits
    return _mm_madd_epi16(digits, _mm_set1_epi32(100 | (1 << 16)));  // 0..9999 per 32 bits
  }

  // The two decimals of shaped_quads() as 64-bit lanes, each times its lane of `multiplier` (below
  // 2^32 / 10^4; `multiplier_hi` is 10^4 times it): two 32 x 32 -> 64-bit multiplies (pmuludq) and
  // an add, exact (the values have at most 8 digits).
  [[gnu::always_inline]] static __m128i quads_times(__m128i quads, __m128i multiplier_hi, __m128i multiplier) noexcept {
    return _mm_add_epi64(_mm_mul_epu32(quads, multiplier_hi), _mm_mul_epu32(_mm_srli_epi64(quads, 32), multiplier));
  }
#else
  struct ShapedConstants {};
#endif

  // shaped_value() of two decimals of a shape (as for shaped_quads()); on x86 both at once.
  [[gnu::always_inline]] static void shaped_value_pair(const char* p, std::ptrdiff_t at0, std::ptrdiff_t at1,
                                                       const std::uint64_t* up_bytes,
                                                       const std::uint64_t* stay_bytes, const ShapedConstants& k,
                                                       std::uint64_t& first, std::uint64_t& second) noexcept {
#if FASTCORE_BINANCE_X86
    const __m128i quads = shaped_quads(p, at0, at1, up_bytes, stay_bytes, k);
    const __m128i values = _mm_add_epi64(_mm_mul_epu32(quads, _mm_set1_epi64x(10000)), _mm_srli_epi64(quads, 32));
    first = static_cast<std::uint64_t>(_mm_cvtsi128_si64(values));
    second = static_cast<std::uint64_t>(_mm_cvtsi128_si64(_mm_unpackhi_epi64(values, values)));
#else
    (void)k;
    first = shaped_value(p, at0, up_bytes[0], stay_bytes[0]);
    second = shaped_value(p, at1, up_bytes[1], stay_bytes[1]);
#endif
  }

#if FASTCORE_BINANCE_X86
  // Whether the 16 bytes at `at` have a learned layout (all 16 lanes set): each byte plus its lane
  // of `offset` must be above that lane of `floor` as signed bytes (LevelShape::block_offset: a digit
  // where a digit is wanted, the learned byte where a literal is). The SSE2 form of word_mismatch();
  // both arrays are 16-byte aligned.
  [[gnu::always_inline]] static __m128i block_match(const char* at, const std::uint8_t* offset,
                                                    const std::uint8_t* floor) noexcept {
    const __m128i v = _mm_loadu_si128(reinterpret_cast<const __m128i*>(at));
    return _mm_cmpgt_epi8(_mm_add_epi8(v, _mm_load_si128(reinterpret_cast<const __m128i*>(offset))),
                          _mm_load_si128(reinterpret_cast<const __m128i*>(floor)));
  }
#else
  // The portable form of block_match(): whether all 16 bytes at `at` fit the learned layout.
  static bool block_matches(const char* at, const std::uint8_t* offset, const std::uint8_t* floor) noexcept {
    for (std::size_t j = 0; j < 16; ++j) {
      const auto byte = static_cast<std::uint8_t>(at[j]);
      if (static_cast<std::int8_t>(static_cast<std::uint8_t>(byte + offset[j])) <= static_cast<std::int8_t>(floor[j])) {
        return false;
      }
    }
    return true;
  }
#endif

  // block_offset and block_floor of one learned byte: a digit ('0'..'9' lands on 0x76..0x7F) or
  // exactly `byte` (lands on 0x7F); any other byte lands at or below the floor (the add wraps).
  static void learn_block_byte(bool is_digit_byte, std::uint8_t byte, std::uint8_t& offset, std::uint8_t& floor) noexcept {
    offset = static_cast<std::uint8_t>(0x7F - (is_digit_byte ? '9' : byte));
    floor = is_digit_byte ? 0x75 : 0x7E;
  }

  // The layout test for one 8-byte word (the portable form of block_match()): non-zero where a wanted
  // digit (`digit_high`, 0x80 per byte) is none or a wanted literal (`literal`) differs from `pattern`.
  [[gnu::always_inline]] static std::uint64_t word_mismatch(std::uint64_t word, std::uint64_t pattern,
                                                            std::uint64_t literal, std::uint64_t digit_high) noexcept {
    return (non_digit_bytes(word ^ kAsciiZeros) & digit_high) | ((word ^ pattern) & literal);
  }

  // Whether the level at p has the shape's layout byte for byte (digits where it has digits, the
  // same bytes elsewhere), and then its price and quantity written to the event. The caller makes
  // sure that the shape is learned and that the frame holds the level and one byte more. The level
  // is checked as two 16-byte blocks (SSE2, x86-64's baseline) or, elsewhere, three 8-byte words
  // (the same check, SWAR); every load ends inside the level (a short price's word may start up to
  // 5 bytes before it, on the frame's keys: see learn_field()). False otherwise, with the event's
  // price and quantity to be rewritten.
  //
  // Same result as the byte reader: the digits and bytes checked are the ones the shape was learned
  // from, where quick_steps() accepted the decimals, so it accepts these with the same integer
  // digits, kept fraction digits and zeros past them (and the same overflow bound), and the count
  // computed here is the value of those digits. With unit steps (kUnitSteps) the counts are the
  // values times the shape's multipliers, computed in two 64-bit lanes and stored with one 16-byte
  // store (x86); otherwise the multiply by the step's odd_inverse and the exact-division test are
  // scalar.
  template <bool kUnitSteps>
  [[gnu::always_inline]] static bool shaped_level(const char* p, std::size_t size, std::ptrdiff_t px_at,
                                                  std::ptrdiff_t qty_at, const LevelShape& shape,
                                                  const ShapedConstants& k, const WireStep& tick, const WireStep& lot,
                                                  Event* event) noexcept {
    if constexpr (std::endian::native != std::endian::little) {
      return false;  // the words are read as little-endian
    } else {
#if FASTCORE_BINANCE_X86
      // Two 16-byte blocks (at 0 and size - 16), each checked by block_match().
      const auto block_ok = [&](const char* at, int i) {
        return block_match(at, shape.block_offset[i], shape.block_floor[i]);
      };
      if (_mm_movemask_epi8(_mm_and_si128(block_ok(p, 0), block_ok(p + size - 16, 1))) != 0xFFFF) return false;
      if constexpr (kUnitSteps) {  // tick.unit and lot.unit: the products are the counts
        static_assert(offsetof(Event, qty_lots) == offsetof(Event, px_ticks) + 8 && offsetof(Event, px_ticks) % 16 == 0);
        const __m128i counts =
            quads_times(shaped_quads(p, px_at, qty_at, shape.up_bytes, shape.stay_bytes, k),
                        _mm_load_si128(reinterpret_cast<const __m128i*>(shape.lane_multiplier_hi)),
                        _mm_load_si128(reinterpret_cast<const __m128i*>(shape.lane_multiplier)));
        _mm_store_si128(reinterpret_cast<__m128i*>(&event->px_ticks), counts);
        return true;
      }
#else
      const std::uint64_t words[LevelShape::kWords] = {load_word(p), load_word(p + 8), load_word(p + size - 8)};
      std::uint64_t bad_bytes = 0;
      for (std::size_t i = 0; i < LevelShape::kWords; ++i) {
        bad_bytes |= word_mismatch(words[i], shape.pattern[i], shape.literal[i], shape.digit_high[i]);
      }
      if (bad_bytes != 0) return false;
#endif
      std::uint64_t px = 0;
      std::uint64_t qty = 0;
      shaped_value_pair(p, px_at, qty_at, shape.up_bytes, shape.stay_bytes, k, px, qty);
      const std::uint64_t px_product = px * shape.multiplier[0];
      const std::uint64_t qty_product = qty * shape.multiplier[1];
      if constexpr (kUnitSteps) {
        event->px_ticks = static_cast<std::int64_t>(px_product);
        event->qty_lots = static_cast<std::int64_t>(qty_product);
        return true;
      } else {
        return wire_exact_steps_of_product(px_product, tick, event->px_ticks) &&
               wire_exact_steps_of_product(qty_product, lot, event->qty_lots);
      }
    }
  }

  // One decimal of a layout being learned, from `at` (its first byte) to its closing quote, as
  // quick_steps() read it in text[0, size): marks its digits in `digit` (and clears them in `literal`)
  // and fills `out`. Returns the index of the byte after its digits (its closing quote), or 0 when its
  // integer digits, point and kept fraction digits do not fit 8 bytes.
  static std::size_t learn_field(const char* text, std::size_t size, std::size_t at, const WireStep& step,
                                 std::uint8_t* digit, std::uint8_t* literal, LevelShape::Field& out) noexcept {
    std::size_t i = at;
    while (i < size && is_digit(text[i])) digit[i++] = 0x80;
    const std::size_t int_digits = i - at;
    std::size_t kept = 0;
    if (i < size && text[i] == '.') {
      ++i;
      // The step's decimals are digits; finer ones (zeros, or quick_steps() would have refused
      // the text) stay literal bytes.
      while (i < size && is_digit(text[i]) && kept < static_cast<std::size_t>(step.decimals)) {
        digit[i++] = 0x80;
        ++kept;
      }
      while (i < size && is_digit(text[i])) ++i;
    }
    // Integer digits, point and kept digits (the bytes read) within 8 bytes.
    const std::size_t read_end = at + int_digits + (kept > 0 ? 1 + kept : 0);
    if (int_digits == 0 || read_end - at > 8) return 0;
    for (std::size_t j = at; j < i; ++j) {
      if (digit[j] != 0) literal[j] = 0;
    }
    // The 8 bytes read end with the last byte used (the digits then fill the word's top bytes), and
    // start up to 7 bytes before the text when it is shorter: a level or bookTicker region is never
    // a frame's first bytes (the fast path has read at least `{"e":"depthUpdate",` or `"s":"` there).
    const std::size_t lead = 8 - (read_end - at);  // bytes before the first digit in the word (0..7)
    out.at = static_cast<std::int32_t>(at) - static_cast<std::int32_t>(lead);
    // The bytes of the word from byte n (0..8) up.
    const auto from = [](std::size_t n) { return n >= 8 ? std::uint64_t{0} : ~std::uint64_t{0} << (8 * n); };
    if (kept > 0) {  // the integer digits move up one byte, over the point
      out.up_bytes = from(lead + 1) & ~from(lead + 1 + int_digits);
      out.stay_bytes = from(lead + 1 + int_digits);
    } else {
      out.up_bytes = 0;
      out.stay_bytes = from(lead);
    }
    out.multiplier = static_cast<std::uint64_t>(detail::kPow10[step.decimals - static_cast<std::int32_t>(kept)]) *
                     step.odd_inverse;
    return i;
  }

  // Stores a learned field as decimal k of a LevelShape or BboShape (whose fields lie in parts, side by side).
  template <typename Shape>
  static void set_field(Shape& shape, std::size_t k, const LevelShape::Field& field) noexcept {
    shape.up_bytes[k] = field.up_bytes;
    shape.stay_bytes[k] = field.stay_bytes;
    shape.multiplier[k] = field.multiplier;
    shape.lane_multiplier[k] = field.multiplier;  // used only when at most LevelShape::kMaxLaneMultiplier
    shape.lane_multiplier_hi[k] = field.multiplier * 10000U;
    shape.at[k] = field.at;
  }

  // Learns the layout of the level [level, level + size), which the byte reader just accepted, when
  // it fits LevelShape (16 to 24 bytes, each decimal's integer digits, point and kept fraction digits
  // within 8 bytes); otherwise forgets the shape, so that such levels go on being read byte by byte.
  [[gnu::noinline]] static void learn_shape(const char* level, std::size_t size, const WireStep& tick, const WireStep& lot,
                          LevelShape& shape) noexcept {
    constexpr std::size_t kMax = 8 * LevelShape::kWords;
    shape.size = LevelShape::kUnlearned;
    if (size < 16 || size > kMax || tick.decimals < 0 || lot.decimals < 0) return;
    std::uint8_t literal[kMax] = {};
    std::uint8_t digit[kMax] = {};
    std::uint8_t pattern[kMax] = {};
    std::memcpy(pattern, level, size);
    for (std::size_t i = 0; i < size; ++i) literal[i] = 0xFF;
    const auto field = [&](std::size_t at, const WireStep& step, LevelShape::Field& out) -> std::size_t {
      return learn_field(level, size, at, step, digit, literal, out);
    };
    LevelShape learned;
    LevelShape::Field px;
    LevelShape::Field qty;
    const std::size_t px_end = field(2, tick, px);
    if (px_end == 0) return;
    const std::size_t qty_end = field(px_end + 3, lot, qty);  // past `","`
    if (qty_end == 0 || qty_end + 2 != size) return;          // then `"]`
    set_field(learned, 0, px);
    set_field(learned, 1, qty);
    // Unit steps take the two-lane multiply of shaped_level(): a layout whose multiplier is too
    // large for it (a price with fewer fraction digits than the step's, by 6 or more) stays unlearned.
    if (tick.unit && lot.unit &&
        (px.multiplier > LevelShape::kMaxLaneMultiplier || qty.multiplier > LevelShape::kMaxLaneMultiplier)) {
      return;
    }
    const std::size_t block_at[2] = {0, size - 16};
    for (std::size_t b = 0; b < 2; ++b) {
      for (std::size_t j = 0; j < 16; ++j) {
        const std::size_t at = block_at[b] + j;
        learn_block_byte(digit[at] != 0, pattern[at], learned.block_offset[b][j], learned.block_floor[b][j]);
      }
    }
    const std::size_t word_at[LevelShape::kWords] = {0, 8, size - 8};
    for (std::size_t w = 0; w < LevelShape::kWords; ++w) {
      std::uint64_t p = 0, l = 0, d = 0;
      std::memcpy(&p, pattern + word_at[w], 8);
      std::memcpy(&l, literal + word_at[w], 8);
      std::memcpy(&d, digit + word_at[w], 8);
      learned.pattern[w] = p & l;
      learned.literal[w] = l;
      learned.digit_high[w] = d;
    }
    learned.size = static_cast<std::uint32_t>(size);
    shape = learned;
  }

  // The four decimals of a bookTicker laid out as the symbol's last one (BboShape), from `region`
  // (its `,"b":"`): checked as four 16-byte blocks (SSE2) or eight 8-byte words (elsewhere), the
  // same way and with the same argument as shaped_level(); every load ends inside the region (the
  // first decimal's word may start a byte before it, on the symbol's closing quote).
  [[gnu::always_inline]] static bool shaped_bbo(const char* region, const char* end, const BboShape& shape,
                                                const WireStep& tick, const WireStep& lot,
                                                std::int64_t* out) noexcept {
    if constexpr (std::endian::native != std::endian::little) {
      return false;  // the words are read as little-endian
    } else {
      // size is 0 (nothing learned) or 32..64.
      const std::size_t size = shape.size;
      if (size == 0 || end - region < static_cast<std::ptrdiff_t>(size)) return false;
#if FASTCORE_BINANCE_X86
      const auto block_ok = [&](const char* at, int i) {
        return block_match(at, shape.block_offset[i], shape.block_floor[i]);
      };
      const __m128i all = _mm_and_si128(_mm_and_si128(block_ok(region, 0), block_ok(region + 16, 1)),
                                        _mm_and_si128(block_ok(region + size - 32, 2), block_ok(region + size - 16, 3)));
      if (_mm_movemask_epi8(all) != 0xFFFF) return false;
#else
      std::uint64_t bad_bytes = 0;
      for (std::size_t i = 0; i < BboShape::kWords; ++i) {
        const std::uint64_t word = load_word(region + (i < 4 ? 8 * i : size - 32 + 8 * (i - 4)));
        bad_bytes |= word_mismatch(word, shape.pattern[i], shape.literal[i], shape.digit_high[i]);
      }
      if (bad_bytes != 0) return false;
#endif
      const ShapedConstants k;
#if FASTCORE_BINANCE_X86
      if (shape.lanes) {  // unit steps: the products are the counts, b and B then a and A side by side
        const auto lanes = [&](std::size_t i) {
          return quads_times(shaped_quads(region, shape.at[i], shape.at[i + 1], shape.up_bytes + i, shape.stay_bytes + i, k),
                             _mm_load_si128(reinterpret_cast<const __m128i*>(shape.lane_multiplier_hi + i)),
                             _mm_load_si128(reinterpret_cast<const __m128i*>(shape.lane_multiplier + i)));
        };
        _mm_storeu_si128(reinterpret_cast<__m128i*>(out), lanes(0));
        _mm_storeu_si128(reinterpret_cast<__m128i*>(out + 2), lanes(2));
        return true;
      }
#endif
      std::uint64_t products[4];
      shaped_value_pair(region, shape.at[0], shape.at[1], shape.up_bytes, shape.stay_bytes, k, products[0], products[1]);
      shaped_value_pair(region, shape.at[2], shape.at[3], shape.up_bytes + 2, shape.stay_bytes + 2, k, products[2],
                        products[3]);
      for (std::size_t i = 0; i < 4; ++i) products[i] *= shape.multiplier[i];
      return wire_exact_steps_of_product(products[0], tick, out[0]) &&
             wire_exact_steps_of_product(products[1], lot, out[1]) &&
             wire_exact_steps_of_product(products[2], tick, out[2]) &&
             wire_exact_steps_of_product(products[3], lot, out[3]);
    }
  }

  // Learns the layout of the bookTicker region [region, region + size) (`,"b":"` to A's closing
  // quote), which the byte reader just accepted, when it fits BboShape; otherwise forgets the shape.
  static void learn_bbo_shape(const char* region, std::size_t size, const WireStep& tick, const WireStep& lot,
                              BboShape& shape) noexcept {
    constexpr std::size_t kMax = BboShape::kMax;
    shape.size = 0;
    if (size < BboShape::kMin || size > kMax || tick.decimals < 0 || lot.decimals < 0) return;
    std::uint8_t literal[kMax] = {};
    std::uint8_t digit[kMax] = {};
    std::uint8_t pattern[kMax] = {};
    std::memcpy(pattern, region, size);
    for (std::size_t i = 0; i < size; ++i) literal[i] = 0xFF;
    BboShape learned;
    std::size_t at = 6;  // past `,"b":"`
    for (std::size_t k = 0; k < 4; ++k) {
      LevelShape::Field field;
      const std::size_t field_end = learn_field(region, size, at, k % 2 == 0 ? tick : lot, digit, literal, field);
      if (field_end == 0) return;
      set_field(learned, k, field);
      at = field_end + 7;  // past `","B":"`
    }
    if (at - 7 + 1 != size) return;  // the region ends with A's closing quote
    learned.lanes = tick.unit && lot.unit;
    for (const std::uint64_t multiplier : learned.multiplier) {
      learned.lanes = learned.lanes && multiplier <= LevelShape::kMaxLaneMultiplier;
    }
    const std::size_t block_at[4] = {0, 16, size - 32, size - 16};
    for (std::size_t b = 0; b < 4; ++b) {
      for (std::size_t j = 0; j < 16; ++j) {
        const std::size_t i = block_at[b] + j;
        learn_block_byte(digit[i] != 0, pattern[i], learned.block_offset[b][j], learned.block_floor[b][j]);
      }
    }
    for (std::size_t w = 0; w < BboShape::kWords; ++w) {
      const std::size_t word_at = w < 4 ? 8 * w : size - 32 + 8 * (w - 4);
      std::uint64_t p = 0, l = 0, d = 0;
      std::memcpy(&p, pattern + word_at, 8);
      std::memcpy(&l, literal + word_at, 8);
      std::memcpy(&d, digit + word_at, 8);
      learned.pattern[w] = p & l;
      learned.literal[w] = l;
      learned.digit_high[w] = d;
    }
    learned.size = static_cast<std::uint32_t>(size);
    shape = learned;
  }

  bool book_ticker() noexcept {
    if (!lit("\"u\":") || !uint_span(f_.last_id, ints_[0])) return false;
    f_.present |= kHasLastId;
    if (!lit(",\"s\":\"") || !symbol()) return false;
    // A bookTicker with "e" (USD-M): a new head layout for the symbol when it has none, or when two
    // of its bookTickers in a row missed it.
    if ((f_.present & kHasE) != 0) {
      HeadShape& head = feed_.symbols_[f_.id].ticker_head;
      if (head.size == 0 || (tried_ticker_ == f_.id && ++head.misses >= 2)) {
        for (std::size_t k = 1; k < HeadShape::kInts; ++k) ints_[k].from = nullptr;
        t_.from = nullptr;
        learn_head(head);
      }
    }
    return book_ticker_rest();
  }

  // A bookTicker from its decimals (its head read key by key or by shaped_head()) to its `}`.
  // Nearly every bookTicker of a symbol has its decimals and its tail laid out as its last one's
  // (98.8 % of the recorded BTCUSDT decimals, 94 % of ETHUSDT; a signed-price symbol never learns a
  // shape: steps() refuses it); that path is inlined into its callers, the rest is out of line.
  // The decimals' texts are not kept: with Fields::bbo_read, on_book_ticker() reads only the values.
  [[gnu::always_inline]] bool book_ticker_rest() noexcept {
    Symbol& symbol = feed_.symbols_[f_.id];
    const BboShape& shape = symbol.bbo_shape;
    if (!shaped_bbo(p_, end_, shape, symbol.wire_tick, symbol.wire_lot, feed_.bbo_steps_)) {
      return book_ticker_decimals(symbol);
    }
    p_ += shape.size;
    return book_ticker_tail(symbol);
  }

  // book_ticker_rest() for decimals not laid out as the symbol's BboShape: read byte by byte, then learned.
  [[gnu::noinline]] bool book_ticker_decimals(Symbol& symbol) noexcept {
    const bool negative = symbol.instrument.allow_negative_price;
    const char* const region = p_;
    if (!lit(",\"b\":\"") || !decimal_field(f_.bid_px, symbol.wire_tick, negative, feed_.bbo_steps_[0]) ||
        !lit(",\"B\":\"") || !decimal_field(f_.bid_qty, symbol.wire_lot, false, feed_.bbo_steps_[1]) ||
        !lit(",\"a\":\"") || !decimal_field(f_.ask_px, symbol.wire_tick, negative, feed_.bbo_steps_[2]) ||
        !lit(",\"A\":\"") || !decimal_field(f_.ask_qty, symbol.wire_lot, false, feed_.bbo_steps_[3])) {
      return false;
    }
    learn_bbo_shape(region, static_cast<std::size_t>(p_ - region), symbol.wire_tick, symbol.wire_lot, symbol.bbo_shape);
    return book_ticker_tail(symbol);
  }

  // After the decimals: USD-M's `,"T":n,"E":n}` (nearly always laid out as the symbol's last
  // TailShape), or spot's `}`.
  [[gnu::always_inline]] bool book_ticker_tail(Symbol& symbol) noexcept {
    f_.present |= kHasBidPx | kHasBidQty | kHasAskPx | kHasAskQty;
    f_.bbo_read = true;
    TailShape& tail = symbol.ticker_tail;
    if (shaped_tail(tail)) {
      tail.misses = 0;
      ++feed_.tail_shape_frames_;
      return true;
    }
    return book_ticker_tail_keys(tail);
  }

  // book_ticker_tail() for a tail not laid out as `tail`: read key by key, then learned.
  [[gnu::noinline]] bool book_ticker_tail_keys(TailShape& tail) noexcept {
    if (lit("}")) return true;
    const char* const tail_at = p_;
    if (!lit(",\"T\":")) return false;
    const char* const t_from = p_;
    if (!skip_uint()) return false;
    const char* const t_to = p_;
    if (!lit(",\"E\":")) return false;
    const char* const e_from = p_;
    if (!uint(f_.event_time_ms)) return false;
    const char* const e_to = p_;
    f_.present |= kHasEventTime;
    if (!lit("}")) return false;
    // A new tail layout for the symbol when it has none, or when two of its tails in a row missed it.
    if (tail.size == TailShape::kUnlearned || ++tail.misses >= 2) {
      const auto at = [tail_at](const char* c) { return static_cast<std::size_t>(c - tail_at); };
      learn_tail(tail_at, at(p_), at(t_from), at(t_to), at(e_from), at(e_to), tail);
    }
    return true;
  }

  bool trade() noexcept {
    if (!lit(",\"E\":") || !uint(f_.event_time_ms)) return false;
    f_.present |= kHasEventTime;
    if (lit(",\"T\":") && !skip_uint()) return false;
    if (!lit(",\"s\":\"") || !symbol()) return false;
    if (!lit(",\"t\":") || !uint(f_.trade_id)) return false;
    f_.present |= kHasTradeId;
    if (!lit(",\"p\":\"") || !plain_string(f_.px) || !lit(",\"q\":\"") || !plain_string(f_.qty)) return false;
    f_.present |= kHasPx | kHasQty;
    std::string_view ignored;
    if (lit(",\"X\":\"") && !plain_string(ignored)) return false;
    if (lit(",\"T\":") && !skip_uint()) return false;
    if (!lit(",\"m\":") || !boolean(f_.maker)) return false;
    f_.present |= kHasMaker;
    bool ignored_flag = false;
    if (lit(",\"M\":") && !boolean(ignored_flag)) return false;
    return lit("}");
  }

  BinanceFeed& feed_;
  Fields& f_;
  const char* const begin_;
  const char* p_;
  const char* end_;
  std::int64_t ts_local_ns_;
  std::uint32_t tried_head_ = kNoInstrument;  // the symbol whose depth head layout this frame missed
  std::uint32_t tried_ticker_ = kNoInstrument;  // the symbol whose bookTicker head layout this frame missed
  // Left uninitialised (every frame builds a FastReader): depth() sets them before learn_head().
  Span ints_[HeadShape::kInts];               // E, U, u, pu as depth() read them; u as book_ticker() did
  Span t_;                                    // T
  const char* type_at_ = nullptr;             // "depthUpdate" in a depth frame
};

// -------------------------------------------------------------------------------------------------

BinanceFeed::BinanceFeed(std::vector<common::Instrument> instruments, book::BookSet& books,
                         BinanceFeedConfig config)
    : config_(config), books_(books) {
  symbols_.reserve(instruments.size());
  for (auto& instrument : instruments) {
    Symbol symbol;
    for (char& c : instrument.symbol) c = upper(c);
    symbol.instrument = std::move(instrument);
    symbol.wire_tick = make_wire_step(symbol.instrument.tick);
    symbol.wire_lot = make_wire_step(symbol.instrument.lot);
    symbols_.push_back(std::move(symbol));
  }
  std::size_t table_size = 16;
  while (table_size < symbols_.size() * 2) table_size *= 2;
  table_.assign(table_size, kNoInstrument);
  table_mask_ = table_size - 1;
  for (std::uint32_t id = 0; id < symbols_.size(); ++id) {
    std::size_t slot = hash_symbol(symbols_[id].instrument.symbol) & table_mask_;
    while (table_[slot] != kNoInstrument) slot = (slot + 1) & table_mask_;
    table_[slot] = id;
  }
  std::size_t fast_size = 16;
  while (fast_size < symbols_.size() * 2) fast_size *= 2;
  fast_table_.assign(fast_size, FastSymbol{});
  fast_mask_ = fast_size - 1;
  for (const Symbol& symbol : symbols_) {
    const std::string& text = symbol.instrument.symbol;
    std::uint32_t id = kNoInstrument;
    if (text.empty() || text.size() > kFastSymbolBytes || !try_find(text, id)) continue;
    // The text padded so that 16 bytes can be loaded from it, as fast_find() loads from a frame.
    char padded[2 * kFastSymbolBytes] = {};
    std::memcpy(padded, text.data(), text.size());
    FastSymbol entry = fast_symbol_key_impl<FastSymbol>(padded, text.size());
    std::size_t slot = fast_symbol_hash_impl(entry) & fast_mask_;
    bool duplicate = false;
    while (fast_table_[slot].id != kNoInstrument) {
      const FastSymbol& other = fast_table_[slot];
      duplicate |= other.word0 == entry.word0 && other.word1 == entry.word1 && other.size == entry.size;
      slot = (slot + 1) & fast_mask_;
    }
    if (duplicate) continue;  // two instruments spelled alike: try_find()'s answer is already in
    entry.id = id;
    fast_table_[slot] = entry;
  }
  scratch_.reserve(4096);
}

bool BinanceFeed::fast_find(const char* text, std::size_t size, std::uint32_t& instrument_id) const noexcept {
  if (size == 0 || size > kFastSymbolBytes) return false;
  const FastSymbol key = fast_symbol_key_impl<FastSymbol>(text, size);
  std::size_t slot = fast_symbol_hash_impl(key) & fast_mask_;
  while (true) {
    const FastSymbol& entry = fast_table_[slot];
    if (entry.id == kNoInstrument) return false;
    if (entry.word0 == key.word0 && entry.word1 == key.word1 && entry.size == key.size) {
      instrument_id = entry.id;
      return true;
    }
    slot = (slot + 1) & fast_mask_;
  }
}

bool BinanceFeed::try_find(std::string_view symbol, std::uint32_t& instrument_id) const noexcept {
  std::size_t slot = hash_symbol(symbol) & table_mask_;
  while (true) {
    const std::uint32_t id = table_[slot];
    if (id == kNoInstrument) return false;
    if (equal_upper(symbol, symbols_[id].instrument.symbol)) {
      instrument_id = id;
      return true;
    }
    slot = (slot + 1) & table_mask_;
  }
}

FrameStatus BinanceFeed::bad(BadFrameReason reason, std::uint32_t id, const char* what, const char* field,
                             std::string_view value) noexcept {
  ++counters_.bad_frames;
  ++counters_.bad_by_reason[static_cast<std::size_t>(reason)];
  if (id != kNoInstrument) ++symbols_[id].counters.bad_frames;
  last_reason_ = reason;
  char* out = last_error_.data();
  const std::size_t capacity = last_error_.size();
  std::size_t len = 0;
  out[0] = '\0';
  append(out, capacity, len, id != kNoInstrument ? std::string_view(symbols_[id].instrument.symbol) : "?");
  append(out, capacity, len, " ");
  append(out, capacity, len, what);
  append(out, capacity, len, ": ");
  append(out, capacity, len, describe(reason));
  append(out, capacity, len, " in field '");
  append(out, capacity, len, field);
  append(out, capacity, len, "' value '");
  append_sanitised(out, capacity, len, value);
  append(out, capacity, len, "'");
  last_error_len_ = len;
  return FrameStatus::kBadFrame;
}

FrameStatus BinanceFeed::bad_decimal(DecimalError error, std::uint32_t id, const char* what, const char* field,
                                     std::string_view value, bool is_price) noexcept {
  (void)bad(BadFrameReason::kBadDecimal, id, what, field, value);
  char* out = last_error_.data();
  std::size_t len = last_error_len_;
  append(out, last_error_.size(), len, ": ");
  append(out, last_error_.size(), len, common::describe(error));
  if (id != kNoInstrument) {
    const common::DecimalStep step = is_price ? symbols_[id].instrument.tick : symbols_[id].instrument.lot;
    // Error path only: formatting the increment may allocate.
    append(out, last_error_.size(), len, is_price ? " (tick size " : " (lot size ");
    append(out, last_error_.size(), len, common::format_steps(1, step));
    append(out, last_error_.size(), len, ")");
  }
  last_error_len_ = len;
  return FrameStatus::kBadFrame;
}

void BinanceFeed::emit(std::span<const Event> events) noexcept {
  last_events_ = events;
  counters_.events += events.size();
  if (sink_ != nullptr && !events.empty()) sink_->on_events(events);
}

void BinanceFeed::apply_events(std::uint32_t id, std::span<const Event> events) noexcept {
  // Cannot be refused: every event carries `id`, quantities were read non-negative, prices are never
  // INT64_MIN (the decimal reader's range stops at -INT64_MAX) and kind and side are set here.
  (void)books_[id].try_apply_batch(events, id);
}

void BinanceFeed::start_resync(std::uint32_t id, std::int64_t ts_local_ns, bool emit_clear) noexcept {
  Symbol& symbol = symbols_[id];
  symbol.state = SyncState::kResync;
  symbol.awaiting_first = false;
  symbol.snapshot_requested = false;
  symbol.buffer.clear();
  symbol.diffs.clear();
  symbol.head = 0;
  ++symbol.counters.resyncs;
  ++counters_.resyncs;
  if (!emit_clear) return;
  // The book is emptied so nothing can read a stale book as current; seq 0 says "not synced".
  Event event{};
  event.ts_local_ns = ts_local_ns;
  event.instrument_id = id;
  event.kind = EventKind::kClear;
  event.flags = common::kFlagLastInMessage;
  event.venue_id = config_.venue_id;
  snapshot_.assign(1, event);
  apply_events(id, snapshot_);
  books_[id].set_sequence(0);
  emit(snapshot_);
}

void BinanceFeed::resync(std::uint32_t id) noexcept {
  if (id < symbols_.size()) start_resync(id, 0, true);
}

void BinanceFeed::resync_all() noexcept {
  for (std::uint32_t id = 0; id < symbols_.size(); ++id) start_resync(id, 0, true);
}

void BinanceFeed::buffer_diff(Symbol& symbol, std::uint64_t first, std::uint64_t last, std::uint64_t prev,
                              std::span<const Event> events) {
  if (symbol.head == symbol.diffs.size()) {
    symbol.diffs.clear();
    symbol.buffer.clear();
    symbol.head = 0;
  }
  if (symbol.diffs.size() - symbol.head >= config_.max_buffered_diffs) {
    // Drop the oldest half: a snapshot that needed them reports kNeedsSnapshot (it cannot straddle).
    ++counters_.buffer_overflows;
    const std::size_t keep_from = symbol.head + (symbol.diffs.size() - symbol.head + 1) / 2;
    const std::size_t event_from = keep_from < symbol.diffs.size() ? symbol.diffs[keep_from].begin : symbol.buffer.size();
    symbol.buffer.erase(symbol.buffer.begin(), symbol.buffer.begin() + static_cast<std::ptrdiff_t>(event_from));
    symbol.diffs.erase(symbol.diffs.begin(), symbol.diffs.begin() + static_cast<std::ptrdiff_t>(keep_from));
    for (auto& diff : symbol.diffs) diff.begin -= event_from;
    symbol.head = 0;
  }
  symbol.diffs.push_back({first, last, prev, symbol.buffer.size(), static_cast<std::uint32_t>(events.size())});
  symbol.buffer.insert(symbol.buffer.end(), events.begin(), events.end());
  ++counters_.buffered_diffs;
}

FrameStatus BinanceFeed::on_frame(std::string_view frame, std::int64_t ts_local_ns) noexcept {
  ++counters_.frames;
  last_id_ = kNoInstrument;
  last_events_ = {};
  if (frame.size() > config_.max_frame_bytes) {
    char text[48];
    std::snprintf(text, sizeof text, "%zu bytes", frame.size());
    return bad(BadFrameReason::kTooLarge, kNoInstrument, "frame", "frame", text);
  }
  if (!wire_text_ends_safely(frame)) {
    return bad(BadFrameReason::kMalformedJson, kNoInstrument, "frame", "frame", "does not end with '}'");
  }
  scratch_.clear();
  frame_end_ = frame.data() + frame.size();
  if (config_.fast_path) {
    Fields fast;
    if (FastReader(*this, fast, frame.data(), frame_end_, ts_local_ns).frame()) [[likely]] {
      ++counters_.fast_path_frames;
      last_id_ = fast.id;
      // A bookTicker the fast path read (FastReader::book_ticker_rest(); USD-M's or spot's, which
      // classify_and_apply() would type by its fields): its symbol was found, u and the four decimals
      // were there (converted into bbo_steps_), and the fast path sets no mismatch, no control-reply
      // field and no stream without data; of on_book_ticker()'s checks only E's range is left.
      if (fast.bbo_read) {
        if (fast.event_time_ms > static_cast<std::uint64_t>(std::numeric_limits<std::int64_t>::max() / kNsPerMs)) {
          return bad(BadFrameReason::kBadNumber, fast.id, "bookTicker", "E", "out of range");
        }
        return emit_book_ticker(fast.id, fast.last_id, fast.event_time_ms, bbo_steps_, ts_local_ns);
      }
      return classify_and_apply(fast, ts_local_ns);
    }
    scratch_.clear();  // what the fast path read before it gave up
  }
  Fields fields;
  Scanner scanner(*this, fields, frame.data(), frame_end_, &scratch_, false);
  if (!scanner.frame()) {
    last_id_ = fields.id;
    const char* what = fields.type == EventType::kDepth ? "depthUpdate" : "frame";
    const FrameStatus status =
        scanner.error_reason == BadFrameReason::kBadDecimal
            ? bad_decimal(scanner.error_decimal, fields.id, what, scanner.error_field, scanner.error_value, scanner.error_is_price)
            : bad(scanner.error_reason, fields.id, what, scanner.error_field, scanner.error_value);
    // A depth frame lost (or one that might have been: the type was not read yet) breaks the book.
    if (fields.id != kNoInstrument && (fields.type == EventType::kDepth || fields.type == EventType::kNone)) {
      start_resync(fields.id, ts_local_ns, true);
    }
    return status;
  }
  last_id_ = fields.id;
  return classify_and_apply(fields, ts_local_ns);
}

[[gnu::always_inline]] inline FrameStatus BinanceFeed::emit_book_ticker(std::uint32_t id, std::uint64_t seq,
                                                                       std::uint64_t event_time_ms,
                                                                       const std::int64_t* values,
                                                                       std::int64_t ts_local_ns) noexcept {
  const std::int64_t ts_exchange_ns = static_cast<std::int64_t>(event_time_ms) * kNsPerMs;
  // Written in place, as the depth events are (EventProto): a local Event[2] costs a 128-byte memset
  // and a copy, and zeroing each event before filling it field by field twice the stores.
  scratch_.clear();
  scratch_.reserve_more(2);
  Event* const out = scratch_.end();
  for (int i = 0; i < 2; ++i) {
    const EventProto proto(ts_exchange_ns, ts_local_ns, seq, id, EventKind::kBbo, i == 0 ? Side::kBid : Side::kAsk,
                           config_.venue_id, i == 1 ? common::kFlagLastInMessage : std::uint8_t{0});
    proto.store_except_prices(out + i);
    // px_ticks and qty_lots (bytes 16 to 31, see EventProto) as one 16-byte copy.
    std::memcpy(reinterpret_cast<char*>(out + i) + offsetof(Event, px_ticks), values + 2 * i, 2 * sizeof(std::int64_t));
  }
  scratch_.commit(out + 2);
  ++counters_.book_tickers;
  ++symbols_[id].counters.book_tickers;
  emit(scratch_);
  return FrameStatus::kOk;
}

FrameStatus BinanceFeed::classify_and_apply(Fields& f, std::int64_t ts_local_ns) noexcept {
  if (f.type == EventType::kNone) {
    if ((f.present & (kHasResult | kHasId | kHasError)) != 0 && (f.present & kHasData) == 0) {
      ++counters_.control;
      if ((f.present & kHasError) != 0) ++counters_.error_replies;
      return FrameStatus::kControl;
    }
    if (f.has(kHasStream) && !f.has(kHasData)) {
      if (f.mismatch_field != nullptr) {
        return bad(f.mismatch_reason, kNoInstrument, "combined-stream frame", f.mismatch_field, f.mismatch_value);
      }
      return bad(BadFrameReason::kMissingField, kNoInstrument, "combined-stream frame", "data", f.stream);
    }
    // Spot bookTicker frames carry no "e": recognised by their fields.
    if (f.has(kHasLastId | kHasSymbol | kHasBidPx | kHasBidQty | kHasAskPx | kHasAskQty)) {
      f.type = EventType::kBookTicker;
    } else {
      ++counters_.ignored;
      return FrameStatus::kIgnored;
    }
  }
  switch (f.type) {
    case EventType::kDepth: return on_depth(f, ts_local_ns);
    case EventType::kBookTicker: return on_book_ticker(f, ts_local_ns);
    case EventType::kTrade:
    case EventType::kAggTrade: return on_trade(f, ts_local_ns);
    default: ++counters_.ignored; return FrameStatus::kIgnored;
  }
}

FrameStatus BinanceFeed::on_depth(Fields& f, std::int64_t ts_local_ns) noexcept {
  const char* what = "depthUpdate";
  const bool usdm = config_.market == BinanceMarket::kUsdm;
  FrameStatus status = FrameStatus::kOk;
  if (!f.has(kHasSymbol)) {
    if (f.mismatch_field != nullptr) return bad(f.mismatch_reason, kNoInstrument, what, f.mismatch_field, f.mismatch_value);
    return bad(BadFrameReason::kMissingField, kNoInstrument, what, "s", "");
  }
  if (f.id == kNoInstrument) {
    ++counters_.unknown_symbol;
    return FrameStatus::kUnknownSymbol;
  }
  const std::uint32_t id = f.id;
  if (f.mismatch_field != nullptr) {
    status = bad(f.mismatch_reason, id, what, f.mismatch_field, f.mismatch_value);
  } else if (!f.has(kHasFirstId) || !f.has(kHasLastId) || (usdm && !f.has(kHasPrevId)) || !f.has(kHasBidLevels) ||
             !f.has(kHasAskLevels)) {
    const char* missing = !f.has(kHasFirstId) ? "U" : !f.has(kHasLastId) ? "u" : (usdm && !f.has(kHasPrevId)) ? "pu"
                          : !f.has(kHasBidLevels) ? "b" : "a";
    status = bad(BadFrameReason::kMissingField, id, what, missing, "");
  } else if (f.first_id > f.last_id) {
    char text[64];
    std::snprintf(text, sizeof text, "U=%llu > u=%llu", static_cast<unsigned long long>(f.first_id),
                  static_cast<unsigned long long>(f.last_id));
    status = bad(BadFrameReason::kBadUpdateIds, id, what, "U", text);
  } else if (f.event_time_ms > static_cast<std::uint64_t>(std::numeric_limits<std::int64_t>::max() / kNsPerMs)) {
    status = bad(BadFrameReason::kBadNumber, id, what, "E", "out of range");
  } else if (!f.bid_levels_read || !f.ask_levels_read) {
    // The symbol or type came after the levels: read both arrays now, bids first (Binance's order).
    scratch_.clear();
    Scanner late(*this, f, nullptr, frame_end_, &scratch_, false);
    if (!late.levels_at(f.bid_levels, Side::kBid, EventKind::kDelta, "b") ||
        !late.levels_at(f.ask_levels, Side::kAsk, EventKind::kDelta, "a")) {
      status = late.error_reason == BadFrameReason::kBadDecimal
                   ? bad_decimal(late.error_decimal, id, what, late.error_field, late.error_value, late.error_is_price)
                   : bad(late.error_reason, id, what, late.error_field, late.error_value);
    }
  }
  if (status == FrameStatus::kBadFrame) {
    start_resync(id, ts_local_ns, true);
    return status;
  }
  ++counters_.depth_updates;
  Symbol& symbol = symbols_[id];
  const std::int64_t ts_exchange_ns = static_cast<std::int64_t>(f.event_time_ms) * kNsPerMs;
  if (!f.stamped) {
    for (Event& event : scratch_) {
      event.ts_exchange_ns = ts_exchange_ns;
      event.ts_local_ns = ts_local_ns;
      event.seq = f.last_id;
    }
  }
  if (!scratch_.empty()) scratch_.back().flags = common::kFlagLastInMessage;
  const std::uint64_t prev = usdm ? f.prev_id : 0;

  if (symbol.state != SyncState::kLive) {
    buffer_diff(symbol, f.first_id, f.last_id, prev, scratch_);
    if (symbol.snapshot_requested) return FrameStatus::kOk;
    symbol.snapshot_requested = true;
    return FrameStatus::kNeedsSnapshot;
  }
  bool apply = false;
  if (symbol.awaiting_first) {
    const std::uint64_t target = symbol.last_id + (usdm ? 0U : 1U);
    if (f.last_id < target) {
      ++symbol.counters.stale_drops;
      ++counters_.stale_drops;
      return FrameStatus::kOk;
    }
    apply = f.first_id <= target;
  } else {
    if (f.last_id <= symbol.last_id) {
      ++symbol.counters.stale_drops;
      ++counters_.stale_drops;
      return FrameStatus::kOk;
    }
    apply = continues(f.first_id, prev, symbol.last_id);
  }
  if (!apply) {
    ++symbol.counters.gaps;
    ++counters_.gaps;
    // Keep this diff's events: start_resync() reuses the snapshot scratch, not scratch_.
    start_resync(id, ts_local_ns, true);
    buffer_diff(symbol, f.first_id, f.last_id, prev, scratch_);
    symbol.snapshot_requested = true;
    return FrameStatus::kNeedsSnapshot;
  }
  symbol.awaiting_first = false;
  symbol.last_id = f.last_id;
  apply_events(id, scratch_);
  books_[id].set_sequence(f.last_id);  // an empty diff has no event to carry it
  ++symbol.counters.applied_diffs;
  ++counters_.applied_diffs;
  emit(scratch_);
  return FrameStatus::kOk;
}

FrameStatus BinanceFeed::on_book_ticker(Fields& f, std::int64_t ts_local_ns) noexcept {
  // Only frames the Scanner read: the fast path's (Fields::bbo_read) are taken by on_frame().
  const char* what = "bookTicker";
  if (!f.has(kHasSymbol)) return bad(BadFrameReason::kMissingField, kNoInstrument, what, "s", "");
  if (f.id == kNoInstrument) {
    ++counters_.unknown_symbol;
    return FrameStatus::kUnknownSymbol;
  }
  const std::uint32_t id = f.id;
  if (f.mismatch_field != nullptr) return bad(f.mismatch_reason, id, what, f.mismatch_field, f.mismatch_value);
  const char* missing = !f.has(kHasLastId) ? "u" : !f.has(kHasBidPx) ? "b" : !f.has(kHasBidQty) ? "B"
                        : !f.has(kHasAskPx) ? "a" : !f.has(kHasAskQty) ? "A" : nullptr;
  if (missing != nullptr) return bad(BadFrameReason::kMissingField, id, what, missing, "");
  if (f.event_time_ms > static_cast<std::uint64_t>(std::numeric_limits<std::int64_t>::max() / kNsPerMs)) {
    return bad(BadFrameReason::kBadNumber, id, what, "E", "out of range");
  }
  std::int64_t values[4];
  const common::Instrument& instrument = symbols_[id].instrument;
  const std::string_view texts[4] = {f.bid_px, f.bid_qty, f.ask_px, f.ask_qty};
  const char* names[4] = {"b", "B", "a", "A"};
  for (int i = 0; i < 4; ++i) {
    const bool price = (i % 2) == 0;
    const DecimalError error = field_to_steps(texts[i], price ? instrument.tick : instrument.lot,
                                              price && instrument.allow_negative_price, values[i]);
    if (error != DecimalError::kOk) return bad_decimal(error, id, what, names[i], texts[i], price);
  }
  return emit_book_ticker(id, f.last_id, f.event_time_ms, values, ts_local_ns);
}

FrameStatus BinanceFeed::on_trade(Fields& f, std::int64_t ts_local_ns) noexcept {
  const bool agg = f.type == EventType::kAggTrade;
  const char* what = agg ? "aggTrade" : "trade";
  if (!f.has(kHasSymbol)) return bad(BadFrameReason::kMissingField, kNoInstrument, what, "s", "");
  if (f.id == kNoInstrument) {
    ++counters_.unknown_symbol;
    return FrameStatus::kUnknownSymbol;
  }
  const std::uint32_t id = f.id;
  if (f.mismatch_field != nullptr) return bad(f.mismatch_reason, id, what, f.mismatch_field, f.mismatch_value);
  const char* missing = (agg ? !f.has(kHasAggId) : !f.has(kHasTradeId)) ? (agg ? "a" : "t") : !f.has(kHasPx) ? "p"
                        : !f.has(kHasQty) ? "q" : !f.has(kHasMaker) ? "m" : nullptr;
  if (missing != nullptr) return bad(BadFrameReason::kMissingField, id, what, missing, "");
  if (f.event_time_ms > static_cast<std::uint64_t>(std::numeric_limits<std::int64_t>::max() / kNsPerMs)) {
    return bad(BadFrameReason::kBadNumber, id, what, "E", "out of range");
  }
  const common::Instrument& instrument = symbols_[id].instrument;
  Event event{};
  DecimalError error = field_to_steps(f.px, instrument.tick, instrument.allow_negative_price, event.px_ticks);
  if (error != DecimalError::kOk) return bad_decimal(error, id, what, "p", f.px, true);
  error = field_to_steps(f.qty, instrument.lot, false, event.qty_lots);
  if (error != DecimalError::kOk) return bad_decimal(error, id, what, "q", f.qty, false);
  event.ts_exchange_ns = static_cast<std::int64_t>(f.event_time_ms) * kNsPerMs;
  event.ts_local_ns = ts_local_ns;
  event.aux = agg ? f.agg_id : f.trade_id;
  event.instrument_id = id;
  event.kind = EventKind::kTrade;
  event.side = f.maker ? Side::kAsk : Side::kBid;  // buyer is maker: the seller crossed the spread
  event.flags = common::kFlagLastInMessage;
  event.venue_id = config_.venue_id;
  ++counters_.trades;
  ++symbols_[id].counters.trades;
  scratch_.assign(1, event);
  emit(scratch_);
  return FrameStatus::kOk;
}

FrameStatus BinanceFeed::apply_snapshot(std::uint32_t id, std::string_view body, std::int64_t ts_local_ns) noexcept {
  last_id_ = id;
  last_events_ = {};
  const char* what = "depth snapshot";
  if (id >= symbols_.size()) return bad(BadFrameReason::kMissingField, kNoInstrument, what, "symbol", "unknown id");
  if (body.size() > config_.max_frame_bytes) {
    char text[48];
    std::snprintf(text, sizeof text, "%zu bytes", body.size());
    return bad(BadFrameReason::kTooLarge, id, what, "body", text);
  }
  if (!wire_text_ends_safely(body)) {
    return bad(BadFrameReason::kMalformedJson, id, what, "body", "does not end with '}'");
  }
  snapshot_.clear();
  snapshot_.push_back(Event{});  // the kClear, filled in below
  Fields fields;
  fields.id = id;
  Scanner scanner(*this, fields, body.data(), body.data() + body.size(), &snapshot_, true);
  if (!scanner.frame()) {
    return scanner.error_reason == BadFrameReason::kBadDecimal
               ? bad_decimal(scanner.error_decimal, id, what, scanner.error_field, scanner.error_value, scanner.error_is_price)
               : bad(scanner.error_reason, id, what, scanner.error_field, scanner.error_value);
  }
  if (fields.mismatch_field != nullptr) return bad(fields.mismatch_reason, id, what, fields.mismatch_field, fields.mismatch_value);
  if (!fields.has(kHasLastUpdateId)) {
    if ((fields.present & kHasError) != 0) {
      return bad(BadFrameReason::kMissingField, id, what, "lastUpdateId", body);  // an exchange error reply
    }
    return bad(BadFrameReason::kMissingField, id, what, "lastUpdateId", "");
  }
  if (!fields.has(kHasBidLevels) || !fields.has(kHasAskLevels)) {
    return bad(BadFrameReason::kMissingField, id, what, fields.has(kHasBidLevels) ? "asks" : "bids", "");
  }
  if (fields.event_time_ms > static_cast<std::uint64_t>(std::numeric_limits<std::int64_t>::max() / kNsPerMs)) {
    return bad(BadFrameReason::kBadNumber, id, what, "E", "out of range");
  }
  const std::uint64_t last_update_id = fields.last_update_id;
  const std::int64_t ts_exchange_ns = static_cast<std::int64_t>(fields.event_time_ms) * kNsPerMs;
  for (Event& event : snapshot_) {
    event.ts_exchange_ns = ts_exchange_ns;
    event.ts_local_ns = ts_local_ns;
    event.seq = last_update_id;
    event.instrument_id = id;
    event.venue_id = config_.venue_id;
  }
  snapshot_.front().kind = EventKind::kClear;
  snapshot_.back().flags = common::kFlagLastInMessage;

  // Binance's rule: drop what the snapshot already has, then the first kept diff must straddle it and
  // the rest must chain; otherwise this snapshot is useless and another one is needed.
  Symbol& symbol = symbols_[id];
  const bool usdm = config_.market == BinanceMarket::kUsdm;
  const std::uint64_t target = last_update_id + (usdm ? 0U : 1U);
  std::uint64_t stale = 0;
  while (symbol.head < symbol.diffs.size() && symbol.diffs[symbol.head].last_id < target) {
    ++symbol.head;
    ++stale;
  }
  symbol.counters.stale_drops += stale;
  counters_.stale_drops += stale;
  std::uint64_t final_id = last_update_id;
  bool awaiting_first = true;
  std::uint64_t ready = 0;
  if (symbol.head < symbol.diffs.size()) {
    const BufferedDiff& first = symbol.diffs[symbol.head];
    if (first.first_id > target) {
      ++symbol.counters.gaps;
      ++counters_.gaps;
      symbol.snapshot_requested = true;
      last_reason_ = BadFrameReason::kNone;
      char text[160];
      const int n = std::snprintf(text, sizeof text,
                                  "%s depth snapshot lastUpdateId=%llu is older than the first buffered diff (U=%llu): "
                                  "fetch another",
                                  symbol.instrument.symbol.c_str(), static_cast<unsigned long long>(last_update_id),
                                  static_cast<unsigned long long>(first.first_id));
      last_error_len_ = 0;
      append(last_error_.data(), last_error_.size(), last_error_len_,
             std::string_view(text, static_cast<std::size_t>(std::max(0, std::min<int>(n, sizeof text - 1)))));
      return FrameStatus::kNeedsSnapshot;
    }
    std::uint64_t previous = first.last_id;
    const std::size_t snapshot_events = snapshot_.size();
    (void)snapshot_events;
    snapshot_.append(symbol.buffer.data() + first.begin, symbol.buffer.data() + first.begin + first.count);
    ready = 1;
    for (std::size_t i = symbol.head + 1; i < symbol.diffs.size(); ++i) {
      const BufferedDiff& diff = symbol.diffs[i];
      if (diff.last_id <= previous) {
        ++symbol.counters.stale_drops;
        ++counters_.stale_drops;
        continue;
      }
      if (!continues(diff.first_id, diff.prev_id, previous)) {
        // A hole inside the buffer: keep what follows it for the next snapshot.
        symbol.head = i;
        ++symbol.counters.gaps;
        ++counters_.gaps;
        symbol.snapshot_requested = true;
        last_error_len_ = 0;
        append(last_error_.data(), last_error_.size(), last_error_len_, symbol.instrument.symbol);
        append(last_error_.data(), last_error_.size(), last_error_len_,
               " depth snapshot: the buffered diffs have a hole after it: fetch another");
        snapshot_.clear();
        return FrameStatus::kNeedsSnapshot;
      }
      snapshot_.append(symbol.buffer.data() + diff.begin, symbol.buffer.data() + diff.begin + diff.count);
      previous = diff.last_id;
      ++ready;
    }
    final_id = previous;
    awaiting_first = false;
  }
  symbol.buffer.clear();
  symbol.diffs.clear();
  symbol.head = 0;
  symbol.state = SyncState::kLive;
  symbol.awaiting_first = awaiting_first;
  symbol.snapshot_requested = false;
  symbol.last_id = final_id;
  symbol.counters.applied_diffs += ready;
  counters_.applied_diffs += ready;
  ++symbol.counters.snapshots;
  ++counters_.snapshots;
  apply_events(id, snapshot_);
  books_[id].set_sequence(final_id);
  emit(snapshot_);
  return FrameStatus::kOk;
}

}  // namespace fastcore::venue
