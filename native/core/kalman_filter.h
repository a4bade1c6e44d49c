// The constant-velocity Kalman filter ByteTrack (and SORT / DeepSORT before it) runs per track: state
// (cx, cy, a, h, vcx, vcy, va, vh) with a = width / height, observed directly as (cx, cy, a, h). The
// noise scales with the box's height (std weights 1/20 for position, 1/160 for velocity), so a far,
// small object is allowed to move fewer pixels than a near, large one.
#pragma once

#include <array>

namespace ip {

class BoxKalmanFilter {
 public:
  using Measurement = std::array<double, 4>;  // cx, cy, aspect (w / h), h
  using Mean = std::array<double, 8>;
  using Covariance = std::array<double, 64>;  // row-major 8 × 8

  // A new track from one measurement: velocities 0, uncertain in proportion to the box's height.
  static void Initiate(const Measurement& z, Mean* mean, Covariance* cov);
  // One frame ahead: x += v, the covariance grows by the motion noise.
  static void Predict(Mean* mean, Covariance* cov);
  // Corrects the state with a measurement (Cholesky solve of the 4 × 4 innovation covariance).
  static void Update(const Measurement& z, Mean* mean, Covariance* cov);

  static constexpr double kStdWeightPosition = 1.0 / 20;
  static constexpr double kStdWeightVelocity = 1.0 / 160;
};

}  // namespace ip
