// Every documented command line that pipes or redirects --json output works as printed: run through the
// real npm, as written, against the simulated cluster, its output must be JSON alone.
import { spawn } from 'node:child_process';
import {
  chmodSync,
  copyFileSync,
  mkdirSync,
  readFileSync,
  readdirSync,
  symlinkSync,
  writeFileSync,
} from 'node:fs';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startKubeSim } from '../kube-sim/index.ts';
import { scriptEnv, type ScriptEnv } from '../support/e2e.ts';
import { ALL_SPECS } from '../support/specs.ts';
import { repoRoot } from '../support/tools.ts';

const DOCS = ['README.md', 'KUBERNETES-QUICKSTART.md', 'ARCHITECTURE.md', 'test/kube-sim/README.md'];
const docsDir = path.join(repoRoot, 'docs');
const docFiles = [
  ...DOCS,
  ...(() => {
    try {
      return readdirSync(docsDir)
        .filter((f) => f.endsWith('.md'))
        .map((f) => path.join('docs', f));
    } catch {
      return [];
    }
  })(),
];

/** One JSON document, or one a line. */
function parseJsonOrLines(text: string): unknown {
  try {
    return JSON.parse(text);
  } catch {
    return text
      .trim()
      .split('\n')
      .map((l) => JSON.parse(l) as unknown);
  }
}

/** `npm run ...` command lines in a text: whole lines of code blocks and inline `code` spans. */
function commandLines(text: string): string[] {
  const inline = [...text.matchAll(/`(npm run [^`]+)`/g)].map((m) => m[1] ?? '');
  const lines = text.split('\n').flatMap((l) => {
    const m = /^\s*(npm run .*)$/.exec(l);
    return m?.[1] ? [m[1]] : [];
  });
  return [...inline, ...lines].map((l) => l.replace(/\s+#.*$/, '').trim());
}

/** The ones whose --json output goes into a pipe or a file. */
const pipesJson = (line: string): boolean => /--json\b.*(\||>)/.test(line);

const documented = [
  ...docFiles.flatMap((f) =>
    commandLines(readFileSync(path.join(repoRoot, f), 'utf8')).map((line) => ({ where: f, line })),
  ),
  ...ALL_SPECS.flatMap((s) =>
    s.examples.flatMap(commandLines).map((line) => ({ where: `npm run ${s.name} -- --help`, line })),
  ),
].filter((c) => pipesJson(c.line));

describe('documented commands that pipe or redirect --json', () => {
  it('are found (the docs and the help texts show them) and every one runs npm silently', () => {
    expect(documented.length).toBeGreaterThanOrEqual(3);
    expect(documented.filter((c) => !/^npm run (-s|--silent) /.test(c.line))).toEqual([]);
  });
});

describe('run as written through npm against the simulated cluster', () => {
  let sim: Awaited<ReturnType<typeof startKubeSim>>;
  let se: ScriptEnv;
  let project: string;

  beforeAll(async () => {
    sim = await startKubeSim({});
    se = scriptEnv({ kubeconfig: sim.kubeconfigPath });
    // A project folder of its own, so that the deploy's .env and the documented output files land there
    // and not in the repository: package.json copied (npm's banner names it), the code linked.
    project = path.join(se.cwd, 'project');
    mkdirSync(project);
    copyFileSync(path.join(repoRoot, 'package.json'), path.join(project, 'package.json'));
    for (const d of ['scripts', 'lib', 'charts', 'node_modules'])
      symlinkSync(path.join(repoRoot, d), path.join(project, d));
    // jq where the machine has none: enough of it to read one field, failing as jq does on text that is not JSON.
    const bin = path.join(se.cwd, 'bin');
    mkdirSync(bin);
    const jq = path.join(bin, 'jq-standin');
    writeFileSync(
      jq,
      `#!/usr/bin/env node\nlet s='';process.stdin.on('data',d=>s+=d).on('end',()=>{let v;try{v=JSON.parse(s)}catch(e){console.error('jq: parse error: '+e.message);process.exit(5)}const k=(process.argv[2]||'.').replace(/^\\./,'');console.log(JSON.stringify(k?v[k]:v))})\n`,
    );
    chmodSync(jq, 0o755);
    se.env.PATH = `${bin}:${se.env.PATH ?? ''}`;
    se.env.TASKFLOW_DOCS_JQ = jq;
  }, 120_000);

  afterAll(async () => {
    await sim?.stop();
    se?.cleanup();
  });

  const sh = (line: string): Promise<{ code: number | null; stdout: string; stderr: string }> =>
    new Promise((resolve, reject) => {
      // Without the machine's jq, the stand-in answers to the name.
      const script = `command -v jq >/dev/null || jq() { "$TASKFLOW_DOCS_JQ" "$@"; }\n${line}\n`;
      const child = spawn('bash', ['-c', script], {
        cwd: project,
        env: se.env,
        stdio: ['ignore', 'pipe', 'pipe'],
      });
      let stdout = '';
      let stderr = '';
      child.stdout.on('data', (d: Buffer) => (stdout += d.toString()));
      child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
      child.on('error', reject);
      child.on('close', (code) => resolve({ code, stdout, stderr }));
    });

  /** deploy first: doctor and the rest then have a release to read. */
  const ordered = [...documented].sort(
    (a, b) => Number(/ deploy /.test(b.line)) - Number(/ deploy /.test(a.line)),
  );

  it('each one gives JSON alone', { timeout: 600_000 }, async () => {
    for (const { where, line } of ordered) {
      const r = await sh(line);
      const redirect = /--json\b[^|]*>\s*(\S+)\s*$/.exec(line);
      const out = redirect?.[1] ? readFileSync(path.join(project, redirect[1]), 'utf8') : r.stdout;
      // The file (or what jq printed) parses, whole or (logs --json) a document a line; jq itself fails on
      // anything that is not JSON.
      expect(() => parseJsonOrLines(out), `${where}: ${line}\n${out}\n${r.stderr}`).not.toThrow();
      // verify walks a person's journey: this cluster's pods run no programs, so it fails at its first
      // step (exit 1), with its document (test/verify runs it against the applications' stand-ins).
      const expected = / verify /.test(line) ? 1 : 0;
      expect(r.code, `${where}: ${line}\n${r.stderr}`).toBe(expected);
      // A --json document has ok; logs --json writes a document a line, each with its line.
      const parsed = parseJsonOrLines(out);
      if (Array.isArray(parsed)) expect(parsed.length, `${where}: ${line}`).toBeGreaterThan(0);
      else if (redirect) expect(parsed, `${where}: ${line}`).toHaveProperty('ok');
      expect(r.stderr, `${where}: ${line}`).not.toContain('banner on stdout');
    }
  });

  it('the plain form without -s: npm puts its banner first, and the command says so and what to run', async () => {
    const r = await sh('npm run validate -- --json > plain.json');
    const text = readFileSync(path.join(project, 'plain.json'), 'utf8');
    expect(text).toMatch(/^\s*> taskflow-k8s@\S+ validate/);
    expect(r.stderr).toContain(
      'npm printed its "> validate" banner on stdout ahead of this JSON, so stdout is not JSON alone; for JSON alone run: npm run -s validate -- --json',
    );
    const silent = await sh('npm run -s validate -- --json > silent.json');
    expect(silent.stderr).not.toContain('banner on stdout');
    expect(JSON.parse(readFileSync(path.join(project, 'silent.json'), 'utf8'))).toHaveProperty('checks');
  }, 120_000);
});
