import { spawnSync } from 'node:child_process';
import { copyFileSync, mkdirSync, mkdtempSync, rmSync, statSync, symlinkSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { repoRoot } from '../support/tools.ts';

// A small repository of its own: the real launcher, a script and two lib modules, and the real
// node_modules (esbuild, tsx) by symlink. The compiled modules go to a cache folder inside it.
const root = mkdtempSync(path.join(os.tmpdir(), 'tf-launcher-'));
const cache = path.join(root, 'cache');
mkdirSync(path.join(root, 'scripts'));
mkdirSync(path.join(root, 'lib'));
copyFileSync(path.join(repoRoot, 'scripts', 'run.mjs'), path.join(root, 'scripts', 'run.mjs'));
symlinkSync(path.join(repoRoot, 'node_modules'), path.join(root, 'node_modules'));
const write = (rel: string, text: string) => writeFileSync(path.join(root, rel), text);
write(
  'scripts/hello.ts',
  [
    "import { value } from '../lib/value.ts';",
    "import { here } from '../lib/where.ts';",
    'const n: number = value;',
    'console.log(JSON.stringify({ argv: process.argv.slice(1), value: n, here }));',
  ].join('\n'),
);
write('package.json', JSON.stringify({ type: 'module' }));
write('lib/value.ts', 'export const value = 1;\n');
write(
  'lib/where.ts',
  "import { fileURLToPath } from 'node:url';\nexport const here = fileURLToPath(import.meta.url);\n",
);
write('scripts/broken.ts', 'const x: number = ;\n');
// Prints the names of its own child processes (from /proc), to show the compiler is not kept running.
// The compiler is stopped with a signal: on a loaded machine it may take a moment to go, so the script
// looks again for up to 10 s (a compiler kept running would still be there).
write(
  'scripts/kids.ts',
  [
    "import { readFileSync, readdirSync } from 'node:fs';",
    'const kids = () => readdirSync("/proc").filter((p) => /^\\d+$/.test(p)).flatMap((p) => {',
    '  try {',
    '    const stat = readFileSync(`/proc/${p}/stat`, "utf8");',
    '    const ppid = Number(stat.slice(stat.lastIndexOf(")") + 2).split(" ")[1]);',
    '    return ppid === process.pid ? [stat.slice(stat.indexOf("(") + 1, stat.lastIndexOf(")"))] : [];',
    '  } catch {',
    '    return [];',
    '  }',
    '});',
    'let left = kids();',
    'for (let i = 0; i < 200 && left.length > 0; i++) {',
    '  await new Promise((r) => setTimeout(r, 50));',
    '  left = kids();',
    '}',
    'console.log(JSON.stringify(left));',
  ].join('\n'),
);

afterAll(() => rmSync(root, { recursive: true, force: true }));

function launch(args: string[], env: NodeJS.ProcessEnv = {}) {
  const r = spawnSync(process.execPath, ['--', path.join(root, 'scripts', 'run.mjs'), ...args], {
    cwd: root,
    env: { ...process.env, TASKFLOW_BUILD_CACHE: cache, ...env },
    encoding: 'utf8',
  });
  return { code: r.status, stdout: r.stdout, stderr: r.stderr };
}
const hello = (args: string[] = [], env?: NodeJS.ProcessEnv) => {
  const r = launch(['hello', ...args], env);
  expect(r.stderr).toBe('');
  expect(r.code).toBe(0);
  return JSON.parse(r.stdout) as { argv: string[]; value: number; here: string };
};
const built = () => statSync(path.join(cache, 'hello.mjs')).mtimeMs;

describe('scripts/run.mjs', () => {
  it('runs a TypeScript script with the command line and module URLs it would have unbundled', () => {
    const out = hello(['--env-file', 'missing.env', '-n', 'x']);
    // `node --` keeps Node 20 from reading --env-file itself: the script gets it.
    expect(out.argv).toEqual([
      path.join(root, 'scripts', 'hello.ts'),
      '--env-file',
      'missing.env',
      '-n',
      'x',
    ]);
    expect(out.value).toBe(1);
    expect(out.here).toBe(path.join(root, 'lib', 'where.ts'));
  });

  it('reuses the compiled module while no source changed, and recompiles after an edit', () => {
    hello();
    const first = built();
    expect(hello().value).toBe(1);
    expect(built()).toBe(first);
    write('lib/value.ts', 'export const value = 2;\n');
    expect(hello().value).toBe(2);
    expect(built()).toBeGreaterThan(first);
    write('lib/value.ts', 'export const value = 1;\n');
    expect(hello().value).toBe(1);
  });

  it('rebuilds a compiled module that went missing while its manifest stayed', () => {
    hello();
    rmSync(path.join(cache, 'hello.mjs'));
    expect(hello().value).toBe(1);
  });

  it('stops the compiler before the script runs (no esbuild process kept beside a long command)', () => {
    const r = launch(['kids']); // first run: compiles, then runs
    expect(r.code).toBe(0);
    expect(JSON.parse(r.stdout)).toEqual([]);
  });

  it('compiles ahead with --prepare, silently', () => {
    const r = launch(['--prepare', 'hello']);
    expect(r).toMatchObject({ code: 0, stdout: '', stderr: '' });
  });

  it('names the file and line of a source that does not compile (exit 1)', () => {
    const r = launch(['broken']);
    expect(r.code).toBe(1);
    expect(r.stderr).toMatch(/scripts\/broken\.ts does not compile:\n {2}scripts\/broken\.ts:1:19: /);
  });

  it('rejects an unknown script with the list of scripts (exit 2)', () => {
    const r = launch(['nope']);
    expect(r.code).toBe(2);
    expect(r.stderr).toMatch(/unknown script "nope"/);
    expect(r.stderr).toMatch(/scripts: broken, hello, kids/);
  });

  it('compiles on the fly when the cache folder cannot be written', () => {
    const file = path.join(root, 'not-a-folder');
    writeFileSync(file, '');
    const out = hello(['a'], { TASKFLOW_BUILD_CACHE: path.join(file, 'cache') });
    expect(out).toEqual({
      argv: [path.join(root, 'scripts', 'hello.ts'), 'a'],
      value: 1,
      here: path.join(root, 'lib', 'where.ts'),
    });
  });
});
