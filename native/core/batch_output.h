// The outputs of one batch run, shared by the batch's requests until the last one is postprocessed.
// Its own header, so that postprocessing and the binding do not depend on the batcher.
#pragma once

#include <onnxruntime_cxx_api.h>

#include <vector>

namespace ip {

struct BatchOutput {
  std::vector<Ort::Value> values;
  int runSize = 0;  // the batch dimension it ran with (a fixed-batch model pads)
};

}  // namespace ip
