// Per-environment state (no statics): the pools alive in this environment, so that its cleanup
// hook can stop their threads when the environment goes away (process or worker exit).
#pragma once

#include <napi.h>

#include <set>

namespace ipjs {

class NativePool;
class VideoSourceWrap;
class VideoWriterWrap;

struct AddonData {
  std::set<NativePool*> pools;
  std::set<VideoSourceWrap*> videoSources;
  std::set<VideoWriterWrap*> videoWriters;
};

}  // namespace ipjs
