#include "core/kalman_filter.h"

#include <cmath>

namespace ip {
namespace {

constexpr int kN = 8;

double& At(BoxKalmanFilter::Covariance& m, int r, int c) { return m[size_t(r * kN + c)]; }

}  // namespace

void BoxKalmanFilter::Initiate(const Measurement& z, Mean* mean, Covariance* cov) {
  for (int i = 0; i < 4; ++i) {
    (*mean)[size_t(i)] = z[size_t(i)];
    (*mean)[size_t(i + 4)] = 0.0;
  }
  double h = z[3];
  // Twice the per-frame noise for the position, ten times for the (unknown) velocity.
  const double pos = 2 * kStdWeightPosition * h, vel = 10 * kStdWeightVelocity * h;
  const double sd[kN] = {pos, pos, 1e-2, pos, vel, vel, 1e-5, vel};
  cov->fill(0.0);
  for (int i = 0; i < kN; ++i) At(*cov, i, i) = sd[i] * sd[i];
}

void BoxKalmanFilter::Predict(Mean* mean, Covariance* cov) {
  Mean& m = *mean;
  // The noise is scaled by the height before the step, as the reference implementations do.
  double h = m[3];
  const double pos = kStdWeightPosition * h, vel = kStdWeightVelocity * h;
  const double sd[kN] = {pos, pos, 1e-2, pos, vel, vel, 1e-5, vel};
  for (int i = 0; i < 4; ++i) m[size_t(i)] += m[size_t(i + 4)];
  // F = [[I, I], [0, I]]: (F P)[i] = P[i] + P[i + 4] for the position rows, then the same on columns.
  Covariance fp = *cov;
  for (int r = 0; r < 4; ++r) {
    for (int c = 0; c < kN; ++c) At(fp, r, c) += At(*cov, r + 4, c);
  }
  Covariance out = fp;
  for (int r = 0; r < kN; ++r) {
    for (int c = 0; c < 4; ++c) At(out, r, c) += At(fp, r, c + 4);
  }
  for (int i = 0; i < kN; ++i) At(out, i, i) += sd[i] * sd[i];
  *cov = out;
}

void BoxKalmanFilter::Update(const Measurement& z, Mean* mean, Covariance* cov) {
  Mean& m = *mean;
  Covariance& p = *cov;
  double h = m[3];
  const double r[4] = {kStdWeightPosition * h, kStdWeightPosition * h, 1e-1, kStdWeightPosition * h};
  // S = H P Hᵀ + R: the top-left 4 × 4 block of P plus the measurement noise.
  double s[4][4];
  for (int i = 0; i < 4; ++i) {
    for (int j = 0; j < 4; ++j) s[i][j] = At(p, i, j);
    s[i][i] += r[i] * r[i];
  }
  // Cholesky, S = L Lᵀ (S is symmetric positive definite: P is, and R adds a positive diagonal).
  double l[4][4] = {};
  for (int j = 0; j < 4; ++j) {
    double d = s[j][j];
    for (int k = 0; k < j; ++k) d -= l[j][k] * l[j][k];
    l[j][j] = std::sqrt(d > 0 ? d : 1e-12);
    for (int i = j + 1; i < 4; ++i) {
      double v = s[i][j];
      for (int k = 0; k < j; ++k) v -= l[i][k] * l[j][k];
      l[i][j] = v / l[j][j];
    }
  }
  // Kalman gain K = P Hᵀ S⁻¹ (8 × 4): solve S X = H P (4 × 8, the top four rows of P), K = Xᵀ.
  double k[kN][4];
  for (int c = 0; c < kN; ++c) {
    double y[4];
    for (int i = 0; i < 4; ++i) {  // L y = b
      double v = At(p, i, c);
      for (int j = 0; j < i; ++j) v -= l[i][j] * y[j];
      y[i] = v / l[i][i];
    }
    for (int i = 3; i >= 0; --i) {  // Lᵀ x = y
      double v = y[i];
      for (int j = i + 1; j < 4; ++j) v -= l[j][i] * k[c][j];
      k[c][i] = v / l[i][i];
    }
  }
  double innovation[4];
  for (int i = 0; i < 4; ++i) innovation[i] = z[size_t(i)] - m[size_t(i)];
  for (int i = 0; i < kN; ++i) {
    for (int j = 0; j < 4; ++j) m[size_t(i)] += k[i][j] * innovation[j];
  }
  // P -= K S Kᵀ, and S Kᵀ = H P: the top four rows of the old P.
  Covariance out = p;
  for (int i = 0; i < kN; ++i) {
    for (int j = 0; j < kN; ++j) {
      double v = 0;
      for (int q = 0; q < 4; ++q) v += k[i][q] * At(p, q, j);
      At(out, i, j) -= v;
    }
  }
  p = out;
}

}  // namespace ip
