// Stage 3 for classifiers: the request's row of the batch output, through the activation, and its
// top-K classes.
#pragma once

#include "core/model.h"
#include "core/request.h"

namespace ip {

// Throws PoolError (INFERENCE_FAILED) when the output does not look like [N, classes].
void PostprocessClassification(Request& request, const Model& model);

// In place. kAuto applies softmax unless the row already is a probability distribution.
void ApplyActivation(float* values, size_t n, Activation activation);

}  // namespace ip
