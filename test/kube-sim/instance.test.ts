// Instances: fast start, isolation (own port, kubeconfig, caches), scenario files, complete
// clean-up on stop, and the standalone `npm run sim`.
import { execFileSync, spawn } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { repoRoot, toolset } from '../support/tools.ts';
import { startKubeSim } from './index.ts';
import { waitFor } from './test-helpers.ts';

const tmp = mkdtempSync(path.join(os.tmpdir(), 'kube-sim-inst-'));
afterAll(() => rmSync(tmp, { recursive: true, force: true }));

const listening = (port: number): Promise<boolean> =>
  new Promise((resolve) => {
    const s = net.connect(port, '127.0.0.1');
    s.once('connect', () => {
      s.destroy();
      resolve(true);
    });
    s.once('error', () => resolve(false));
  });
const processesUnder = (dir: string): string[] =>
  execFileSync('ps', ['-eo', 'args'], { encoding: 'utf8' })
    .split('\n')
    .filter((l) => l.includes(dir));

describe('instances', () => {
  // How fast they start is a figure for a benchmark, not an assertion: a loaded machine must not fail it.
  it('start side by side, threaded or in-process, each with its own port, kubeconfig and caches', async () => {
    const [a, b] = await Promise.all([startKubeSim(), startKubeSim()]);
    const c = await startKubeSim({ inProcess: true });
    expect(c.port).not.toBe(a.port);
    await c.stop();
    try {
      expect(a.port).not.toBe(b.port);
      expect(a.kubeconfigPath).not.toBe(b.kubeconfigPath);
      expect(a.env.KUBECACHEDIR).not.toBe(b.env.KUBECACHEDIR);
      const kc = readFileSync(a.kubeconfigPath, 'utf8');
      expect(kc).toContain('current-context: kube-sim');
      expect(kc).toContain(`server: ${a.url}`);
      await a.kubectl(['create', 'namespace', 'only-in-a']);
      expect((await a.kubectl(['get', 'ns', 'only-in-a', '-o', 'name'])).stdout).toBe(
        'namespace/only-in-a\n',
      );
      expect((await b.kubectl(['get', 'ns', 'only-in-a'])).code).toBe(1);
      expect((await a.kubectl(['config', 'current-context'])).stdout).toBe('kube-sim\n');
    } finally {
      await Promise.all([a.stop(), b.stop()]);
    }
  });

  it('reads the scenario from a JSON file and rejects unknown states', async () => {
    const file = path.join(tmp, 'scenario.json');
    writeFileSync(
      file,
      JSON.stringify({ images: { 'x/y': { state: 'pull-error' } }, storageClasses: ['fast'] }),
    );
    const sim = await startKubeSim({ scenario: file });
    try {
      expect((await sim.kubectl(['get', 'sc', '-o', 'name'])).stdout).toBe(
        'storageclass.storage.k8s.io/fast\n',
      );
    } finally {
      await sim.stop();
    }
    writeFileSync(file, JSON.stringify({ images: { 'x/y': { state: 'explode' } } }));
    await expect(startKubeSim({ scenario: file })).rejects.toThrow(/unknown state "explode"/);
  });

  it('stops every server, pod stand-in and database it started', async () => {
    const sim = await startKubeSim({ scenario: { readyAfterMs: 50 } });
    const pod = (name: string, image: string, env: object[] = []) =>
      JSON.stringify({
        apiVersion: 'v1',
        kind: 'Pod',
        metadata: { name, namespace: 'default' },
        spec: { containers: [{ name: 'c', image, env, ports: [{ containerPort: 80 }] }] },
      });
    await sim.kubectl(['apply', '-f', '-'], {
      input: pod('db', 'postgres:16-alpine', [{ name: 'POSTGRES_PASSWORD', value: 'pw-0123456789' }]),
    });
    await sim.kubectl(['apply', '-f', '-'], { input: pod('web', 'demo/web:1') });
    expect(
      (await sim.kubectl(['wait', '--for=condition=Ready', 'pod/db', 'pod/web', '--timeout=30s'])).code,
    ).toBe(0);
    expect(processesUnder(sim.dir).some((l) => /postgres/.test(l))).toBe(true);
    const pf = spawn(toolset('v35').kubectl, ['port-forward', 'pod/web', ':80'], { env: sim.env });
    let out = '';
    pf.stdout.on('data', (d: Buffer) => (out += d.toString()));
    const local = Number((await waitFor(() => /127\.0\.0\.1:(\d+)/.exec(out), 10_000, 'port-forward'))[1]);
    expect(await (await fetch(`http://127.0.0.1:${local}/`)).text()).toMatch(/^ok: web:80/);
    const closed = new Promise((r) => pf.once('close', r));
    await sim.stop();
    // kubectl notices the API server is gone; nothing of the instance stays.
    pf.kill();
    await closed;
    expect(await listening(sim.port)).toBe(false);
    expect(processesUnder(sim.dir)).toEqual([]);
    expect(existsSync(sim.dir)).toBe(false);
    await sim.stop();
  });

  it('runs standalone with npm run sim: kubeconfig written, served until interrupted', async () => {
    const kubeconfig = path.join(tmp, 'standalone', 'kubeconfig');
    const child = spawn(
      path.join(repoRoot, 'node_modules', '.bin', 'tsx'),
      [path.join(repoRoot, 'test', 'kube-sim', 'main.ts'), '--port', '0', '--kubeconfig', kubeconfig],
      { cwd: tmp, stdio: ['ignore', 'pipe', 'pipe'] },
    );
    let out = '';
    child.stdout.on('data', (d: Buffer) => (out += d.toString()));
    const exited = new Promise<number | null>((r) => child.on('close', (code) => r(code)));
    try {
      const url =
        (
          await waitFor(() => /serving on (http:\/\/127\.0\.0\.1:\d+)/.exec(out), 20_000, 'the sim to serve')
        )[1] ?? '';
      expect(readFileSync(kubeconfig, 'utf8')).toContain(`server: ${url}`);
      const env = { ...process.env, KUBECONFIG: kubeconfig, KUBECACHEDIR: path.join(tmp, 'cache') };
      const nodes = execFileSync(
        toolset('v35').kubectl,
        ['get', 'nodes', '--context', 'kube-sim', '-o', 'name'],
        { env, encoding: 'utf8' },
      );
      expect(nodes).toBe('node/kube-sim\n');
      child.kill('SIGINT');
      expect(await exited).toBe(130);
      expect(await listening(Number(new URL(url).port))).toBe(false);
    } finally {
      child.kill('SIGKILL');
    }
  });

  it('answers --help and rejects unknown options with exit 2', () => {
    const tsx = path.join(repoRoot, 'node_modules', '.bin', 'tsx');
    const help = execFileSync(tsx, [path.join(repoRoot, 'test', 'kube-sim', 'main.ts'), '--help'], {
      encoding: 'utf8',
    });
    expect(help).toContain('Usage: npm run sim --');
    let code = 0;
    try {
      execFileSync(tsx, [path.join(repoRoot, 'test', 'kube-sim', 'main.ts'), '--bogus'], { stdio: 'pipe' });
    } catch (err) {
      code = (err as { status: number }).status;
    }
    expect(code).toBe(2);
  });
});
