// Where a stream's frames come from: a native video source (decoded on its own thread, pixels never
// copied into JS) or an async iterable of images the caller already has.
import { InferencePoolError, toPoolError } from '../errors.js';
import { loadBinding } from '../native.js';
import type { NativeVideoEvent, NativeVideoInfo, NativeVideoSource } from '../native.js';
import type { ImageInput } from '../types.js';

export interface SourceFrame {
  index: number;
  /** ms: the source's clock where it has one, else since the stream started. */
  timestamp: number;
  image: ImageInput;
  /** performance.now() when the frame was handed over (frame-to-result latency starts here). */
  arrivedAt: number;
}

export interface FrameSource {
  /** Opens the source (once); rejects VIDEO_SOURCE_FAILED for a video that cannot be opened. */
  open(): Promise<{ fps: number; live: boolean }>;
  /** The next frame, or null at the end. */
  next(): Promise<SourceFrame | null>;
  pause(): void;
  resume(): void;
  close(): void;
  /** Frames read from the source and dropped before submission, and measured input rate. */
  counts(): { read: number; dropped: number; inputFps: number };
}

/** Frames decoded natively by OpenCV's videoio (FFmpeg). */
export class NativeFrameSource implements FrameSource {
  readonly #native: NativeVideoSource;
  #opened: Promise<NativeVideoInfo> | undefined;

  constructor(
    readonly source: string,
    options: { mode: 'every-frame' | 'freshest'; bufferSize: number; reconnect: number; reconnectDelayMs: number },
    onEvent: (event: NativeVideoEvent) => void,
  ) {
    const { video } = loadBinding();
    if (!video.available) {
      throw new InferencePoolError(
        'VIDEO_SOURCE_FAILED',
        `cannot open '${source}': ${video.reason ?? 'no video support'}`,
      );
    }
    try {
      this.#native = new video.VideoSource(source, options, onEvent);
    } catch (error) {
      throw toPoolError(error, 'VIDEO_SOURCE_FAILED');
    }
  }

  open(): Promise<{ fps: number; live: boolean }> {
    this.#opened ??= this.#native.open().catch((error: unknown) => {
      throw toPoolError(error, 'VIDEO_SOURCE_FAILED');
    });
    return this.#opened;
  }

  async next(): Promise<SourceFrame | null> {
    let frame;
    try {
      frame = await this.#native.next();
    } catch (error) {
      throw toPoolError(error, 'VIDEO_SOURCE_FAILED');
    }
    if (!frame) return null;
    const { data, width, height } = frame.image;
    return {
      index: frame.index,
      timestamp: frame.timestamp,
      image: { data, width, height, format: 'bgr' },
      arrivedAt: performance.now(),
    };
  }

  pause(): void {
    this.#native.pause();
  }

  resume(): void {
    this.#native.resume();
  }

  close(): void {
    this.#native.close();
  }

  counts(): { read: number; dropped: number; inputFps: number } {
    const { read, dropped, inputFps } = this.#native.stats();
    return { read, dropped, inputFps };
  }
}

/** Frames the caller already has: pulled one at a time, only when the stream has room. */
export class IterableFrameSource implements FrameSource {
  readonly #iterator: AsyncIterator<ImageInput> | Iterator<ImageInput>;
  readonly #started = performance.now();
  readonly #arrivals: number[] = [];
  #index = 0;
  #done = false;

  constructor(frames: AsyncIterable<ImageInput> | Iterable<ImageInput>) {
    const asyncIt = (frames as AsyncIterable<ImageInput>)[Symbol.asyncIterator];
    const syncIt = (frames as Iterable<ImageInput>)[Symbol.iterator];
    if (typeof asyncIt === 'function') this.#iterator = asyncIt.call(frames);
    else if (typeof syncIt === 'function') this.#iterator = syncIt.call(frames);
    else throw new InferencePoolError('INVALID_ARGUMENT', 'frames must be an iterable or async iterable of images');
  }

  async open(): Promise<{ fps: number; live: boolean }> {
    return { fps: 0, live: false };
  }

  async next(): Promise<SourceFrame | null> {
    if (this.#done) return null;
    const step = await this.#iterator.next();
    if (step.done) {
      this.#done = true;
      return null;
    }
    const now = performance.now();
    this.#arrivals.push(now);
    if (this.#arrivals.length > 120) this.#arrivals.shift();
    return { index: this.#index++, timestamp: now - this.#started, image: step.value, arrivedAt: now };
  }

  pause(): void {}
  resume(): void {}

  close(): void {
    if (this.#done) return;
    this.#done = true;
    // Lets the caller's generator run its finally blocks.
    void Promise.resolve(this.#iterator.return?.()).catch(() => {});
  }

  counts(): { read: number; dropped: number; inputFps: number } {
    return { read: this.#index, dropped: 0, inputFps: rate(this.#arrivals) };
  }
}

/** Events per second over a list of recent performance.now() times. */
export function rate(times: number[]): number {
  if (times.length < 2) return 0;
  const span = times[times.length - 1]! - times[0]!;
  return span > 0 ? ((times.length - 1) * 1000) / span : 0;
}
