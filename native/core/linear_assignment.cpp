#include "core/linear_assignment.h"

#include <algorithm>
#include <cmath>
#include <limits>

namespace ip {

std::vector<int> SolveAssignment(const std::vector<double>& cost, int rows, int cols) {
  std::vector<int> rowToCol(size_t(rows > 0 ? rows : 0), -1);
  if (rows <= 0 || cols <= 0) return rowToCol;
  // The method below assigns every row, so it needs rows <= cols: a tall matrix is solved transposed.
  bool transposed = rows > cols;
  int n = transposed ? cols : rows;
  int m = transposed ? rows : cols;
  auto a = [&](int i, int j) {  // 1-based, in the (possibly transposed) n × m problem
    return transposed ? cost[size_t(j - 1) * size_t(cols) + size_t(i - 1)]
                      : cost[size_t(i - 1) * size_t(cols) + size_t(j - 1)];
  };
  const double inf = std::numeric_limits<double>::infinity();
  // u, v: the dual potentials of rows and columns; p[j]: the row holding column j (0: none, and
  // column 0 is where the row being added starts); way[j]: the column before j on the shortest path.
  std::vector<double> u(size_t(n) + 1, 0.0), v(size_t(m) + 1, 0.0), minv(size_t(m) + 1);
  std::vector<int> p(size_t(m) + 1, 0), way(size_t(m) + 1, 0);
  std::vector<char> used(size_t(m) + 1);
  for (int i = 1; i <= n; ++i) {
    // Adds row i: a Dijkstra-like search over reduced costs for the cheapest augmenting path.
    p[0] = i;
    int j0 = 0;
    std::fill(minv.begin(), minv.end(), inf);
    std::fill(used.begin(), used.end(), 0);
    do {
      used[size_t(j0)] = 1;
      int i0 = p[size_t(j0)], j1 = 0;
      double delta = inf;
      for (int j = 1; j <= m; ++j) {
        if (used[size_t(j)]) continue;
        double cur = a(i0, j) - u[size_t(i0)] - v[size_t(j)];
        if (cur < minv[size_t(j)]) {
          minv[size_t(j)] = cur;
          way[size_t(j)] = j0;
        }
        if (minv[size_t(j)] < delta) {
          delta = minv[size_t(j)];
          j1 = j;
        }
      }
      // Finite costs always give a finite delta and some free column j1 (n <= m); stop rather than
      // loop should a caller break that.
      if (j1 == 0) return std::vector<int>(size_t(rows), -1);
      for (int j = 0; j <= m; ++j) {
        if (used[size_t(j)]) {
          u[size_t(p[size_t(j)])] += delta;
          v[size_t(j)] -= delta;
        } else {
          minv[size_t(j)] -= delta;
        }
      }
      j0 = j1;
    } while (p[size_t(j0)] != 0);
    do {  // flip the path's edges
      int j1 = way[size_t(j0)];
      p[size_t(j0)] = p[size_t(j1)];
      j0 = j1;
    } while (j0 != 0);
  }
  for (int j = 1; j <= m; ++j) {
    if (p[size_t(j)] == 0) continue;
    if (transposed) {
      rowToCol[size_t(j - 1)] = p[size_t(j)] - 1;
    } else {
      rowToCol[size_t(p[size_t(j)] - 1)] = j - 1;
    }
  }
  return rowToCol;
}

Assignment LinearAssignment(std::vector<double> cost, int rows, int cols, double thresh) {
  Assignment out;
  if (rows <= 0 || cols <= 0) {
    for (int i = 0; i < rows; ++i) out.unmatchedRows.push_back(i);
    for (int j = 0; j < cols; ++j) out.unmatchedCols.push_back(j);
    return out;
  }
  const double capped = thresh + 1e-4;
  for (double& c : cost) {
    if (!std::isfinite(c) || c > thresh) c = capped;
  }
  std::vector<int> rowToCol = SolveAssignment(cost, rows, cols);
  std::vector<char> colTaken(size_t(cols), 0);
  for (int i = 0; i < rows; ++i) {
    int j = rowToCol[size_t(i)];
    if (j >= 0 && cost[size_t(i) * size_t(cols) + size_t(j)] <= thresh) {
      out.matches.emplace_back(i, j);
      colTaken[size_t(j)] = 1;
    } else {
      out.unmatchedRows.push_back(i);
    }
  }
  for (int j = 0; j < cols; ++j) {
    if (!colTaken[size_t(j)]) out.unmatchedCols.push_back(j);
  }
  return out;
}

}  // namespace ip
