// The client's jobs still awaited: each job id's callers, settled once by whichever news comes
// first (the completion event, or a check of the job in Redis). An `infer()` entry also holds what
// is needed to submit the job again, should Redis lose it.
import type { InferenceResult, InferencePoolError } from '../index.js';

interface Entry {
  resolvers: { resolve: (r: InferenceResult) => void; reject: (e: InferencePoolError) => void }[];
  /** Submits the job again with the same id (infer() only: it holds the image). */
  resubmit?: () => Promise<void>;
}

export class PendingJobs {
  readonly #entries = new Map<string, Entry>();

  get size(): number {
    return this.#entries.size;
  }

  ids(): string[] {
    return [...this.#entries.keys()];
  }

  /** A promise settled by resolve()/reject() for this id; `resubmit` is kept while it is pending. */
  wait(jobId: string, resubmit?: () => Promise<void>): Promise<InferenceResult> {
    let entry = this.#entries.get(jobId);
    if (!entry) {
      entry = { resolvers: [] };
      this.#entries.set(jobId, entry);
    }
    if (resubmit) entry.resubmit = resubmit;
    const target = entry;
    return new Promise((resolve, reject) => target.resolvers.push({ resolve, reject }));
  }

  resubmitter(jobId: string): (() => Promise<void>) | undefined {
    return this.#entries.get(jobId)?.resubmit;
  }

  has(jobId: string): boolean {
    return this.#entries.has(jobId);
  }

  resolve(jobId: string, result: () => InferenceResult): void {
    const entry = this.#take(jobId);
    if (!entry) return;
    let value: InferenceResult;
    try {
      value = result();
    } catch (error) {
      for (const r of entry.resolvers) r.reject(error as InferencePoolError);
      return;
    }
    for (const r of entry.resolvers) r.resolve(value);
  }

  reject(jobId: string, error: InferencePoolError): void {
    for (const r of this.#take(jobId)?.resolvers ?? []) r.reject(error);
  }

  rejectAll(error: InferencePoolError): void {
    for (const id of this.ids()) this.reject(id, error);
  }

  #take(jobId: string): Entry | undefined {
    const entry = this.#entries.get(jobId);
    this.#entries.delete(jobId);
    return entry;
  }
}
