import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { CheckReport, CheckResult } from '../../lib/checks.ts';
import { DOCTOR_CHECKS } from '../../lib/doctor/checks.ts';
import { startKubeSim } from '../kube-sim/index.ts';
import { runScript, scriptEnv } from '../support/e2e.ts';
import { repoRoot } from '../support/tools.ts';

type Sim = Awaited<ReturnType<typeof startKubeSim>>;

const CRASH_LOG = 'FATAL: password authentication failed for user "taskflow_user"';
const CHART = path.join(repoRoot, 'charts', 'taskflow');
const PW = {
  sso: '0a1b2c3d4e5f60718293a4b5c6d7e8f9',
  api: 'f9e8d7c6b5a4938271605f4e3d2c1b0a',
  auth: '00112233445566778899aabbccddeeff00112233445566778899aabbccddeeff',
  other: '5555aaaa5555aaaa5555aaaa5555aaaa',
};
const ENV = (sso: string) =>
  `POSTGRES_SSO_PASSWORD=${sso}\nPOSTGRES_API_PASSWORD=${PW.api}\nBETTER_AUTH_SECRET=${PW.auth}\n`;

let sim: Sim;

/** Installs the chart with helm itself (values on stdin), without waiting. */
async function install(ns: string, extraValues = ''): Promise<void> {
  const values = `sso:\n  database:\n    password: ${PW.sso}\n  auth:\n    secret: ${PW.auth}\napi:\n  database:\n    password: ${PW.api}\n${extraValues}`;
  const res = await sim.helm(
    ['upgrade', '--install', 'taskflow', CHART, '-n', ns, '--create-namespace', '-f', '-'],
    {
      input: values,
      timeoutMs: 60_000,
    },
  );
  if (res.code !== 0) throw new Error(`helm install in ${ns} failed: ${res.stderr}`);
}

/** Runs a script with --json until `done` holds for its document (or the deadline passes). */
async function until(
  script: string,
  args: string[],
  done: (doc: CheckReport) => boolean,
  opts: { envFile?: string; timeoutMs?: number } = {},
): Promise<{ doc: CheckReport; code: number | null; output: string }> {
  const se = scriptEnv({
    kubeconfig: sim.kubeconfigPath,
    ...(opts.envFile !== undefined && { envFile: opts.envFile }),
  });
  try {
    const deadline = Date.now() + (opts.timeoutMs ?? 60_000);
    for (;;) {
      const r = await runScript(script, [...args, '--json'], se);
      const doc = JSON.parse(r.stdout) as CheckReport;
      if (done(doc) || Date.now() > deadline) return { doc, code: r.code, output: r.stdout + r.stderr };
      await new Promise((res) => setTimeout(res, 1000));
    }
  } finally {
    se.cleanup();
  }
}
const check = (doc: CheckReport, id: string): CheckResult | undefined => doc.checks.find((c) => c.id === id);
const is = (id: string, status: string) => (doc: CheckReport) => check(doc, id)?.status === status;

beforeAll(async () => {
  sim = await startKubeSim({
    scenario: {
      images: {
        'fail/crash': { state: 'crash', exitCode: 1, logs: CRASH_LOG },
        'fail/pull': { state: 'pull-error' },
        'fail/never': { state: 'never-ready' },
        'fail/oom': { state: 'oom' },
      },
      storageClasses: ['standard'],
      readyAfterMs: 200,
    },
  });
});
afterAll(async () => {
  await sim?.stop();
});

describe('doctor without a cluster', () => {
  it('--json still prints the checks document (every check skipped, with the reason) and exits 3', async () => {
    const se = scriptEnv({});
    const r = await runScript('doctor', ['--json'], se).finally(() => se.cleanup());
    expect(r.code).toBe(3);
    const doc = JSON.parse(r.stdout) as CheckReport & { error: { message: string; exitCode: number } };
    expect(doc.ok).toBe(false);
    expect(doc.checks.map((c) => c.id)).toEqual(DOCTOR_CHECKS.map((c) => c.id));
    expect(
      doc.checks.every((c) => c.status === 'skip' && c.detail?.startsWith('not checked: cannot reach')),
    ).toBe(true);
    expect(doc.error).toMatchObject({
      exitCode: 3,
      message: expect.stringMatching(/^cannot reach the cluster/),
    });
  });
});

describe('doctor and validate on the simulated cluster', () => {
  it('doctor: release not installed → release.status fails with npm run deploy', async () => {
    const r = await until('doctor', ['-n', 'empty'], () => true);
    expect(check(r.doc, 'release.status')).toMatchObject({
      status: 'fail',
      hint: 'deploy it: npm run deploy -- -n empty',
    });
    // the other checks had nothing to look at: skipped, not "10 passed"
    const others = (r.doc?.checks ?? []).filter((c) => c.id !== 'release.status');
    expect(others.length).toBeGreaterThan(5);
    expect(others.filter((c) => c.status !== 'skip')).toEqual([]);
    expect(r.code).toBe(1);
  });

  it('doctor: a crash shows its previous logs and the reset hint; a pull error is pods.image', async () => {
    await install(
      'broken',
      'api:\n  image:\n    repository: fail/crash\nweb:\n  image:\n    repository: fail/pull\n',
    );
    const r = await until(
      'doctor',
      ['-n', 'broken'],
      // db.auth too: the crash hint depends on it, and the databases may still be starting
      (d) => is('pods.crashloop', 'fail')(d) && is('pods.image', 'fail')(d) && is('db.auth', 'pass')(d),
    );
    const crash = check(r.doc, 'pods.crashloop');
    expect(crash?.detail).toMatch(/^pod\/taskflow-api-\S+ container taskflow-api: CrashLoopBackOff/);
    expect(crash?.detail).toContain(`    | ${CRASH_LOG}`);
    // The simulated crash logs a rejected password, but the database accepts its Secret's (db.auth
    // passes): the hint must not send the user to reset it.
    expect(check(r.doc, 'db.auth')?.status).toBe('pass');
    expect(crash?.hint).toBe(
      'the api database accepts the password in its Secret (login checked), so this pod started with an older one: kubectl rollout restart deployment/taskflow-api -n broken',
    );
    expect(check(r.doc, 'pods.image')?.detail).toMatch(
      /container web-dashboard: (ErrImagePull|ImagePullBackOff)/,
    );
    expect(r.code).toBe(1);
    for (const s of Object.values(PW)) expect(r.output).not.toContain(s);
  });

  it('a missing storage class: validate fails cluster.storageclass, doctor pods.pending', async () => {
    await install('nostorage', 'global:\n  storageClass: fast\n');
    const v = await until('preflight', ['-n', 'nostorage'], () => true, {
      envFile: `${ENV(PW.sso)}TASKFLOW_STORAGE_CLASS=fast\n`,
    });
    expect(check(v.doc, 'cluster.reachable')?.status).toBe('pass');
    expect(check(v.doc, 'cluster.storageclass')).toMatchObject({
      status: 'fail',
      detail: expect.stringContaining('storage class "fast" (TASKFLOW_STORAGE_CLASS) does not exist'),
    });
    const d = await until('doctor', ['-n', 'nostorage'], is('pods.pending', 'fail'));
    expect(check(d.doc, 'pods.pending')?.detail).toContain(
      'pvc/data-sso-postgres-0 is Pending (storage class "fast")',
    );
  });

  it('password drift: validate db.password-drift, then doctor db.auth, fail with the reset hint', async () => {
    await install('drift');
    const healthy = await until('doctor', ['-n', 'drift'], (d) => d.ok && is('db.auth', 'pass')(d), {
      timeoutMs: 90_000,
    });
    expect(healthy.doc.ok).toBe(true);
    expect(healthy.code).toBe(0);

    const fe = scriptEnv({ kubeconfig: sim.kubeconfigPath, envFile: ENV(PW.sso) });
    const flow = await runScript('env-flow', ['-n', 'drift', 'POSTGRES_SSO_PASSWORD', '--json'], fe).finally(
      () => fe.cleanup(),
    );
    const links =
      (
        JSON.parse(flow.stdout) as {
          live: boolean;
          settings: { links: { target: string; live: string }[] }[];
        }
      ).settings[0]?.links ?? [];
    expect(links.find((l) => l.target.startsWith('StatefulSet sso-postgres'))?.live).toBe('same');

    const v = await until('preflight', ['-n', 'drift'], () => true, { envFile: ENV(PW.other) });
    expect(check(v.doc, 'db.password-drift')).toMatchObject({
      status: 'fail',
      hint: expect.stringContaining('npm run reset-db-password -- sso'),
    });
    for (const s of Object.values(PW)) expect(v.output).not.toContain(s);

    const patched = await sim.kubectl(['-n', 'drift', 'apply', '-f', '-'], {
      input: JSON.stringify({
        apiVersion: 'v1',
        kind: 'Secret',
        metadata: { name: 'sso-postgres' },
        stringData: { password: PW.other },
      }),
    });
    expect(patched.code).toBe(0);
    const d = await until('doctor', ['-n', 'drift'], is('db.auth', 'fail'));
    expect(check(d.doc, 'db.auth')).toMatchObject({
      status: 'fail',
      hint: 'make them agree: npm run reset-db-password -- sso',
    });
    expect(check(d.doc, 'db.auth')?.detail).toContain(
      'sso: sso-postgres-0 rejects the password in Secret sso-postgres key password',
    );

    // env-flow with the new password: the live Secret holds it, the running database pod started with
    // the old one (stale), and the SSO's DATABASE_URL Secret still carries the old one (differs).
    const fe2 = scriptEnv({ kubeconfig: sim.kubeconfigPath, envFile: ENV(PW.other) });
    const flow2 = await runScript(
      'env-flow',
      ['-n', 'drift', 'POSTGRES_SSO_PASSWORD', '--json'],
      fe2,
    ).finally(() => fe2.cleanup());
    const live2 = new Map(
      (
        JSON.parse(flow2.stdout) as { settings: { links: { target: string; live: string }[] }[] }
      ).settings[0]?.links.map((l) => [l.target, l.live]) ?? [],
    );
    expect(live2.get('StatefulSet sso-postgres container postgres env POSTGRES_PASSWORD')).toBe('stale');
    expect(live2.get('Deployment sso-platform container sso-platform env DATABASE_URL')).toBe('differs');
    for (const s of Object.values(PW)) expect(flow2.stdout + flow2.stderr).not.toContain(s);

    // With the original password: the database pod still runs with it, its Secret holds another one.
    const fe3 = scriptEnv({ kubeconfig: sim.kubeconfigPath, envFile: ENV(PW.sso) });
    const flow3 = await runScript('env-flow', ['-n', 'drift', 'POSTGRES_SSO_PASSWORD'], fe3).finally(() =>
      fe3.cleanup(),
    );
    expect(flow3.stdout).toMatch(
      /StatefulSet sso-postgres container postgres env POSTGRES_PASSWORD\s+same in the pod, but its Secret now holds another password/,
    );
    expect(flow3.stdout).toMatch(/Deployment sso-platform container sso-platform env DATABASE_URL\s+same\b/);
    for (const s of Object.values(PW)) expect(flow3.stdout + flow3.stderr).not.toContain(s);
    for (const s of Object.values(PW)) expect(d.output).not.toContain(s);
  });

  it('doctor: a pod that never gets ready is pods.not-ready; a failed migration run is jobs.failed', async () => {
    await install(
      'stalled',
      'web:\n  image:\n    repository: fail/never\nsso:\n  migrations:\n    image:\n      repository: fail/crash\n',
    );
    const se = scriptEnv({ kubeconfig: sim.kubeconfigPath, envFile: ENV(PW.sso) });
    const migrate = await runScript(
      'run-migrations',
      ['sso', '-n', 'stalled', '--timeout', '60s'],
      se,
    ).finally(() => se.cleanup());
    expect(migrate.code).toBe(1);
    const r = await until(
      'doctor',
      ['-n', 'stalled'],
      (d) =>
        is('pods.not-ready', 'fail')(d) &&
        is('jobs.failed', 'fail')(d) &&
        is('pods.init', 'fail')(d) &&
        is('db.auth', 'pass')(d),
    );
    // The SSO pod runs the same crashing migrations image as its init container.
    expect(check(r.doc, 'pods.init')?.detail).toMatch(
      // Caught between two restarts it has just exited; otherwise it waits in CrashLoopBackOff.
      /^pod\/sso-platform-\S+ init container migrate: (CrashLoopBackOff|Error): .*\n {2}logs( \(previous instance\))?:\n/,
    );
    expect(check(r.doc, 'pods.not-ready')?.detail).toMatch(
      /^pod\/web-dashboard-\S+ container web-dashboard: NotReady: running for \d+s but not ready \(\d+ failed readiness probes\)/,
    );
    expect(check(r.doc, 'jobs.failed')).toMatchObject({
      detail: expect.stringMatching(/^job\/sso-migrate-manual-\S+ container \S+: /),
      // The simulated crash logs "password authentication failed for user taskflow_user" while db.auth
      // passes: rerun the migration rather than reset a database that accepts its password.
      hint: 'the api database accepts the password in its Secret (login checked), so this pod started with an older one: run it again: npm run migrate -- sso',
    });
    expect(check(r.doc, 'jobs.failed')?.detail).toContain(`    | ${CRASH_LOG}`);
    expect(check(r.doc, 'pods.crashloop')?.status).toBe('pass');
    expect(r.code).toBe(1);
    for (const s of Object.values(PW)) expect(r.output).not.toContain(s);
  });

  it('doctor: a missing Secret is pods.config naming it; an OOM-killed container is pods.oom', async () => {
    await install('config', 'sso:\n  existingSecret: my-auth\nmcp:\n  image:\n    repository: fail/oom\n');
    const r = await until(
      'doctor',
      ['-n', 'config'],
      (d) => is('pods.config', 'fail')(d) && is('pods.oom', 'fail')(d),
    );
    expect(check(r.doc, 'pods.config')).toMatchObject({
      detail: expect.stringMatching(
        /^pod\/sso-platform-\S+ (init )?container \S+: CreateContainerConfigError: .*my-auth/,
      ),
      hint: expect.stringMatching(/^Secret my-auth does not exist: /),
    });
    expect(check(r.doc, 'pods.oom')).toMatchObject({
      detail: expect.stringMatching(/^pod\/mcp-server-\S+ container mcp-server: OOMKilled/),
      hint: expect.stringContaining('mcp.resources.limits.memory'),
    });
    expect(r.code).toBe(1);
  });
});
