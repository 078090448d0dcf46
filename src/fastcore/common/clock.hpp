#pragma once
/// Clocks: wall time for event timestamps, and a calibrated cycle counter for latency measurement.
#include <cstdint>
#include <ctime>

#if defined(__x86_64__) || defined(__i386__)
#include <x86intrin.h>
#define FASTCORE_HAS_TSC 1
#else
#define FASTCORE_HAS_TSC 0
#endif

namespace fastcore::common {

/// Nanoseconds since the Unix epoch (CLOCK_REALTIME): the clock of every ts_local_ns.
inline std::int64_t wall_clock_ns() noexcept {
  timespec ts{};
  clock_gettime(CLOCK_REALTIME, &ts);
  return static_cast<std::int64_t>(ts.tv_sec) * 1'000'000'000 + ts.tv_nsec;
}

/// Nanoseconds of CLOCK_MONOTONIC: for intervals that must not jump.
inline std::int64_t monotonic_ns() noexcept {
  timespec ts{};
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return static_cast<std::int64_t>(ts.tv_sec) * 1'000'000'000 + ts.tv_nsec;
}

/// Cycle counter for timing one operation. Fences keep the timed work between the two reads; where
/// there is no invariant TSC it falls back to CLOCK_MONOTONIC (already in nanoseconds).
class CycleClock {
 public:
  /// Measures ticks per nanosecond against CLOCK_MONOTONIC over `calibration_ns` and the smallest
  /// cost of an empty start()/stop() pair (subtracted from samples by callers that ask for it).
  explicit CycleClock(std::int64_t calibration_ns = 20'000'000) noexcept;

  static std::uint64_t start() noexcept {
#if FASTCORE_HAS_TSC
    _mm_lfence();
    const std::uint64_t t = __rdtsc();
    _mm_lfence();
    return t;
#else
    return static_cast<std::uint64_t>(monotonic_ns());
#endif
  }

  static std::uint64_t stop() noexcept {
#if FASTCORE_HAS_TSC
    unsigned int aux = 0;
    const std::uint64_t t = __rdtscp(&aux);
    _mm_lfence();
    return t;
#else
    return static_cast<std::uint64_t>(monotonic_ns());
#endif
  }

  /// Converts a tick difference to nanoseconds, rounding to nearest.
  [[nodiscard]] std::uint64_t to_ns(std::uint64_t ticks) const noexcept {
    return static_cast<std::uint64_t>(static_cast<double>(ticks) * ns_per_tick_ + 0.5);
  }

  /// Ticks of an empty start()/stop() pair (the minimum over many tries).
  [[nodiscard]] std::uint64_t overhead_ticks() const noexcept { return overhead_ticks_; }
  [[nodiscard]] double ns_per_tick() const noexcept { return ns_per_tick_; }

 private:
  double ns_per_tick_ = 1.0;
  std::uint64_t overhead_ticks_ = 0;
};

inline CycleClock::CycleClock(std::int64_t calibration_ns) noexcept {
#if FASTCORE_HAS_TSC
  const std::int64_t wall_start = monotonic_ns();
  const std::uint64_t tsc_start = start();
  while (monotonic_ns() - wall_start < calibration_ns) {
  }
  const std::uint64_t tsc_end = stop();
  const std::int64_t wall_end = monotonic_ns();
  ns_per_tick_ = static_cast<double>(wall_end - wall_start) / static_cast<double>(tsc_end - tsc_start);
#else
  (void)calibration_ns;
#endif
  std::uint64_t best = ~0ULL;
  for (int i = 0; i < 10'000; ++i) {
    const std::uint64_t t0 = start();
    const std::uint64_t t1 = stop();
    if (t1 - t0 < best) best = t1 - t0;
  }
  overhead_ticks_ = best;
}

}  // namespace fastcore::common
