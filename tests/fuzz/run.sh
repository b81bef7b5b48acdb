#!/bin/sh
# Builds the request/transforms fuzzers with clang-14 (libFuzzer + ASan + UBSan) into build-fuzz/ and runs
# each for SECONDS (default 60), one after the other, niced. The sanitized unit tests run first.
# Crashes land in build-fuzz/artifacts/; the corpus grows in build-fuzz/corpus/<target> (seeded from
# tests/fuzz/seeds/<target>, which is never written to).
#   tests/fuzz/run.sh 600            # ten minutes per target
#   TARGETS=parse tests/fuzz/run.sh  # one target
set -eu
SECONDS_PER_TARGET=${1:-60}
ROOT=$(cd "$(dirname "$0")/../.." && pwd)
BUILD=${BUILD_DIR:-$ROOT/build-fuzz}
TARGETS=${TARGETS:-"parse transforms joined_pattern"}
# Everything aborts on the first finding; only pointer-overflow is recoverable, so that ubsan.supp can
# silence the one known RapidJSON finding (halt_on_error still stops on any other).
SAN="-fsanitize=address,undefined -fno-sanitize-recover=undefined -fsanitize-recover=pointer-overflow -fno-omit-frame-pointer"
export UBSAN_OPTIONS="suppressions=$ROOT/tests/fuzz/ubsan.supp:halt_on_error=1:print_stacktrace=1"

CC=clang-14 CXX=clang++-14 cmake -S "$ROOT/tests/fuzz" -B "$BUILD" -DCMAKE_BUILD_TYPE=RelWithDebInfo \
  -DCMAKE_C_FLAGS="$SAN -fsanitize=fuzzer-no-link" -DCMAKE_CXX_FLAGS="$SAN -fsanitize=fuzzer-no-link" \
  -DCMAKE_EXE_LINKER_FLAGS="$SAN" >/dev/null
nice -n 10 cmake --build "$BUILD" -j1

status=0
if [ -x "$BUILD/unit_request/test_request" ]; then  # a failure is reported, but fuzzing still runs
  "$BUILD/unit_request/test_request" || status=$?
  "$BUILD/unit_transforms/test_transforms" || status=$?
fi

mkdir -p "$BUILD/artifacts"
for t in $TARGETS; do
  mkdir -p "$BUILD/corpus/$t"
  echo "== fuzz_$t for ${SECONDS_PER_TARGET}s"
  nice -n 10 "$BUILD/fuzz_$t" -max_total_time="$SECONDS_PER_TARGET" -max_len=65536 -timeout=10 \
    -rss_limit_mb=2048 -print_final_stats=1 -artifact_prefix="$BUILD/artifacts/${t}-" \
    -dict="$ROOT/tests/fuzz/$t.dict" \
    "$BUILD/corpus/$t" "$ROOT/tests/fuzz/seeds/$t" || status=$?
done
exit $status
