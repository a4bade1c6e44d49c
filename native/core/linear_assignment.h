// Minimum-cost assignment of rows to columns (the Hungarian method with potentials, O(n² m)), and the
// thresholded form trackers use: supervision's matching.linear_assignment(cost, thresh).
#pragma once

#include <utility>
#include <vector>

namespace ip {

// `cost` is rows × cols, row-major, finite. Returns, per row, the column it is assigned to or -1:
// min(rows, cols) pairs whose total cost is minimal (as scipy's linear_sum_assignment).
std::vector<int> SolveAssignment(const std::vector<double>& cost, int rows, int cols);

struct Assignment {
  std::vector<std::pair<int, int>> matches;  // (row, col), by ascending row
  std::vector<int> unmatchedRows;            // ascending
  std::vector<int> unmatchedCols;            // ascending
};

// Costs above `thresh` (and non-finite ones) are first lowered to thresh + 1e-4, so that they can only
// fill in and never pull a good pair apart; the optimal assignment of that matrix is then solved and
// only the pairs costing at most `thresh` are kept.
Assignment LinearAssignment(std::vector<double> cost, int rows, int cols, double thresh);

}  // namespace ip
