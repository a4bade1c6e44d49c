// Whether a build output is older than what it is built from: set-up (the addon) and the sanitized
// test builds both rebuild only when a file under native/ or CMakeLists.txt is newer than their outputs.
import { existsSync, readdirSync, statSync } from 'node:fs';
import { join } from 'node:path';

export const mtime = (file) => (existsSync(file) ? statSync(file).mtimeMs : 0);

function newestIn(dir) {
  let newest = 0;
  for (const entry of readdirSync(dir, { withFileTypes: true })) {
    const p = join(dir, entry.name);
    newest = Math.max(newest, entry.isDirectory() ? newestIn(p) : statSync(p).mtimeMs);
  }
  return newest;
}

/** The newest modification time of the native sources under `root`. */
export const newestNativeSource = (root) =>
  Math.max(newestIn(join(root, 'native')), mtime(join(root, 'CMakeLists.txt')));
