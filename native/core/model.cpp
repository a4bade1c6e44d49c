#include "core/model.h"

#include <algorithm>
#include <regex>
#include <thread>

#include "core/errors.h"

namespace ip {
namespace {

std::string Where(const ModelSpec& spec) {
  return spec.path.empty() ? "model '" + spec.id + "' (" + std::to_string(spec.bytes.size()) + " bytes)"
                           : "model '" + spec.id + "' at " + spec.path;
}

enum class Threading { kShared, kSingle };

Ort::SessionOptions MakeSessionOptions(const SessionConfig& config, const ModelSpec& spec, OrtRuntime& runtime,
                                       Threading threading) {
  Ort::SessionOptions options;
  if (threading == Threading::kSingle) {
    options.SetIntraOpNumThreads(1);  // the calling thread alone: no pool threads, no synchronisation
    options.SetInterOpNumThreads(1);
  } else if (runtime.sharedThreadPools()) {
    options.DisablePerSessionThreads();  // use the Env's global pools, shared by every model
  } else {
    options.SetIntraOpNumThreads(runtime.intraOpThreads());
    options.SetInterOpNumThreads(1);
    options.AddConfigEntry("session.intra_op.allow_spinning", "0");
  }
  options.SetGraphOptimizationLevel(GraphOptimizationLevel::ORT_ENABLE_ALL);
  options.SetExecutionMode(ExecutionMode::ORT_SEQUENTIAL);
  options.EnableMemPattern();
  options.EnableCpuMemArena();
  if (runtime.sharedAllocator()) options.AddConfigEntry("session.use_env_allocators", "1");
  if (config.provider == ExecutionProvider::kCuda) {
    try {
      OrtCUDAProviderOptions cuda{};
      cuda.device_id = config.deviceId;
      options.AppendExecutionProvider_CUDA(cuda);
    } catch (const Ort::Exception& e) {
      throw PoolError(ErrorCode::kProviderUnavailable,
                      "the CUDA execution provider is not available for " + Where(spec) + ": " + e.what());
    }
  }
  return options;
}

TensorInfo ReadTensorInfo(const std::string& name, const Ort::TypeInfo& type, const ModelSpec& spec) {
  if (type.GetONNXType() != ONNX_TYPE_TENSOR) {
    throw PoolError(ErrorCode::kModelLoadFailed, Where(spec) + ": '" + name + "' is not a tensor");
  }
  auto tensor = type.GetTensorTypeAndShapeInfo();
  if (tensor.GetElementType() != ONNX_TENSOR_ELEMENT_DATA_TYPE_FLOAT) {
    throw PoolError(ErrorCode::kModelLoadFailed,
                    Where(spec) + ": '" + name + "' is not float32 (element type " +
                        std::to_string(int(tensor.GetElementType())) + "); only float32 tensors are supported");
  }
  return {name, tensor.GetShape()};
}

// Ultralytics writes `imgsz` as "[640, 640]" (height, width) or "640".
bool ParseImgsz(const std::string& text, int* width, int* height) {
  std::smatch m;
  static const std::regex kPair(R"(\[\s*(\d+)\s*,\s*(\d+)\s*\])");
  static const std::regex kOne(R"(^\s*\[?\s*(\d+)\s*\]?\s*$)");
  if (std::regex_search(text, m, kPair)) {
    *height = std::stoi(m[1]);
    *width = std::stoi(m[2]);
    return true;
  }
  if (std::regex_search(text, m, kOne)) {
    *width = *height = std::stoi(m[1]);
    return true;
  }
  return false;
}

}  // namespace

std::unique_ptr<Model> Model::Load(OrtRuntime& runtime, const ModelSpec& spec, const SessionConfig& config) {
  auto model = std::unique_ptr<Model>(new Model());
  model->spec_ = spec;
  // Adaptive on the CPU with several intra-op threads: one single-threaded session per thread (batches
  // side by side under load beat one batch spread over the threads), plus a shared-pool session for a
  // batch that runs alone.
  const int threads = runtime.intraOpThreads() > 0 ? runtime.intraOpThreads()
                                                    : int(std::max(1u, std::thread::hardware_concurrency()));
  const bool adaptive = spec.instances == 0 && config.provider == ExecutionProvider::kCpu && threads > 1;
  model->instanceCount_ = adaptive ? threads : std::max(spec.instances, 1);
  // Every instance thread runs its batches on the same session (ONNX Runtime sessions take concurrent
  // Run() calls), so the weights exist once however many instances there are; the adaptive parallel
  // session shares its prepacked weights with it through one container.
  {
    OrtPrepackedWeightsContainer* container = nullptr;
    Ort::ThrowOnError(Ort::GetApi().CreatePrepackedWeightsContainer(&container));
    model->prepacked_.reset(container);
  }
  auto open = [&](const Ort::SessionOptions& options) {
    return spec.path.empty() ? std::make_unique<Ort::Session>(runtime.env(), spec.bytes.data(), spec.bytes.size(),
                                                              options, model->prepacked_.get())
                             : std::make_unique<Ort::Session>(runtime.env(), spec.path.c_str(), options,
                                                              model->prepacked_.get());
  };
  auto createSessions = [&] {
    model->parallelSession_.reset();
    model->session_.reset();
    model->session_ = open(MakeSessionOptions(config, spec, runtime, adaptive ? Threading::kSingle : Threading::kShared));
    if (adaptive) model->parallelSession_ = open(MakeSessionOptions(config, spec, runtime, Threading::kShared));
  };
  try {
    try {
      createSessions();
    } catch (const Ort::Exception& e) {
      if (std::string(e.what()).find("EnvCreatedWithGlobalThreadPools") == std::string::npos) throw;
      runtime.MarkNoSharedThreadPools();
      createSessions();
    }
  } catch (const Ort::Exception& e) {
    std::string what = e.what();
    if (config.provider == ExecutionProvider::kCuda && what.find("CUDA") != std::string::npos) {
      throw PoolError(ErrorCode::kProviderUnavailable, "cannot run " + Where(spec) + " on CUDA: " + what);
    }
    throw PoolError(ErrorCode::kModelLoadFailed, "cannot load " + Where(spec) + ": " + what);
  }

  Ort::Session& session = *model->session_;
  Ort::AllocatorWithDefaultOptions allocator;
  try {
    if (session.GetInputCount() != 1) {
      throw PoolError(ErrorCode::kModelLoadFailed,
                      Where(spec) + " has " + std::to_string(session.GetInputCount()) + " inputs; one image input is supported");
    }
    model->input_ = ReadTensorInfo(session.GetInputNameAllocated(0, allocator).get(), session.GetInputTypeInfo(0), spec);
    for (size_t i = 0; i < session.GetOutputCount(); ++i) {
      model->outputs_.push_back(
          ReadTensorInfo(session.GetOutputNameAllocated(i, allocator).get(), session.GetOutputTypeInfo(i), spec));
    }
    Ort::ModelMetadata meta = session.GetModelMetadata();
    for (auto& key : meta.GetCustomMetadataMapKeysAllocated(allocator)) {
      auto value = meta.LookupCustomMetadataMapAllocated(key.get(), allocator);
      model->metadata_[key.get()] = value ? value.get() : "";
    }
  } catch (const Ort::Exception& e) {
    throw PoolError(ErrorCode::kModelLoadFailed, "cannot read " + Where(spec) + ": " + e.what());
  }
  for (auto& out : model->outputs_) model->outputNamePtrs_.push_back(out.name.c_str());
  if (auto it = model->metadata_.find("end2end"); it != model->metadata_.end()) {
    model->endToEndHint_ = it->second == "True" || it->second == "true" || it->second == "1";
  }
  if (auto it = model->metadata_.find("names"); it != model->metadata_.end()) {
    static const std::regex kEntry(R"((\d+)\s*:)");
    // A hostile or broken table (an id of 2e9) must not size anything: such ids are ignored.
    constexpr long kMaxClasses = 1 << 20;
    for (auto m = std::sregex_iterator(it->second.begin(), it->second.end(), kEntry); m != std::sregex_iterator(); ++m) {
      const std::string digits = (*m)[1];
      if (digits.size() > 7) continue;
      const long id = std::stol(digits);
      if (id < kMaxClasses) model->classCountHint_ = std::max(model->classCountHint_, int(id) + 1);
    }
  }

  // Input layout: [N, 3, H, W] or [N, H, W, 3].
  const auto& shape = model->input_.shape;
  if (shape.size() != 4 || (shape[1] != 3 && shape[3] != 3)) {
    std::string dims;
    for (auto d : shape) dims += (dims.empty() ? "" : ", ") + std::to_string(d);
    throw PoolError(ErrorCode::kModelLoadFailed, Where(spec) + ": input '" + model->input_.name + "' has shape [" + dims +
                                                     "]; an image input [N, 3, H, W] or [N, H, W, 3] is expected");
  }
  PreprocessSpec& pre = model->preprocess_;
  pre.layout = shape[1] == 3 ? TensorLayout::kNchw : TensorLayout::kNhwc;
  int64_t modelH = pre.layout == TensorLayout::kNchw ? shape[2] : shape[1];
  int64_t modelW = pre.layout == TensorLayout::kNchw ? shape[3] : shape[2];
  int width = spec.inputWidth, height = spec.inputHeight;
  if (width <= 0 || height <= 0) {
    if (modelW > 0 && modelH > 0) {
      width = int(modelW);
      height = int(modelH);
    } else {
      auto it = model->metadata_.find("imgsz");
      if (it == model->metadata_.end() || !ParseImgsz(it->second, &width, &height)) {
        throw PoolError(ErrorCode::kModelLoadFailed,
                        Where(spec) + " has a dynamic input size and no `imgsz` metadata; give inputSize in the spec");
      }
    }
  } else if ((modelW > 0 && modelW != width) || (modelH > 0 && modelH != height)) {
    throw PoolError(ErrorCode::kInvalidArgument, Where(spec) + ": inputSize " + std::to_string(width) + "x" +
                                                     std::to_string(height) + " does not match the model's input " +
                                                     std::to_string(modelW) + "x" + std::to_string(modelH));
  }
  pre.width = width;
  pre.height = height;
  pre.resize = spec.resize;
  pre.order = spec.order;
  for (int c = 0; c < 3; ++c) {
    pre.mean[c] = spec.mean[c];
    pre.std[c] = spec.std[c];
  }

  int requested = spec.maxBatchSize < 1 ? 1 : spec.maxBatchSize;
  if (shape[0] > 0) {
    model->fixedBatch_ = int(shape[0]);
    model->maxBatchSize_ = int(shape[0]);
  } else {
    model->maxBatchSize_ = requested;
  }
  return model;
}

}  // namespace ip
