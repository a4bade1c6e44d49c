import type { BenchImage } from '../images.ts';
import type { Workload } from '../workloads.ts';

/** One way to serve a workload: each `send` runs one image through one of the workload's models. */
export interface Contender {
  /** `signal`, where the contender can abandon a request (the pool), ends it early when a timed window closes. */
  send(image: BenchImage, modelIndex: number, signal?: AbortSignal): Promise<unknown>;
  /** Mean batch size since start, where the contender batches. */
  meanBatchSize(): number | undefined;
  close(): Promise<void>;
}

export type ContenderFactory = (workload: Workload) => Promise<Contender>;
