import { existsSync, statSync } from 'node:fs';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startApiProxy } from '../../lib/api-proxy.ts';
import { Runner } from '../../lib/exec.ts';
import { Kubectl } from '../../lib/kubectl.ts';
import { startKubeSim } from '../kube-sim/index.ts';
import { toolset } from '../support/tools.ts';

type Sim = Awaited<ReturnType<typeof startKubeSim>>;

describe('the API proxy (one kubectl proxy for several API requests)', () => {
  let sim: Sim;
  beforeAll(async () => {
    sim = await startKubeSim();
  });
  afterAll(async () => sim?.stop());

  const kubectl = (runner: Runner) => new Kubectl(runner, toolset('v35').kubectl, { namespace: 'default' });

  it('answers GETs over a unix socket in a private folder; stop ends the process and removes the folder', async () => {
    const runner = new Runner({ env: { ...process.env, KUBECONFIG: sim.kubeconfigPath } });
    const proxy = await startApiProxy(kubectl(runner));
    expect(proxy).toBeDefined();
    const started = runner.calls.find((c) => c.argv.includes('proxy'));
    const socket =
      started?.argv.find((a) => a.startsWith('--unix-socket='))?.slice('--unix-socket='.length) ?? '';
    expect(statSync(path.dirname(socket)).mode & 0o777).toBe(0o700);
    expect(runner.running).toBe(1);

    const [version, missing] = await Promise.all([
      proxy!.get('/version', 10_000),
      proxy!.get('/api/v1/namespaces/default/services/nope:80/proxy/health', 10_000),
    ]);
    expect(version.status).toBe(200);
    expect(JSON.parse(version.body)).toHaveProperty('gitVersion');
    expect(missing.status).toBe(404);

    await proxy!.stop();
    expect(runner.running).toBe(0);
    expect(existsSync(path.dirname(socket))).toBe(false);
    const after = await proxy!.get('/version', 10_000);
    expect(after.status).toBe(0);
    expect(after.error).toBeDefined();
  });

  it('a kubectl proxy that exits at start (its kubeconfig path cannot be read) gives no proxy and leaves nothing behind', async () => {
    const runner = new Runner({
      env: { ...process.env, KUBECONFIG: path.join(sim.kubeconfigPath, 'absent') },
    });
    const proxy = await startApiProxy(kubectl(runner));
    expect(proxy).toBeUndefined();
    expect(runner.running).toBe(0);
    const started = runner.calls.find((c) => c.argv.includes('proxy'));
    const socket =
      started?.argv.find((a) => a.startsWith('--unix-socket='))?.slice('--unix-socket='.length) ?? '';
    expect(existsSync(path.dirname(socket))).toBe(false);
  });
});
