// The library under test, with its default settings.
import { InferencePool } from '../../lib/index.ts';
import type { Contender } from './contender.ts';
import type { Workload } from '../workloads.ts';

export async function createPoolContender(workload: Workload): Promise<Contender> {
  const specs = [...new Map(workload.models.map((m) => [m.spec.id, m.spec])).values()];
  const pool = await InferencePool.create({ models: specs });
  return {
    send: (image, i, signal) => {
      const m = workload.models[i]!;
      return pool.infer(image.jpeg, m.spec.id, signal ? { ...m.options, signal } : m.options);
    },
    meanBatchSize: () => {
      let items = 0;
      let batches = 0;
      for (const s of Object.values(pool.stats())) {
        items += s.meanBatchSize * s.batches;
        batches += s.batches;
      }
      return batches ? items / batches : undefined;
    },
    close: () => pool.close(),
  };
}
