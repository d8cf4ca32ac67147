// The project's own chart on the simulated cluster: `helm upgrade --install --wait` with helm 4
// and helm 3 brings everything to Ready, and the databases are real PostgreSQL servers (one per
// volume) reached through exec and port-forward, keeping their first password like the image.
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { ToolsetName } from '../support/tools.ts';
import { startKubeSim, type KubeSim } from './index.ts';
import { json, startKubectl, waitFor } from './test-helpers.ts';

const CHART = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..', '..', 'charts', 'taskflow');

interface Item {
  kind: string;
  metadata: { name: string };
  status?: { phase?: string; conditions?: { type: string; status: string }[]; readyReplicas?: number };
  spec?: { replicas?: number };
}

let sim: KubeSim;
beforeAll(async () => {
  sim = await startKubeSim({ scenario: { readyAfterMs: 150 } });
});
afterAll(async () => {
  await sim?.stop();
});

async function login(port: number, password: string): Promise<string> {
  const client = new pg.Client({
    host: '127.0.0.1',
    port,
    user: 'taskflow_user',
    password,
    database: 'taskflow_db',
  });
  await client.connect();
  try {
    return String((await client.query<{ u: string }>('select current_user as u')).rows[0]?.u);
  } finally {
    await client.end();
  }
}

describe.each<ToolsetName>(['v35', 'v33'])('charts/taskflow with helm from %s', (ts) => {
  const ns = `tf-${ts}`;
  const k = (args: string[]) => sim.kubectl(args, { toolset: ts });
  const helm = (args: string[]) => sim.helm(args, { toolset: ts });

  it('installs with --wait and everything becomes Ready', async () => {
    const r = await helm([
      'upgrade',
      '--install',
      'taskflow',
      CHART,
      '-n',
      ns,
      '--create-namespace',
      '--wait',
      '--timeout',
      '120s',
      '--set',
      'api.database.password=0123456789abcdef0123',
    ]);
    expect(r.code, r.stderr).toBe(0);
    expect(r.stdout).toContain('STATUS: deployed');
    const all = json<{ items: Item[] }>(
      await k(['get', 'deploy,sts,pods,pvc', '-n', ns, '-o', 'json']),
    ).items;
    const names = (kind: string) =>
      all
        .filter((i) => i.kind === kind)
        .map((i) => i.metadata.name)
        .sort();
    expect(names('Deployment')).toEqual(['mcp-server', 'sso-platform', 'taskflow-api', 'web-dashboard']);
    expect(names('StatefulSet')).toEqual(['api-postgres', 'sso-postgres']);
    for (const w of all.filter((i) => i.kind === 'Deployment' || i.kind === 'StatefulSet')) {
      expect(w.status?.readyReplicas, w.metadata.name).toBe(w.spec?.replicas ?? 1);
    }
    for (const p of all.filter((i) => i.kind === 'Pod')) {
      expect(p.status?.conditions?.find((c) => c.type === 'Ready')?.status, p.metadata.name).toBe('True');
    }
    expect(all.filter((i) => i.kind === 'PersistentVolumeClaim').map((c) => c.status?.phase)).toEqual([
      'Bound',
      'Bound',
    ]);
  });

  it('serves the databases: psql in the pod over the socket, password login through port-forward', async () => {
    const who = await k([
      'exec',
      'api-postgres-0',
      '-n',
      ns,
      '--',
      'psql',
      '-U',
      'taskflow_user',
      '-d',
      'taskflow_db',
      '-tAc',
      'select current_user',
    ]);
    expect(who.stdout, who.stderr).toBe('taskflow_user\n');
    const pf = startKubectl(sim, ['port-forward', '-n', ns, 'svc/api-postgres', ':5432'], ts);
    try {
      const port = Number(
        (await waitFor(() => /127\.0\.0\.1:(\d+)/.exec(pf.out()), 10_000, 'port-forward'))[1],
      );
      expect(await login(port, '0123456789abcdef0123')).toBe('taskflow_user');
      await expect(login(port, 'wrong-password-000')).rejects.toThrow(
        /password authentication failed for user "taskflow_user"/,
      );
    } finally {
      await pf.stop();
    }
  });
});

describe('the database keeps its first password while its volume lives', () => {
  const ns = 'tf-v35';
  it('a reinstall with another password leaves the database on the old one', async () => {
    expect((await sim.helm(['uninstall', 'taskflow', '-n', ns, '--wait'])).code).toBe(0);
    await waitFor(
      async () => (await sim.kubectl(['get', 'pods', '-n', ns, '-o', 'name'])).stdout === '',
      20_000,
      'pods gone',
    );
    expect(
      (await sim.kubectl(['get', 'pvc', 'data-api-postgres-0', '-n', ns, '-o', 'name'])).stdout,
    ).toContain('data-api-postgres-0');
    const r = await sim.helm([
      'upgrade',
      '--install',
      'taskflow',
      CHART,
      '-n',
      ns,
      '--wait',
      '--timeout',
      '120s',
      '--set',
      'api.database.password=ffffffffffffffffffff',
    ]);
    expect(r.code, r.stderr).toBe(0);
    const pf = startKubectl(sim, ['port-forward', '-n', ns, 'pod/api-postgres-0', ':5432']);
    try {
      const port = Number(
        (await waitFor(() => /127\.0\.0\.1:(\d+)/.exec(pf.out()), 10_000, 'port-forward'))[1],
      );
      await expect(login(port, 'ffffffffffffffffffff')).rejects.toThrow(/password authentication failed/);
      expect(await login(port, '0123456789abcdef0123')).toBe('taskflow_user');
    } finally {
      await pf.stop();
    }
  });
});
