// Makes sure the system-level build dependencies are present: Debian's OpenCV, libjpeg-turbo,
// libpng and concurrentqueue -dev packages, a C++ toolchain, CMake, and ONNX Runtime's C/C++ headers.
// Used by the package's install script (users) and by scripts/setup.mjs (developers, CI).
// Where it cannot install (not root, not Debian), it stops with a message naming what to install.
import { execFileSync } from 'node:child_process';
import { existsSync, mkdirSync, readFileSync, writeFileSync, readdirSync, rmSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = resolve(dirname(fileURLToPath(import.meta.url)), '..');

/** Debian packages the native build needs, and the file each one provides (to check without dpkg). */
export const APT_PACKAGES = [
  ['cmake', '/usr/bin/cmake'],
  ['g++', '/usr/bin/g++'],
  ['make', '/usr/bin/make'],
  ['libopencv-core-dev', '/usr/include/opencv4/opencv2/core.hpp'],
  ['libopencv-imgproc-dev', '/usr/include/opencv4/opencv2/imgproc.hpp'],
  ['libopencv-imgcodecs-dev', '/usr/include/opencv4/opencv2/imgcodecs.hpp'],
  // JPEG and PNG are decoded with these directly (same names on Debian 12 and 13).
  ['libjpeg62-turbo-dev', '/usr/include/jpeglib.h'],
  ['libpng-dev', '/usr/include/png.h'],
  ['libconcurrentqueue-dev', null],
  // The job queue's tests and benchmark start their own redis-server on loopback ports.
  ['redis-server', '/usr/bin/redis-server'],
];

const log = (msg) => process.stderr.write(`[inference-pool] ${msg}\n`);

function osRelease() {
  try {
    const text = readFileSync('/etc/os-release', 'utf8');
    return Object.fromEntries(
      text
        .split('\n')
        .filter((l) => l.includes('='))
        .map((l) => {
          const i = l.indexOf('=');
          return [l.slice(0, i), l.slice(i + 1).replace(/^"|"$/g, '')];
        }),
    );
  } catch {
    return {};
  }
}

function isDebian() {
  const os = osRelease();
  return os.ID === 'debian' || (os.ID_LIKE ?? '').split(' ').includes('debian');
}

function isRoot() {
  return typeof process.getuid === 'function' && process.getuid() === 0;
}

function dpkgInstalled(pkg) {
  try {
    const out = execFileSync('dpkg-query', ['-W', '-f=${Status}', pkg], { stdio: ['ignore', 'pipe', 'ignore'] });
    return out.toString().includes('install ok installed');
  } catch {
    return false;
  }
}

function concurrentQueueHeader() {
  for (const dir of ['/usr/include/concurrentqueue/moodycamel', '/usr/include/concurrentqueue']) {
    if (existsSync(join(dir, 'blockingconcurrentqueue.h'))) return dir;
  }
  return null;
}

function missingAptPackages() {
  return APT_PACKAGES.filter(([pkg, file]) => {
    if (pkg === 'libconcurrentqueue-dev') return concurrentQueueHeader() === null;
    if (file && existsSync(file)) return false;
    return !dpkgInstalled(pkg);
  }).map(([pkg]) => pkg);
}

function run(cmd, args, opts = {}) {
  log(`$ ${cmd} ${args.join(' ')}`);
  execFileSync(cmd, args, { stdio: ['ignore', 'inherit', 'inherit'], ...opts });
}

/** Installs the missing Debian packages, or throws an error that names them. */
export function ensureAptPackages() {
  const missing = missingAptPackages();
  if (missing.length === 0) return;
  if (!isDebian() || !isRoot()) {
    throw new Error(
      `missing system packages: ${missing.join(' ')}.\n` +
        `Install them (on Debian/Ubuntu: sudo apt-get install -y ${missing.join(' ')}) and run this again.`,
    );
  }
  log(`installing Debian packages: ${missing.join(' ')}`);
  const env = { ...process.env, DEBIAN_FRONTEND: 'noninteractive' };
  run('apt-get', ['update', '-qq'], { env });
  run('apt-get', ['install', '-y', '-qq', '--no-install-recommends', ...missing], { env });
}

/** The Debian mirror that the system's own apt sources name (deb.debian.org when none is found). */
function debianMirror() {
  const candidates = [];
  try {
    for (const f of readdirSync('/etc/apt/sources.list.d')) {
      if (f.endsWith('.sources')) candidates.push(join('/etc/apt/sources.list.d', f));
    }
  } catch {
    /* no sources.list.d */
  }
  for (const file of candidates) {
    const text = readFileSync(file, 'utf8');
    for (const block of text.split(/\n\s*\n/)) {
      const uri = /^URIs:\s*(\S+)/m.exec(block)?.[1];
      const suites = /^Suites:\s*(.+)$/m.exec(block)?.[1] ?? '';
      if (uri && !suites.includes('security') && /\/debian\/?$/.test(uri)) return uri.replace(/\/$/, '');
    }
  }
  try {
    const text = readFileSync('/etc/apt/sources.list', 'utf8');
    const m = /^deb\s+(?:\[[^\]]*\]\s+)?(\S+\/debian)\/?\s/m.exec(text);
    if (m) return m[1];
  } catch {
    /* none */
  }
  return 'http://deb.debian.org/debian';
}

export const ORT_HEADER = 'onnxruntime_cxx_api.h';

/**
 * Returns a folder holding ONNX Runtime's C/C++ headers. In order: $INFERENCE_POOL_ORT_INCLUDE_DIR,
 * the system's own (Debian 13's libonnxruntime-dev), an earlier download in third_party/, or
 * Debian 13's libonnxruntime-dev .deb fetched through a private apt state and unpacked there
 * (the system's apt sources are left untouched).
 */
export function ensureOrtHeaders() {
  const override = process.env.INFERENCE_POOL_ORT_INCLUDE_DIR;
  if (override) {
    if (!existsSync(join(override, ORT_HEADER))) {
      throw new Error(`INFERENCE_POOL_ORT_INCLUDE_DIR=${override} holds no ${ORT_HEADER}`);
    }
    return override;
  }
  for (const dir of ['/usr/include/onnxruntime', '/usr/local/include/onnxruntime']) {
    if (existsSync(join(dir, ORT_HEADER))) return dir;
  }
  const unpacked = join(root, 'third_party', 'onnxruntime-dev');
  const include = join(unpacked, 'usr', 'include', 'onnxruntime');
  if (existsSync(join(include, ORT_HEADER))) return include;
  if (!isDebian()) {
    throw new Error(
      `ONNX Runtime headers not found. Install ONNX Runtime's C/C++ headers (${ORT_HEADER}) ` +
        `and set INFERENCE_POOL_ORT_INCLUDE_DIR to their folder.`,
    );
  }
  log("fetching ONNX Runtime's headers: Debian 13's libonnxruntime-dev, into third_party/ (private apt state)");
  const state = join(root, 'third_party', 'apt-state');
  rmSync(state, { recursive: true, force: true });
  for (const d of ['lists/partial', 'cache/archives/partial', 'debs']) mkdirSync(join(state, d), { recursive: true });
  const sourcesList = join(state, 'sources.list');
  writeFileSync(sourcesList, `deb ${debianMirror()} trixie main\n`);
  const aptOpts = [
    `-oDir::Etc::SourceList=${sourcesList}`,
    '-oDir::Etc::SourceParts=/dev/null',
    `-oDir::State::Lists=${join(state, 'lists')}`,
    `-oDir::Cache=${join(state, 'cache')}`,
    '-oDir::State::Status=/var/lib/dpkg/status',
    '-qq',
  ];
  if (isRoot()) aptOpts.push('-oAPT::Sandbox::User=root');
  run('apt-get', [...aptOpts, 'update']);
  run('apt-get', [...aptOpts, 'download', 'libonnxruntime-dev'], { cwd: join(state, 'debs') });
  const deb = readdirSync(join(state, 'debs')).find((f) => f.endsWith('.deb'));
  if (!deb) throw new Error('apt-get download libonnxruntime-dev produced no .deb');
  rmSync(unpacked, { recursive: true, force: true });
  run('dpkg', ['-x', join(state, 'debs', deb), unpacked]);
  rmSync(state, { recursive: true, force: true });
  if (!existsSync(join(include, ORT_HEADER))) throw new Error(`${deb} holds no ${ORT_HEADER}`);
  return include;
}

/** All system-level set-up the native build needs; returns the ORT include folder. */
export function ensureSystemDeps() {
  ensureAptPackages();
  return ensureOrtHeaders();
}

if (process.argv[1] && resolve(process.argv[1]) === fileURLToPath(import.meta.url)) {
  try {
    console.log(ensureSystemDeps());
  } catch (err) {
    log(err.message);
    process.exit(1);
  }
}
