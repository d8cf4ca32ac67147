// The remote-context guard, end to end: the simulated cluster under a remote-looking context name.
import { readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startKubeSim } from '../kube-sim/index.ts';
import { runScript } from '../support/e2e.ts';
import { type DeployEnv, deployEnv, doc } from './e2e-support.ts';

type Sim = Awaited<ReturnType<typeof startKubeSim>>;

const NS = 'tf-guard';

describe('commands that write refuse a remote context nobody named', () => {
  let sim: Sim;
  /** the simulated cluster, its context renamed to prod-aks */
  let remote: DeployEnv;
  /** the same cluster under its own (local) name */
  let local: DeployEnv;
  const envs: DeployEnv[] = [];
  const prodEnv = (envFile: string) => {
    const se = deployEnv({ kubeconfig: path.join(sim.dir, 'prod-aks.kubeconfig'), envFile });
    envs.push(se);
    return se;
  };
  const namespaceExists = () => sim.kubectl(['get', 'namespace', NS, '--ignore-not-found', '-o', 'name']);
  const writes = (se: DeployEnv) =>
    se
      .calls()
      .filter(
        (c) =>
          (c.tool === 'helm' && ['upgrade', 'install', 'uninstall'].some((v) => c.args.includes(v))) ||
          (c.tool === 'kubectl' &&
            ['apply', 'create', 'delete', 'patch', 'exec', 'rollout', 'scale'].some((v) =>
              c.args.includes(v),
            )),
      );

  beforeAll(async () => {
    sim = await startKubeSim({ scenario: { readyAfterMs: 200 } });
    const text = readFileSync(sim.kubeconfigPath, 'utf8').replaceAll('kube-sim', 'prod-aks');
    writeFileSync(path.join(sim.dir, 'prod-aks.kubeconfig'), text, { mode: 0o600 });
    remote = prodEnv(`TASKFLOW_NAMESPACE=${NS}\n`);
    local = deployEnv({ kubeconfig: sim.kubeconfigPath, envFile: `TASKFLOW_NAMESPACE=${NS}\n` });
    envs.push(local);
  });
  afterAll(async () => {
    envs.forEach((e) => e.cleanup());
    await sim?.stop();
  });

  it('deploy refuses (exit 2), says where and how to allow it, and creates nothing', async () => {
    const r = await remote.deploy(['--json']);
    expect(r.code, r.stderr).toBe(2);
    expect(r.stderr).toContain(`context prod-aks (remote, ${sim.url}), namespace ${NS}`);
    expect(r.stderr).toContain(`refusing to write to kube context "prod-aks" (server ${sim.url})`);
    expect(r.stderr).toContain('npm run deploy -- --json --context prod-aks');
    expect(r.stderr).toContain('TASKFLOW_CONTEXT=prod-aks');
    const d = doc(r) as ReturnType<typeof doc> & { context: string };
    expect(d).toMatchObject({ ok: false, context: 'prod-aks', namespace: NS, revision: null });
    expect(d.failures[0]).toMatchObject({ id: 'cluster.context', reason: 'ContextNotNamed' });
    expect(writes(remote)).toEqual([]);
    expect((await namespaceExists()).stdout).toBe('');
    // not even the env file: no secret was generated for a deploy that did not happen
    expect(remote.envFile()).toBe(`TASKFLOW_NAMESPACE=${NS}\n`);
  });

  it('--context prod-aks proceeds; so does TASKFLOW_CONTEXT=prod-aks in the env file', async () => {
    const named = await remote.deploy(['--context', 'prod-aks', '--json']);
    expect(named.code, named.stderr).toBe(0);
    expect(doc(named)).toMatchObject({ ok: true, context: 'prod-aks', namespace: NS, revision: 1 });
    writeFileSync(path.join(remote.cwd, '.env'), `${remote.envFile()}TASKFLOW_CONTEXT=prod-aks\n`, {
      mode: 0o600,
    });
    const allowed = await remote.deploy(['--json']);
    expect(allowed.code, allowed.stderr).toBe(0);
    // the same settings: nothing to upgrade (revision kept), the release checked
    expect(doc(allowed)).toMatchObject({ ok: true, context: 'prod-aks', revision: 1, upgraded: false });
  });

  it('--fresh --yes without --context refuses and deletes nothing, TASKFLOW_CONTEXT or not', async () => {
    const before = (await sim.kubectl(['get', 'pvc', '-n', NS, '-o', 'name'])).stdout;
    expect(before).toMatch(/sso-postgres/);
    const calls = remote.calls().length;
    const r = await remote.deploy(['--fresh', '--yes']);
    expect(r.code, r.stderr).toBe(2);
    expect(r.stdout).toContain('needs both --yes and --context prod-aks');
    expect(r.stdout).toContain('npm run deploy -- --fresh --yes --context prod-aks');
    expect(writes({ ...remote, calls: () => remote.calls().slice(calls) })).toEqual([]);
    const unnamed = prodEnv(`TASKFLOW_NAMESPACE=${NS}\n`);
    const r2 = await unnamed.deploy(['--fresh', '--yes']);
    expect(r2.code, r2.stderr).toBe(2);
    expect(r2.stdout).toContain('refusing to write to kube context "prod-aks"');
    expect(writes(unnamed)).toEqual([]);
    expect((await sim.kubectl(['get', 'pvc', '-n', NS, '-o', 'name'])).stdout).toBe(before);
    expect((await namespaceExists()).stdout).toContain(NS);
  });

  it('the other writing commands refuse too; read-only ones are labelled and run', async () => {
    const se = prodEnv(`TASKFLOW_NAMESPACE=${NS}\n`);
    const run = (name: string, args: string[]) => runScript(name, args, se);
    for (const [name, args] of [
      ['run-migrations', ['sso']],
      ['reset-db-password', ['sso']],
      ['reset-db-password', ['api', '--rotate', '--yes']],
      ['add-pgadmin', []],
      ['addon', ['mailpit']],
    ] as const) {
      const r = await run(name, [...args]);
      expect(r.code, `${name} ${args.join(' ')}: ${r.stderr}`).toBe(2);
      expect(r.stdout).toContain('refusing to write to kube context "prod-aks"');
    }
    expect(writes(se)).toEqual([]);

    const check = await run('reset-db-password', ['sso', '--check', '--json']);
    expect(check.code, check.stderr).toBe(0);
    expect(JSON.parse(check.stdout)).toMatchObject({ ok: true, context: 'prod-aks', namespace: NS });
    const doctor = await run('doctor', ['--json']);
    expect(doctor.stderr).toContain(`context prod-aks (remote, ${sim.url}), namespace ${NS}`);
    expect(JSON.parse(doctor.stdout)).toMatchObject({ context: 'prod-aks', namespace: NS });
    const validate = await run('preflight', ['--json']);
    const report = JSON.parse(validate.stdout) as {
      context: string;
      checks: { id: string; status: string }[];
    };
    expect(report.context).toBe('prod-aks');
    expect(report.checks.find((c) => c.id === 'cluster.context')).toMatchObject({
      status: 'warn',
      detail: expect.stringContaining('the env file does not name it'),
      hint: expect.stringContaining('TASKFLOW_CONTEXT=prod-aks'),
    });
    const dryRun = await run('deploy-one-command', ['--dry-run']);
    expect(dryRun.code, dryRun.stderr).toBe(0);
    expect(dryRun.stderr + dryRun.stdout).toContain('a real deploy would be refused there');

    // Named in the env file: validate passes the check; migrate runs.
    writeFileSync(path.join(se.cwd, '.env'), `TASKFLOW_NAMESPACE=${NS}\nTASKFLOW_CONTEXT=prod-aks\n`);
    const named = JSON.parse((await run('preflight', ['--json'])).stdout) as typeof report;
    expect(named.checks.find((c) => c.id === 'cluster.context')).toMatchObject({ status: 'pass' });
    const migrate = await run('run-migrations', ['sso', '--json']);
    expect(migrate.code, migrate.stderr).toBe(0);
    expect(JSON.parse(migrate.stdout)).toMatchObject({ ok: true, context: 'prod-aks', namespace: NS });
  });

  it('the unchanged simulated context needs no option, and says it is local', async () => {
    const r = await local.deploy(['--json']);
    expect(r.code, r.stderr).toBe(0);
    expect(r.stderr).toContain(
      `context kube-sim (local, the simulated cluster, ${sim.url}), namespace ${NS}`,
    );
    expect(doc(r)).toMatchObject({ ok: true, context: 'kube-sim' });
    const v = JSON.parse((await runScript('preflight', ['--json'], local)).stdout) as {
      checks: { id: string; status: string }[];
    };
    expect(v.checks.find((c) => c.id === 'cluster.context')).toMatchObject({ status: 'pass' });
  });

  it('--fresh --yes --context prod-aks goes ahead: backed up, wiped, redeployed', async () => {
    const r = await remote.deploy(['--fresh', '--yes', '--context', 'prod-aks', '--json']);
    expect(r.code, r.stderr).toBe(0);
    expect(doc(r)).toMatchObject({ ok: true, context: 'prod-aks', revision: 1 });
    expect(r.stderr).toMatch(/backed up to backups\/taskflow-sso-/);
  });
});
