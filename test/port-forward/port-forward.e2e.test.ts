import net from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startKubeSim } from '../kube-sim/index.ts';
import { freePort } from '../support/embedded-pg.ts';
import { type ScriptEnv, scriptEnv } from '../support/e2e.ts';
import {
  alive,
  httpGet,
  httpStatus,
  installRelease,
  kubectl,
  kubectlOut,
  run,
  startScript,
  type Running,
} from './e2e-helpers.ts';

type Sim = Awaited<ReturnType<typeof startKubeSim>>;
const NS = 'tf-pf';
const WEB = 'app.kubernetes.io/component=web';

describe('npm run port-forward on the simulated cluster', () => {
  let sim: Sim;
  let se: ScriptEnv;
  const running: Running[] = [];
  const extraEnvs: ScriptEnv[] = [];
  beforeAll(async () => {
    sim = await startKubeSim({ scenario: { readyAfterMs: 100 } });
    se = scriptEnv({ kubeconfig: sim.kubeconfigPath, envFile: `TASKFLOW_NAMESPACE=${NS}\n` });
    await installRelease(se, NS);
  });
  afterAll(async () => {
    for (const r of running) if (alive(r.pid)) await r.stop('SIGKILL');
    // A failed case may leave its background run: stop it by its pid file.
    if (se) await run('port-forward-all', ['--stop'], se);
    se?.cleanup();
    for (const e of extraEnvs) e.cleanup();
    await sim?.stop();
  });

  it.each(['v35', 'v33'] as const)(
    'kubectl %s: forwards in the foreground, restarts when the pod goes away, stops every child on Ctrl+C',
    async (tools) => {
      const env =
        tools === 'v35'
          ? se
          : scriptEnv({
              kubeconfig: sim.kubeconfigPath,
              toolset: tools,
              envFile: `TASKFLOW_NAMESPACE=${NS}\n`,
            });
      if (env !== se) extraEnvs.push(env);
      const [web, api] = [await freePort(), await freePort()];
      const pf = startScript(
        'port-forward-all',
        ['--only', 'web,api', '--ports', `web=${web},api=${api}`],
        env,
      );
      running.push(pf);
      await expect.poll(() => pf.output(), { timeout: 30_000, interval: 100 }).toContain('Forwarding;');
      expect(pf.output()).toMatch(new RegExp(`web http://localhost:${web} ready`));
      const old = await kubectlOut(se, [
        'get',
        'pods',
        '-n',
        NS,
        '-l',
        WEB,
        '-o',
        'jsonpath={.items[0].metadata.name}',
      ]);
      expect((await httpGet(web))?.body).toContain(`ok: ${old}:3000`);
      expect(await httpStatus(api)).toBe(200);

      const deleted = await kubectl(se, ['delete', 'pod', old, '-n', NS, '--wait=false']);
      expect(deleted.code, deleted.stderr).toBe(0);
      await expect
        .poll(() => pf.output(), { timeout: 20_000, interval: 50 })
        .toMatch(/web http:\S+ reconnecting: /);
      // Serves again, from the new pod.
      await expect
        .poll(async () => (await httpGet(web, 300))?.body ?? '', { timeout: 20_000, interval: 50 })
        .toMatch(/^ok: web-dashboard-\S+:3000/);
      expect((await httpGet(web))?.body).not.toContain(old);
      expect(
        pf
          .output()
          .split(/web http:\S+ reconnecting/)
          .pop(),
      ).toMatch(/web http:\S+ ready/);

      expect(await pf.stop('SIGINT')).toBe(130);
      // Every kubectl child is gone: the local ports are free again.
      expect(await httpStatus(web, 300)).toBeUndefined();
      expect(await httpStatus(api, 300)).toBeUndefined();
    },
  );

  it('a taken port names its holder (exit 1); --auto-ports moves and says so; --detach and --stop', async () => {
    // A plain listener that only occupies the local port (the simulated cluster serves the rest).
    const server = net.createServer();
    await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
    const taken = (server.address() as net.AddressInfo).port;
    try {
      const refused = await run('port-forward-all', ['--only', 'web', '--ports', `web=${taken}`], se);
      expect(refused.code).toBe(1);
      expect(refused.stdout).toContain(`✗ local port ${taken} (web) is in use by pid ${process.pid} (`);
      expect(refused.stdout).toContain('hint: stop that process, or rerun with --auto-ports');

      const moved = await run(
        'port-forward-all',
        ['--only', 'web', '--ports', `web=${taken}`, '--auto-ports', '--detach', '--json'],
        se,
      );
      expect(moved.code, moved.stderr).toBe(0);
      const doc = JSON.parse(moved.stdout) as {
        ok: boolean;
        pid: number;
        forwards: { localPort: number; state: string }[];
      };
      expect(doc.ok).toBe(true);
      const port = doc.forwards[0]?.localPort ?? 0;
      expect(port).toBeGreaterThan(taken);
      expect(moved.stderr).toContain(`web: local port ${taken} is in use by pid ${process.pid}`);
      // the dashboard's origin moved: sign-in would fail, and the settings to change are named
      expect(moved.stderr).toContain(
        `! sign-in will fail: the browser opens the dashboard on http://localhost:${port}, but ALLOWED_ORIGINS lacks http://localhost:${port}`,
      );
      expect(moved.stderr).toContain(
        `hint: set ALLOWED_ORIGINS=http://localhost:3000,http://localhost:3001,http://localhost:${port} in the env file`,
      );
      expect(await httpStatus(port)).toBe(200);
      expect(alive(doc.pid)).toBe(true);

      // a second --detach (or a foreground run) of the same targets: the running one is named, exit 2
      for (const again of [
        ['--only', 'web', '--ports', `web=${taken}`, '--auto-ports', '--detach'],
        ['--only', 'web,api', '--detach'],
        [],
      ]) {
        const twice = await run('port-forward-all', again, se);
        expect(twice.code, twice.stdout + twice.stderr).toBe(2);
        expect(twice.stdout).toContain(
          `✗ port-forward is already running (web) (pid ${doc.pid}): npm run port-forward -- --stop\n`,
        );
        expect(twice.stdout).not.toContain('taken');
      }
      const withNs = await run('port-forward-all', ['-n', NS, '--only', 'web', '--detach'], se);
      expect(withNs.code).toBe(2);
      expect(withNs.stdout).toContain(
        `✗ port-forward is already running (web) (pid ${doc.pid}): npm run port-forward -- --stop -n ${NS}\n`,
      );
      // the refusals left it running
      expect(alive(doc.pid)).toBe(true);

      const stopped = await run('port-forward-all', ['--stop', '--json'], se);
      expect(JSON.parse(stopped.stdout)).toMatchObject({
        ok: true,
        namespace: NS,
        stopped: [{ pid: doc.pid, running: true }],
      });
      expect(alive(doc.pid)).toBe(false);
      expect(await httpStatus(port, 300)).toBeUndefined();
    } finally {
      server.close();
    }
  });

  it.each([
    [
      ['-n', 'nowhere'],
      1,
      'release "taskflow" is not installed in namespace "nowhere"',
      'run npm run deploy first',
    ],
    [
      ['--only', 'pgadmin'],
      1,
      'pgAdmin is not enabled in release "taskflow"',
      `npm run addon -- pgadmin -n ${NS}`,
    ],
    [
      ['--only', 'db'],
      2,
      'unknown target "db" in --only',
      'valid targets: web, sso, api, mcp, pgadmin, mailpit',
    ],
  ])('bad input %j: exit %i with one line and the next step', async (args, code, message, hint) => {
    const r = await run('port-forward-all', args, se);
    expect(r.code).toBe(code);
    expect(r.stdout).toContain(`✗ ${message}`);
    expect(r.stdout).toContain(hint);
  });

  it('no pod behind the service: exit 1, pointing at doctor', async () => {
    await kubectl(se, ['scale', 'deployment/mcp-server', '-n', NS, '--replicas=0']);
    try {
      const mcpPods = () =>
        kubectlOut(se, ['get', 'pods', '-n', NS, '-l', 'app.kubernetes.io/component=mcp', '-o', 'name']);
      await expect.poll(mcpPods, { timeout: 15_000, interval: 200 }).toBe('');
      const r = await run('port-forward-all', ['--only', 'mcp'], se);
      expect(r.code).toBe(1);
      expect(r.stdout).toContain('✗ pod not found behind service mcp-server');
      expect(r.stdout).toContain(`hint: see why: npm run doctor -- -n ${NS}`);
    } finally {
      await kubectl(se, ['scale', 'deployment/mcp-server', '-n', NS, '--replicas=1']);
    }
  });
});
