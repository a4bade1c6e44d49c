// A loaded model: its ONNX Runtime session (shared by every instance thread; adaptive models add a
// second one on the shared thread pool), what its input expects and what its outputs look like.
// Immutable after Load().
#pragma once

#include <onnxruntime_cxx_api.h>

#include <map>
#include <memory>
#include <string>
#include <vector>

#include "core/ort_runtime.h"
#include "core/preprocess.h"

namespace ip {

enum class Task { kClassification, kObjectDetection, kInstanceSegmentation };
enum class Activation { kAuto, kSoftmax, kSigmoid, kNone };
enum class ExecutionProvider { kCpu, kCuda };
// How a detector's first output is laid out; kAuto decides from its shape and metadata.
enum class OutputLayout { kAuto, kYolov8, kYolov5, kEndToEnd };

struct ModelSpec {
  std::string id;
  std::string path;            // a file, or empty when `bytes` holds the model
  std::vector<uint8_t> bytes;  // the ONNX file's bytes
  Task task = Task::kClassification;
  int inputWidth = 0, inputHeight = 0;  // 0: read from the model (its input shape, else `imgsz` metadata)
  ResizeMode resize = ResizeMode::kStretch;
  ChannelOrder order = ChannelOrder::kRgb;
  double mean[3] = {0, 0, 0};
  double std[3] = {1, 1, 1};
  Activation activation = Activation::kAuto;
  OutputLayout outputLayout = OutputLayout::kAuto;
  int maxBatchSize = 8;
  // Sessions fed by the model's one batcher. 0 (the default) picks adaptively on the CPU: one
  // single-threaded session per intra-op thread, which run batches side by side under load, plus one
  // session on the shared multi-threaded pool for a batch that runs alone (lowest latency).
  int instances = 0;
  size_t maxQueueSize = 0;  // requests this model may hold at once (QUEUE_FULL beyond); 0: only the pool's bound
  // Warm-up at load (core/warmup.h): each session runs once per batch size on zeros. The sizes are
  // warmupBatchSizes, or 1 … maxBatchSize when it is empty.
  std::vector<int> warmupBatchSizes;
  bool warmup = true;
};

struct SessionConfig {
  ExecutionProvider provider = ExecutionProvider::kCpu;
  int deviceId = 0;
};

struct TensorInfo {
  std::string name;
  std::vector<int64_t> shape;  // -1 for symbolic dimensions
};

class Model {
 public:
  // Throws PoolError: MODEL_LOAD_FAILED (naming the path and ONNX Runtime's reason),
  // PROVIDER_UNAVAILABLE, INVALID_ARGUMENT.
  static std::unique_ptr<Model> Load(OrtRuntime& runtime, const ModelSpec& spec, const SessionConfig& config);

  const ModelSpec& spec() const { return spec_; }
  const PreprocessSpec& preprocess() const { return preprocess_; }
  const TensorInfo& input() const { return input_; }
  const std::vector<TensorInfo>& outputs() const { return outputs_; }
  const std::map<std::string, std::string>& metadata() const { return metadata_; }
  int maxBatchSize() const { return maxBatchSize_; }
  // A model whose batch dimension is fixed runs exactly that many items, padding a short batch.
  int fixedBatch() const { return fixedBatch_; }
  size_t itemElements() const { return size_t(preprocess_.width) * preprocess_.height * 3; }
  // Threads that run batches at once; they all share session().
  int instanceCount() const { return instanceCount_; }
  Ort::Session& session() { return *session_; }
  // Adaptive instances: the session that spreads one batch over every intra-op thread (null otherwise).
  Ort::Session* parallelSession() { return parallelSession_.get(); }
  const char* inputName() const { return input_.name.c_str(); }
  const std::vector<const char*>& outputNames() const { return outputNamePtrs_; }
  // From the metadata: whether the exporter marked the model end-to-end (NMS inside), and how many
  // class names it lists (0 when none).
  bool endToEndHint() const { return endToEndHint_; }
  int classCountHint() const { return classCountHint_; }

 private:
  ModelSpec spec_;
  PreprocessSpec preprocess_;
  TensorInfo input_;
  std::vector<TensorInfo> outputs_;
  std::vector<const char*> outputNamePtrs_;
  std::map<std::string, std::string> metadata_;
  bool endToEndHint_ = false;
  int classCountHint_ = 0;
  int maxBatchSize_ = 1;
  int fixedBatch_ = 0;
  int instanceCount_ = 1;
  struct ReleasePrepacked {
    void operator()(OrtPrepackedWeightsContainer* p) const { Ort::GetApi().ReleasePrepackedWeightsContainer(p); }
  };
  // Declared before the sessions, so that it outlives them.
  std::unique_ptr<OrtPrepackedWeightsContainer, ReleasePrepacked> prepacked_;
  std::unique_ptr<Ort::Session> session_;
  std::unique_ptr<Ort::Session> parallelSession_;
};

}  // namespace ip
