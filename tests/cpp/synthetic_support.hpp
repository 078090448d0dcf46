#pragma once
/// What the venue and engine tests share: a stream from the core's synthetic market.
#include <cstddef>
#include <cstdint>
#include <vector>

#include "fastcore/common/event.hpp"
#include "fastcore/sim/synthetic_market.hpp"

namespace synthetic_support {

/// `count` events of the synthetic market for `instruments` instruments, seeded, with 100-level snapshots.
inline std::vector<fastcore::common::Event> events(std::uint32_t instruments, std::size_t count, std::uint64_t seed) {
  fastcore::sim::SyntheticMarketConfig config;
  config.instruments = instruments;
  config.seed = seed;
  config.snapshot_levels = 100;
  fastcore::sim::SyntheticMarket market(config);
  std::vector<fastcore::common::Event> out(count);
  market.generate(out);
  return out;
}

}  // namespace synthetic_support
