// Helpers for the HTTP server's tests: the models they serve, a listening server, requests over real
// sockets, Prometheus text parsing, and comparing Roboflow responses with in-process results.
import { request } from 'node:http';
import type { Agent, IncomingHttpHeaders } from 'node:http';
import { readFileSync } from 'node:fs';
import * as assert from 'uvu/assert';

import type { InferenceResult, ModelSpec } from '../../lib/index.ts';
import { modelPath, MODELS } from './models.ts';

export const TRAINED = new URL('../../models/trained/', import.meta.url).pathname;
export const SHAPES = new URL('../fixtures/shapes/', import.meta.url).pathname;

export const SERVER_MODELS: ModelSpec[] = [
  { id: 'det', path: `${TRAINED}shapes-det.onnx`, task: 'object-detection', resize: 'stretch' },
  { id: 'seg', path: `${TRAINED}shapes-seg.onnx`, task: 'instance-segmentation', resize: 'stretch' },
  { id: 'colors', path: modelPath(MODELS.meanColor), task: 'classification' },
  // The legacy route's 'dataset/version' form.
  { id: 'shapes/1', path: `${TRAINED}shapes-det.onnx`, task: 'object-detection', resize: 'stretch' },
];

/** A shapes fixture image (PNG bytes). */
export function shapesImage(i: number): Buffer {
  return readFileSync(`${SHAPES}${String(i).padStart(3, '0')}.png`);
}

export interface HttpAnswer {
  status: number;
  headers: IncomingHttpHeaders;
  body: Buffer;
  json<T = unknown>(): T;
}

/** One request over a real socket. */
export function httpRequest(
  base: string,
  method: string,
  path: string,
  body?: Buffer | string,
  headers: Record<string, string> = {},
  agent?: Agent,
): Promise<HttpAnswer> {
  return new Promise((resolve, reject) => {
    const req = request(new URL(path, base), { method, headers, agent }, (res) => {
      const chunks: Buffer[] = [];
      res.on('data', (c: Buffer) => chunks.push(c));
      res.on('end', () => {
        const data = Buffer.concat(chunks);
        resolve({
          status: res.statusCode ?? 0,
          headers: res.headers,
          body: data,
          json: <T>() => JSON.parse(data.toString('utf8')) as T,
        });
      });
      res.on('error', reject);
    });
    req.on('error', reject);
    if (body !== undefined) req.end(body);
    else req.end();
  });
}

export function postJson(base: string, path: string, body: unknown, agent?: Agent): Promise<HttpAnswer> {
  return httpRequest(base, 'POST', path, JSON.stringify(body), { 'content-type': 'application/json' }, agent);
}

/** The in-process result in Roboflow's form, without the fields that differ per call (ids, times). */
export function expectedPredictions(result: InferenceResult): unknown[] {
  if (result.task === 'classification') {
    return result.predictions.map((p) => ({ class: p.class, class_id: p.class_id, confidence: p.confidence }));
  }
  return result.predictions.map(({ detection_id: _id, ...rest }) => rest);
}

export function withoutIds(predictions: { detection_id?: string }[]): unknown[] {
  return predictions.map(({ detection_id: _id, ...rest }) => rest);
}

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/;

/** A Roboflow response for `result`'s image: same predictions, a UUID inference id, time in seconds. */
export function assertSameAsInProcess(response: Record<string, unknown>, result: InferenceResult): void {
  assert.match(String(response.inference_id), UUID);
  assert.type(response.time, 'number');
  assert.equal(response.image, result.image);
  const predictions = response.predictions as { detection_id?: string }[];
  if (result.task === 'classification') {
    assert.equal(predictions, expectedPredictions(result));
    assert.is(response.top, result.top);
    assert.is(response.confidence, result.confidence);
  } else {
    assert.equal(withoutIds(predictions), expectedPredictions(result));
    for (const p of predictions) assert.match(String(p.detection_id), UUID);
  }
}

export interface PromSample {
  name: string;
  labels: Record<string, string>;
  value: number;
}

/**
 * Prometheus text exposition format 0.0.4, checked strictly: every line is a comment (# HELP/# TYPE
 * with a metric name) or a sample `name{label="value",...} number`; throws on anything else.
 */
export function parsePrometheus(text: string): PromSample[] {
  const samples: PromSample[] = [];
  const NAME = '[a-zA-Z_:][a-zA-Z0-9_:]*';
  const sampleLine = new RegExp(`^(${NAME})(?:\\{(.*)\\})? (\\S+)(?: \\d+)?$`);
  const label = /^([a-zA-Z_][a-zA-Z0-9_]*)="((?:[^"\\\n]|\\[\\"n])*)"(,|$)/;
  for (const line of text.split('\n')) {
    if (line === '') continue;
    if (line.startsWith('#')) {
      if (!new RegExp(`^# (HELP|TYPE) ${NAME}( .*)?$`).test(line)) throw new Error(`bad comment line: ${line}`);
      continue;
    }
    const m = sampleLine.exec(line);
    if (!m) throw new Error(`bad sample line: ${line}`);
    const labels: Record<string, string> = {};
    let rest = m[2] ?? '';
    while (rest !== '') {
      const l = label.exec(rest);
      if (!l) throw new Error(`bad labels in: ${line}`);
      labels[l[1]!] = l[2]!.replace(/\\n/g, '\n').replace(/\\"/g, '"').replace(/\\\\/g, '\\');
      rest = rest.slice(l[0].length);
    }
    const raw = m[3]!;
    const value = raw === '+Inf' ? Infinity : raw === '-Inf' ? -Infinity : Number(raw);
    if (Number.isNaN(value) && raw !== 'NaN') throw new Error(`bad value in: ${line}`);
    samples.push({ name: m[1]!, labels, value });
  }
  return samples;
}

/** The value of the one sample with this name and these labels (0 when absent). */
export function sampleValue(samples: PromSample[], name: string, labels: Record<string, string>): number {
  const found = samples.filter((s) => s.name === name && Object.entries(labels).every(([k, v]) => s.labels[k] === v));
  return found.reduce((sum, s) => sum + s.value, 0);
}
