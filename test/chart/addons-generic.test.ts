import { mkdtempSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, describe, expect, test } from 'vitest';
import { renderChart as renderForLint } from '../../lib/chart.ts';
import { Runner } from '../../lib/exec.ts';
import { findingLine, lintChart } from '../../lib/preflight/lint.ts';
import {
  chartDir,
  findObject,
  hasObject,
  renderChart,
  renderError,
  runHelm,
  type K8sObject,
} from '../support/chart.ts';
import { helmHomeEnv, toolset } from '../support/tools.ts';
import { FULL_ADDON, MINIMAL_ADDON, NAMESPACE, RELEASE, render } from './profiles.ts';
import { container, podTemplate, workloads } from './workloads.ts';

// Hardening and Kubernetes-schema validity of these add-ons are checked by hardening.test.ts and
// kube-schemas.test.ts, which render the profile dataAddons with the other profiles.

const ADDON_LABEL = 'taskflow.dev/addon';

const ids = (objects: K8sObject[]): string[] => objects.map((o) => `${o.kind}/${o.metadata.name}`).sort();

const withAddons = (addons: Record<string, object>): Promise<K8sObject[]> =>
  renderChart({ release: RELEASE, namespace: NAMESPACE, values: { addons } });

interface Policy {
  ingress: { from: { podSelector: { matchLabels: Record<string, string> } }[] }[];
}

/** Components a database's NetworkPolicy admits. */
function admitted(objects: K8sObject[], db: string): string[] {
  const policy = findObject(objects, 'NetworkPolicy', `${db}-postgres`).spec as Policy;
  return policy.ingress.flatMap((r) =>
    r.from.map((f) => f.podSelector.matchLabels['app.kubernetes.io/component']!),
  );
}

describe('no add-ons', () => {
  test('the default render holds no add-on object, and addons: {} changes nothing', async () => {
    const def = await render('default');
    expect(def.filter((o) => o.metadata.labels?.[ADDON_LABEL] !== undefined)).toEqual([]);
    expect(ids(await withAddons({}))).toEqual(ids(def));
    expect(admitted(def, 'sso')).toEqual(['sso', 'sso-migrate', 'pgadmin']);
    expect(admitted(def, 'api')).toEqual(['api', 'api-migrate', 'pgadmin']);
  });
});

describe('two add-ons: every feature, and the least', async () => {
  const objects = await render('dataAddons');
  const def = await render('default');
  const deployment = (name: string) => findObject(objects, 'Deployment', name);

  test('exactly the expected objects are added', () => {
    const added = ids(objects).filter((id) => !ids(def).includes(id));
    expect(added).toEqual([
      'ConfigMap/dbui-files',
      'Deployment/dbui',
      'Deployment/notes',
      'PersistentVolumeClaim/dbui-store',
      'Service/dbui',
      'Service/notes',
    ]);
  });

  test('each carries the chart labels, its component and the add-on label; pods are selected by release and component', () => {
    for (const [name, objs] of [
      [
        'dbui',
        ['Deployment/dbui', 'Service/dbui', 'ConfigMap/dbui-files', 'PersistentVolumeClaim/dbui-store'],
      ],
      ['notes', ['Deployment/notes', 'Service/notes']],
    ] as const) {
      for (const id of objs) {
        const [kind, objName] = id.split('/') as [string, string];
        const o = findObject(objects, kind, objName);
        expect(o.metadata.namespace, id).toBe(NAMESPACE);
        expect(o.metadata.labels, id).toEqual({
          'app.kubernetes.io/name': 'taskflow',
          'app.kubernetes.io/instance': RELEASE,
          'app.kubernetes.io/managed-by': 'Helm',
          'app.kubernetes.io/version': expect.any(String) as string,
          'app.kubernetes.io/component': name,
          'helm.sh/chart': expect.stringMatching(/^taskflow-/) as string,
          [ADDON_LABEL]: name,
        });
      }
      const d = deployment(name);
      const selector = { 'app.kubernetes.io/instance': RELEASE, 'app.kubernetes.io/component': name };
      expect((d.spec as { selector: object }).selector).toEqual({ matchLabels: selector });
      expect(podTemplate(d).metadata.labels).toMatchObject({ ...selector, [ADDON_LABEL]: name });
      expect((findObject(objects, 'Service', name).spec as { selector: object }).selector).toEqual(selector);
    }
  });

  test('the full add-on: image, command, ports, env of each kind (a fact resolved), probes, security, resources', () => {
    const d = deployment('dbui');
    expect((d.spec as { replicas: number; strategy: object }).replicas).toBe(1);
    // A ReadWriteOnce claim: the old pod must let go of it first.
    expect((d.spec as { strategy: object }).strategy).toEqual({ type: 'Recreate' });
    const pod = podTemplate(d).spec;
    expect(pod.automountServiceAccountToken).toBe(false);
    expect(pod.securityContext).toMatchObject({ runAsUser: 2000, runAsGroup: 2001, fsGroup: 2002 });
    const c = container(d, 'dbui');
    expect(c.image).toBe('adminer:4.8.1-standalone');
    expect(c.command).toEqual(['/usr/local/bin/dbui']);
    expect(c.args).toEqual(['--listen', '0.0.0.0:8080']);
    expect(c.ports).toEqual([
      { name: 'http', containerPort: 8080, protocol: 'TCP' },
      { name: 'metrics', containerPort: 9090, protocol: 'TCP' },
    ]);
    expect(c.env).toEqual([
      { name: 'ADMINER_DEFAULT_SERVER', value: 'sso-postgres' },
      { name: 'PGPASS', valueFrom: { secretKeyRef: { name: 'sso-postgres', key: 'password' } } },
      { name: 'AUTH_URL', valueFrom: { configMapKeyRef: { name: 'sso-platform', key: 'BETTER_AUTH_URL' } } },
    ]);
    expect(c.readinessProbe).toMatchObject({ httpGet: { path: '/healthz', port: 'http' } });
    expect(c.livenessProbe).toMatchObject({ httpGet: { path: '/livez', port: 'http' }, periodSeconds: 20 });
    // startupSeconds 60: the readiness path, every 5 s, 12 times.
    expect(c.startupProbe).toEqual({
      httpGet: { path: '/healthz', port: 'http' },
      periodSeconds: 5,
      failureThreshold: 12,
    });
    expect(c.securityContext?.readOnlyRootFilesystem).toBe(true);
    expect(c.resources).toEqual(FULL_ADDON.resources);
  });

  test('the full add-on: files of each kind read-only by subPath, both volume kinds, /tmp', () => {
    const d = deployment('dbui');
    expect(container(d, 'dbui').volumeMounts).toEqual([
      { name: 'tmp', mountPath: '/tmp' },
      { name: 'files', mountPath: '/etc/dbui/servers.json', subPath: 'f0', readOnly: true },
      { name: 'file-1', mountPath: '/run/secrets/api-password', subPath: 'api-password', readOnly: true },
      { name: 'file-2', mountPath: '/etc/dbui/auth-url', subPath: 'auth-url', readOnly: true },
      { name: 'vol-cache', mountPath: '/var/cache/dbui' },
      { name: 'vol-store', mountPath: '/srv/store' },
    ]);
    expect(podTemplate(d).spec.volumes).toEqual([
      { name: 'tmp', emptyDir: { sizeLimit: '256Mi' } },
      { name: 'files', configMap: { name: 'dbui-files' } },
      {
        name: 'file-1',
        secret: {
          secretName: 'api-postgres',
          items: [{ key: 'password', path: 'api-password' }],
          defaultMode: 0o444,
        },
      },
      {
        name: 'file-2',
        configMap: {
          name: 'sso-platform',
          items: [{ key: 'BETTER_AUTH_URL', path: 'auth-url' }],
          defaultMode: 0o444,
        },
      },
      { name: 'vol-cache', emptyDir: { sizeLimit: '64Mi' } },
      { name: 'vol-store', persistentVolumeClaim: { claimName: 'dbui-store' } },
    ]);
    expect(findObject(objects, 'ConfigMap', 'dbui-files').data).toEqual({ f0: FULL_ADDON.files[0]!.content });
    expect(podTemplate(d).metadata.annotations?.['checksum/files']).toMatch(/^[0-9a-f]{64}$/);
    expect(findObject(objects, 'PersistentVolumeClaim', 'dbui-store').spec).toEqual({
      accessModes: ['ReadWriteOnce'],
      resources: { requests: { storage: '2Gi' } },
    });
    // Kept when the add-on goes off: --remove asks before deleting it.
    expect(findObject(objects, 'PersistentVolumeClaim', 'dbui-store').metadata.annotations).toEqual({
      'helm.sh/resource-policy': 'keep',
    });
    // The local port of each forwarded port, for port-forward (no definition file needed there).
    expect(findObject(objects, 'Service', 'dbui').metadata.annotations).toEqual({
      'taskflow.dev/forward': 'http=8091',
    });
    expect(findObject(objects, 'Service', 'notes').metadata.annotations).toBeUndefined();
  });

  test('the minimal add-on gets the defaults: uid 1000, read-only root with /tmp, small resources, no token', () => {
    const d = deployment('notes');
    const pod = podTemplate(d).spec;
    expect(pod.automountServiceAccountToken).toBe(false);
    expect(pod.securityContext).toMatchObject({ runAsUser: 1000, runAsGroup: 1000, fsGroup: 1000 });
    const c = container(d, 'notes');
    expect(c.image).toBe(MINIMAL_ADDON.image);
    expect(c.env).toBeUndefined();
    expect(c.readinessProbe).toBeUndefined();
    expect(c.resources).toEqual({
      requests: { cpu: '10m', memory: '32Mi' },
      limits: { cpu: '200m', memory: '256Mi' },
    });
    expect(c.volumeMounts).toEqual([{ name: 'tmp', mountPath: '/tmp' }]);
    expect(pod.volumes).toEqual([{ name: 'tmp', emptyDir: { sizeLimit: '256Mi' } }]);
    expect((d.spec as { strategy?: object }).strategy).toBeUndefined();
    expect(podTemplate(d).metadata.annotations).toBeUndefined();
  });

  test('each Service has every port, targetPort by name', () => {
    expect((findObject(objects, 'Service', 'dbui').spec as { type: string; ports: object[] }).ports).toEqual([
      { name: 'http', port: 8080, targetPort: 'http', protocol: 'TCP' },
      // service: 80, the Service's own port for it
      { name: 'metrics', port: 80, targetPort: 'metrics', protocol: 'TCP' },
    ]);
    expect(findObject(objects, 'Service', 'notes').spec).toMatchObject({
      type: 'ClusterIP',
      ports: [{ name: 'web', port: 3000, targetPort: 'web', protocol: 'TCP' }],
    });
  });

  test('the add-on workloads are exactly the two Deployments', () => {
    const addonWorkloads = workloads(objects).filter((w) => w.metadata.labels?.[ADDON_LABEL]);
    expect(ids(addonWorkloads)).toEqual(['Deployment/dbui', 'Deployment/notes']);
  });
});

describe('NetworkPolicies of the databases', () => {
  test('admit exactly the enabled add-ons that list them', async () => {
    const objects = await withAddons({
      dbui: FULL_ADDON,
      notes: MINIMAL_ADDON,
      apiview: { ...MINIMAL_ADDON, databases: ['api'] },
      ghost: { ...MINIMAL_ADDON, enabled: false, databases: ['sso', 'api'] },
    });
    expect(admitted(objects, 'sso')).toEqual(['sso', 'sso-migrate', 'pgadmin', 'dbui']);
    expect(admitted(objects, 'api')).toEqual(['api', 'api-migrate', 'pgadmin', 'apiview', 'dbui']);
  });

  test('networkPolicy.enabled=false still renders none', async () => {
    const objects = await renderChart({
      values: { networkPolicy: { enabled: false }, addons: { dbui: FULL_ADDON } },
    });
    expect(objects.filter((o) => o.kind === 'NetworkPolicy')).toEqual([]);
  });
});

describe('settings of one add-on', () => {
  test('enabled: false renders nothing, with or without the rest of its values', async () => {
    const def = await render('default');
    const objects = await withAddons({ dbui: { ...FULL_ADDON, enabled: false }, notes: { enabled: false } });
    expect(ids(objects)).toEqual(ids(def));
  });

  test('a digest pins the image by content; the token is mounted and the root writable when asked', async () => {
    const digest = `sha256:${'0123456789abcdef'.repeat(4)}`;
    const objects = await withAddons({
      notes: {
        ...MINIMAL_ADDON,
        image: `ghcr.io/example/notes@${digest}`,
        serviceAccountToken: true,
        securityContext: { readOnlyRootFilesystem: false },
      },
    });
    const d = findObject(objects, 'Deployment', 'notes');
    const c = container(d, 'notes');
    expect(c.image).toBe(`ghcr.io/example/notes@${digest}`);
    expect(podTemplate(d).spec.automountServiceAccountToken).toBe(true);
    expect(c.securityContext?.readOnlyRootFilesystem).toBe(false);
    expect(c.securityContext?.allowPrivilegeEscalation).toBe(false);
    expect(c.volumeMounts).toBeUndefined();
  });

  test("a volume of its own at /tmp replaces the chart's", async () => {
    const objects = await withAddons({
      notes: { ...MINIMAL_ADDON, volumes: [{ name: 'scratch', path: '/tmp', size: '1Gi' }] },
    });
    const c = container(findObject(objects, 'Deployment', 'notes'), 'notes');
    expect(c.volumeMounts).toEqual([{ name: 'vol-scratch', mountPath: '/tmp' }]);
  });

  test('a persistent volume claims from global.storageClass when set', async () => {
    const objects = await renderChart({
      values: { global: { storageClass: 'fast-ssd' }, addons: { dbui: FULL_ADDON } },
    });
    expect(findObject(objects, 'PersistentVolumeClaim', 'dbui-store').spec).toMatchObject({
      storageClassName: 'fast-ssd',
    });
    expect(hasObject(objects, 'PersistentVolumeClaim', 'dbui-cache')).toBe(false);
  });
});

describe('values the chart rejects', () => {
  // helm 4 and helm 3 word schema errors differently; both name the place.
  test.each([
    {
      name: 'an unknown key',
      addons: { notes: { ...MINIMAL_ADDON, replicas: 2 } },
      expected: [/addons[./]notes/, /additional propert(y|ies) '?replicas'? (is )?not allowed/i],
    },
    {
      name: 'an unknown key in an env item',
      addons: { notes: { ...MINIMAL_ADDON, env: [{ name: 'A', valu: 'x' }] } },
      expected: [/addons[./]notes[./]env[./]0/],
    },
    {
      name: 'a name that is not a DNS label',
      addons: { Bad_Name: MINIMAL_ADDON },
      expected: [/property ?name/i, /Bad_Name/],
    },
    {
      name: 'a name longer than 40 characters',
      addons: { ['a'.repeat(41)]: MINIMAL_ADDON },
      expected: [/property ?name/i, /a{41}/],
    },
    {
      name: 'the name of a platform component',
      addons: { 'sso-platform': MINIMAL_ADDON },
      expected: [/property ?name/i, /sso-platform/],
    },
    {
      name: 'a port out of range',
      addons: { notes: { ...MINIMAL_ADDON, ports: [{ name: 'web', port: 70000 }] } },
      expected: [/addons[./]notes[./]ports[./]0[./]port/, /65,?535/],
    },
    {
      name: 'no port',
      addons: { notes: { ...MINIMAL_ADDON, ports: [] } },
      expected: [/addons[./]notes[./]ports/],
    },
    {
      name: 'an env item with two sources',
      addons: {
        notes: {
          ...MINIMAL_ADDON,
          env: [{ name: 'A', value: 'x', secret: { name: 'sso-postgres', key: 'password' } }],
        },
      },
      expected: [/addons[./]notes[./]env[./]0/, /oneOf/i],
    },
    {
      name: 'a file with no source',
      addons: { notes: { ...MINIMAL_ADDON, files: [{ path: '/etc/x' }] } },
      expected: [/addons[./]notes[./]files[./]0/],
    },
    {
      name: 'the tag latest',
      addons: { notes: { ...MINIMAL_ADDON, image: 'x:latest' } },
      expected: [/addons[./]notes[./]image/],
    },
    {
      name: 'an unknown database',
      addons: { notes: { ...MINIMAL_ADDON, databases: ['mcp'] } },
      expected: [/addons[./]notes[./]databases[./]0/],
    },
  ])('$name', async ({ addons, expected }) => {
    for (const toolset of ['v35', 'v33'] as const) {
      const err = await renderError({ values: { addons }, toolset });
      for (const re of expected) expect(err, toolset).toMatch(re);
    }
  });

  test('cross-field problems are reported together by validateValues, each with a hint', async () => {
    const err = await renderError({
      values: {
        addons: {
          notes: {
            ...MINIMAL_ADDON,
            ports: [
              { name: 'web', port: 3000 },
              { name: 'web', port: 3000 },
            ],
            readiness: { path: '/', port: 'http' },
            files: [{ path: '/etc/a', content: 'x' }],
            volumes: [
              { name: 'a', path: '/etc/a' },
              { name: 'a', path: '/var/b' },
            ],
          },
        },
      },
    });
    expect(err).toContain('VALUES VALIDATION: 5 problem(s)');
    expect(err).toContain('addons.notes.ports: the port name web is used twice.');
    expect(err).toContain('addons.notes.ports: port 3000 is listed twice.');
    expect(err).toContain('addons.notes.readiness.port: http is not one of its ports (web, web).');
    expect(err).toContain('addons.notes.volumes: the volume name a is used twice.');
    expect(err).toContain('addons.notes: /etc/a is mounted twice');
  });
});

describe('helm lint --strict', () => {
  test.each(['v35', 'v33'] as const)('passes with both sample add-ons (%s)', async (toolset) => {
    const r = await runHelm(['lint', '--strict', chartDir, '-f', '-'], {
      toolset,
      stdin: JSON.stringify({ addons: { dbui: FULL_ADDON, notes: MINIMAL_ADDON } }),
    });
    expect(r.code, r.stdout + r.stderr).toBe(0);
  });
});

describe('the chart lint of validate', () => {
  const home = mkdtempSync(path.join(os.tmpdir(), 'tf-addons-lint-'));
  afterAll(() => rmSync(home, { recursive: true, force: true }));

  test('finds nothing in a render with both sample add-ons', async () => {
    const env = helmHomeEnv(home);
    const render = renderForLint(new Runner({ env }), toolset('v35').helm, {
      values: { addons: { dbui: FULL_ADDON, notes: MINIMAL_ADDON } },
      chart: chartDir,
      valuesFiles: [],
      target: { namespace: NAMESPACE, release: RELEASE },
    });
    const lint = await lintChart(chartDir, render);
    expect(lint?.findings.map(findingLine)).toEqual([]);
    expect(lint?.rendered).toBe(true);
  });
});
