#include "core/decoder_messages.h"

namespace ip {

void DecoderMessages::Warning(const char* text) noexcept {
  try {
    if (warnings_.size() < kMaxWarnings) {
      warnings_.emplace_back(text);
    } else {
      ++droppedWarnings_;
    }
  } catch (...) {
    // Out of memory while keeping a warning: losing its text is harmless.
  }
}

void DecoderMessages::Error(const char* text) noexcept {
  try {
    if (error_.empty()) error_ = text;
  } catch (...) {
  }
}

std::string DecoderMessages::Describe() const {
  std::string out = error_.empty() ? "corrupt or truncated data" : error_;
  if (warnings_.empty()) return out;
  out += " (warnings: ";
  for (size_t i = 0; i < warnings_.size(); ++i) out += (i ? "; " : "") + warnings_[i];
  if (droppedWarnings_ > 0) out += "; and " + std::to_string(droppedWarnings_) + " more";
  return out + ")";
}

}  // namespace ip
