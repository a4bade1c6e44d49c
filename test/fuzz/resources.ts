// What one case costs the process: its wall time and how far it raised the peak resident memory (Linux's
// VmHWM, reset before each case through /proc/self/clear_refs). The alone phase runs one request at a
// time, so the peak belongs to that request: a table sized by a 2e9 class id or full-resolution masks
// show up here even when they neither crash nor change a result.
import { readFileSync, writeFileSync } from 'node:fs';

function status(field: 'VmHWM' | 'VmRSS'): number {
  const m = new RegExp(`${field}:\\s+(\\d+) kB`).exec(readFileSync('/proc/self/status', 'utf8'));
  return m ? Number(m[1]) / 1024 : NaN;
}

let supported: boolean | undefined;

export interface Cost {
  ms: number;
  /** Peak resident memory above the resident memory at the start, in MiB; NaN where Linux's counters are missing. */
  peakMb: number;
}

/** Starts measuring; call the returned function when the case has settled. */
export function measure(): () => Cost {
  if (supported === undefined) {
    try {
      writeFileSync('/proc/self/clear_refs', '5');
      supported = Number.isFinite(status('VmHWM'));
    } catch {
      supported = false;
    }
  }
  let base = NaN;
  if (supported) {
    writeFileSync('/proc/self/clear_refs', '5'); // peak := current
    base = status('VmRSS');
  }
  const started = performance.now();
  return () => ({ ms: performance.now() - started, peakMb: supported ? status('VmHWM') - base : NaN });
}
