#!/usr/bin/env bash
# Builds the Binance parser fuzzer with libFuzzer + ASan + UBSan (clang-14) and runs it for N seconds.
#   tests/fuzz/run_fuzz.sh [seconds=60]
# Needs clang-14 and libclang-rt-14-dev (apt-get install -y --no-install-recommends clang-14 libclang-rt-14-dev).
# New inputs go to a scratch directory, never into the checked-in seed corpus; a crash leaves
# crash-* in the build directory and fails the script.
set -euo pipefail
seconds="${1:-60}"
root="$(cd "$(dirname "$0")/../.." && pwd)"
cxx="${CXX_FUZZ:-clang++-14}"
out="${FUZZ_BUILD_DIR:-$root/build/fuzz}"
mkdir -p "$out/work"
"$cxx" -std=c++20 -O1 -g -fno-omit-frame-pointer -fsanitize=fuzzer,address,undefined -fno-sanitize-recover=all \
  -I"$root/src" \
  "$root/tests/fuzz/binance_fuzz.cpp" \
  "$root/src/fastcore/venue/binance.cpp" \
  "$root/src/fastcore/common/decimal.cpp" \
  "$root/src/fastcore/common/instrument.cpp" \
  "$root/src/fastcore/book/book.cpp" \
  "$root/src/fastcore/common/huge_pages.cpp" \
  -o "$out/binance_fuzz"
cd "$out"
./binance_fuzz -max_total_time="$seconds" -max_len=8192 -timeout=10 -print_final_stats=1 \
  "$out/work" "$root/tests/fuzz/corpus/binance"
