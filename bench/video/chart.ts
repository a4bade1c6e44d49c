// The video benchmark's chart: frames per second each way (and all streams together), and the live
// source's latency against a lone inference.
import { drawBars, drawPanelFrame, svgDocument } from '../svg.ts';
import type { Bar } from '../svg.ts';
import type { FileContender } from './file-runs.ts';
import { CONTENDERS, summarise } from './summary.ts';
import type { VideoReport } from './summary.ts';

export const SHORT: Record<FileContender, string> = {
  video: '(1) video',
  pipe: '(2) ffmpeg pipe',
  memory: '(3) in memory',
};
const COLOURS: Record<FileContender, string> = { video: '#1f77b4', pipe: '#d62728', memory: '#7f7f7f' };

export function renderChart(report: VideoReport): string {
  const s = summarise(report);
  const pw = 360;
  const ph = 170;
  const margin = { left: 60, top: 30, right: 20, bottom: 30 };
  const cw = margin.left + pw + margin.right;
  const parts = svgDocument(
    2 * cw,
    margin.top + ph + margin.bottom + 40,
    `inference-pool on video (${report.mode}, ${report.date.slice(0, 10)}, ${report.machine.cores} cores, ${report.video.width}×${report.video.height} ${report.video.codec}, YOLOv8n-shaped detector)`,
  );
  const fps: Bar[] = [
    ...CONTENDERS.map((c) => ({ label: SHORT[c], value: s.per[c].fps, colour: COLOURS[c] })),
    { label: `${report.streams.streams} streams`, value: report.streams.framesPerSecond, colour: '#17becf' },
  ];
  // Each live run's own lone inference (p50), timed in its process around its stream.
  const latency: Bar[] = report.live.flatMap((r) => [
    { label: `lone ×${r.maxInFlight}`, value: r.lone.p50, colour: '#7f7f7f' },
    { label: `p50 ×${r.maxInFlight}`, value: r.stats.latencyMs.p50, colour: '#1f77b4' },
    { label: `p99 ×${r.maxInFlight}`, value: r.stats.latencyMs.p99, colour: '#ff7f0e' },
  ]);
  const panels = [
    { title: 'frames/s', bars: fps, digits: 1 },
    { title: "live, 'freshest': latency ms (× maxInFlight)", bars: latency, digits: 0 },
  ];
  panels.forEach((panel, col) => {
    const ymax = Math.max(...panel.bars.map((b) => b.value).filter(Number.isFinite), 1e-9) * 1.15;
    const frame = { ox: col * cw + margin.left, oy: 40 + margin.top, pw, ph, ymax, title: panel.title };
    drawBars(parts, frame, drawPanelFrame(parts, frame), panel.bars, panel.digits);
  });
  parts.push('</svg>');
  return `${parts.join('\n')}\n`;
}
