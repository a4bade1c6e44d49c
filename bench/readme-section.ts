// Writes a benchmark's block between its pair of README markers, formatted as `npm run format` would
// leave it, so that `prettier --check .` stays clean after a full run.
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';

import { format, resolveConfig } from 'prettier';

const root = new URL('..', import.meta.url).pathname;

/** `blocks` are joined by blank lines between the markers; returns what it did, for the log. */
export async function writeReadmeSection(
  name: string,
  blocks: string[],
  file = join(root, 'README.md'),
): Promise<string> {
  const start = `<!-- bench:${name}:start -->`;
  const end = `<!-- bench:${name}:end -->`;
  const readme = readFileSync(file, 'utf8');
  const i = readme.indexOf(start);
  const j = readme.indexOf(end);
  if (i < 0 || j < i) return `${file} has no ${start} … ${end} markers: left alone`;
  const block = [start, ...blocks, ''].join('\n\n');
  const options = (await resolveConfig(file)) ?? {};
  writeFileSync(file, await format(readme.slice(0, i) + block + readme.slice(j), { ...options, filepath: file }));
  return `${file}: the ${name} benchmark section updated`;
}
