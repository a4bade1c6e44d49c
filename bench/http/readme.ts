// Writes a full run's summary table, goals and chart between the README's HTTP benchmark markers,
// formatted as `npm run format` would leave it, so that `prettier --check .` stays clean.
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';

import { format, resolveConfig } from 'prettier';

const root = new URL('../..', import.meta.url).pathname;
const START = '<!-- bench:http:start -->';
const END = '<!-- bench:http:end -->';

/** Returns what it did, for the log. */
export async function updateReadme(markdown: string, file = join(root, 'README.md')): Promise<string> {
  const readme = readFileSync(file, 'utf8');
  const i = readme.indexOf(START);
  const j = readme.indexOf(END);
  if (i < 0 || j < i) return `${file} has no ${START} … ${END} markers: left alone`;
  // The summary and the goals; every run stays in bench/results/http.md.
  const [summary, goals] = markdown.split('\n\nEvery run')[0]!.split('\n\nGoals');
  const block = [
    START,
    summary,
    `Goals${goals}`,
    '![images per second and p99 latency per contender](bench/results/http.svg)',
    'Every run, with failures by code, server CPU and start-up times: [bench/results/http.md](bench/results/http.md).',
    '',
  ].join('\n\n');
  const options = (await resolveConfig(file)) ?? {};
  writeFileSync(file, await format(readme.slice(0, i) + block + readme.slice(j), { ...options, filepath: file }));
  return `${file}: the HTTP benchmark section updated`;
}
