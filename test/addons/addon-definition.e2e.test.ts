// A user's own add-on, as a user adds one: a YAML file in addons/ and the commands, no TypeScript. On the
// simulated cluster: turned on (forwarded in the background), found by port-forward, updated after an
// edit, listed, and removed with its volume claim kept.
import { existsSync, mkdirSync, readFileSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startKubeSim } from '../kube-sim/index.ts';
import { freePort } from '../support/embedded-pg.ts';
import { type ScriptEnv, scriptEnv } from '../support/e2e.ts';
import { alive, httpStatus, installRelease, kubectlOut, run } from '../port-forward/e2e-helpers.ts';

const NS = 'tf-addon-def';

/** The definition of the closing note: every kind of setting a plain add-on has. */
export const WHOAMI = `# Echoes every request it gets: a stand-in for any small HTTP tool. One file, no code.
title: Whoami
description: Echoes each request (headers, body); handy to see what the platform sends.
image: traefik/whoami:v1.10.1
ports:
  - name: http
    port: 8080
    forward: 8090
env:
  - { name: WHOAMI_PORT_NUMBER, value: '8080' }
  - { name: API_URL, fact: api.url }
  - { name: API_DB_HOST, fact: api.database.host }
  - { name: AUTH_URL, configMap: { name: sso-platform, key: BETTER_AUTH_URL } }
  - { name: API_DB_PASSWORD, secret: { name: api-postgres, key: password } }
files:
  - { path: /etc/whoami/motd.txt, content: "hello from the release\\n" }
volumes:
  - { name: data, path: /data, size: 64Mi, persistent: true }
databases: [api]
readiness: { path: /health, port: http }
login: |
  Whoami: {url.http}
    release {fact release} in namespace {fact namespace}
    API database password: {secret api-postgres password}
`;

interface EnvVar {
  name: string;
  value?: string;
  valueFrom?: Record<string, { name: string; key: string }>;
}
interface AddonDoc {
  ok: boolean;
  addon: string;
  action: string;
  revision: number | null;
  forward: { mode: string; pid?: number; forwards?: { name: string; url: string; state: string }[] };
  login: { url: string | null; urls: Record<string, string | null>; note: string[] };
}

describe('a user-defined add-on on the simulated cluster', () => {
  let sim: Awaited<ReturnType<typeof startKubeSim>>;
  let se: ScriptEnv;
  let file: string;
  const k = (...args: string[]) => kubectlOut(se, [...args, '-n', NS]);
  const json = <T>(text: string) => JSON.parse(text) as T;

  beforeAll(async () => {
    sim = await startKubeSim({ scenario: { readyAfterMs: 100 } });
    se = scriptEnv({ kubeconfig: sim.kubeconfigPath, envFile: `TASKFLOW_NAMESPACE=${NS}\n` });
    await installRelease(se, NS);
    mkdirSync(path.join(se.cwd, 'addons'));
    file = path.join(se.cwd, 'addons', 'whoami.yaml');
    writeFileSync(file, WHOAMI);
  });
  afterAll(async () => {
    if (se) await run('port-forward-all', ['--stop'], se);
    se?.cleanup();
    await sim?.stop();
  });

  it('on: one upgrade, its objects as the file says, forwarded in the background, the login note printed', async () => {
    const port = await freePort();
    const r = await run('addon', ['whoami', '--detach', '--port', String(port), '--json'], se);
    expect(r.code, r.stdout + r.stderr).toBe(0);
    const doc = json<AddonDoc>(r.stdout);
    expect(doc).toMatchObject({ ok: true, addon: 'whoami', action: 'enabled', revision: 2 });
    expect(doc.forward).toMatchObject({
      mode: 'background',
      forwards: [{ name: 'whoami', url: `http://localhost:${port}`, state: 'ready' }],
    });
    expect(await httpStatus(port)).toBe(200);
    expect(doc.login).toEqual({
      url: `http://localhost:${port}`,
      urls: { http: `http://localhost:${port}` },
      note: [
        `Whoami: http://localhost:${port}`,
        `  release taskflow in namespace ${NS}`,
        '  API database password: (--show-passwords)',
      ],
    });

    const d = json<{
      spec: { template: { spec: { containers: { env: EnvVar[]; image: string }[] } } };
    }>(await k('get', 'deployment', 'whoami', '-o', 'json'));
    const c = d.spec.template.spec.containers[0]!;
    expect(c.image).toBe('traefik/whoami:v1.10.1');
    expect(c.env).toEqual([
      { name: 'WHOAMI_PORT_NUMBER', value: '8080' },
      { name: 'API_URL', value: 'http://taskflow-api:8000' },
      { name: 'API_DB_HOST', value: 'api-postgres' },
      { name: 'AUTH_URL', valueFrom: { configMapKeyRef: { name: 'sso-platform', key: 'BETTER_AUTH_URL' } } },
      { name: 'API_DB_PASSWORD', valueFrom: { secretKeyRef: { name: 'api-postgres', key: 'password' } } },
    ]);
    expect(await k('get', 'pvc', 'whoami-data', '-o', 'name')).toBe('persistentvolumeclaim/whoami-data');
    const files = json<{ data: Record<string, string> }>(
      await k('get', 'configmap', 'whoami-files', '-o', 'json'),
    );
    expect(files.data).toEqual({ f0: 'hello from the release\n' });
    // The API database's NetworkPolicy admits it (databases: [api]); the SSO's does not.
    expect(await k('get', 'networkpolicy', 'api-postgres', '-o', 'json')).toContain('"whoami"');
    expect(await k('get', 'networkpolicy', 'sso-postgres', '-o', 'json')).not.toContain('"whoami"');

    // addon list gives its URL while the background forward serves it.
    const listed = await run('addon', ['list', '--json'], se);
    const row = json<{ addons: { name: string; ports: { name: string; local: number; url?: string }[] }[] }>(
      listed.stdout,
    ).addons.find((a) => a.name === 'whoami');
    expect(row?.ports).toEqual([{ name: 'http', local: 8090, url: `http://localhost:${port}` }]);

    const stopped = await run('port-forward-all', ['--stop', '--json'], se);
    expect(stopped.code, stopped.stderr).toBe(0);
    expect(alive(doc.forward.pid ?? 0)).toBe(false);
    const after = await run('addon', ['list', '--json'], se);
    expect(after.stdout).not.toContain(`http://localhost:${port}`);
  });

  it('port-forward includes it with the apps, at the local port its Service announces', async () => {
    const names = ['web', 'sso', 'api', 'mcp', 'whoami'];
    const ports = await Promise.all(names.map(() => freePort()));
    const mapping = names.map((n, i) => `${n}=${ports[i]}`).join(',');
    const r = await run('port-forward-all', ['--ports', mapping, '--detach', '--json'], se);
    expect(r.code, r.stdout + r.stderr).toBe(0);
    const doc = json<{ pid: number; forwards: { name: string; localPort: number; state: string }[] }>(
      r.stdout,
    );
    expect(doc.forwards.map((f) => [f.name, f.localPort, f.state])).toEqual(
      names.map((n, i) => [n, ports[i], 'ready']),
    );
    expect(await httpStatus(ports[4]!)).toBe(200);
    expect(await k('get', 'service', 'whoami', '-o', 'jsonpath={.metadata.annotations}')).toContain(
      '"taskflow.dev/forward":"http=8090"',
    );
    const stopped = await run('port-forward-all', ['--stop'], se);
    expect(stopped.code).toBe(0);
    expect(alive(doc.pid)).toBe(false);
  });

  it('again: nothing to do; after an edit of the file: one upgrade brings the release to it', async () => {
    const same = await run('addon', ['whoami', '--no-forward', '--json'], se);
    expect(json<AddonDoc>(same.stdout)).toMatchObject({ action: 'already-on', revision: null });

    writeFileSync(
      file,
      readFileSync(file, 'utf8').replace("value: '8080'", "value: '8080' }\n  - { name: GREETING, value: hi"),
    );
    const edited = await run('addon', ['whoami', '--no-forward', '--json'], se);
    expect(edited.code, edited.stdout + edited.stderr).toBe(0);
    expect(json<AddonDoc>(edited.stdout)).toMatchObject({ action: 'updated', revision: 3 });
    const env = json<{ spec: { template: { spec: { containers: { env: EnvVar[] }[] } } } }>(
      await k('get', 'deployment', 'whoami', '-o', 'json'),
    ).spec.template.spec.containers[0]!.env;
    expect(env).toContainEqual({ name: 'GREETING', value: 'hi' });

    const list = await run('addon', ['list', '--json'], se);
    const rows = json<{ addons: { name: string; source: string; on: boolean }[] }>(list.stdout).addons;
    expect(rows.find((a) => a.name === 'whoami')).toMatchObject({ source: 'addons/whoami.yaml', on: true });
  });

  it('a broken definition is refused at its line before anything is changed (exit 2)', async () => {
    const broken = path.join(se.cwd, 'addons', 'broken.yaml');
    writeFileSync(
      broken,
      'title: B\ndescription: b\nimage: a/b:latest\nports:\n  - { name: http, port: 80 }\n',
    );
    const r = await run('addon', ['broken', '--no-forward'], se);
    expect(r.code).toBe(2);
    expect(r.stdout).toContain(
      '✗ addons/broken.yaml:3:8: image a/b:latest is not pinned: latest changes under you',
    );
    const unknown = await run('addon', ['whoamii'], se);
    expect(unknown.code).toBe(2);
    expect(unknown.stdout).toContain('✗ unknown add-on "whoamii" (did you mean whoami?)');
  });

  it('--remove --delete-data backs the volume up first: when that fails, nothing is changed (exit 1)', async () => {
    // The simulated pods have no tar: the backup fails, as on a real image without one.
    const r = await run('addon', ['whoami', '--remove', '--delete-data', '--yes'], se);
    expect(r.code, r.stdout + r.stderr).toBe(1);
    expect(r.stdout).toContain("✗ backup of Whoami's volume data failed: ");
    expect(r.stdout).toContain('--no-backup');
    expect(await k('get', 'deployment', 'whoami', '-o', 'name')).toBe('deployment.apps/whoami');
    expect(await k('get', 'pvc', 'whoami-data', '-o', 'name')).toBe('persistentvolumeclaim/whoami-data');
    expect(existsSync(path.join(se.cwd, 'backups')) ? readdirSync(path.join(se.cwd, 'backups')) : []).toEqual(
      [],
    );
  });

  it('its file deleted while on: listed as "definition missing", kept by a deploy that says so, removable', async () => {
    const saved = readFileSync(file, 'utf8');
    rmSync(file);
    try {
      const list = await run('addon', ['list', '--json'], se);
      // Exit 1 only for the broken definition of the test before.
      const listed = json<{ addons: Record<string, unknown>[]; problems: { file: string }[] }>(list.stdout);
      expect(listed.problems.map((p) => p.file)).toEqual(['addons/broken.yaml']);
      const rows = listed.addons;
      expect(rows.find((a) => a.name === 'whoami')).toEqual({
        name: 'whoami',
        title: 'Whoami',
        source: 'definition missing',
        on: true,
        ports: [{ name: 'http', local: 8090 }],
        definitionMissing: true,
      });
      const table = await run('addon', ['list'], se);
      expect(table.stdout).toMatch(/^whoami +Whoami +definition missing +on +http :8090$/m);
      expect(table.stdout).toContain(
        'whoami: on in release taskflow, but no whoami.yaml was found; a deploy keeps it as the release stored it; turn it off: npm run addon -- whoami --remove',
      );

      // A deploy keeps it as the release stored it, and says so: the comparison drops none of its objects.
      const kept =
        'add-on whoami is on in the release, but no whoami.yaml was found (built-in, or in addons): it is kept as the release stored it; restore the file to change it, or turn it off: npm run addon -- whoami --remove';
      const diff = await run('deploy-one-command', ['--diff', '--json'], se);
      expect(diff.stderr).toContain(kept);
      const objects = json<{ objects: { kind: string; name: string; change: string }[] }>(
        diff.stdout,
      ).objects;
      expect(objects.filter((o) => o.name.startsWith('whoami'))).toEqual([]);
      const dry = await run('deploy-one-command', ['--dry-run'], se);
      expect(dry.code, dry.stdout + dry.stderr).toBe(0);
      expect(dry.stdout + dry.stderr).toContain(kept);

      // Turning it on needs its file; turning it off does not.
      const on = await run('addon', ['whoami', '--no-forward'], se);
      expect(on.code, on.stdout + on.stderr).toBe(2);
      expect(on.stdout).toContain(
        '✗ add-on whoami is on in release "taskflow", but no whoami.yaml was found (built-in, or in addons)',
      );
      expect(on.stdout).toContain('npm run addon -- whoami --remove');
      const off = await run('addon', ['whoami', '--remove', '--yes', '--json'], se);
      expect(off.code, off.stdout + off.stderr).toBe(0);
      expect(json<AddonDoc>(off.stdout)).toMatchObject({ action: 'removed' });
      expect(await k('get', 'deployment', 'whoami', '--ignore-not-found', '-o', 'name')).toBe('');
      const after = await run('addon', ['list', '--json'], se);
      expect(json<{ addons: { name: string }[] }>(after.stdout).addons.map((a) => a.name)).not.toContain(
        'whoami',
      );
    } finally {
      writeFileSync(file, saved);
    }
    // On again from its file, for the tests below.
    const again = await run('addon', ['whoami', '--no-forward', '--json'], se);
    expect(again.code, again.stdout + again.stderr).toBe(0);
  });

  it('--remove --yes: off, its forward gone, its volume claim kept (and said so)', async () => {
    const r = await run('addon', ['whoami', '--remove', '--yes'], se);
    expect(r.code, r.stdout + r.stderr).toBe(0);
    expect(r.stdout).toContain('kept volume claim whoami-data');
    expect(await k('get', 'deployment', 'whoami', '--ignore-not-found', '-o', 'name')).toBe('');
    expect(await k('get', 'service', 'whoami', '--ignore-not-found', '-o', 'name')).toBe('');
    expect(await k('get', 'pvc', 'whoami-data', '-o', 'name')).toBe('persistentvolumeclaim/whoami-data');
    const again = await run('addon', ['whoami', '--remove', '--yes', '--json'], se);
    expect(json<AddonDoc>(again.stdout)).toMatchObject({ action: 'already-off' });
  });

  it('off, its kept claim is deleted only with --delete-data --no-backup (no pod to back it up through)', async () => {
    const refused = await run('addon', ['whoami', '--remove', '--delete-data', '--yes'], se);
    expect(refused.code).toBe(1);
    expect(refused.stdout).toContain('✗ Whoami is off: its volume claims cannot be backed up through it');
    const deleted = await run(
      'addon',
      ['whoami', '--remove', '--delete-data', '--no-backup', '--yes', '--json'],
      se,
    );
    expect(deleted.code, deleted.stdout + deleted.stderr).toBe(0);
    expect(json<AddonDoc & { deleted: string[] }>(deleted.stdout)).toMatchObject({
      action: 'data-deleted',
      deleted: ['whoami-data'],
    });
    await expect
      .poll(() => k('get', 'pvc', 'whoami-data', '--ignore-not-found', '-o', 'name'), { timeout: 30_000 })
      .toBe('');
  });
});
