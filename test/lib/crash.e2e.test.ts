import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startKubeSim } from '../kube-sim/index.ts';
import { runScript } from '../support/e2e.ts';
import { alive, deployEnv, type DeployEnv } from '../deploy/e2e-support.ts';

type Sim = Awaited<ReturnType<typeof startKubeSim>>;
const NS = 'tf-crash';

/**
 * A crash (an exception thrown outside any await, injected with TASKFLOW_TEST_CRASH) in every command
 * that starts long-running children goes through the error path and stops every child by pid.
 */
describe('a crash still cleans up', () => {
  let sim: Sim;
  let se: DeployEnv;
  beforeAll(async () => {
    sim = await startKubeSim({ scenario: { readyAfterMs: 100 } });
    se = deployEnv({ kubeconfig: sim.kubeconfigPath, envFile: `TASKFLOW_NAMESPACE=${NS}\n` });
    const r = await se.deploy(['--json']);
    expect(r.code, r.stderr).toBe(0);
  }, 180_000);
  afterAll(async () => {
    se?.cleanup();
    await sim?.stop();
  });

  const CASES: { name: string; script: string; args: string[]; crash: string; json?: boolean }[] = [
    { name: 'port-forward', script: 'port-forward-all', args: ['--auto-ports'], crash: 'start' },
    { name: 'pgadmin in the foreground', script: 'add-pgadmin', args: ['--yes'], crash: 'start' },
    {
      name: "migrate's log follow",
      script: 'run-migrations',
      args: ['sso', '--json'],
      crash: 'start',
      json: true,
    },
    { name: 'deploy --port-forward', script: 'deploy-one-command', args: ['--port-forward'], crash: 'start' },
    { name: 'doctor --watch', script: 'doctor', args: ['--watch', '--interval', '1'], crash: '4' },
  ];

  it.each(CASES)(
    '$name: the error path, exit 1, no child left',
    async ({ script, args, crash, json }) => {
      const before = se.calls().length;
      const r = await runScript(
        script,
        args,
        { cwd: se.cwd, env: { ...se.env, TASKFLOW_TEST_CRASH: crash } },
        {
          timeoutMs: 120_000,
        },
      );
      const out = r.stdout + r.stderr;
      expect(r.code, out).toBe(1);
      expect(out).toContain('injected crash');
      expect(out).toContain('this is a bug in the suite; rerun with DEBUG=1 for the stack trace');
      expect(out).not.toMatch(/^\s+at /m);
      if (json) {
        const doc = JSON.parse(r.stdout) as { ok: boolean; error: { message: string; exitCode: number } };
        expect(doc).toMatchObject({ ok: false, error: { exitCode: 1 } });
        expect(doc.error.message).toContain('injected crash');
      }
      const started = se.calls().slice(before);
      expect(started.length).toBeGreaterThan(0);
      // Every kubectl/helm process the command started is gone (they are stopped by pid before exit).
      await expect
        .poll(() => started.filter((c) => alive(c.pid)).map((c) => `${c.pid} ${c.args.join(' ')}`), {
          timeout: 10_000,
        })
        .toEqual([]);
    },
    180_000,
  );
});
