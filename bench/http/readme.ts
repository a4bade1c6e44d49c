// The HTTP benchmark's README section: a full run's summary table, goals and chart.
import { writeReadmeSection } from '../readme-section.ts';

/** Returns what it did, for the log. */
export function updateReadme(markdown: string, file?: string): Promise<string> {
  // The summary and the goals; every run stays in bench/results/http.md.
  const [summary, goals] = markdown.split('\n\nEvery run')[0]!.split('\n\nGoals');
  return writeReadmeSection(
    'http',
    [
      summary!,
      `Goals${goals}`,
      '![images per second and p99 latency per contender](bench/results/http.svg)',
      'Every run, with failures by code, server CPU and start-up times: [bench/results/http.md](bench/results/http.md).',
    ],
    file,
  );
}
