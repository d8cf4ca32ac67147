import { createHash } from 'node:crypto';
import { readFileSync, readdirSync, statSync } from 'node:fs';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startKubeSim } from '../kube-sim/index.ts';
import { runNpm } from '../support/e2e.ts';
import { deployEnv, doc, envValues, type DeployEnv } from './e2e-support.ts';

type Sim = Awaited<ReturnType<typeof startKubeSim>>;

describe('deploy without a cluster', () => {
  const envs: DeployEnv[] = [];
  afterAll(() => envs.forEach((e) => e.cleanup()));
  const env = (envFile: string, extra: NodeJS.ProcessEnv = {}) => {
    const se = deployEnv({ envFile, env: extra });
    envs.push(se);
    return se;
  };

  it('bad settings exit 2, a missing tool exits 3, an unreachable cluster exits 3', async () => {
    const bad = await env('TASKFLOW_NAMESPACE=Not_A_Name\nSMTP_PORT=abc\n').deploy(['--json']);
    expect(bad.code).toBe(2);
    expect(doc(bad).failures[0]?.detail).toMatch(/TASKFLOW_NAMESPACE[\s\S]*SMTP_PORT/);
    const noHelm = await env('', { HELM: '/nonexistent/helm' }).deploy(['--json']);
    expect(noHelm.code).toBe(3);
    expect(doc(noHelm).failures[0]).toMatchObject({ id: 'tools.helm' });
    const down = await env('').deploy(['--json']);
    expect(down.code).toBe(3);
    expect(doc(down).failures[0]).toMatchObject({
      id: 'cluster.reachable',
      detail: expect.stringMatching(/minikube start/),
    });
  });

  it('runs validate’s settings checks first: a password with @ stops it with exit 2 and the key named', async () => {
    const se = env('POSTGRES_SSO_PASSWORD=abc@def0123456789xyz\nSMTP_PASSWORD=x\n');
    const r = await se.deploy(['--json']);
    expect(r.code, r.stderr).toBe(2);
    expect(doc(r).failures[0]).toMatchObject({
      id: 'password.charset',
      reason: 'InvalidSettings',
      detail: expect.stringMatching(/POSTGRES_SSO_PASSWORD \(.*\.env:1\) contains @/),
    });
    expect(r.stderr).toContain('! Unknown keys: SMTP_PASSWORD (');
    expect(r.stderr).toContain('did you mean SMTP_PASS?');
    expect(r.stdout + r.stderr).not.toContain('abc@def0123456789xyz');
    // before touching anything: no tool ran, not even in dry-run
    expect(se.calls()).toEqual([]);
    expect((await se.deploy(['--dry-run'])).code).toBe(2);
    expect(se.calls()).toEqual([]);
  });

  it('`npm run deploy --dry-run` (npm keeps the flag) refuses instead of deploying for real', async () => {
    const se = env('');
    const r = await runNpm(['run', 'deploy', '--dry-run'], se);
    expect(r.code, r.stderr).toBe(2);
    expect(r.stdout).toContain('npm kept --dry-run for itself');
    expect(r.stdout).toContain('hint: run: npm run deploy -- --dry-run');
    expect(se.calls()).toEqual([]);
    expect(se.envFile()).toBe('');
  });

  it('--dry-run renders and validates with no cluster, secrets masked, nothing written', async () => {
    const se = env('POSTGRES_SSO_PASSWORD=0123456789abcdef0123456789abcdef\n');
    const r = await se.deploy(['--dry-run']);
    expect(r.code, r.stderr).toBe(0);
    expect(r.stdout).toMatch(/helm upgrade taskflow|upgrade taskflow/);
    expect(r.stdout).toMatch(/StatefulSet: api-postgres, sso-postgres/);
    expect(r.stdout).toMatch(/chart renders and every object is valid/);
    expect(r.stdout).not.toContain('0123456789abcdef0123456789abcdef');
    expect(se.envFile()).toBe('POSTGRES_SSO_PASSWORD=0123456789abcdef0123456789abcdef\n');
    // helm only; kubectl at most reads the kubeconfig to say which context a real deploy would act on
    expect(se.calls().every((c) => c.tool === 'helm' || c.args.slice(0, 2).join(' ') === 'config view')).toBe(
      true,
    );
  });
});

describe('deploy with helm 3, and --fresh', () => {
  let sim: Sim;
  let se: DeployEnv;
  beforeAll(async () => {
    sim = await startKubeSim({ scenario: { readyAfterMs: 200 } });
    se = deployEnv({ kubeconfig: sim.kubeconfigPath, toolset: 'v33', envFile: 'TASKFLOW_NAMESPACE=tf-h3\n' });
  });
  afterAll(async () => {
    se?.cleanup();
    await sim?.stop();
  });

  it('installs with helm 3 and kubectl 1.33, with add-ons asked for (--pgadmin, --addon); a plain redeploy keeps them', async () => {
    const r = await se.deploy(['--json', '--pgadmin', '--addon', 'adminer']);
    expect(r.code, r.stderr).toBe(0);
    const d = doc(r);
    expect(d).toMatchObject({ ok: true, namespace: 'tf-h3', revision: 1 });
    expect(d.services.filter((s) => ['pgadmin', 'adminer'].includes(s.name))).toEqual([
      { name: 'pgadmin', ready: true, url: 'http://localhost:5050' },
      { name: 'adminer', ready: true, url: 'http://localhost:8081' },
    ]);
    const again = await se.deploy(['--json']);
    expect(again.code, again.stderr).toBe(0);
    expect(doc(again).services.map((s) => s.name)).toEqual(expect.arrayContaining(['pgadmin', 'adminer']));
    // helm 3 reads the release the same way: the same inputs, no render, no new revision
    expect(doc(again)).toMatchObject({ revision: 1, upgraded: false });
    expect(again.stderr).toContain(
      'revision 1 was deployed with the same chart, values and files: no upgrade',
    );
    const unknown = await se.deploy(['--json', '--addon', 'adminr']);
    expect(unknown.code).toBe(2);
    expect(unknown.stderr + unknown.stdout).toContain(
      '--addon: unknown add-on "adminr" (did you mean adminer?)',
    );
  });

  it('--fresh without --yes and without a terminal refuses; with --yes it backs up, wipes and redeploys', async () => {
    const refused = await se.deploy(['--fresh', '--json']);
    expect(refused.code).toBe(2);
    expect(refused.stderr).toMatch(/add --yes/);
    const before = envValues(se.envFile());
    const r = await se.deploy(['--fresh', '--yes', '--json']);
    expect(r.code, r.stderr).toBe(0);
    expect(doc(r)).toMatchObject({ ok: true, revision: 1 });
    // The backups of `npm run db -- backup`: custom-format dumps, each with its metadata, nothing else.
    const backups = readdirSync(path.join(se.cwd, 'backups'));
    expect(backups.sort()).toEqual([
      expect.stringMatching(/^taskflow-api-.*\.dump$/),
      expect.stringMatching(/^taskflow-api-.*\.dump\.json$/),
      expect.stringMatching(/^taskflow-sso-.*\.dump$/),
      expect.stringMatching(/^taskflow-sso-.*\.dump\.json$/),
    ]);
    for (const b of backups) {
      const file = path.join(se.cwd, 'backups', b);
      expect(statSync(file).mode & 0o777).toBe(0o600);
      if (!b.endsWith('.dump')) continue;
      const dump = readFileSync(file);
      expect(dump.subarray(0, 5).toString()).toBe('PGDMP');
      const meta = JSON.parse(readFileSync(`${file}.json`, 'utf8')) as Record<string, unknown>;
      expect(meta).toMatchObject({
        release: 'taskflow',
        namespace: 'tf-h3',
        database: b.startsWith('taskflow-api-') ? 'api' : 'sso',
        file: b,
        format: 'custom',
        bytes: dump.length,
        sha256: createHash('sha256').update(dump).digest('hex'),
      });
    }
    expect(r.stderr).toMatch(/backed up to backups\/taskflow-api-.*\.dump/);
    // The env file's passwords initialised the new databases: still the same values.
    expect(envValues(se.envFile())).toEqual(before);
  });
});
