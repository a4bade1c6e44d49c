// The HTTP benchmark's workloads: the in-process benchmark's single-model workloads (same models,
// same options), named the way a Roboflow-style server addresses them. Model ids take the legacy
// route's 'dataset/version' form so that `POST /bench/det` reaches the same model as `/infer/...`.
import { workload } from '../workloads.ts';
import type { BenchModel } from '../workloads.ts';

export type RoboflowTask = 'object_detection' | 'instance_segmentation' | 'classification';

export interface HttpWorkload {
  name: string;
  model: BenchModel;
  /** 'bench/det': the server's model id and the legacy route's path. */
  modelId: string;
  task: RoboflowTask;
  /** The request options in Roboflow's JSON field names (the legacy route takes them as a query). */
  fields: Record<string, string | number>;
}

const TASKS: Record<string, RoboflowTask> = {
  'object-detection': 'object_detection',
  'instance-segmentation': 'instance_segmentation',
  classification: 'classification',
};

function httpWorkload(name: string): HttpWorkload {
  const model = workload(name).models[0]!;
  const o = model.options;
  const task = TASKS[model.spec.task ?? '']!;
  const fields: Record<string, string | number> = {};
  // Sent explicitly (at the library's default for detection) so that both servers read an option.
  if (task !== 'classification') fields.confidence = o.confidence ?? 0.4;
  if (o.maskDecodeMode) fields.mask_decode_mode = o.maskDecodeMode;
  return { name, model, modelId: `bench/${model.spec.id}`, task, fields };
}

export const HTTP_WORKLOADS: HttpWorkload[] = ['detection', 'segmentation-fast', 'classification'].map(httpWorkload);

export function httpWorkloadNamed(name: string): HttpWorkload {
  const w = HTTP_WORKLOADS.find((x) => x.name === name);
  if (!w) throw new Error(`unknown HTTP workload ${name}`);
  return w;
}
