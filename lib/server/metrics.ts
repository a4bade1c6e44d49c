// Prometheus metrics through prom-client: Node's default metrics, the server's request outcomes, and
// the pool's own counters and all-time latency histograms, read from pool.stats() at scrape time
// (never re-timed here). Names and their Triton equivalents are listed in the README.
import { Counter, Registry, collectDefaultMetrics } from 'prom-client';
import type { MetricObjectWithValues, MetricValue, MetricValueWithName } from 'prom-client';

import { InferencePoolError } from '../index.js';
import type { InferencePool, LatencyHistogram, ModelStats, PoolStats } from '../index.js';

type MetricType = 'counter' | 'gauge' | 'histogram';
type Values = MetricValueWithName<string>[] | MetricValue<string>[];

/**
 * A metric whose values come from the scrape's one snapshot of pool.stats(); prom-client formats it.
 * (prom-client's own Histogram only observes samples; the pool's histograms are already bucketed.)
 */
class SnapshotMetric {
  readonly aggregator = 'sum' as const;
  constructor(
    readonly name: string,
    readonly help: string,
    readonly type: MetricType,
    private readonly read: () => Values,
  ) {}
  get(): Pick<MetricObjectWithValues<MetricValue<string>>, 'name' | 'help' | 'values' | 'aggregator'> & {
    type: MetricType;
  } {
    return {
      name: this.name,
      help: this.help,
      type: this.type,
      values: this.read() as MetricValue<string>[],
      aggregator: this.aggregator,
    };
  }
  reset(): void {}
}

function imagesInferred(s: ModelStats): number {
  return s.batchSizeHistogram.reduce((sum, batches, size) => sum + batches * size, 0);
}

function histogramValues(name: string, model: string, h: LatencyHistogram): MetricValueWithName<string>[] {
  const out: MetricValueWithName<string>[] = h.bucketsMs.map((boundMs, i) => ({
    metricName: `${name}_bucket`,
    labels: { model, le: Number.isFinite(boundMs) ? boundMs / 1000 : '+Inf' },
    value: h.counts[i] ?? 0,
  }));
  out.push({ metricName: `${name}_sum`, labels: { model }, value: h.sumMs / 1000 });
  out.push({ metricName: `${name}_count`, labels: { model }, value: h.count });
  return out;
}

export class ServerMetrics {
  readonly registry = new Registry();
  readonly #requests: Counter<'model' | 'outcome' | 'code'>;
  #snapshot: PoolStats = {};

  constructor(private readonly pool: InferencePool) {
    collectDefaultMetrics({ register: this.registry });
    this.#requests = new Counter({
      name: 'inference_pool_requests_total',
      help: 'Images the server asked the pool to infer, by model, outcome (success, failure) and error code',
      labelNames: ['model', 'outcome', 'code'],
      registers: [this.registry],
    });
    const perModel = (read: (s: ModelStats) => number) => () =>
      Object.entries(this.#snapshot).map(([model, s]) => ({ labels: { model }, value: read(s) }));
    const stage = (name: string, pick: (s: ModelStats) => LatencyHistogram) => () =>
      Object.entries(this.#snapshot).flatMap(([model, s]) => histogramValues(name, model, pick(s)));
    const metrics = [
      new SnapshotMetric(
        'inference_pool_images_total',
        'Images run through the model (batch items), as Triton nv_inference_count',
        'counter',
        perModel(imagesInferred),
      ),
      new SnapshotMetric(
        'inference_pool_batches_total',
        'Batches the model ran, as Triton nv_inference_exec_count',
        'counter',
        perModel((s) => s.batches),
      ),
      new SnapshotMetric(
        'inference_pool_pool_requests_total',
        'Requests the pool admitted for the model, from any caller',
        'counter',
        perModel((s) => s.requests),
      ),
      new SnapshotMetric(
        'inference_pool_expired_total',
        'Requests that failed with DEADLINE_EXCEEDED',
        'counter',
        perModel((s) => s.expired),
      ),
      new SnapshotMetric(
        'inference_pool_rejected_total',
        'Requests refused with QUEUE_FULL',
        'counter',
        perModel((s) => s.rejected),
      ),
      new SnapshotMetric(
        'inference_pool_queue_depth',
        'Requests admitted and not yet in a batch, as Triton nv_inference_pending_request_count',
        'gauge',
        perModel((s) => s.queueDepth),
      ),
      new SnapshotMetric(
        'inference_pool_in_flight',
        'Requests admitted and not yet completed',
        'gauge',
        perModel((s) => s.inFlight),
      ),
      new SnapshotMetric(
        'inference_pool_queue_duration_seconds',
        'Time from submission to the start of preprocessing, completed requests',
        'histogram',
        stage('inference_pool_queue_duration_seconds', (s) => s.histograms.queue),
      ),
      new SnapshotMetric(
        'inference_pool_inference_duration_seconds',
        "Time in the model's run (the request's batch), completed requests",
        'histogram',
        stage('inference_pool_inference_duration_seconds', (s) => s.histograms.inference),
      ),
      new SnapshotMetric(
        'inference_pool_request_duration_seconds',
        'Time from submission to the result, completed requests',
        'histogram',
        stage('inference_pool_request_duration_seconds', (s) => s.histograms.total),
      ),
    ];
    for (const m of metrics) this.registry.registerMetric(m as never);
  }

  /** One image's outcome, as the server saw it. */
  record(model: string, error?: unknown): void {
    if (error === undefined) {
      this.#requests.inc({ model, outcome: 'success', code: '' });
    } else {
      const code = error instanceof InferencePoolError ? error.code : 'INTERNAL';
      this.#requests.inc({ model, outcome: 'failure', code });
    }
  }

  get contentType(): string {
    return this.registry.contentType;
  }

  /** The scrape: one snapshot of the pool's stats, then prom-client's text. */
  async text(): Promise<string> {
    this.#snapshot = this.pool.closed ? {} : this.pool.stats();
    return this.registry.metrics();
  }
}
