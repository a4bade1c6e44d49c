// The checks every core test file counts into, for the one "N passed, N failed" line of core_tests.
#pragma once

#include <cstdio>
#include <string>

namespace ip_test {

inline int g_passed = 0, g_failed = 0;

inline void Check(bool ok, const std::string& what) {
  if (!ok) std::printf("  FAIL: %s\n", what.c_str());
  ok ? ++g_passed : ++g_failed;
}

}  // namespace ip_test

// Defined in decode_tests.cpp, decode_hostile_tests.cpp and latency_histogram_tests.cpp.
void RunDecodeTests();
void RunHostileDecodeTests();
// Defined in batch_policy_tests.cpp.
void RunBatchPolicyTests();
void RunLatencyHistogramTests();
// Defined in warmup_tests.cpp.
void RunWarmupTests();
// Defined in bytetrack_tests.cpp.
void RunByteTrackTests();
