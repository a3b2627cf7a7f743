// `npm start` and `npm install` (prepare) run this: compile to dist/ only when a compiled file is
// missing or older than its source (or than the build settings), so a second `npm start` starts at
// once. A production install (`npm ci --omit=dev`) has no TypeScript: there a built dist/ is used
// as it is, since nothing there can rebuild it.
import fs from 'node:fs';
import path from 'node:path';
import { spawnSync } from 'node:child_process';
import process from 'node:process';
import { fileURLToPath } from 'node:url';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const SOURCE_DIRS = ['src', 'bench'];
const SETTINGS = ['tsconfig.json', 'tsconfig.build.json', 'package.json'];

function tsFiles(dir) {
  if (!fs.existsSync(dir)) return [];
  return fs.readdirSync(dir, { withFileTypes: true }).flatMap((entry) => {
    const full = path.join(dir, entry.name);
    if (entry.isDirectory()) return entry.name === 'results' ? [] : tsFiles(full);
    return entry.name.endsWith('.ts') && !entry.name.endsWith('.d.ts') ? [full] : [];
  });
}

const mtime = (file) => fs.statSync(file).mtimeMs;
const sources = SOURCE_DIRS.flatMap((dir) => tsFiles(path.join(root, dir)));
const settingsTime = Math.max(
  ...SETTINGS.map((f) => path.join(root, f))
    .filter(fs.existsSync)
    .map(mtime),
);

const compiled = (source) => path.join(root, 'dist', path.relative(root, source)).replace(/\.ts$/, '.js');
const missing = sources.filter((source) => !fs.existsSync(compiled(source)));
const stale = sources.filter(
  (source) => missing.includes(source) || mtime(compiled(source)) < Math.max(mtime(source), settingsTime),
);

const tsc = path.join(root, 'node_modules', 'typescript', 'bin', 'tsc');
// Built means what the build produces is there: a compiled file for every source. Times cannot say
// it (a copy without times, a touched package.json), and no single file can (files move).
const distBuilt = sources.length > 0 && missing.length === 0;

if (stale.length === 0) {
  process.stdout.write('build: dist/ is up to date\n');
} else if (!fs.existsSync(tsc) && distBuilt) {
  process.stdout.write('build: TypeScript is not installed (a production install); using dist/ as built\n');
} else if (!fs.existsSync(tsc)) {
  const example = path.relative(root, compiled(missing[0] ?? ''));
  process.stderr.write(
    `build: dist/ is not built (${missing.length} of ${sources.length} compiled files are missing, e.g. ${example})\n` +
      'and TypeScript is not installed: run `npm install` (with dev dependencies) and `npm run build`,\n' +
      'then a production install (`npm ci --omit=dev`) of that tree\n',
  );
  process.exit(1);
} else {
  process.stdout.write(`build: ${stale.length} of ${sources.length} files need compiling; running tsc\n`);
  const result = spawnSync(process.execPath, [tsc, '-p', 'tsconfig.build.json'], {
    cwd: root,
    stdio: 'inherit',
  });
  if (result.status !== 0) {
    process.stderr.write('build: tsc failed (see above); fix the errors and run npm start again\n');
    process.exit(result.status ?? 1);
  }
}
