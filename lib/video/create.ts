// pool.video() and pool.stream(): options resolved into a VideoStream over the right frame source.
import { InferencePoolError } from '../errors.js';
import type { ImageInput, ModelInfo } from '../types.js';
import { IterableFrameSource, NativeFrameSource } from './frame-source.js';
import { splitStreamOptions } from './options.js';
import type { StreamOptions, VideoOptions } from './options.js';
import { VideoStream } from './video-stream.js';
import type { StreamPool } from './video-stream.js';

/** A URL FFmpeg opens (rtsp://, udp://, http://…) rather than a local file: a live source. */
export function isLiveSource(source: string): boolean {
  return /^[a-z][a-z0-9+.-]*:\/\//i.test(source) && !/^file:/i.test(source);
}

function modelOf(models: ModelInfo[], modelId: string): ModelInfo {
  const model = models.find((m) => m.id === modelId);
  if (!model) throw new InferencePoolError('MODEL_NOT_FOUND', `no model '${modelId}' is loaded`);
  return model;
}

export function createVideoStream(
  pool: StreamPool,
  models: ModelInfo[],
  source: string,
  modelId: string,
  options: VideoOptions,
): VideoStream {
  if (typeof source !== 'string' || source === '') {
    throw new InferencePoolError('INVALID_ARGUMENT', 'source must be a file path or a URL');
  }
  const { stream, infer, tracker } = splitStreamOptions(options);
  const model = modelOf(models, modelId);
  const mode = stream.mode ?? (isLiveSource(source) ? 'freshest' : 'every-frame');
  const maxInFlight = stream.maxInFlight ?? model.maxBatchSize;
  const video: VideoStream = new VideoStream(
    pool,
    () =>
      new NativeFrameSource(
        source,
        {
          mode,
          bufferSize: stream.bufferSize ?? (mode === 'freshest' ? 4 : Math.max(2, maxInFlight)),
          reconnect: stream.reconnect ?? 5,
          reconnectDelayMs: stream.reconnectDelayMs ?? 500,
        },
        (event) => video._onSourceEvent(event),
      ),
    { modelId, mode, maxInFlight, maxFps: stream.maxFps, infer, tracker },
  );
  return video;
}

export function createFrameStream(
  pool: StreamPool,
  models: ModelInfo[],
  frames: AsyncIterable<ImageInput> | Iterable<ImageInput>,
  modelId: string,
  options: StreamOptions,
): VideoStream {
  const { stream, infer, tracker } = splitStreamOptions(options);
  const model = modelOf(models, modelId);
  return new VideoStream(pool, () => new IterableFrameSource(frames), {
    modelId,
    mode: stream.mode ?? 'every-frame',
    maxInFlight: stream.maxInFlight ?? model.maxBatchSize,
    maxFps: stream.maxFps,
    infer,
    tracker,
  });
}
