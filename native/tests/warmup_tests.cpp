// The warm-up plan: which batch dimensions each session runs, as ModelRunner::RunBatch will run them.
#include <string>
#include <vector>

#include "core/warmup.h"
#include "tests/check.h"

namespace {

using ip_test::Check;
using ip::PlanWarmup;
using ip::WarmupShape;

std::string Join(const std::vector<int>& v) {
  std::string s;
  for (int n : v) s += (s.empty() ? "" : ",") + std::to_string(n);
  return "[" + s + "]";
}

void Expect(const std::vector<int>& got, const std::vector<int>& want, const std::string& what) {
  Check(got == want, what + ": got " + Join(got) + ", want " + Join(want));
}

std::vector<int> Range(int n) {
  std::vector<int> v;
  for (int i = 1; i <= n; ++i) v.push_back(i);
  return v;
}

}  // namespace

void RunWarmupTests() {
  // 640×640 (1 228 800 floats): an adaptive model's single session runs one image at a time.
  WarmupShape det{size_t(3) * 640 * 640, 8, 0, true};
  auto plan = PlanWarmup(det, Range(8));
  Expect(plan.parallel, Range(8), "640 adaptive: the parallel session runs every batch whole");
  Expect(plan.single, {1}, "640 adaptive: the single session runs slices of one");

  // 320×320 (307 200 floats): slices of six, so a batch of 8 runs 6 then 2, a batch of 7 runs 6 then 1.
  WarmupShape mid{size_t(3) * 320 * 320, 8, 0, true};
  Expect(PlanWarmup(mid, Range(8)).single, Range(6), "320 adaptive: slices up to six and the remainders");
  Expect(PlanWarmup(mid, {8}).single, {2, 6}, "320 adaptive, batch 8: a slice of 6 and one of 2");
  Expect(PlanWarmup(mid, {4}).single, {4}, "320 adaptive, batch 4: one run of 4");

  // 224×224: a whole batch of 8 fits in one slice.
  WarmupShape cls{size_t(3) * 224 * 224, 8, 0, true};
  Expect(PlanWarmup(cls, {1, 4, 8}).single, {1, 4, 8}, "224 adaptive: whole batches on the single session");

  // Not adaptive: one session, whole batches; no parallel session.
  WarmupShape one{size_t(3) * 640 * 640, 8, 0, false};
  plan = PlanWarmup(one, {1, 4});
  Expect(plan.parallel, {}, "one session: no parallel session to warm");
  Expect(plan.single, {1, 4}, "one session: whole batches");

  // Sizes that never form are skipped; repeats run once.
  Expect(PlanWarmup(one, {4, 4, 9, 0, 2}).single, {2, 4}, "sizes above the maximum (or below 1) are skipped");
  Expect(PlanWarmup(one, {}).single, {}, "no sizes: nothing runs");

  // A fixed batch dimension: every batch runs exactly that, on each session, whole.
  WarmupShape fixed{size_t(3) * 640 * 640, 4, 4, true};
  plan = PlanWarmup(fixed, Range(4));
  Expect(plan.parallel, {4}, "fixed batch: the parallel session runs the fixed batch");
  Expect(plan.single, {4}, "fixed batch: the single session runs it whole too");
}
