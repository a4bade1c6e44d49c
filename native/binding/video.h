// `video` on the addon: { available, reason?, VideoSource, VideoWriter } (lib/native.ts,
// NativeVideoBinding). Sources read and decode on their own threads (native/core/video_source.h);
// results come back to the JS thread through one thread-safe function per source, frames as
// external buffers over the decoded cv::Mat (no copy). Writers encode on their own threads.
//
// Keeping the process alive: a source holds the event loop (and its own JS object) from open()
// until it stops producing (end of file, failure past its reconnects, close()), and while a
// promise of it is pending; an ended or closed source holds nothing. A writer holds nothing (its
// close() promise does while it runs); the environment's cleanup closes it, so its file is complete.
#pragma once

#include <napi.h>

namespace ipjs {

struct AddonData;

Napi::Object MakeVideoBinding(Napi::Env env);
// Environment teardown: every source and writer of this environment stops its thread now.
void ShutdownVideo(AddonData* data);

}  // namespace ipjs
