// The fuzz cases: case i of seed s is drawn from its own PRNG stream, so any single case can be rebuilt
// from (seed, i) alone, without generating the ones before it. A case is an input (a valid or mutated
// file, a raw image, or junk), a model and request options.
import { readFileSync } from 'node:fs';

import type { ModelSpec } from '../../lib/index.ts';
import { MEAN_COLOR_NAMES, PALETTE } from '../../scripts/models/classifiers.ts';
import { randomYolov5Detector, randomYolov8Detector, randomYolov8Segmenter } from '../../scripts/models/random-yolo.ts';
import { prng } from '../helpers/images.ts';
import { constantModel } from '../reference/models.ts';
import { modelPath, MODELS } from '../helpers/models.ts';
import type { Corpus } from './corpus.ts';
import { byteRun, flipBits, pick, segment, setField, splice, truncate } from './mutators.ts';
import type { Mutation, Random } from './mutators.ts';
import { randomOptions } from './options.ts';
import type { GeneratedOptions } from './options.ts';
import { badRaw, junk, validRaw } from './raw-inputs.ts';
import type { GeneratedInput } from './raw-inputs.ts';

export interface FuzzCase {
  index: number;
  /** What the case is, in one line: input, model and options. */
  label: string;
  model: string;
  input: unknown;
  options: unknown;
}

// x1, y1, x2, y2 (input pixels), score, class id: boxes in and across the border, ids up to 6.
const E2E_ROWS = [
  [4, 4, 20, 30, 0.9, 0],
  [10, 10, 40, 40, 0.7, 3],
  [-8, 50, 12, 70, 0.5, 6],
  [30, 2, 63, 20, 0.3, 1],
];
const TRAINED = new URL('../../models/trained/', import.meta.url).pathname;
const SHAPES = ['circle', 'square', 'triangle'];

interface FuzzModel {
  spec: () => ModelSpec;
  classNames: readonly string[];
  /** Relative share of the cases. */
  weight: number;
}

// Classifiers whose scores follow the mean colour, and small random-weight YOLO heads whose boxes follow
// the whole picture: every distinct image gets a distinct result, so a result from the wrong image shows.
// The trained shapes models are real networks but 10 times slower, so they get a small share.
export const FUZZ_MODELS: Record<string, FuzzModel> = {
  mean: {
    spec: () => ({ id: 'mean', path: modelPath(MODELS.meanColor), task: 'classification' }),
    classNames: MEAN_COLOR_NAMES,
    weight: 25,
  },
  palette: {
    spec: () => ({ id: 'palette', path: modelPath(MODELS.palette), task: 'classification' }),
    classNames: PALETTE.map((p) => p.name),
    weight: 15,
  },
  det: {
    spec: () => ({ id: 'det', path: randomYolov8Detector({ seed: 7 }), task: 'object-detection' }),
    classNames: ['class0', 'class1', 'class2', 'class3', 'class4'],
    weight: 22,
  },
  det5: {
    spec: () => ({
      id: 'det5',
      path: randomYolov5Detector({ seed: 8, inputSize: [128, 64], names: ['a', 'b', 'c'], classes: 3 }),
      task: 'object-detection',
      resize: 'stretch',
    }),
    classNames: ['a', 'b', 'c'],
    weight: 8,
  },
  seg: {
    spec: () => ({ id: 'seg', path: randomYolov8Segmenter({ seed: 9 }), task: 'instance-segmentation' }),
    classNames: ['class0', 'class1', 'class2', 'class3', 'class4'],
    weight: 22,
  },
  // End-to-end head without class names: the model cannot say how many classes it has, so a class
  // filter's ids are all the pool has to size its tables by.
  e2e: {
    spec: () => ({
      id: 'e2e',
      path: constantModel(
        [64, 64],
        [{ name: 'output0', dims: [E2E_ROWS.length, 6], data: Float32Array.from(E2E_ROWS.flat()) }],
      ),
      task: 'object-detection',
      outputLayout: 'end-to-end',
    }),
    classNames: [],
    weight: 5,
  },
  shapesDet: {
    spec: () => ({ id: 'shapesDet', path: readFileSync(`${TRAINED}shapes-det.onnx`), task: 'object-detection' }),
    classNames: SHAPES,
    weight: 2,
  },
  shapesSeg: {
    spec: () => ({ id: 'shapesSeg', path: readFileSync(`${TRAINED}shapes-seg.onnx`), task: 'instance-segmentation' }),
    classNames: SHAPES,
    weight: 2,
  },
};

export function modelSpecs(): ModelSpec[] {
  return Object.values(FUZZ_MODELS).map((m) => m.spec());
}

function weighted<T>(rand: Random, items: readonly [T, number][]): T {
  let r = rand() * items.reduce((n, [, w]) => n + w, 0);
  for (const [item, w] of items) {
    r -= w;
    if (r < 0) return item;
  }
  return items[items.length - 1]![0];
}

/** Mixes the seed and the case index into one 32-bit PRNG seed (a murmur3 finaliser). */
function caseSeed(seed: number, index: number): number {
  let h = (Math.imul(seed >>> 0, 0x9e3779b1) ^ index) >>> 0;
  h = Math.imul(h ^ (h >>> 16), 0x85ebca6b);
  h = Math.imul(h ^ (h >>> 13), 0xc2b2ae35);
  return (h ^ (h >>> 16)) >>> 0;
}

function mutatedFile(corpus: Corpus, rand: Random): GeneratedInput {
  const file = pick(rand, corpus.files);
  const kind = weighted(rand, [
    ['flip', 15],
    ['run', 15],
    ['truncate', 25],
    ['field', 30],
    ['segment', 8],
    ['splice', 7],
  ] as const);
  let m: Mutation | undefined;
  if (kind === 'flip') m = flipBits(file.bytes, rand);
  else if (kind === 'run') m = byteRun(file.bytes, rand);
  else if (kind === 'truncate') m = truncate(file.bytes, file.format, rand);
  else if (kind === 'field') m = setField(file.bytes, file.format, rand);
  else if (kind === 'segment') m = segment(file.bytes, file.format, rand);
  else m = splice(file.bytes, pick(rand, corpus.byFormat[file.format]).bytes, rand);
  m ??= flipBits(file.bytes, rand);
  // Two mutations now and then: a fixed-up header over damaged data gets further into a decoder.
  if (rand() < 0.15) {
    const second = setField(m.bytes, file.format, rand) ?? byteRun(m.bytes, rand);
    m = { bytes: second.bytes, what: `${m.what}; ${second.what}` };
  }
  return { value: m.bytes, what: `${file.name}: ${m.what}` };
}

function manyMasks(rand: Random): GeneratedOptions {
  const value = {
    confidence: pick(rand, [0, 0.05, 0.25]),
    iouThreshold: pick(rand, [0.7, 1]),
    maxDetections: 300,
    maskDecodeMode: pick(rand, ['accurate', 'fast', 'tradeoff']),
    tradeoffFactor: pick(rand, [0, 0.5, 1]),
    returnMasks: rand() < 0.8,
  };
  return { value, what: `many masks ${JSON.stringify(value)}` };
}

export function makeCase(corpus: Corpus, seed: number, index: number): FuzzCase {
  const rand = prng(caseSeed(seed, index));
  const kind = weighted(rand, [
    ['file', 12],
    ['mutated', 50],
    ['large', 0.4],
    ['raw', 10],
    ['bad raw', 12],
    ['junk', 5],
  ] as const);
  let input: GeneratedInput;
  if (kind === 'file') {
    const f = pick(rand, corpus.files);
    input = { value: f.bytes, what: f.name };
  } else if (kind === 'large') {
    const f = pick(rand, corpus.large);
    input = { value: f.bytes, what: f.name };
  } else if (kind === 'mutated') input = mutatedFile(corpus, rand);
  else if (kind === 'raw') input = validRaw(corpus.scenes, rand);
  else if (kind === 'bad raw') input = badRaw(rand);
  else input = junk(rand);
  const ids = Object.keys(FUZZ_MODELS);
  let model = weighted(
    rand,
    ids.map((id) => [id, FUZZ_MODELS[id]!.weight] as [string, number]),
  );
  let options = randomOptions(rand, FUZZ_MODELS[model]!.classNames);
  if (kind === 'large' && rand() < 0.5) {
    // Many instances with masks on a large picture: where full-resolution work per instance would show.
    model = pick(rand, ['seg', 'shapesSeg']);
    options = manyMasks(rand);
  }
  if (rand() < 0.005) model = pick(rand, ['', 'no-such-model', 'MEAN']);
  return {
    index,
    label: `${input.what} | ${model} | ${options.what}`,
    model,
    input: input.value,
    options: options.value,
  };
}
