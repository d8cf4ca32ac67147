import { describe, expect, test } from 'vitest';
import { findObject, hasObject, renderChart, secretData, type K8sObject } from '../support/chart.ts';
import { RELEASE, render } from './profiles.ts';
import { allContainers, podTemplate, workloads } from './workloads.ts';

const COMPONENTS = [
  'sso',
  'api',
  'mcp',
  'web',
  'sso-postgres',
  'api-postgres',
  'pgadmin',
  'mailpit',
  'sso-migrate',
  'api-migrate',
  'helm-test',
];

// The chart contract: names the scripts hard-code (notes/chart-contract.md).
const APPS = [
  { component: 'sso', name: 'sso-platform', port: 3001 },
  { component: 'api', name: 'taskflow-api', port: 8000 },
  { component: 'mcp', name: 'mcp-server', port: 8001 },
  { component: 'web', name: 'web-dashboard', port: 3000 },
];

function ids(objects: K8sObject[]): string[] {
  return objects.map((o) => `${o.kind}/${o.metadata.name}`).sort();
}

describe('object names (chart contract)', () => {
  test('the default release renders exactly the platform', async () => {
    expect(ids(await render('default'))).toEqual(
      [
        'ConfigMap/mcp-server',
        'ConfigMap/sso-platform',
        'ConfigMap/taskflow-api',
        'ConfigMap/web-dashboard',
        'CronJob/sso-migrate',
        'Deployment/mcp-server',
        'Deployment/sso-platform',
        'Deployment/taskflow-api',
        'Deployment/web-dashboard',
        'NetworkPolicy/api-postgres',
        'NetworkPolicy/sso-postgres',
        'Pod/taskflow-test',
        'Secret/api-postgres',
        'Secret/sso-platform',
        'Secret/sso-postgres',
        'Secret/taskflow-api',
        'Service/api-postgres',
        'Service/mcp-server',
        'Service/sso-platform',
        'Service/sso-postgres',
        'Service/taskflow-api',
        'Service/web-dashboard',
        'StatefulSet/api-postgres',
        'StatefulSet/sso-postgres',
      ].sort(),
    );
  });

  test.each(APPS)(
    '$name: Deployment, Service on port $port, main container of the same name',
    async (app) => {
      const objects = await render('default');
      const deploy = findObject(objects, 'Deployment', app.name);
      const svc = findObject(objects, 'Service', app.name);
      const spec = svc.spec as {
        ports: { port: number; targetPort: string }[];
        selector: Record<string, string>;
      };
      expect(spec.ports.map((p) => p.port)).toEqual([app.port]);
      expect(spec.selector).toEqual({
        'app.kubernetes.io/instance': RELEASE,
        'app.kubernetes.io/component': app.component,
      });
      const main = podTemplate(deploy).spec.containers;
      expect(main.map((c) => c.name)).toEqual([app.name]);
      expect(main[0]?.ports?.map((p) => p.containerPort)).toEqual([app.port]);
      expect((deploy.spec as { selector: { matchLabels: object } }).selector.matchLabels).toEqual(
        spec.selector,
      );
    },
  );

  test('init containers: sso waits for its database then migrates; api waits', async () => {
    const objects = await render('default');
    const inits = (name: string): string[] =>
      allContainers(findObject(objects, 'Deployment', name))
        .filter((c) => c.init)
        .map((c) => c.container.name);
    expect(inits('sso-platform')).toEqual(['wait-for-db', 'migrate']);
    expect(inits('taskflow-api')).toEqual(['wait-for-db']);
    expect(inits('mcp-server')).toEqual([]);
    expect(inits('web-dashboard')).toEqual([]);
  });

  test.each(['sso', 'api'])(
    '%s-postgres: StatefulSet with claim data, headless Service on 5432',
    async (db) => {
      const objects = await render('default');
      const sts = findObject(objects, 'StatefulSet', `${db}-postgres`);
      const spec = sts.spec as {
        replicas: number;
        serviceName: string;
        volumeClaimTemplates: { metadata: { name: string } }[];
        persistentVolumeClaimRetentionPolicy: object;
      };
      expect(spec.replicas).toBe(1);
      expect(spec.serviceName).toBe(`${db}-postgres`);
      expect(spec.volumeClaimTemplates.map((v) => v.metadata.name)).toEqual(['data']);
      expect(spec.persistentVolumeClaimRetentionPolicy).toEqual({
        whenDeleted: 'Retain',
        whenScaled: 'Retain',
      });
      expect(podTemplate(sts).spec.containers.map((c) => c.name)).toEqual(['postgres']);
      const svc = findObject(objects, 'Service', `${db}-postgres`).spec as {
        clusterIP: string;
        ports: { port: number }[];
      };
      expect(svc.clusterIP).toBe('None');
      expect(svc.ports.map((p) => p.port)).toEqual([5432]);
    },
  );

  test('database names and users', async () => {
    const objects = await render('default');
    const env = (db: string): Record<string, string | undefined> => {
      const c = podTemplate(findObject(objects, 'StatefulSet', `${db}-postgres`)).spec.containers[0]!;
      return Object.fromEntries((c.env ?? []).map((e) => [e.name, e.value]));
    };
    expect(env('sso')).toMatchObject({ POSTGRES_DB: 'sso_db', POSTGRES_USER: 'sso_user' });
    expect(env('api')).toMatchObject({ POSTGRES_DB: 'taskflow_db', POSTGRES_USER: 'taskflow_user' });
  });

  test('sso-migrate: a suspended CronJob holding the same migrate container as the init container', async () => {
    const objects = await render('default');
    const cron = findObject(objects, 'CronJob', 'sso-migrate');
    expect((cron.spec as { suspend: boolean }).suspend).toBe(true);
    const job = allContainers(cron);
    expect(job.map((c) => `${c.init ? 'init:' : ''}${c.container.name}`)).toEqual([
      'init:wait-for-db',
      'migrate',
    ]);
    const init = allContainers(findObject(objects, 'Deployment', 'sso-platform')).find(
      (c) => c.container.name === 'migrate',
    );
    expect(job[1]?.container).toEqual(init?.container);
    expect(hasObject(objects, 'CronJob', 'api-migrate')).toBe(false);
  });

  test('api-migrate exists, suspended, only when api.migrations.command is set', async () => {
    const objects = await render('existingSecret');
    const cron = findObject(objects, 'CronJob', 'api-migrate');
    expect((cron.spec as { suspend: boolean }).suspend).toBe(true);
    const migrate = allContainers(cron).find((c) => !c.init)?.container;
    expect(migrate?.name).toBe('migrate');
    expect(migrate?.command).toEqual(['python', '-m', 'migrate']);
    expect(migrate?.image).toBe(
      podTemplate(findObject(objects, 'Deployment', 'taskflow-api')).spec.containers[0]?.image,
    );
  });

  test('add-ons: pgadmin (Service port 80) and mailpit (1025, 8025) only when enabled', async () => {
    const def = await render('default');
    for (const n of ['pgadmin', 'mailpit']) expect(hasObject(def, 'Deployment', n)).toBe(false);
    const pg = await render('pgadmin');
    const pgSvc = findObject(pg, 'Service', 'pgadmin').spec as { ports: { port: number }[] };
    expect(pgSvc.ports.map((p) => p.port)).toEqual([80]);
    expect(podTemplate(findObject(pg, 'Deployment', 'pgadmin')).spec.containers.map((c) => c.name)).toEqual([
      'pgadmin',
    ]);
    expect(hasObject(pg, 'ConfigMap', 'pgadmin-servers')).toBe(true);
    expect(Object.keys(secretData(findObject(pg, 'Secret', 'pgadmin')))).toEqual(['password']);
    const mp = await render('mailpit');
    const mpSvc = findObject(mp, 'Service', 'mailpit').spec as { ports: { port: number }[] };
    expect(mpSvc.ports.map((p) => p.port)).toEqual([1025, 8025]);
    expect(podTemplate(findObject(mp, 'Deployment', 'mailpit')).spec.containers.map((c) => c.name)).toEqual([
      'mailpit',
    ]);
  });

  test('every object carries the contract labels; components are from the contract list', async () => {
    const objects = [
      ...(await render('prod')),
      ...(await render('existingSecret')),
      ...(await render('mailpit')),
    ];
    const seen = new Set<string>();
    for (const o of objects) {
      const l = o.metadata.labels ?? {};
      expect(l, `${o.kind}/${o.metadata.name}`).toMatchObject({
        'app.kubernetes.io/name': 'taskflow',
        'app.kubernetes.io/instance': RELEASE,
        'app.kubernetes.io/managed-by': 'Helm',
        'helm.sh/chart': 'taskflow-0.1.0',
        'app.kubernetes.io/version': '0.1.0',
      });
      expect(COMPONENTS).toContain(l['app.kubernetes.io/component']);
      seen.add(l['app.kubernetes.io/component']!);
    }
    expect([...seen].sort()).toEqual([...COMPONENTS].sort());
  });

  test('pods carry their component label; selectors use only instance + component', async () => {
    const objects = await render('existingSecret');
    for (const w of workloads(objects)) {
      const labels = podTemplate(w).metadata.labels ?? {};
      expect(labels['app.kubernetes.io/component'], `${w.kind}/${w.metadata.name}`).toBe(
        w.metadata.labels?.['app.kubernetes.io/component'],
      );
      if (w.kind === 'Deployment' || w.kind === 'StatefulSet') {
        const sel = (w.spec as { selector: { matchLabels: Record<string, string> } }).selector.matchLabels;
        expect(Object.keys(sel).sort()).toEqual([
          'app.kubernetes.io/component',
          'app.kubernetes.io/instance',
        ]);
      }
    }
  });

  test('a helm test pod checks the SSO and API health URLs the web dashboard calls', async () => {
    const objects = await render('default');
    const pod = findObject(objects, 'Pod', 'taskflow-test');
    expect(pod.metadata.annotations?.['helm.sh/hook']).toBe('test');
    // Its own component: with the web's labels it would match the web Service and receive its traffic.
    expect(pod.metadata.labels?.['app.kubernetes.io/component']).toBe('helm-test');
    for (const svc of objects.filter((o) => o.kind === 'Service')) {
      const selector = (svc.spec as { selector: Record<string, string> }).selector;
      const labels = pod.metadata.labels ?? {};
      const matches = Object.entries(selector).every(([k, v]) => labels[k] === v);
      expect(matches, `Service/${svc.metadata.name} selects the helm test pod`).toBe(false);
    }
    const c = podTemplate(pod).spec.containers[0]!;
    expect(c.command?.slice(-2)).toEqual([
      'http://sso-platform:3001/api/health',
      'http://taskflow-api:8000/health',
    ]);
    expect(c.ports).toBeUndefined();
  });

  test('sso.enabled=false drops the SSO, its database and its migrations', async () => {
    const objects = await renderChart({ values: { sso: { enabled: false } } });
    const names = ids(objects).filter((id) => /sso/.test(id));
    expect(names).toEqual([]);
  });
});
