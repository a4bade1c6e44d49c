// JPEG through libjpeg(-turbo) with our own error manager: errors longjmp back here instead of
// exit()ing, and every message goes into DecoderMessages instead of stderr. The output matches
// OpenCV's JpegDecoder: the same library and defaults (ISLOW DCT, fancy upsampling), BGR out of the
// library's colour conversion, CMYK/YCCK converted by OpenCV's formula, EXIF orientation from the
// first APP1 segment.
//
// Each libjpeg call that can fail runs inside a function that does nothing but call C code after its
// setjmp(); all C++ objects live in JpegJob, outside those frames, so a longjmp skips no destructor.
#include <csetjmp>
#include <cstdio>  // jpeglib.h needs FILE and size_t first
#include <cstring>
#include <string>
#include <vector>

#include <jpeglib.h>

#include "core/decoder_messages.h"
#include "core/errors.h"
#include "core/exif_orientation.h"
#include "core/image_decoders.h"

namespace ip {
namespace {

// A progressive file can hold any number of scans, each a pass over the whole image; hostile ones
// use thousands to burn CPU. libjpeg-turbo's own fuzzers stop at 500; real encoders write about 10.
constexpr int kMaxScans = 500;

struct JpegJob {
  jpeg_decompress_struct cinfo{};
  jpeg_error_mgr errors{};
  jpeg_progress_mgr progress{};
  std::jmp_buf jump;
  DecoderMessages messages;
  cv::Mat pixels;
  std::vector<uint8_t> cmykRow;  // CMYK files: one row as libjpeg gives it, before the BGR conversion

  JpegJob() {
    cinfo.err = &errors;
    cinfo.client_data = this;
  }
  ~JpegJob() { jpeg_destroy_decompress(&cinfo); }  // safe on a zeroed or failed cinfo
  JpegJob(const JpegJob&) = delete;
  JpegJob& operator=(const JpegJob&) = delete;
};

JpegJob* JobOf(j_common_ptr cinfo) { return static_cast<JpegJob*>(cinfo->client_data); }

void OnErrorExit(j_common_ptr cinfo) {
  char text[JMSG_LENGTH_MAX];
  (*cinfo->err->format_message)(cinfo, text);
  JobOf(cinfo)->messages.Error(text);
  std::longjmp(JobOf(cinfo)->jump, 1);
}

// level < 0: a warning (corrupt data the library worked around); >= 0: trace output, dropped.
void OnEmitMessage(j_common_ptr cinfo, int level) {
  if (level >= 0) return;
  cinfo->err->num_warnings++;
  char text[JMSG_LENGTH_MAX];
  (*cinfo->err->format_message)(cinfo, text);
  JobOf(cinfo)->messages.Warning(text);
}

// The library calls this only through emit_message, which we replace; kept so nothing can print.
void OnOutputMessage(j_common_ptr cinfo) {
  char text[JMSG_LENGTH_MAX];
  (*cinfo->err->format_message)(cinfo, text);
  JobOf(cinfo)->messages.Warning(text);
}

void OnProgress(j_common_ptr cinfo) {
  auto* d = reinterpret_cast<j_decompress_ptr>(cinfo);
  if (d->input_scan_number > kMaxScans) {
    JobOf(cinfo)->messages.Error("more than 500 progressive scans");
    std::longjmp(JobOf(cinfo)->jump, 1);
  }
}

// Reads the markers up to the first scan and sets the output: BGR straight from libjpeg's colour
// conversion (grey and YCbCr alike), or CMYK for 4-component files, as OpenCV asks for.
bool ReadHeader(JpegJob* job, const uint8_t* data, size_t length, int scaleDenom) {
  if (setjmp(job->jump)) return false;
  jpeg_create_decompress(&job->cinfo);
  job->cinfo.progress = &job->progress;
  jpeg_mem_src(&job->cinfo, data, static_cast<unsigned long>(length));
  jpeg_save_markers(&job->cinfo, JPEG_APP0 + 1, 0xFFFF);
  if (jpeg_read_header(&job->cinfo, TRUE) != JPEG_HEADER_OK) {
    job->messages.Error("no image in the JPEG data");
    return false;
  }
  bool cmyk = job->cinfo.num_components == 4;
  job->cinfo.out_color_space = cmyk ? JCS_CMYK : JCS_EXT_BGR;
  job->cinfo.scale_num = 1;
  job->cinfo.scale_denom = static_cast<unsigned>(scaleDenom);
  jpeg_calc_output_dimensions(&job->cinfo);
  return true;
}

// OpenCV's icvCvt_CMYK2BGR_8u_C4C3R, so CMYK files come out as they did through imdecode.
void CmykToBgr(const uint8_t* cmyk, uint8_t* bgr, int width) {
  for (int x = 0; x < width; ++x, cmyk += 4, bgr += 3) {
    int c = cmyk[0], m = cmyk[1], y = cmyk[2], k = cmyk[3];
    bgr[0] = uint8_t(k - ((255 - y) * k >> 8));
    bgr[1] = uint8_t(k - ((255 - m) * k >> 8));
    bgr[2] = uint8_t(k - ((255 - c) * k >> 8));
  }
}

// Decodes every scanline into job->pixels (allocated by the caller at the announced output size).
bool ReadPixels(JpegJob* job) {
  if (setjmp(job->jump)) return false;
  j_decompress_ptr cinfo = &job->cinfo;
  jpeg_start_decompress(cinfo);
  if (int(cinfo->output_width) != job->pixels.cols || int(cinfo->output_height) != job->pixels.rows) {
    job->messages.Error("libjpeg changed the output size after the header");
    return false;
  }
  const bool cmyk = !job->cmykRow.empty();
  while (cinfo->output_scanline < cinfo->output_height) {
    uint8_t* out = job->pixels.ptr<uint8_t>(int(cinfo->output_scanline));
    JSAMPROW row = cmyk ? job->cmykRow.data() : out;
    // With an in-memory source libjpeg never suspends: each call yields one row (or longjmps).
    if (jpeg_read_scanlines(cinfo, &row, 1) != 1) {
      job->messages.Error("libjpeg returned no scanline");
      return false;
    }
    if (cmyk) CmykToBgr(job->cmykRow.data(), out, job->pixels.cols);
  }
  // No jpeg_finish_decompress(): every row is out, and what follows the last scan cannot change them
  // (OpenCV ignores a failure there too).
  return true;
}

[[noreturn]] void Fail(const JpegJob& job) {
  throw PoolError(ErrorCode::kInvalidImage, "cannot decode JPEG: " + job.messages.Describe());
}

int FirstApp1Orientation(const jpeg_decompress_struct& cinfo) {
  for (jpeg_saved_marker_ptr m = cinfo.marker_list; m != nullptr; m = m->next) {
    if (m->marker != JPEG_APP0 + 1) continue;
    // Only the first APP1, as OpenCV reads it; the EXIF block follows "Exif\0\0".
    if (m->data_length < 6 || std::memcmp(m->data, "Exif\0\0", 6) != 0) return 1;
    return ExifOrientation(m->data + 6, m->data_length - 6);
  }
  return 1;
}

}  // namespace

CodecImage DecodeJpeg(const uint8_t* data, size_t length, const ImageHeader& header, int scaleDenom) {
  JpegJob job;
  jpeg_std_error(&job.errors);
  job.errors.error_exit = OnErrorExit;
  job.errors.emit_message = OnEmitMessage;
  job.errors.output_message = OnOutputMessage;
  job.progress.progress_monitor = OnProgress;
  if (!ReadHeader(&job, data, length, scaleDenom)) Fail(job);

  const jpeg_decompress_struct& c = job.cinfo;
  if (int64_t(c.image_width) != header.width || int64_t(c.image_height) != header.height) {
    throw PoolError(ErrorCode::kInvalidImage,
                    "cannot decode JPEG: its frame is " + std::to_string(c.image_width) + "x" +
                        std::to_string(c.image_height) + " but its header said " + std::to_string(header.width) +
                        "x" + std::to_string(header.height));
  }
  int expectedW = (header.width + scaleDenom - 1) / scaleDenom;
  int expectedH = (header.height + scaleDenom - 1) / scaleDenom;
  int channels = c.out_color_space == JCS_CMYK ? 4 : 3;
  if (int(c.output_width) != expectedW || int(c.output_height) != expectedH || c.output_components != channels) {
    throw PoolError(ErrorCode::kInvalidImage, "cannot decode JPEG: unexpected output size " +
                                                  std::to_string(c.output_width) + "x" +
                                                  std::to_string(c.output_height) + " at 1/" +
                                                  std::to_string(scaleDenom) + " scale");
  }

  CodecImage out;
  out.orientation = FirstApp1Orientation(c);
  job.pixels.create(expectedH, expectedW, CV_8UC3);
  if (channels == 4) job.cmykRow.resize(size_t(expectedW) * 4);
  if (!ReadPixels(&job)) Fail(job);
  out.pixels = job.pixels;
  return out;
}

}  // namespace ip
