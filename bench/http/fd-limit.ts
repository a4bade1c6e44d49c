// File descriptors for 1000 connections: the server and the loader each hold one socket per client,
// plus what Node, ONNX Runtime and the log need. Node raises its soft RLIMIT_NOFILE to the hard limit
// at start-up, so only the hard limit matters; where it is too low, this process's limits are raised
// with `prlimit` (root or CAP_SYS_RESOURCE), and its children inherit them.
import { execFileSync } from 'node:child_process';
import { readFileSync } from 'node:fs';

/** Descriptors beyond the sockets: modules, ONNX Runtime, pipes, the log, with room to spare. */
const HEADROOM = 512;

function openFilesLimit(): { soft: number; hard: number } {
  const line = readFileSync('/proc/self/limits', 'utf8')
    .split('\n')
    .find((l) => l.startsWith('Max open files'));
  const [soft, hard] = (line?.match(/(\d+|unlimited)/g) ?? []).map((v) => (v === 'unlimited' ? Infinity : Number(v)));
  return { soft: soft ?? NaN, hard: hard ?? NaN };
}

/** Makes sure children can open `connections` sockets; returns the limit they get and what was done. */
export function ensureDescriptors(connections: number): { limit: number; note: string } {
  const need = connections + HEADROOM;
  const before = openFilesLimit();
  if (before.hard >= need) return { limit: before.hard, note: `open files limit ${before.hard} (need ${need})` };
  try {
    execFileSync('prlimit', ['--pid', String(process.pid), `--nofile=${need}:${need}`]);
  } catch {
    // not permitted: reported below
  }
  const after = openFilesLimit();
  if (after.hard >= need) {
    return {
      limit: after.hard,
      note: `open files limit raised ${before.hard} → ${after.hard} with prlimit (need ${need})`,
    };
  }
  return {
    limit: after.hard,
    note: `open files limit ${after.hard} is below the ${need} needed: expect EMFILE errors; raise it (\`ulimit -n ${need}\` as root, or /etc/security/limits.conf)`,
  };
}
