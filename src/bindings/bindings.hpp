#pragma once
// Shared pieces of the pybind11 layer: error types, side parsing, exact Decimal results, and
// zero-copy access to numpy event arrays. Layer 2: knows the core, never the other way round.
#include <pybind11/numpy.h>
#include <pybind11/pybind11.h>

#include <cstdint>
#include <functional>
#include <memory>
#include <span>
#include <stdexcept>
#include <map>
#include <string>
#include <vector>

#include "fastcore/common/event.hpp"
#include "fastcore/common/instrument.hpp"
#include "fastcore/risk/risk_check.hpp"
#include "fastcore/signal/features.hpp"

namespace fastcore::engine {
class Engine;
}  // namespace fastcore::engine

namespace rentrade_bindings {

namespace py = pybind11;

/// Raised to Python as rentrade.DecimalError (a ValueError).
struct DecimalErrorException : std::runtime_error {
  using std::runtime_error::runtime_error;
};
/// Raised to Python as rentrade.BookError (a ValueError).
struct BookErrorException : std::runtime_error {
  using std::runtime_error::runtime_error;
};

void bind_decimal(py::module_& m);
void bind_book(py::module_& m);
void bind_perf(py::module_& m);
void bind_position(py::module_& m);
void bind_risk(py::module_& m);
void bind_signal(py::module_& m);
void bind_signing(py::module_& m);
void bind_orders(py::module_& m);
void bind_engine(py::module_& m);

/// Replaces a composite's weights (feature name -> weight, others 0), threshold and mode ("clamped" or
/// "raw"), raising KeyError/ValueError like rentrade.Signals; nothing changes on error.
void configure_composite(fastcore::signal::Composite& composite, const std::map<std::string, double>& weights,
                         double threshold, const std::string& mode);

/// A rentrade.Risk that views `engine` (owned by `owner`, kept alive by the view); its lifecycle and
/// state calls raise RiskError, since the owner drives them.
py::object make_risk_view(fastcore::risk::RiskEngine& engine, const std::vector<fastcore::common::Instrument>& instruments,
                          py::object owner);
void bind_venue(py::module_& m);
void bind_sim(py::module_& m);
void bind_trader(py::module_& m);

/// The C++ engine behind a rentrade.Engine, for the backtest loop (engine == nullptr when `object` is not
/// one). `owner` keeps it alive; `rethrow` raises what its Python callback strategy raised, if anything.
struct EngineHandle {
  fastcore::engine::Engine* engine = nullptr;
  std::shared_ptr<void> owner;
  std::function<void()> rethrow;
};
EngineHandle engine_handle(py::handle object);

/// "BTCUSDT on binance_usdm": how messages name an instrument.
std::string describe_instrument(const fastcore::common::Instrument& instrument);

/// Converts a price string, raising DecimalError naming the value, the instrument and the tick size.
std::int64_t price_to_ticks(const fastcore::common::Instrument& instrument, std::string_view text);
/// Converts a quantity string, raising DecimalError naming the value, the instrument and the lot size.
std::int64_t qty_to_lots(const fastcore::common::Instrument& instrument, std::string_view text);

/// Accepts Side, 0/1, or "bid"/"buy"/"ask"/"sell" (any case). Integers (Side is an IntEnum) are
/// checked first because they are the per-call hot path.
fastcore::common::Side parse_side(py::handle side);

/// An amount of the quote currency (str, decimal.Decimal or int; float and bool refused, since a float
/// cannot say which decimal it meant) as exact units of 10^-decimals. Errors name `name`, then
/// `context` (e.g. " for BTCUSDT on binance_usdm"), and the unit as "<unit> unit 1e-<decimals>".
std::int64_t money_to_units(py::handle value, std::int32_t decimals, bool allow_negative, const std::string& name,
                            const std::string& context, const char* unit);

/// decimal.Decimal for the exact value `value * 10^-decimals`.
py::object make_decimal(__int128 value, std::int32_t decimals);

/// xorshift64*: the seeded generator of the measurement helpers (measure_risk_check, measure_order_encode),
/// deterministic and the same on every platform.
class SeededRandom {
 public:
  explicit SeededRandom(std::uint64_t seed) noexcept : state_(seed * 2654435761u + 0x9E3779B97F4A7C15ull) {}
  std::uint64_t next() noexcept {
    state_ ^= state_ >> 12;
    state_ ^= state_ << 25;
    state_ ^= state_ >> 27;
    return state_ * 2685821657736338717ull;
  }

 private:
  std::uint64_t state_;
};

/// numpy dtype of the event record (rentrade.events.EVENT_DTYPE), imported once.
py::dtype event_dtype();

/// Checks `array` is a 1-D, C-contiguous array of the event dtype and calls `fn` with spans of
/// 64-byte-aligned events: directly on the array's memory when it is aligned, otherwise on aligned
/// copies of successive chunks. `fn(span, first_index)` returns false to stop early.
template <class Fn>
void for_event_chunks(const py::array& array, Fn&& fn);

/// Allocates a 64-byte-aligned numpy event array of `count` zeroed records.
py::array make_event_array(std::size_t count);

void check_event_array(const py::array& array);

template <class Fn>
void for_event_chunks(const py::array& array, Fn&& fn) {
  using fastcore::common::Event;
  check_event_array(array);
  const auto count = static_cast<std::size_t>(array.shape(0));
  const auto* raw = static_cast<const unsigned char*>(array.data());
  if (reinterpret_cast<std::uintptr_t>(raw) % alignof(Event) == 0) {
    // Aligned (every array rentrade makes): the core reads numpy's memory in place.
    fn(std::span<const Event>(reinterpret_cast<const Event*>(raw), count), std::size_t{0});
    return;
  }
  constexpr std::size_t kChunk = 256;
  alignas(64) static thread_local Event buffer[kChunk];
  for (std::size_t first = 0; first < count; first += kChunk) {
    const std::size_t take = count - first < kChunk ? count - first : kChunk;
    std::memcpy(static_cast<void*>(buffer), raw + first * sizeof(Event), take * sizeof(Event));
    if (!fn(std::span<const Event>(buffer, take), first)) return;
  }
}

}  // namespace rentrade_bindings
