// A stream of frames through one model, as an async iterable of { frame, result } in frame order.
// One pump pulls frames only while fewer than maxInFlight of this stream's frames are in the pool,
// so a file waits for room and a live source (whose native buffer drops its oldest) hands over its
// newest frame whenever there is room. Frames go to pool.infer() concurrently (and batch with every
// other stream's); results are handed out in the order the frames were submitted, through the
// stream's tracker when it has one.
import { EventEmitter } from 'node:events';

import { InferencePoolError, toPoolError } from '../errors.js';
import { loadBinding } from '../native.js';
import type { NativeTracker, NativeTrackerOptions, NativeVideoEvent } from '../native.js';
import type { DetectionResult, ImageInput, InferOptions, InferenceResult } from '../types.js';
import { rate } from './frame-source.js';
import type { FrameSource, SourceFrame } from './frame-source.js';
import { trackerDefaults } from './options.js';
import { applyTracks } from './tracks.js';

/** What a stream needs of the pool: the public API only. */
export interface StreamPool {
  infer(image: ImageInput, modelId: string, options?: InferOptions): Promise<InferenceResult>;
}

export interface VideoFrameInfo {
  /** 0-based position in the source (frames dropped before it count). */
  index: number;
  /** ms: the source's own clock where it has one, else from capture. */
  timestamp: number;
  width: number;
  height: number;
}

export interface VideoResult<T extends InferenceResult = InferenceResult> {
  frame: VideoFrameInfo;
  result: T;
  /** The frame's pixels (raw BGR for video sources; what the caller gave for pool.stream). */
  image: ImageInput;
}

export interface VideoStreamStats {
  /** Frames read from the source. */
  read: number;
  /** Frames handed to the pool. */
  submitted: number;
  /** Frames with a result. */
  inferred: number;
  /** Frames read but never submitted (freshest mode), or whose request was refused for time or room. */
  dropped: number;
  /** Measured over the last frames: read from the source, and results out. */
  inputFps: number;
  outputFps: number;
  /** From a frame's arrival to its result, over the last 1000 frames, ms. */
  latencyMs: { p50: number; p99: number };
}

interface Pending {
  frame: SourceFrame;
  outcome: Promise<InferenceResult | InferencePoolError>;
}

export interface VideoStreamConfig {
  modelId: string;
  mode: 'every-frame' | 'freshest';
  maxInFlight: number;
  maxFps: number | undefined;
  infer: InferOptions;
  tracker: Partial<NativeTrackerOptions> | undefined;
}

const LATENCY_WINDOW = 1000;

export class VideoStream<T extends InferenceResult = InferenceResult>
  extends EventEmitter
  implements AsyncIterableIterator<VideoResult<T>>
{
  readonly #pool: StreamPool;
  readonly #source: () => FrameSource;
  readonly #config: VideoStreamConfig;
  readonly #abort = new AbortController();
  readonly #pending: Pending[] = [];
  readonly #latencies: number[] = [];
  readonly #outputs: number[] = [];
  #frames: FrameSource | undefined;
  #opened: Promise<{ fps: number; live: boolean }> | undefined;
  #tracker: NativeTracker | undefined;
  #pumping = false;
  #paused = false;
  #closed = false;
  #sourceDone = false;
  #sourceError: unknown;
  #wake: (() => void) | undefined;
  #lastSubmit = -Infinity;
  #submitted = 0;
  #inferred = 0;
  #dropped = 0;

  /** `source` is called once, when the stream opens (so a failure surfaces through the iteration). */
  constructor(pool: StreamPool, source: () => FrameSource, config: VideoStreamConfig) {
    super();
    this.#pool = pool;
    this.#source = source;
    this.#config = config;
  }

  /** Opens the source (iteration does it too); rejects VIDEO_SOURCE_FAILED when it cannot be opened. */
  open(): Promise<{ fps: number; live: boolean }> {
    this.#opened ??= (async () => {
      if (this.#closed) throw new InferencePoolError('ABORTED', 'the stream is closed');
      this.#frames = this.#source();
      const info = await this.#frames.open();
      if (this.#config.tracker) {
        try {
          this.#tracker = new (loadBinding().Tracker)(trackerDefaults(this.#config.tracker, info.fps));
        } catch (error) {
          throw toPoolError(error, 'INVALID_ARGUMENT');
        }
      }
      return info;
    })();
    return this.#opened;
  }

  [Symbol.asyncIterator](): this {
    return this;
  }

  async next(): Promise<IteratorResult<VideoResult<T>>> {
    try {
      await this.open();
    } catch (error) {
      this.close();
      throw error;
    }
    for (;;) {
      if (this.#closed) return { value: undefined, done: true };
      this.#pump();
      const head = this.#pending[0];
      if (head) {
        const outcome = await head.outcome;
        if (this.#pending[0] === head) this.#pending.shift();
        this.#pump();
        if (this.#closed) return { value: undefined, done: true };
        if (outcome instanceof InferencePoolError) {
          if (
            this.#config.mode === 'freshest' &&
            (outcome.code === 'QUEUE_FULL' || outcome.code === 'DEADLINE_EXCEEDED')
          ) {
            this.#dropped++;
            continue;
          }
          this.close();
          throw outcome;
        }
        return { value: this.#deliver(head.frame, outcome), done: false };
      }
      if (this.#sourceError !== undefined) {
        const error = this.#sourceError;
        this.close();
        throw error;
      }
      if (this.#sourceDone) return { value: undefined, done: true };
      await new Promise<void>((resolve) => (this.#wake = resolve));
    }
  }

  /** `break` in for-await: the source is released and frames in flight are dropped. */
  async return(): Promise<IteratorResult<VideoResult<T>>> {
    this.close();
    return { value: undefined, done: true };
  }

  /** Stops pulling frames (a live source keeps draining natively and drops what it reads). */
  pause(): void {
    if (this.#closed || this.#paused) return;
    this.#paused = true;
    this.#frames?.pause();
  }

  resume(): void {
    if (this.#closed || !this.#paused) return;
    this.#paused = false;
    this.#frames?.resume();
    this.#pump();
  }

  get paused(): boolean {
    return this.#paused;
  }

  get closed(): boolean {
    return this.#closed;
  }

  /** Releases the source; frames in flight are dropped; the iteration ends. */
  close(): void {
    if (this.#closed) return;
    this.#closed = true;
    this.#abort.abort(new Error('the stream was closed'));
    this.#frames?.close();
    this.#tracker = undefined;
    this.#wakeConsumer();
    this.emit('close');
  }

  stats(): VideoStreamStats {
    const source = this.#frames?.counts() ?? { read: 0, dropped: 0, inputFps: 0 };
    const sorted = [...this.#latencies].sort((a, b) => a - b);
    const pick = (q: number) =>
      sorted.length ? sorted[Math.min(sorted.length - 1, Math.ceil(q * sorted.length) - 1)]! : 0;
    return {
      read: source.read,
      submitted: this.#submitted,
      inferred: this.#inferred,
      dropped: source.dropped + this.#dropped,
      inputFps: source.inputFps,
      outputFps: rate(this.#outputs),
      latencyMs: { p50: pick(0.5), p99: pick(0.99) },
    };
  }

  /** @internal Forwards the native source's events. */
  _onSourceEvent = (event: NativeVideoEvent): void => {
    this.emit(event.type, { attempt: event.attempt, message: event.message });
  };

  #deliver(frame: SourceFrame, result: InferenceResult): VideoResult<T> {
    this.#outputs.push(performance.now());
    if (this.#outputs.length > 120) this.#outputs.shift();
    const tracked =
      this.#tracker && result.task !== 'classification'
        ? applyTracks(result as DetectionResult, this.#tracker)
        : result;
    return {
      frame: { index: frame.index, timestamp: frame.timestamp, width: result.image.width, height: result.image.height },
      result: tracked as T,
      image: frame.image,
    };
  }

  #wakeConsumer(): void {
    const wake = this.#wake;
    this.#wake = undefined;
    wake?.();
  }

  /** Pulls and submits frames while there is room; one loop at a time. */
  #pump(): void {
    if (this.#pumping || !this.#frames) return;
    this.#pumping = true;
    void this.#pumpLoop().finally(() => {
      this.#pumping = false;
      // Wake a waiting consumer only for news (the end, an error); frames wake it as they come, and
      // waking it for nothing would spin it while paused.
      if (this.#sourceDone) this.#wakeConsumer();
    });
  }

  async #pumpLoop(): Promise<void> {
    const frames = this.#frames!;
    const { maxInFlight, maxFps } = this.#config;
    while (!this.#closed && !this.#paused && !this.#sourceDone && this.#pending.length < maxInFlight) {
      if (maxFps !== undefined) {
        const wait = this.#lastSubmit + 1000 / maxFps - performance.now();
        if (wait > 0) await new Promise((r) => setTimeout(r, wait));
        if (this.#closed || this.#paused) break;
      }
      let frame: SourceFrame | null;
      try {
        frame = await frames.next();
      } catch (error) {
        this.#sourceError = error;
        this.#sourceDone = true;
        break;
      }
      if (!frame) {
        this.#sourceDone = true;
        break;
      }
      if (this.#closed) break;
      this.#lastSubmit = performance.now();
      this.#submitted++;
      const outcome = this.#pool
        .infer(frame.image, this.#config.modelId, { ...this.#config.infer, signal: this.#abort.signal })
        .then(
          (result) => {
            this.#inferred++;
            this.#latencies.push(performance.now() - frame.arrivedAt);
            if (this.#latencies.length > LATENCY_WINDOW) this.#latencies.shift();
            return result;
          },
          (error: unknown) => toPoolError(error),
        );
      this.#pending.push({ frame, outcome });
      this.#wakeConsumer();
    }
  }
}
