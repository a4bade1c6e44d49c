// What a codec library reports while it decodes (warnings, and the error that stopped it), kept for
// the request's error message. libjpeg and libpng would otherwise print it on stderr.
#pragma once

#include <string>
#include <vector>

namespace ip {

class DecoderMessages {
 public:
  // Both are called from C callbacks: they never throw.
  void Warning(const char* text) noexcept;
  void Error(const char* text) noexcept;

  // "<error>" followed by the first warnings, e.g. "Not a JPEG file (warnings: Premature end of JPEG file)".
  std::string Describe() const;

 private:
  static constexpr size_t kMaxWarnings = 3;  // a corrupt file can warn once per block
  std::string error_;
  std::vector<std::string> warnings_;
  size_t droppedWarnings_ = 0;
};

}  // namespace ip
