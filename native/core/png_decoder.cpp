// PNG through libpng's low-level reader, with error and warning callbacks that keep the text
// (libpng's defaults print "libpng warning: ..." on stderr; OpenCV 4.6 leaves them in place).
//
// Not the simplified png_image API: it composites alpha onto a background, treats 16-bit files as
// linear light and honours gAMA, so its 8-bit output differs from OpenCV's (by up to 251 on a 16-bit
// RGBA file). Here libpng is asked for exactly OpenCV's IMREAD_COLOR transforms: 16-bit truncated to
// the high byte, alpha and tRNS dropped, palettes and low-bit grey expanded, grey replicated to BGR,
// no gamma or colour management; orientation from the eXIf chunk.
//
// As in jpeg_decoder.cpp, the setjmp frames call only C code; C++ objects live in PngJob.
#include <csetjmp>
#include <cstring>
#include <string>
#include <vector>

#include <png.h>

#include "core/decoder_messages.h"
#include "core/errors.h"
#include "core/exif_orientation.h"
#include "core/image_decoders.h"

namespace ip {
namespace {

struct PngJob {
  png_structp png = nullptr;
  png_infop info = nullptr;
  png_infop endInfo = nullptr;  // chunks after the image data (an eXIf may be there)
  const uint8_t* data = nullptr;
  size_t length = 0;
  size_t position = 0;
  DecoderMessages messages;
  png_uint_32 width = 0, height = 0;
  size_t rowBytes = 0;  // after the transforms
  int channels = 0, bitDepth = 0;
  cv::Mat pixels;
  std::vector<png_bytep> rows;

  PngJob(const PngJob&) = delete;
  PngJob& operator=(const PngJob&) = delete;
  PngJob() = default;
  ~PngJob() {
    if (png != nullptr) png_destroy_read_struct(&png, info ? &info : nullptr, endInfo ? &endInfo : nullptr);
  }
};

PngJob* JobOf(png_structp png) { return static_cast<PngJob*>(png_get_error_ptr(png)); }

void PNGCBAPI OnError(png_structp png, png_const_charp text) {
  JobOf(png)->messages.Error(text);
  png_longjmp(png, 1);
}

void PNGCBAPI OnWarning(png_structp png, png_const_charp text) { JobOf(png)->messages.Warning(text); }

void PNGCBAPI OnRead(png_structp png, png_bytep out, size_t count) {
  PngJob* job = static_cast<PngJob*>(png_get_io_ptr(png));
  if (count > job->length - job->position) png_error(png, "read beyond end of data");
  std::memcpy(out, job->data + job->position, count);
  job->position += count;
}

// Reads the chunks before the image data and sets the transforms OpenCV's PngDecoder sets for a
// 3-channel 8-bit destination.
bool ReadInfo(PngJob* job) {
  if (setjmp(png_jmpbuf(job->png))) return false;
  png_structp png = job->png;
  png_set_read_fn(png, job, OnRead);
  png_read_info(png, job->info);
  int bitDepth = 0, colorType = 0;
  png_get_IHDR(png, job->info, &job->width, &job->height, &bitDepth, &colorType, nullptr, nullptr, nullptr);
  if (bitDepth == 16) png_set_strip_16(png);
  png_set_strip_alpha(png);
  if (colorType == PNG_COLOR_TYPE_PALETTE) png_set_palette_to_rgb(png);
  if ((colorType & PNG_COLOR_MASK_COLOR) == 0 && bitDepth < 8) png_set_expand_gray_1_2_4_to_8(png);
  if ((colorType & PNG_COLOR_MASK_COLOR) != 0) {
    png_set_bgr(png);
  } else {
    png_set_gray_to_rgb(png);
  }
  png_set_interlace_handling(png);
  png_read_update_info(png, job->info);
  job->rowBytes = png_get_rowbytes(png, job->info);
  job->channels = png_get_channels(png, job->info);
  job->bitDepth = png_get_bit_depth(png, job->info);
  return true;
}

bool ReadRows(PngJob* job) {
  if (setjmp(png_jmpbuf(job->png))) return false;
  png_read_image(job->png, job->rows.data());
  // Like OpenCV: the chunks after the image are read too, and a broken one fails the decode.
  png_read_end(job->png, job->endInfo);
  return true;
}

// The eXIf chunk before the image data, else the one after it (OpenCV looks in that order).
int Orientation(const PngJob& job) {
#ifdef PNG_eXIf_SUPPORTED
  for (png_infop info : {job.info, job.endInfo}) {
    png_uint_32 length = 0;
    png_bytep exif = nullptr;
    if (png_get_valid(job.png, info, PNG_INFO_eXIf) && png_get_eXIf_1(job.png, info, &length, &exif) && exif) {
      return ExifOrientation(exif, length);
    }
  }
#endif
  return 1;
}

[[noreturn]] void Fail(const PngJob& job) {
  throw PoolError(ErrorCode::kInvalidImage, "cannot decode PNG: " + job.messages.Describe());
}

}  // namespace

CodecImage DecodePng(const uint8_t* data, size_t length, const ImageHeader& header) {
  PngJob job;
  job.data = data;
  job.length = length;
  job.png = png_create_read_struct(PNG_LIBPNG_VER_STRING, &job, OnError, OnWarning);
  if (job.png != nullptr) job.info = png_create_info_struct(job.png);
  if (job.png != nullptr) job.endInfo = png_create_info_struct(job.png);
  if (job.info == nullptr || job.endInfo == nullptr) {
    throw PoolError(ErrorCode::kInvalidImage, "cannot decode PNG: libpng could not start (out of memory)");
  }
  if (!ReadInfo(&job)) Fail(job);

  if (int64_t(job.width) != header.width || int64_t(job.height) != header.height) {
    throw PoolError(ErrorCode::kInvalidImage, "cannot decode PNG: libpng reads " + std::to_string(job.width) + "x" +
                                                  std::to_string(job.height) + " but its header said " +
                                                  std::to_string(header.width) + "x" +
                                                  std::to_string(header.height));
  }
  if (job.channels != 3 || job.bitDepth != 8 || job.rowBytes != size_t(header.width) * 3) {
    throw PoolError(ErrorCode::kInvalidImage, "cannot decode PNG: unexpected layout after conversion (" +
                                                  std::to_string(job.channels) + " channels of " +
                                                  std::to_string(job.bitDepth) + " bits)");
  }
  job.pixels.create(header.height, header.width, CV_8UC3);
  job.rows.resize(size_t(header.height));
  for (int y = 0; y < header.height; ++y) job.rows[size_t(y)] = job.pixels.ptr<uint8_t>(y);
  if (!ReadRows(&job)) Fail(job);

  CodecImage out;
  out.pixels = job.pixels;
  out.orientation = Orientation(job);
  return out;
}

}  // namespace ip
