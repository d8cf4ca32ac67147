import { describe, expect, test } from 'vitest';
import { findObject, renderChart, type K8sObject } from '../support/chart.ts';
import { NAMESPACE, PROFILES as CHART_PROFILES, RELEASE, render, type ProfileName } from './profiles.ts';
import { allContainers, container, podTemplate, workloads, type Container } from './workloads.ts';

const PROFILES: ProfileName[] = ['default', 'prod', 'pgadmin', 'mailpit', 'existingSecret', 'dataAddons'];

/** Every container of every workload in a profile, named for messages. */
async function containers(profile: ProfileName): Promise<{ id: string; c: Container; w: K8sObject }[]> {
  return workloads(await render(profile)).flatMap((w) =>
    allContainers(w).map(({ container: c, init }) => ({
      id: `${profile} ${w.kind}/${w.metadata.name} ${init ? 'init ' : ''}${c.name}`,
      c,
      w,
    })),
  );
}

// Fields of the Kubernetes Container and PodSpec: a misspelt key would be dropped silently by the API server.
const CONTAINER_KEYS = new Set([
  'name',
  'image',
  'imagePullPolicy',
  'command',
  'args',
  'workingDir',
  'env',
  'envFrom',
  'ports',
  'resources',
  'securityContext',
  'startupProbe',
  'livenessProbe',
  'readinessProbe',
  'volumeMounts',
]);
const POD_KEYS = new Set([
  'automountServiceAccountToken',
  'imagePullSecrets',
  'securityContext',
  'initContainers',
  'containers',
  'volumes',
  'restartPolicy',
  'terminationGracePeriodSeconds',
]);

describe.each(PROFILES)('pods of profile %s are hardened', (profile) => {
  test('pod level: non-root, RuntimeDefault seccomp, no service account token', async () => {
    for (const w of workloads(await render(profile))) {
      const spec = podTemplate(w).spec;
      const id = `${w.kind}/${w.metadata.name}`;
      expect(
        Object.keys(spec).filter((k) => !POD_KEYS.has(k)),
        id,
      ).toEqual([]);
      expect(spec.automountServiceAccountToken, id).toBe(false);
      expect(spec.securityContext?.runAsNonRoot, id).toBe(true);
      expect(spec.securityContext?.runAsUser, id).toBeGreaterThan(0);
      expect(spec.securityContext?.seccompProfile, id).toEqual({ type: 'RuntimeDefault' });
    }
  });

  test('every container, init containers included: no escalation, capabilities dropped, limits set', async () => {
    for (const { id, c } of await containers(profile)) {
      expect(
        Object.keys(c).filter((k) => !CONTAINER_KEYS.has(k)),
        id,
      ).toEqual([]);
      const sc = c.securityContext;
      expect(sc?.runAsNonRoot, id).toBe(true);
      expect(sc?.allowPrivilegeEscalation, id).toBe(false);
      expect(sc?.privileged, id).toBe(false);
      expect(sc?.capabilities?.drop, id).toEqual(['ALL']);
      // pgAdmin's python carries NET_BIND_SERVICE as a file capability; exec fails unless it stays bounded.
      expect(sc?.capabilities?.add ?? [], id).toEqual(c.name === 'pgadmin' ? ['NET_BIND_SERVICE'] : []);
      expect(sc?.seccompProfile, id).toEqual({ type: 'RuntimeDefault' });
      for (const kind of ['requests', 'limits'] as const) {
        expect(Object.keys(c.resources?.[kind] ?? {}).sort(), `${id} ${kind}`).toEqual(['cpu', 'memory']);
      }
    }
  });

  test('read-only root filesystems (pgAdmin excepted: its entrypoint writes its config), with a writable /tmp', async () => {
    for (const { id, c, w } of await containers(profile)) {
      expect(c.securityContext?.readOnlyRootFilesystem, id).toBe(c.name !== 'pgadmin');
      if (['wait-for-db', 'pgpass', 'health', 'pgadmin'].includes(c.name)) continue;
      const tmp = c.volumeMounts?.find((m) => m.mountPath === '/tmp');
      const volume = podTemplate(w).spec.volumes?.find((v) => v.name === tmp?.name);
      expect(volume?.emptyDir, `${id} needs an emptyDir at /tmp`).toBeDefined();
    }
  });

  test('images are pinned: an explicit tag, never latest', async () => {
    for (const { id, c } of await containers(profile)) {
      expect(c.image, id).toMatch(/^[^:]+(:\d+)?\/?[^:]*:[A-Za-z0-9_][A-Za-z0-9_.-]*$/);
      expect(c.image.endsWith(':latest'), id).toBe(false);
    }
  });
});

describe('images', () => {
  test('the TaskFlow images default to the chart appVersion; third-party images are pinned', async () => {
    const images = new Set((await containers('pgadmin')).map(({ c }) => c.image));
    expect([...images].sort()).toEqual([
      'dpage/pgadmin4:8.14',
      'postgres:16-alpine',
      'taskflow/api:0.1.0',
      'taskflow/mcp-server:0.1.0',
      'taskflow/sso-platform-migrations:0.1.0',
      'taskflow/sso-platform:0.1.0',
      'taskflow/web-dashboard:0.1.0',
    ]);
    expect((await containers('mailpit')).map(({ c }) => c.image)).toContain('axllent/mailpit:v1.21.8');
  });
});

describe('settings', async () => {
  const toggled = await renderChart({
    values: {
      global: { imageTag: 'abc123', imagePullPolicy: 'Always', storageClass: 'fast-ssd' },
      web: { image: { tag: 'web-1' } },
      networkPolicy: { enabled: false },
      initContainers: { waitTimeoutSeconds: 60 },
      sso: { database: { persistence: { size: '5Gi' } } },
    },
  });

  test('global.imageTag tags the five TaskFlow images; a component tag wins; the pull policy applies to all', () => {
    const images = workloads(toggled).flatMap((w) => allContainers(w).map(({ container: c }) => c.image));
    expect([...new Set(images)].sort()).toEqual([
      'postgres:16-alpine',
      'taskflow/api:abc123',
      'taskflow/mcp-server:abc123',
      'taskflow/sso-platform-migrations:abc123',
      'taskflow/sso-platform:abc123',
      'taskflow/web-dashboard:web-1',
    ]);
    const policies = workloads(toggled).flatMap((w) =>
      allContainers(w).map(({ container: c }) => c.imagePullPolicy),
    );
    expect(new Set(policies)).toEqual(new Set(['Always']));
  });

  test('storage class: omitted by default (cluster default), set when given; size from values', async () => {
    const claim = (objects: K8sObject[], db: string): { storageClassName?: string; resources: object } =>
      (
        findObject(objects, 'StatefulSet', `${db}-postgres`).spec as {
          volumeClaimTemplates: { spec: never }[];
        }
      ).volumeClaimTemplates[0]!.spec;
    const def = await render('default');
    expect(claim(def, 'sso')).not.toHaveProperty('storageClassName');
    expect(claim(def, 'api').resources).toEqual({ requests: { storage: '1Gi' } });
    expect(claim(toggled, 'sso')).toMatchObject({
      storageClassName: 'fast-ssd',
      resources: { requests: { storage: '5Gi' } },
    });
    expect(claim(toggled, 'api').storageClassName).toBe('fast-ssd');
  });

  test('wait-for-db is bounded by initContainers.waitTimeoutSeconds and names where to look', async () => {
    const wait = (objects: K8sObject[]): string[] =>
      container(findObject(objects, 'Deployment', 'sso-platform'), 'wait-for-db').command ?? [];
    expect(wait(await render('default')).slice(3)).toEqual([
      'wait-for-db',
      'sso-postgres',
      '5432',
      'sso_user',
      'sso_db',
      '300',
      'Check the database pod (kubectl logs statefulset/sso-postgres), or run: npm run doctor',
    ]);
    expect(wait(toggled)[8]).toBe('60');
  });

  test('networkPolicy.enabled=false renders no NetworkPolicy', () => {
    expect(toggled.filter((o) => o.kind === 'NetworkPolicy')).toEqual([]);
  });
});

describe('NetworkPolicies: only the right pods reach each database', () => {
  interface Policy {
    podSelector: { matchLabels: Record<string, string> };
    policyTypes: string[];
    ingress: {
      from: { podSelector: { matchLabels: Record<string, string> } }[];
      ports: { port: string }[];
    }[];
  }
  const matches = (sel: Record<string, string>, labels: Record<string, string>): boolean =>
    Object.entries(sel).every(([k, v]) => labels[k] === v);

  test.each([
    ['sso', ['CronJob/sso-migrate', 'Deployment/pgadmin', 'Deployment/sso-platform']],
    ['api', ['CronJob/api-migrate', 'Deployment/pgadmin', 'Deployment/taskflow-api']],
  ])('%s-postgres admits its app, its migrations and pgAdmin', async (db, allowed) => {
    const objects = await render('existingSecret');
    const policy = findObject(objects, 'NetworkPolicy', `${db}-postgres`).spec as Policy;
    expect(policy.policyTypes).toEqual(['Ingress']);
    const dbPods = workloads(objects).filter((w) =>
      matches(policy.podSelector.matchLabels, podTemplate(w).metadata.labels ?? {}),
    );
    expect(dbPods.map((w) => `${w.kind}/${w.metadata.name}`)).toEqual([`StatefulSet/${db}-postgres`]);
    const rules = policy.ingress;
    expect(rules).toHaveLength(1);
    expect(rules[0]?.ports).toEqual([{ port: 'postgres', protocol: 'TCP' }]);
    const admitted = workloads(objects)
      .filter((w) =>
        rules[0]!.from.some((f) => matches(f.podSelector.matchLabels, podTemplate(w).metadata.labels ?? {})),
      )
      .map((w) => `${w.kind}/${w.metadata.name}`)
      .sort();
    expect(admitted).toEqual(allowed);
  });
});

describe('probes', () => {
  test('startup probes where start-up is slow; liveness never depends on the database for the SSO', async () => {
    const objects = await render('pgadmin');
    const main = (kind: string, name: string): Container =>
      podTemplate(findObject(objects, kind, name)).spec.containers[0]!;
    for (const [kind, name] of [
      ['Deployment', 'sso-platform'],
      ['Deployment', 'taskflow-api'],
      ['Deployment', 'mcp-server'],
      ['Deployment', 'web-dashboard'],
      ['Deployment', 'pgadmin'],
      ['StatefulSet', 'sso-postgres'],
      ['StatefulSet', 'api-postgres'],
    ] as const) {
      const c = main(kind, name);
      expect(c.startupProbe, name).toBeDefined();
      expect(c.livenessProbe, name).toBeDefined();
      expect(c.readinessProbe, name).toBeDefined();
    }
    const sso = main('Deployment', 'sso-platform');
    // /api/health runs SELECT 1 and answers 503 while the database is down: readiness only.
    expect(sso.livenessProbe).toMatchObject({ tcpSocket: { port: 'http' } });
    expect(sso.readinessProbe?.httpGet).toEqual({ path: '/api/health', port: 'http' });
    const api = main('Deployment', 'taskflow-api');
    expect(api.livenessProbe?.httpGet?.path).toBe('/health');
    expect(api.readinessProbe?.httpGet?.path).toBe('/health/ready');
    expect(main('Deployment', 'pgadmin').readinessProbe?.httpGet?.path).toBe('/misc/ping');
    expect(main('StatefulSet', 'sso-postgres').readinessProbe?.exec?.command).toEqual([
      'pg_isready',
      '-q',
      '-h',
      '127.0.0.1',
      '-p',
      '5432',
      '-U',
      'sso_user',
      '-d',
      'sso_db',
    ]);
  });
});

describe('config changes roll the pods', () => {
  const annotations = (objects: K8sObject[], name: string): Record<string, string> =>
    podTemplate(findObject(objects, 'Deployment', name)).metadata.annotations ?? {};

  test('each app carries checksum/config and checksum/secret', async () => {
    const objects = await render('pgadmin');
    for (const app of ['sso-platform', 'taskflow-api', 'mcp-server', 'web-dashboard', 'pgadmin']) {
      expect(annotations(objects, app)['checksum/config'], app).toMatch(/^[0-9a-f]{64}$/);
      expect(annotations(objects, app)['checksum/secret'], app).toMatch(/^[0-9a-f]{64}$/);
    }
  });

  test('a ConfigMap or Secret change changes the checksum of the pods that use it, and only those', async () => {
    const base = await render('given');
    const changed = await renderChart({
      release: RELEASE,
      namespace: NAMESPACE,
      values: {
        sso: {
          auth: {
            secret: 'a'.repeat(48),
            url: 'http://127.0.0.1:3001',
            allowedOrigins: ['http://localhost:3000', 'http://127.0.0.1:3001'],
          },
          database: { password: 'given-sso-password-0123' },
        },
        api: { database: { password: 'other-api-password-0123' }, openaiApiKey: 'sk-test-openai-key' },
        mcp: { apiTimeout: 45 },
        pgadmin: { enabled: true, password: 'given-pgadmin-password' },
      },
    });
    const diff = (app: string, key: string): boolean =>
      annotations(base, app)[key] !== annotations(changed, app)[key];
    expect(diff('sso-platform', 'checksum/config')).toBe(true);
    expect(diff('sso-platform', 'checksum/secret')).toBe(false);
    expect(diff('taskflow-api', 'checksum/config')).toBe(false);
    expect(diff('taskflow-api', 'checksum/secret')).toBe(true);
    expect(diff('mcp-server', 'checksum/config')).toBe(true);
    expect(diff('web-dashboard', 'checksum/config')).toBe(false);
    // pgAdmin's pgpass comes from the database Secrets: the API password changed.
    expect(diff('pgadmin', 'checksum/secret')).toBe(true);
    expect(diff('pgadmin', 'checksum/config')).toBe(false);
  });

  test('a rotated database password restarts pgAdmin (its pgpass is written from the Secret at start)', async () => {
    const [a, b] = await Promise.all(
      ['first-sso-password-0123', 'other-sso-password-0123'].map((password) =>
        renderChart({
          release: RELEASE,
          namespace: NAMESPACE,
          values: {
            ...CHART_PROFILES.given.values,
            sso: { ...CHART_PROFILES.given.values.sso, database: { password } },
          },
        }),
      ),
    );
    expect(annotations(a!, 'pgadmin')['checksum/secret']).not.toBe(
      annotations(b!, 'pgadmin')['checksum/secret'],
    );
    expect(annotations(a!, 'web-dashboard')['checksum/secret']).toBe(
      annotations(b!, 'web-dashboard')['checksum/secret'],
    );
  });
});
