#pragma once
// What the standalone C++ benchmarks share.
#include <algorithm>
#include <vector>

namespace bench_support {

/// The middle value of repeated measurements (the upper middle for an even count); 0 for none.
inline double median(std::vector<double> values) {
  if (values.empty()) return 0.0;
  std::sort(values.begin(), values.end());
  return values[values.size() / 2];
}

}  // namespace bench_support
