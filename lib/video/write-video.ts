// writeVideo(): writes a stream's frames, annotated, to a video file natively while the caller
// iterates, and yields the frames on. Drawing and encoding run on the writer's own thread; when it
// falls behind, frames are left out of the file (counted), never held up.
import { drawingFor } from '../annotate.js';
import type { DrawingOptions } from '../annotate.js';
import { InferencePoolError, toPoolError } from '../errors.js';
import { loadBinding } from '../native.js';
import type { NativeVideoWriter } from '../native.js';
import type { InferenceResult, RawImage } from '../types.js';
import type { VideoResult } from './video-stream.js';

export interface WriteVideoOptions extends DrawingOptions {
  /** Draw the results (boxes, labels, masks, tracker ids). Default true. */
  annotate?: boolean;
  /** Frames per second of the file. Default: the stream's source rate, else 30. */
  fps?: number;
  /** Frames waiting for the writer at most; beyond, frames are dropped from the file. Default 32. */
  queueSize?: number;
}

export interface VideoWriteStats {
  written: number;
  dropped: number;
}

/** The frames, yielded on as they are queued for writing; `finished` settles once the file is closed. */
export interface VideoWriteStream<T extends InferenceResult> extends AsyncIterableIterator<VideoResult<T>> {
  readonly finished: Promise<VideoWriteStats>;
}

function rawOf(image: unknown): RawImage {
  const raw = image as Partial<RawImage>;
  if (!raw || !(raw.data instanceof Uint8Array) || typeof raw.width !== 'number' || typeof raw.format !== 'string') {
    throw new InferencePoolError(
      'INVALID_ARGUMENT',
      'writeVideo needs raw frames (pool.video, or pool.stream of raw images); encoded frames cannot be written',
    );
  }
  return raw as RawImage;
}

export function writeVideo<T extends InferenceResult>(
  stream: AsyncIterable<VideoResult<T>> & { open?: () => Promise<{ fps: number }> },
  path: string,
  options: WriteVideoOptions = {},
): VideoWriteStream<T> {
  if (typeof path !== 'string' || path === '')
    throw new InferencePoolError('INVALID_ARGUMENT', 'path must be a file path');
  const { fps, queueSize = 32, annotate = true } = options;
  if (fps !== undefined && !(typeof fps === 'number' && fps > 0 && fps <= 1000)) {
    throw new InferencePoolError('INVALID_ARGUMENT', 'fps must be a number from 0 to 1000');
  }
  let resolveFinished!: (stats: VideoWriteStats) => void;
  let rejectFinished!: (error: unknown) => void;
  const finished = new Promise<VideoWriteStats>((resolve, reject) => {
    resolveFinished = resolve;
    rejectFinished = reject;
  });
  finished.catch(() => {}); // reported to whoever awaits it; iteration errors come through the iteration

  async function* frames(): AsyncGenerator<VideoResult<T>> {
    let writer: NativeVideoWriter | undefined;
    let closing: Promise<VideoWriteStats> | undefined;
    const closeWriter = (): Promise<VideoWriteStats> =>
      (closing ??= writer ? writer.close() : Promise.resolve({ written: 0, dropped: 0 }));
    try {
      for await (const item of stream) {
        const image = rawOf(item.image);
        if (!writer) {
          const sourceFps = (await stream.open?.())?.fps ?? 0;
          const { video } = loadBinding();
          if (!video.available) throw new InferencePoolError('VIDEO_SOURCE_FAILED', video.reason ?? 'no video support');
          try {
            writer = new video.VideoWriter(path, {
              fps: fps ?? (sourceFps > 0 ? sourceFps : 30),
              width: image.width,
              height: image.height,
              queueSize,
            });
          } catch (error) {
            throw toPoolError(error, 'VIDEO_SOURCE_FAILED');
          }
        }
        writer.write(image, annotate ? drawingFor(item.result, options) : { instances: [] });
        yield item;
      }
      resolveFinished(await closeWriter());
    } catch (error) {
      await closeWriter().catch(() => {});
      rejectFinished(error);
      throw error;
    } finally {
      // `break` in the caller's loop: close the file with what was written (a no-op after the above).
      closeWriter().then(resolveFinished, rejectFinished);
    }
  }
  return Object.assign(frames(), { finished });
}
