// The `ffmpeg` CLI as a Node developer drives it: decoding a file to raw BGR frames on a pipe, read in
// exact frame-sized buffers. `-benchmark` changes nothing about the decoding; it makes ffmpeg print
// its own CPU time and peak RSS as it exits, which Node cannot read for a child that has gone.
import { spawn, spawnSync } from 'node:child_process';

export interface FfmpegUsage {
  cpuSeconds: number;
  peakRssMb: number;
}

export interface FrameSize {
  width: number;
  height: number;
}

/** The first video stream's size, from ffprobe. */
export function probeSize(file: string): FrameSize {
  const r = spawnSync(
    'ffprobe',
    ['-v', 'error', '-select_streams', 'v:0', '-show_entries', 'stream=width,height', '-of', 'csv=p=0', file],
    { encoding: 'utf8' },
  );
  const [width, height] = r.stdout.trim().split(',').map(Number);
  if (r.status !== 0 || !width || !height) throw new Error(`ffprobe could not read ${file}: ${r.stderr}`);
  return { width, height };
}

function parseUsage(stderr: string): FfmpegUsage {
  const times = /bench: utime=([\d.]+)s stime=([\d.]+)s/.exec(stderr);
  const rss = /bench: maxrss=(\d+)kB/.exec(stderr);
  return {
    cpuSeconds: times ? Number(times[1]) + Number(times[2]) : NaN,
    peakRssMb: rss ? Number(rss[1]) / 1024 : NaN,
  };
}

export interface FfmpegFrames {
  /** Each frame a buffer of its own (width × height × 3 bytes), so that frames in flight stay intact. */
  frames: AsyncIterable<Buffer>;
  /** Settles when ffmpeg has exited: its CPU time and peak RSS. */
  usage: Promise<FfmpegUsage>;
}

/** `ffmpeg -i file -f rawvideo -pix_fmt bgr24 -`, its stdout cut into frames; `maxFrames` stops it early. */
export function ffmpegFrames(file: string, size: FrameSize, maxFrames?: number): FfmpegFrames {
  const limit = maxFrames === undefined ? [] : ['-frames:v', String(maxFrames)];
  const ffmpeg = spawn(
    'ffmpeg',
    ['-hide_banner', '-nostats', '-benchmark', '-i', file, ...limit, '-f', 'rawvideo', '-pix_fmt', 'bgr24', '-'],
    { stdio: ['ignore', 'pipe', 'pipe'] },
  );
  let stderr = '';
  ffmpeg.stderr.setEncoding('utf8').on('data', (chunk: string) => (stderr += chunk));
  const usage = new Promise<FfmpegUsage>((resolve, reject) => {
    ffmpeg.on('error', reject);
    ffmpeg.on('close', (code) =>
      code === 0 ? resolve(parseUsage(stderr)) : reject(new Error(`ffmpeg exited with ${code}: ${stderr}`)),
    );
  });
  const frameBytes = size.width * size.height * 3;
  async function* frames(): AsyncGenerator<Buffer> {
    let frame = Buffer.allocUnsafe(frameBytes);
    let filled = 0;
    // Pipe chunks (64 KB) rarely line up with frames: copy each into the frame being filled.
    for await (const chunk of ffmpeg.stdout as AsyncIterable<Buffer>) {
      let offset = 0;
      while (offset < chunk.length) {
        const n = Math.min(frameBytes - filled, chunk.length - offset);
        chunk.copy(frame, filled, offset, offset + n);
        filled += n;
        offset += n;
        if (filled === frameBytes) {
          yield frame;
          frame = Buffer.allocUnsafe(frameBytes);
          filled = 0;
        }
      }
    }
    if (filled !== 0) throw new Error(`ffmpeg's output ended inside a frame (${filled} of ${frameBytes} bytes)`);
  }
  return { frames: frames(), usage };
}
