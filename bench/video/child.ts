// One part of the video benchmark in a process of its own, on a fresh pool with its default settings
// and the YOLOv8n-shaped detector, so that parts never share thread pools, memory or CPU accounting.
// Prints one line `RESULT <json>`.
import { InferencePool } from '../../lib/index.ts';
import { workload } from '../workloads.ts';
import { runFile, runStreams } from './file-runs.ts';
import type { FileContender, FileJob } from './file-runs.ts';
import { runLive } from './live.ts';
import type { LiveJob } from './live.ts';

export type VideoJob =
  | ({ kind: 'file'; contender: FileContender } & FileJob)
  | ({ kind: 'streams'; streams: number } & FileJob)
  | ({ kind: 'live' } & LiveJob);

const job = JSON.parse(process.argv[2]!) as VideoJob;
const detector = workload('detection').models[0]!.spec;
if (detector.id !== job.modelId) throw new Error(`the detector is '${detector.id}', not '${job.modelId}'`);
const pool = await InferencePool.create({ models: [detector] });
const result =
  job.kind === 'file'
    ? await runFile(pool, job.contender, job)
    : job.kind === 'streams'
      ? await runStreams(pool, job.streams, job)
      : await runLive(pool, job);
await pool.close();
console.log(`RESULT ${JSON.stringify(result)}`);
