// Fetches a few real sample photos for the demo and the end-to-end tests: scikit-image's public-domain test images
// (astronaut, chelsea the cat, coffee, rocket), taken from Debian's python3-skimage package without installing it
// (`apt-get download` + `dpkg -x` in a temporary folder). Nothing is fetched when the images are already there.
// Usage: node scripts/sample-images.mjs (or import { ensureSampleImages }).
import { execFileSync } from 'node:child_process';
import { copyFileSync, existsSync, mkdirSync, mkdtempSync, readdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = resolve(dirname(fileURLToPath(import.meta.url)), '..');

export const SAMPLE_IMAGES = ['astronaut.png', 'chelsea.png', 'coffee.png', 'rocket.jpg'];
export const IMAGES_DIR = join(root, 'examples', 'images');
const DEB_PACKAGE = 'python3-skimage';

const log = (msg) => process.stderr.write(`[sample-images] ${msg}\n`);

const isRoot = () => typeof process.getuid === 'function' && process.getuid() === 0;

function run(cmd, args, cwd) {
  log(`$ ${cmd} ${args.join(' ')}`);
  execFileSync(cmd, args, { cwd, stdio: ['ignore', 'inherit', 'inherit'] });
}

/** Runs apt-get quietly, returning null on success or its error output on failure. */
function tryApt(args, cwd) {
  log(`$ apt-get ${args.join(' ')}`);
  try {
    execFileSync('apt-get', args, { cwd, stdio: ['ignore', 'inherit', 'pipe'] });
    return null;
  } catch (err) {
    if (err.code === 'ENOENT') throw new Error('apt-get not found: this script needs a Debian-based system');
    const stderr = err.stderr?.toString() ?? '';
    process.stderr.write(stderr);
    return stderr || err.message;
  }
}

function downloadDeb(dir) {
  // As root, apt drops privileges to the _apt user, which cannot write to a private temporary folder.
  const sandbox = isRoot() ? ['-o', 'APT::Sandbox::User=root'] : [];
  const download = [...sandbox, 'download', DEB_PACKAGE];
  if (tryApt(download, dir) === null) return;
  // Usually the package lists are missing (a fresh container) or stale (the .deb moved on the mirror).
  if (!isRoot()) {
    throw new Error(
      `apt-get download ${DEB_PACKAGE} failed. If apt has no package lists yet, run \`sudo apt-get update\` ` +
        `and then \`node scripts/sample-images.mjs\` again.`,
    );
  }
  log('downloading failed; updating the package lists and trying again');
  run('apt-get', ['update'], dir);
  const error = tryApt(download, dir);
  if (error !== null) throw new Error(`apt-get download ${DEB_PACKAGE} failed: ${error.trim()}`);
}

/** Every file under `dir` whose name is in `names`, by name (the first found wins). */
function findFiles(dir, names, found = new Map()) {
  for (const entry of readdirSync(dir, { withFileTypes: true })) {
    const p = join(dir, entry.name);
    if (entry.isDirectory()) findFiles(p, names, found);
    else if (names.has(entry.name) && !found.has(entry.name)) found.set(entry.name, p);
  }
  return found;
}

/** Makes sure examples/images/ holds the sample photos; returns their paths. */
export function ensureSampleImages() {
  const targets = SAMPLE_IMAGES.map((name) => join(IMAGES_DIR, name));
  const missing = SAMPLE_IMAGES.filter((_, i) => !existsSync(targets[i]));
  if (missing.length === 0) return targets;

  log(`missing ${missing.join(', ')}: extracting them from Debian's ${DEB_PACKAGE} package (public domain images)`);
  const tmp = mkdtempSync(join(tmpdir(), 'sample-images-'));
  try {
    downloadDeb(tmp);
    const deb = readdirSync(tmp).find((f) => f.startsWith(`${DEB_PACKAGE}_`) && f.endsWith('.deb'));
    if (deb === undefined) throw new Error(`apt-get download left no ${DEB_PACKAGE} .deb in ${tmp}`);
    const extracted = join(tmp, 'root');
    run('dpkg', ['-x', deb, extracted], tmp);

    const found = findFiles(extracted, new Set(missing));
    const notFound = missing.filter((name) => !found.has(name));
    if (notFound.length > 0) throw new Error(`${deb} does not contain ${notFound.join(', ')}`);
    mkdirSync(IMAGES_DIR, { recursive: true });
    for (const name of missing) {
      copyFileSync(found.get(name), join(IMAGES_DIR, name));
      log(`wrote examples/images/${name}`);
    }
  } finally {
    rmSync(tmp, { recursive: true, force: true });
  }
  return targets;
}

if (process.argv[1] !== undefined && resolve(process.argv[1]) === fileURLToPath(import.meta.url)) {
  try {
    ensureSampleImages();
  } catch (err) {
    log(`failed: ${err.message}`);
    process.exit(1);
  }
}
