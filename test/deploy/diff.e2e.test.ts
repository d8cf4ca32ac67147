import { writeFileSync } from 'node:fs';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startKubeSim } from '../kube-sim/index.ts';
import { repoRoot } from '../support/tools.ts';
import { type DeployEnv, type RecordedCall, deployEnv, doc, envValues } from './e2e-support.ts';

type Sim = Awaited<ReturnType<typeof startKubeSim>>;

/** The document of `deploy --diff --json`. */
interface DiffDoc {
  ok: boolean;
  changed: boolean;
  revision: number | null;
  objects: { kind: string; name: string; change: string; fields?: string[]; keys?: { key: string }[] }[];
  rolls: { kind: string; name: string; reasons: string[] }[];
  warnings: unknown[];
}

const NS = 'tf-diff';
const SECRET_KEYS = ['POSTGRES_SSO_PASSWORD', 'POSTGRES_API_PASSWORD', 'BETTER_AUTH_SECRET'];

describe('deploy --diff and the deploy with nothing to change (helm 4, simulated cluster)', () => {
  let sim: Sim;
  let se: DeployEnv;
  beforeAll(async () => {
    sim = await startKubeSim({ scenario: { readyAfterMs: 200 } });
    se = deployEnv({ kubeconfig: sim.kubeconfigPath, envFile: `TASKFLOW_NAMESPACE=${NS}\n` });
  });
  afterAll(async () => {
    se?.cleanup();
    await sim?.stop();
  });

  const revisions = () =>
    (
      JSON.parse(se.kubectl(['get', 'secrets', '-n', NS, '-l', 'owner=helm', '-o', 'json']).stdout) as {
        items: unknown[];
      }
    ).items.length;
  /** helm upgrades that are not dry runs */
  const upgrades = () =>
    se
      .calls()
      .filter((c) => c.tool === 'helm' && c.args[0] === 'upgrade' && !c.args.includes('--dry-run=server'))
      .length;
  const podUids = () =>
    (
      JSON.parse(se.kubectl(['get', 'pods', '-n', NS, '-o', 'json']).stdout) as {
        items: { metadata: { uid: string } }[];
      }
    ).items
      .map((p) => p.metadata.uid)
      .sort();
  const diffDoc = (stdout: string) => JSON.parse(stdout) as DiffDoc;
  const dryRuns = (calls: RecordedCall[]) =>
    calls.filter((c) => c.tool === 'helm' && c.args.includes('--dry-run=server')).length;
  const storedValues = () => {
    const r = se.helm(['get', 'values', 'taskflow', '-n', NS, '-o', 'json']);
    expect(r.code, r.stderr).toBe(0);
    return JSON.parse(r.stdout) as { deployInputs?: unknown; web?: { replicaCount?: number } };
  };
  const chart = path.join(repoRoot, 'charts', 'taskflow');

  it('before the first deploy: everything would be added (exit 1); nothing installed, the env file untouched', async () => {
    const r = await se.deploy(['--diff', '--json']);
    expect(r.code, r.stderr).toBe(1);
    const d = diffDoc(r.stdout);
    expect(d).toMatchObject({ ok: true, changed: true, revision: null, rolls: [] });
    expect(d.objects.every((o) => o.change === 'added')).toBe(true);
    expect(d.objects).toContainEqual(expect.objectContaining({ kind: 'StatefulSet', name: 'sso-postgres' }));
    // a Secret by its key names only
    expect(d.objects.find((o) => o.kind === 'Secret' && o.name === 'sso-postgres')?.keys).toEqual([
      { key: 'password', change: 'added' },
    ]);
    expect(upgrades()).toBe(0);
    expect(se.envFile()).toBe(`TASKFLOW_NAMESPACE=${NS}\n`);
    expect(se.kubectl(['get', 'namespace', NS]).code).not.toBe(0);
  });

  it('after a deploy, --diff finds no change (exit 0), and a second deploy keeps the revision and the pods', async () => {
    const first = await se.deploy(['--json']);
    expect(first.code, first.stderr).toBe(0);
    expect(doc(first)).toMatchObject({ ok: true, revision: 1, upgraded: true });
    expect(revisions()).toBe(1);

    const text = await se.deploy(['--diff']);
    expect(text.code, text.stderr).toBe(0);
    expect(text.stdout).toContain('no change: release taskflow (revision 1) in namespace tf-diff');
    const json = await se.deploy(['--diff', '--json']);
    expect(json.code, json.stderr).toBe(0);
    expect(diffDoc(json.stdout)).toMatchObject({
      ok: true,
      changed: false,
      revision: 1,
      objects: [],
      rolls: [],
    });

    const pods = podUids();
    const before = upgrades();
    const callsBefore = se.calls().length;
    const again = await se.deploy(['--json']);
    expect(again.code, again.stderr).toBe(0);
    const d = doc(again);
    expect(d).toMatchObject({ ok: true, revision: 1, upgraded: false, failures: [] });
    expect(d.services.map((s) => [s.name, s.ready])).toEqual([
      ['web-dashboard', true],
      ['sso-platform', true],
      ['taskflow-api', true],
      ['mcp-server', true],
    ]);
    // The first deploy recorded its inputs in revision 1: the same inputs need no render to compare.
    expect(again.stderr).toContain(
      'release taskflow revision 1 was deployed with the same chart, values and files: no upgrade; checking it',
    );
    expect(dryRuns(se.calls().slice(callsBefore))).toBe(0);
    expect(storedValues().deployInputs).toEqual({
      digest: expect.stringMatching(/^[0-9a-f]{64}$/),
      revision: 1,
    });
    // the checks still ran: the rollout read and the health endpoints
    expect(upgrades()).toBe(before);
    expect(revisions()).toBe(1);
    expect(podUids()).toEqual(pods);
  });

  it('a changed setting: --diff names the ConfigMaps and the workloads that roll (exit 1), changes nothing; deploy then upgrades', async () => {
    const env = se.envFile();
    const secrets = SECRET_KEYS.map((k) => envValues(env)[k] ?? '');
    expect(secrets.every((s) => s.length >= 16)).toBe(true);
    writeFileSync(
      path.join(se.cwd, '.env'),
      `${env}ALLOWED_ORIGINS=http://localhost:3000,http://localhost:3001,http://localhost:4000\n`,
    );
    const text = await se.deploy(['--diff']);
    expect(text.code, text.stderr).toBe(1);
    expect(text.stdout).toContain('~ ConfigMap sso-platform: data.ALLOWED_ORIGINS');
    expect(text.stdout).toMatch(
      /Will roll[^\n]*\n {2}Deployment sso-platform\n {4}- annotation checksum\/config changed \(ConfigMap sso-platform changed\)/,
    );

    const json = await se.deploy(['--diff', '--json']);
    expect(json.code, json.stderr).toBe(1);
    const d = diffDoc(json.stdout);
    expect(d).toMatchObject({ ok: true, changed: true, revision: 1, warnings: [] });
    expect(d.objects).toContainEqual({
      kind: 'ConfigMap',
      name: 'sso-platform',
      change: 'changed',
      fields: ['data.ALLOWED_ORIGINS'],
    });
    expect(d.rolls).toContainEqual({
      kind: 'Deployment',
      name: 'sso-platform',
      reasons: ['annotation checksum/config changed (ConfigMap sso-platform changed)'],
    });
    expect(d.objects.some((o) => o.kind === 'Secret')).toBe(false);
    expect(revisions()).toBe(1);
    for (const s of secrets) expect(se.argvText() + text.stdout + text.stderr + json.stdout).not.toContain(s);

    // Without a terminal (CI) the deploy does not ask: it prints the changes and upgrades.
    const deploy = await se.deploy(['--json']);
    expect(deploy.code, deploy.stderr).toBe(0);
    expect(doc(deploy)).toMatchObject({ ok: true, revision: 2, upgraded: true });
    expect(deploy.stderr).toContain('~ ConfigMap sso-platform: data.ALLOWED_ORIGINS');
    expect((await se.deploy(['--diff'])).code).toBe(0);
  });

  it('an upgrade from outside deploy: the next deploy compares by rendering, puts the release back, and records it again', async () => {
    // revision 2 was made by deploy (the test before); a hand upgrade carries its record to revision 3
    const hand = se.helm([
      'upgrade',
      'taskflow',
      chart,
      '-n',
      NS,
      '--reuse-values',
      '--set',
      'web.replicaCount=2',
    ]);
    expect(hand.code, hand.stderr).toBe(0);
    expect(storedValues()).toMatchObject({ web: { replicaCount: 2 }, deployInputs: { revision: 2 } });

    let before = se.calls().length;
    const back = await se.deploy(['--json']);
    expect(back.code, back.stderr).toBe(0);
    expect(doc(back)).toMatchObject({ ok: true, revision: 4, upgraded: true });
    expect(back.stderr).toContain('~ Deployment web-dashboard: spec.replicas');
    expect(dryRuns(se.calls().slice(before))).toBe(1);
    expect(storedValues()).toMatchObject({ deployInputs: { revision: 4 } });
    expect(storedValues().web?.replicaCount).toBeUndefined();

    // An outside upgrade that changes nothing: compared by rendering, nothing to apply, no new revision.
    expect(se.helm(['upgrade', 'taskflow', chart, '-n', NS, '--reuse-values']).code).toBe(0);
    before = se.calls().length;
    const same = await se.deploy(['--json']);
    expect(same.code, same.stderr).toBe(0);
    expect(doc(same)).toMatchObject({ ok: true, revision: 5, upgraded: false });
    expect(same.stderr).toContain(
      'release taskflow revision 5 already has what this deploy would apply: no upgrade; checking it',
    );
    expect(dryRuns(se.calls().slice(before))).toBe(1);
    expect(revisions()).toBe(5);
  });

  it('a workload deleted by hand: a deploy with nothing else to change upgrades to create it again', async () => {
    // Revision 5 came from outside (the test before): compared by rendering, then the missing workload.
    for (const [made, revision] of [
      ['rendering', 6],
      ['same inputs', 7],
    ] as const) {
      const del = se.kubectl(['delete', 'deployment', 'mcp-server', '-n', NS, '--wait=false']);
      expect(del.code, del.stderr).toBe(0);
      const r = await se.deploy(['--json']);
      expect(r.code, `${made}: ${r.stderr}`).toBe(0);
      expect(r.stderr).toContain(
        `Deployment mcp-server of revision ${revision - 1} is missing from the cluster: upgrading to create it again`,
      );
      expect(doc(r)).toMatchObject({ ok: true, revision, upgraded: true });
      expect(doc(r).services.find((x) => x.name === 'mcp-server')).toMatchObject({ ready: true });
      expect(se.kubectl(['get', 'deployment', 'mcp-server', '-n', NS]).code).toBe(0);
    }
    // and with it back, the next deploy is a no-op again
    const again = await se.deploy(['--json']);
    expect(again.code, again.stderr).toBe(0);
    expect(doc(again)).toMatchObject({ ok: true, revision: 7, upgraded: false });
  });
});
