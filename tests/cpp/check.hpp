#pragma once
// Minimal test harness: CHECK records a failure with file:line and keeps going; main() returns the
// failure count so ctest sees it. No dependency to install on a fresh machine.
#include <cstdio>

namespace check {
inline int failures = 0;
}

#define CHECK(condition)                                                          \
  do {                                                                            \
    if (!(condition)) {                                                           \
      std::fprintf(stderr, "%s:%d: CHECK failed: %s\n", __FILE__, __LINE__, #condition); \
      ++check::failures;                                                          \
    }                                                                             \
  } while (0)

#define CHECK_EQ(a, b) CHECK((a) == (b))

inline int report(const char* suite) {
  if (check::failures == 0) {
    std::printf("%s: all checks passed\n", suite);
    return 0;
  }
  std::printf("%s: %d checks failed\n", suite, check::failures);
  return 1;
}
