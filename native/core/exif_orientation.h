// EXIF orientation (TIFF tag 0x0112) as OpenCV's IMREAD_COLOR applies it: read from a JPEG's first
// APP1 segment or a PNG's eXIf chunk, then the decoded pixels are flipped or turned to match.
#pragma once

#include <opencv2/core.hpp>

#include <cstddef>
#include <cstdint>

namespace ip {

// The orientation tag of IFD0 in a TIFF-structured EXIF block ("II*\0" or "MM\0*" first); 1 (as
// stored) when it is absent, out of range, or the block is malformed. Never reads past `length`.
int ExifOrientation(const uint8_t* tiff, size_t length);

// True for orientations 5 to 8, whose pictures are turned by 90 degrees.
bool OrientationSwapsAxes(int orientation);

// Turns `image` (in place) so that its rows run top to bottom as the picture is meant to be seen.
void ApplyOrientation(int orientation, cv::Mat& image);

}  // namespace ip
