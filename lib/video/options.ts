// A video or frame stream's options: the scheduling of its frames, the tracker, and the detection
// options of infer() applied to every frame.
import { InferencePoolError } from '../errors.js';
import type { NativeTrackerOptions } from '../native.js';
import type { InferOptions } from '../types.js';

export interface TrackerOptions {
  /** Detections at or above this score start tracks. Default 0.25. */
  trackActivationThreshold?: number;
  /** Frames a lost track is kept for re-association. Default 30. */
  lostTrackBuffer?: number;
  /** Default 0.8. */
  minimumMatchingThreshold?: number;
  /** Default: the source's frame rate, else 30. */
  frameRate?: number;
  /** Frames a new track must be seen before it gets an id. Default 1. */
  minimumConsecutiveFrames?: number;
}

export interface StreamOptions extends Omit<InferOptions, 'signal'>, TrackerOptions {
  /**
   * 'every-frame': nothing is dropped, reading waits for room (the default for files and for
   * pool.stream). 'freshest': a bounded buffer drops the oldest frames and the next frame submitted
   * is always the newest (the default for live sources).
   */
  mode?: 'every-frame' | 'freshest';
  /** At most this many frames submitted per second. Default: no cap. */
  maxFps?: number;
  /** Frames of this stream in the pool at once. Default: the model's batch size. */
  maxInFlight?: number;
  /** Adds `tracker_id` to each detection (predictions no track holds yet are left out, as supervision does). */
  tracker?: 'bytetrack';
}

export interface VideoOptions extends StreamOptions {
  /** A live source that fails is reopened (with backoff) up to this many times. Default 5. */
  reconnect?: number;
  /** The first reconnect's delay, doubling per attempt (at most 5 s). Default 500. */
  reconnectDelayMs?: number;
  /** Decoded frames held natively. Default: maxInFlight + 2 ('every-frame'), 4 ('freshest'). */
  bufferSize?: number;
}

function check(ok: boolean, message: string): void {
  if (!ok) throw new InferencePoolError('INVALID_ARGUMENT', message);
}

/** Validates the stream-level options (infer's own are checked by infer) and splits them off. */
export function splitStreamOptions(options: VideoOptions): {
  stream: VideoOptions;
  infer: InferOptions;
  tracker: Partial<NativeTrackerOptions> | undefined;
} {
  if (!options || typeof options !== 'object')
    throw new InferencePoolError('INVALID_ARGUMENT', 'options must be an object');
  const {
    mode,
    maxFps,
    maxInFlight,
    tracker,
    trackActivationThreshold,
    lostTrackBuffer,
    minimumMatchingThreshold,
    frameRate,
    minimumConsecutiveFrames,
    reconnect,
    reconnectDelayMs,
    bufferSize,
    ...infer
  } = options;
  check(
    mode === undefined || mode === 'every-frame' || mode === 'freshest',
    "mode must be 'every-frame' or 'freshest'",
  );
  check(
    maxFps === undefined || (typeof maxFps === 'number' && maxFps > 0 && Number.isFinite(maxFps)),
    'maxFps must be a positive number',
  );
  for (const [name, value, min] of [
    ['maxInFlight', maxInFlight, 1],
    ['reconnect', reconnect, 0],
    ['bufferSize', bufferSize, 1],
    ['lostTrackBuffer', lostTrackBuffer, 0],
    ['minimumConsecutiveFrames', minimumConsecutiveFrames, 1],
  ] as const) {
    check(
      value === undefined || (Number.isInteger(value) && value >= min && value <= 100_000),
      `${name} must be an integer from ${min}`,
    );
  }
  check(
    reconnectDelayMs === undefined || (typeof reconnectDelayMs === 'number' && reconnectDelayMs >= 0),
    'reconnectDelayMs must be a number of ms',
  );
  check(tracker === undefined || tracker === 'bytetrack', "tracker must be 'bytetrack'");
  for (const [name, value] of [
    ['trackActivationThreshold', trackActivationThreshold],
    ['minimumMatchingThreshold', minimumMatchingThreshold],
  ] as const) {
    check(
      value === undefined || (typeof value === 'number' && value >= 0 && value <= 1),
      `${name} must be a number from 0 to 1`,
    );
  }
  check(
    frameRate === undefined || (typeof frameRate === 'number' && frameRate > 0),
    'frameRate must be a positive number',
  );
  const trackerOptions =
    tracker === 'bytetrack'
      ? { trackActivationThreshold, lostTrackBuffer, minimumMatchingThreshold, frameRate, minimumConsecutiveFrames }
      : undefined;
  return {
    stream: { mode, maxFps, maxInFlight, tracker, reconnect, reconnectDelayMs, bufferSize },
    infer,
    tracker: trackerOptions,
  };
}

/** supervision's defaults, with the source's frame rate when it has one. */
export function trackerDefaults(options: Partial<NativeTrackerOptions>, sourceFps: number): NativeTrackerOptions {
  return {
    trackActivationThreshold: options.trackActivationThreshold ?? 0.25,
    lostTrackBuffer: options.lostTrackBuffer ?? 30,
    minimumMatchingThreshold: options.minimumMatchingThreshold ?? 0.8,
    frameRate: options.frameRate ?? (sourceFps > 0 ? sourceFps : 30),
    minimumConsecutiveFrames: options.minimumConsecutiveFrames ?? 1,
  };
}
