import { describe, expect, test } from 'vitest';
import { findObject, renderChart, secretData, type K8sObject } from '../support/chart.ts';
import { NAMESPACE, RELEASE, render } from './profiles.ts';
import {
  mountOf,
  PGADMIN_DATA_DIR,
  pgadminPassFile,
  pgadminPod,
  pgadminServers,
  pgadminUserDir,
} from './pgadmin.ts';
import { podTemplate, resolveEnv } from './workloads.ts';

// A login pgAdmin accepts whose storage directory name takes every rule: a leading digit and a "/".
const ODD_EMAIL = '7ops/db@example.com';

const rendered = new Map<string, Promise<K8sObject[]>>();

/** The chart with pgAdmin on and this admin e-mail (rendered once per e-mail). */
function withEmail(email: string): Promise<K8sObject[]> {
  let p = rendered.get(email);
  if (!p) {
    p = renderChart({
      values: { pgadmin: { enabled: true, email } },
      release: RELEASE,
      namespace: NAMESPACE,
    });
    rendered.set(email, p);
  }
  return p;
}

describe('pgAdmin: server mode with the generated admin login', () => {
  test('server mode; the login is pgadmin.email and the pgadmin Secret via secretKeyRef, never a literal', async () => {
    const objects = await render('pgadmin');
    const { main } = pgadminPod(objects);
    const env = resolveEnv(objects, main);
    expect(env.get('PGADMIN_CONFIG_SERVER_MODE')).toEqual({ from: 'literal', value: 'True' });
    expect(env.get('PGADMIN_DEFAULT_EMAIL')).toEqual({ from: 'literal', value: 'admin@example.com' });
    const raw = main.env?.find((e) => e.name === 'PGADMIN_DEFAULT_PASSWORD');
    expect(raw).toEqual({
      name: 'PGADMIN_DEFAULT_PASSWORD',
      valueFrom: { secretKeyRef: { name: 'pgadmin', key: 'password' } },
    });
    const password = secretData(findObject(objects, 'Secret', 'pgadmin')).password!;
    expect(password).toMatch(/^[0-9a-f]{32}$/);
    expect(env.get('PGADMIN_DEFAULT_PASSWORD')?.value).toBe(password);
    // The image refuses to start when both the password and its _FILE variant are set.
    expect(env.has('PGADMIN_DEFAULT_PASSWORD_FILE')).toBe(false);
    // The password is nowhere but in its Secret (base64 there).
    const others = objects.filter((o) => !(o.kind === 'Secret' && o.metadata.name === 'pgadmin'));
    expect(JSON.stringify(others)).not.toContain(password);
  });

  test('a given admin password and e-mail reach the login the same way', async () => {
    const given = await render('given');
    expect(secretData(findObject(given, 'Secret', 'pgadmin')).password).toBe('given-pgadmin-password');
    expect(JSON.stringify(pgadminPod(given).main)).not.toContain('given-pgadmin-password');
    const odd = await withEmail(ODD_EMAIL);
    expect(resolveEnv(odd, pgadminPod(odd).main).get('PGADMIN_DEFAULT_EMAIL')?.value).toBe(ODD_EMAIL);
  });

  test('servers.json is loaded from the pgadmin-servers ConfigMap, with both databases', async () => {
    const objects = await render('pgadmin');
    const { main } = pgadminPod(objects);
    // Its definition's file (addons/pgadmin.yaml, files[0]): one key of the ConfigMap, mounted by subPath.
    const volume = podTemplate(findObject(objects, 'Deployment', 'pgadmin')).spec.volumes?.find(
      (v) => v.name === 'file-0',
    );
    expect(volume?.configMap).toMatchObject({
      name: 'pgadmin-servers',
      items: [{ key: 'servers.json', path: 'servers.json' }],
    });
    const file = resolveEnv(objects, main).get('PGADMIN_SERVER_JSON_FILE')?.value;
    expect(file).toBe(mountOf(main, 'file-0'));
    expect(main.volumeMounts?.find((m) => m.name === 'file-0')).toMatchObject({ subPath: 'servers.json' });
    expect(pgadminServers(objects).map((s) => [s.Host, s.Username, s.MaintenanceDB])).toEqual([
      ['sso-postgres', 'sso_user', 'sso_db'],
      ['api-postgres', 'taskflow_user', 'taskflow_db'],
    ]);
  });

  test.each([
    ['admin@example.com', 'admin_example.com'],
    [ODD_EMAIL, 'pga_user_7opsslashdb_example.com'],
  ])(
    '%s: every PassFile resolves (as pgAdmin does) to the file the init container writes',
    async (email, dir) => {
      expect(pgadminUserDir(email)).toBe(dir);
      const objects = email === 'admin@example.com' ? await render('pgadmin') : await withEmail(email);
      const { main, init } = pgadminPod(objects);
      const written = resolveEnv(objects, init).get('PGPASSFILE');
      expect(written?.from).toBe('literal');
      expect(written?.value).toBe(`${PGADMIN_DATA_DIR}/storage/${dir}/.pgpass`);
      for (const s of pgadminServers(objects))
        expect(pgadminPassFile(email, s.PassFile)).toBe(written?.value);
      // Both containers see the file at that path: the same emptyDir, at the same place.
      expect(mountOf(init, 'vol-data')).toBe(PGADMIN_DATA_DIR);
      expect(mountOf(main, 'vol-data')).toBe(PGADMIN_DATA_DIR);
      const data = podTemplate(findObject(objects, 'Deployment', 'pgadmin')).spec.volumes?.find(
        (v) => v.name === 'vol-data',
      );
      expect(data?.emptyDir).toBeDefined();
    },
  );

  test('pgAdmin and the init container that writes its pgpass run as uid and gid 5050', async () => {
    const objects = await render('pgadmin');
    const { main, init, runAs } = pgadminPod(objects);
    expect(runAs(init)).toEqual({ runAsUser: 5050, runAsGroup: 5050 });
    expect(runAs(main)).toEqual({ runAsUser: 5050, runAsGroup: 5050 });
  });
});
