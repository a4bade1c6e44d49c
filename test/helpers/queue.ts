// Helpers for the job queue's tests: the models the workers serve, the jobs of a run (images ×
// models × options), reference results from an in-process pool, comparing results, and worker
// processes (test/helpers/queue-worker.ts) whose JSON log lines are read as they come.
import { spawn, type ChildProcess } from 'node:child_process';
import { join } from 'node:path';
import * as assert from 'uvu/assert';

import type { InferencePool, InferenceResult, InferOptions, ModelSpec } from '../../lib/index.ts';
import { HELPERS, ROOT } from './child.ts';
import { waitFor } from './models.ts';
import { SERVER_MODELS, shapesImage } from './server.ts';

/** Detection, segmentation and classification (the server's models but its 'dataset/version' alias). */
export const QUEUE_MODELS: ModelSpec[] = SERVER_MODELS.filter((m) => m.id !== 'shapes/1');
export const SHAPES_COUNT = 48;

export interface QueueJob {
  image: number;
  modelId: string;
  options: InferOptions;
}

/** Job i of a run: images and models in turn; every fifth segmentation job also asks for masks. */
export function queueJob(i: number): QueueJob {
  const modelId = QUEUE_MODELS[i % QUEUE_MODELS.length]!.id;
  const options: InferOptions = modelId === 'seg' && i % 5 === 1 ? { returnMasks: true } : {};
  return { image: i % SHAPES_COUNT, modelId, options };
}

const keyOf = (j: QueueJob) => `${j.image}|${j.modelId}|${JSON.stringify(j.options)}`;

/** pool.infer's result for every distinct job among `jobs`, by key. */
export async function references(pool: InferencePool, jobs: QueueJob[]): Promise<Map<string, InferenceResult>> {
  const out = new Map<string, InferenceResult>();
  for (const job of jobs) {
    const key = keyOf(job);
    if (!out.has(key)) out.set(key, await pool.infer(shapesImage(job.image), job.modelId, job.options));
  }
  return out;
}

/** What must be equal between two runs of one request: all but ids, times and batch sizes. */
function comparable(result: InferenceResult): unknown {
  const { time: _time, batchSize: _batch, ...rest } = result;
  if (rest.task === 'classification') return { ...rest, scores: Array.from(rest.scores) };
  const r = rest as Extract<InferenceResult, { boxes: Float32Array }>;
  return {
    ...r,
    predictions: r.predictions.map(({ detection_id: _id, ...p }) => p),
    boxes: Array.from(r.boxes),
    scores: Array.from(r.scores),
    classIds: Array.from(r.classIds),
    masks: r.masks?.map((m) => ({ ...m, data: Array.from(m.data) })),
  };
}

/** The queue's result equals the in-process one, typed arrays as typed arrays. */
export function assertSameResult(got: InferenceResult, job: QueueJob, refs: Map<string, InferenceResult>): void {
  const want = refs.get(keyOf(job))!;
  if (got.task === 'classification') assert.instance(got.scores, Float32Array);
  else {
    assert.instance(got.boxes, Float32Array);
    assert.instance(got.classIds, Int32Array);
    for (const m of got.masks ?? []) assert.instance(m.data, Uint8Array);
  }
  assert.equal(comparable(got), comparable(want), `job ${keyOf(job)}`);
}

export interface WorkerChild {
  child: ChildProcess;
  logs: Record<string, unknown>[];
  exit: Promise<{ code: number | null; signal: NodeJS.Signals | null }>;
  waitForLog(msg: string, timeoutMs?: number): Promise<Record<string, unknown>>;
}

const children = new Set<ChildProcess>();
process.on('exit', () => {
  for (const child of children) child.kill('SIGKILL');
});

/** test/helpers/queue-worker.ts in a child process, with these startWorker settings. */
export function spawnWorker(settings: Record<string, unknown>): WorkerChild {
  const child = spawn(
    process.execPath,
    ['--import', 'tsx', join(HELPERS, 'queue-worker.ts'), JSON.stringify(settings)],
    {
      cwd: ROOT,
      stdio: ['ignore', 'pipe', 'pipe'],
    },
  );
  children.add(child);
  const logs: Record<string, unknown>[] = [];
  let partial = '';
  let stderr = '';
  child.stdout!.setEncoding('utf8').on('data', (d: string) => {
    const lines = (partial + d).split('\n');
    partial = lines.pop()!;
    for (const line of lines) if (line.trim()) logs.push(JSON.parse(line) as Record<string, unknown>);
  });
  child.stderr!.setEncoding('utf8').on('data', (d: string) => (stderr += d));
  const exit = new Promise<{ code: number | null; signal: NodeJS.Signals | null }>((resolve) =>
    child.on('exit', (code, signal) => {
      children.delete(child);
      resolve({ code, signal });
    }),
  );
  return {
    child,
    logs,
    exit,
    async waitForLog(msg, timeoutMs = 60_000) {
      await waitFor(
        () => logs.some((l) => l.msg === msg) || child.exitCode !== null,
        () => `worker log '${msg}' (stderr: ${stderr})`,
        timeoutMs,
      );
      const line = logs.find((l) => l.msg === msg);
      if (!line) assert.unreachable(`worker exited before '${msg}': ${stderr}`);
      return line!;
    },
  };
}

export { shapesImage };
