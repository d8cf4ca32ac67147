import { describe, expect, it } from 'vitest';
import { stringify } from 'yaml';
import {
  type ManifestObject,
  changedPaths,
  diffManifests,
  immutableFields,
  parseManifest,
  releaseObjects,
} from '../../lib/manifest-diff.ts';
import { PassThrough } from 'node:stream';
import { confirmRolls, diffWarnings, dryRunArgs, objectLine, releaseDiff } from '../../lib/deploy/diff.ts';
import { parseDeployOptions } from '../../lib/deploy/options.ts';
import { DEPLOY_SPEC } from '../../lib/deploy/spec.ts';

const b64 = (s: string) => Buffer.from(s).toString('base64');

type Obj = Record<string, unknown>;

function deployment(
  name: string,
  o: { image?: string; checksum?: string; env?: Obj[]; replicas?: number } = {},
): Obj {
  return {
    apiVersion: 'apps/v1',
    kind: 'Deployment',
    metadata: { name, namespace: 'ns' },
    spec: {
      replicas: o.replicas ?? 1,
      selector: { matchLabels: { app: name } },
      template: {
        metadata: {
          labels: { app: name },
          annotations: { 'checksum/config': o.checksum ?? 'c1', 'checksum/secret': 's1' },
        },
        spec: {
          containers: [
            {
              name,
              image: o.image ?? `taskflow/${name}:1`,
              envFrom: [{ configMapRef: { name } }, { secretRef: { name } }],
              env: o.env ?? [{ name: 'PORT', value: '80' }],
            },
          ],
        },
      },
    },
  };
}

const configMap = (name: string, data: Obj): Obj => ({
  apiVersion: 'v1',
  kind: 'ConfigMap',
  metadata: { name, namespace: 'ns' },
  data,
});

const secret = (name: string, data: Record<string, string>): Obj => ({
  apiVersion: 'v1',
  kind: 'Secret',
  metadata: { name, namespace: 'ns' },
  type: 'Opaque',
  data: Object.fromEntries(Object.entries(data).map(([k, v]) => [k, b64(v)])),
});

function statefulSet(name: string, o: { claimLabels?: Obj; replicas?: number; image?: string } = {}): Obj {
  return {
    apiVersion: 'apps/v1',
    kind: 'StatefulSet',
    metadata: { name, namespace: 'ns' },
    spec: {
      replicas: o.replicas ?? 1,
      serviceName: name,
      selector: { matchLabels: { app: name } },
      template: {
        metadata: { labels: { app: name } },
        spec: { containers: [{ name: 'postgres', image: o.image ?? 'postgres:16' }] },
      },
      volumeClaimTemplates: [
        {
          metadata: { name: 'data', labels: o.claimLabels ?? { app: name } },
          spec: { accessModes: ['ReadWriteOnce'] },
        },
      ],
    },
  };
}

/** A manifest as helm prints it: `---`, the source comment, the document. */
const manifest = (...objs: Obj[]): string =>
  objs
    .map((o) => {
      const kind = String(o.kind).toLowerCase();
      return `---\n# Source: taskflow/templates/${kind}.yaml\n${stringify(o)}`;
    })
    .join('');

const objs = (...o: Obj[]): ManifestObject[] => parseManifest(manifest(...o));

describe('parseManifest and releaseObjects', () => {
  it('reads every document with its kind, name, namespace and template source; skips empty ones', () => {
    const text = `${manifest(configMap('a', { X: '1' }), deployment('web'))}---\n# Source: taskflow/templates/empty.yaml\n\n`;
    expect(parseManifest(text).map((o) => [o.kind, o.name, o.namespace, o.source])).toEqual([
      ['ConfigMap', 'a', 'ns', 'taskflow/templates/configmap.yaml'],
      ['Deployment', 'web', 'ns', 'taskflow/templates/deployment.yaml'],
    ]);
  });

  it('adds the hooks an upgrade runs, but not test hooks', () => {
    const doc = {
      manifest: manifest(configMap('a', {})),
      hooks: [
        { manifest: stringify({ kind: 'Pod', metadata: { name: 'taskflow-test' } }), events: ['test'] },
        { manifest: stringify({ kind: 'Job', metadata: { name: 'migrate' } }), events: ['pre-upgrade'] },
      ],
    };
    expect(releaseObjects(doc).map((o) => `${o.kind}/${o.name}`)).toEqual(['ConfigMap/a', 'Job/migrate']);
  });
});

describe('changedPaths', () => {
  it.each([
    [{ a: 1 }, { a: 1 }, []],
    [{ a: 1 }, { a: 2 }, ['a']],
    [{ a: { b: 1 } }, { a: {} }, ['a.b']],
    [{ c: [{ name: 'x', v: 1 }] }, { c: [{ name: 'x', v: 2 }] }, ['c[x].v']],
    [{ c: [{ name: 'x' }] }, { c: [{ name: 'x' }, { name: 'y' }] }, ['c[y]']],
    [{ args: ['a', 'b'] }, { args: ['a', 'c'] }, ['args']],
    [{ l: [{ p: 1 }] }, { l: [{ p: 2 }] }, ['l[0].p']],
  ])('%j → %j: %j', (a, b, paths) => expect(changedPaths(a, b)).toEqual(paths));
});

describe('diffManifests', () => {
  it('nothing differs: no change at all', () => {
    const m = [configMap('web', { A: '1' }), secret('web', { K: 'v' }), deployment('web')];
    expect(diffManifests(objs(...m), objs(...m))).toEqual({
      changed: false,
      objects: [],
      rolls: [],
      immutable: [],
      stale: [],
    });
  });

  it('objects added, removed and changed, by field path (containers and env matched by name)', () => {
    const d = diffManifests(
      objs(configMap('web', { A: '1', B: '2' }), deployment('web'), configMap('old', {})),
      objs(
        configMap('web', { A: '1', B: '3', C: '4' }),
        deployment('web', { replicas: 2, env: [{ name: 'PORT', value: '81' }] }),
        configMap('new', {}),
      ),
    );
    expect(d.changed).toBe(true);
    expect(d.objects).toEqual([
      { kind: 'ConfigMap', name: 'new', change: 'added' },
      { kind: 'ConfigMap', name: 'old', change: 'removed' },
      { kind: 'ConfigMap', name: 'web', change: 'changed', fields: ['data.B', 'data.C'] },
      {
        kind: 'Deployment',
        name: 'web',
        change: 'changed',
        fields: ['spec.replicas', 'spec.template.spec.containers[web].env[PORT].value'],
      },
    ]);
  });

  it('Secrets by key name only: added, removed, changed keys; never a value, an encoding or a length', () => {
    const before = secret('sso', {
      PASSWORD: 'old-value-123',
      GONE: 'gone-value-456',
      SAME: 'same-value-789',
    });
    const after = {
      ...secret('sso', { PASSWORD: 'new-value-abcdef', SAME: 'same-value-789' }),
      stringData: { NEW_KEY: 'plain-value-xyz' },
    };
    const d = diffManifests(objs(before), objs(after));
    expect(d.objects).toEqual([
      {
        kind: 'Secret',
        name: 'sso',
        change: 'changed',
        keys: [
          { key: 'GONE', change: 'removed' },
          { key: 'NEW_KEY', change: 'added' },
          { key: 'PASSWORD', change: 'changed' },
        ],
      },
    ]);
    const text = JSON.stringify(d) + d.objects.map(objectLine).join('\n');
    for (const v of [
      'old-value-123',
      'gone-value-456',
      'same-value-789',
      'new-value-abcdef',
      'plain-value-xyz',
    ])
      for (const form of [v, b64(v), String(v.length)]) expect(text).not.toContain(form);
    expect(objectLine(d.objects[0]!)).toBe(
      '~ Secret sso: keys added: NEW_KEY; keys removed: GONE; keys changed: PASSWORD',
    );
  });

  it('a new Secret lists its keys; a Secret whose only change is its labels has fields and no keys', () => {
    const d = diffManifests(
      objs(secret('kept', { K: 'v' })),
      objs(
        { ...secret('kept', { K: 'v' }), metadata: { name: 'kept', namespace: 'ns', labels: { a: 'b' } } },
        secret('added', { A: 'x', B: 'y' }),
      ),
    );
    expect(d.objects).toEqual([
      {
        kind: 'Secret',
        name: 'added',
        change: 'added',
        keys: [
          { key: 'A', change: 'added' },
          { key: 'B', change: 'added' },
        ],
      },
      { kind: 'Secret', name: 'kept', change: 'changed', fields: ['metadata.labels'], keys: [] },
    ]);
  });

  it('rolls: an image change names both images; a checksum names the changed ConfigMap/Secret the pods read', () => {
    const d = diffManifests(
      objs(configMap('api', { X: '1' }), secret('api', { K: 'a' }), deployment('api'), deployment('web')),
      objs(
        configMap('api', { X: '2' }),
        secret('api', { K: 'b' }),
        deployment('api', { checksum: 'c2' }),
        deployment('web', { image: 'taskflow/web:2' }),
      ),
    );
    expect(d.rolls).toEqual([
      {
        kind: 'Deployment',
        name: 'api',
        reasons: ['annotation checksum/config changed (ConfigMap api changed)'],
      },
      {
        kind: 'Deployment',
        name: 'web',
        reasons: ['image of container web: taskflow/web:1 → taskflow/web:2'],
      },
    ]);
    // the Secret changed but checksum/secret did not: api's pods would keep the old Secret values
    expect(d.stale).toEqual([]);
  });

  it('other pod template fields are roll reasons by path; a replica count alone does not roll', () => {
    const d = diffManifests(
      objs(deployment('api'), deployment('web')),
      objs(deployment('api', { env: [{ name: 'PORT', value: '81' }] }), deployment('web', { replicas: 3 })),
    );
    expect(d.rolls).toEqual([
      {
        kind: 'Deployment',
        name: 'api',
        reasons: ['pod template spec.containers[api].env[PORT].value changed'],
      },
    ]);
  });

  it('a changed ConfigMap read by pods that do not roll is reported (they keep the old values)', () => {
    const d = diffManifests(
      objs(configMap('web', { A: '1' }), deployment('web')),
      objs(configMap('web', { A: '2' }), deployment('web')),
    );
    expect(d.rolls).toEqual([]);
    expect(d.stale).toEqual([{ kind: 'Deployment', name: 'web', reads: ['ConfigMap web'] }]);
    expect(diffWarnings(d, 'ns')).toEqual([
      {
        kind: 'Deployment',
        name: 'web',
        message:
          'Deployment web reads ConfigMap web, which would change, but its pods would not restart: they keep the old values',
        hint: 'after the deploy: kubectl rollout restart deployment/web -n ns',
      },
    ]);
  });

  it("a database's password Secret changing: no restart advice for its StatefulSet (a restart changes no password)", () => {
    const pg = (): Obj => {
      const o = statefulSet('api-postgres');
      const containers = (o as { spec: { template: { spec: { containers: Obj[] } } } }).spec.template.spec
        .containers;
      containers[0] = {
        ...containers[0],
        env: [
          {
            name: 'POSTGRES_PASSWORD',
            valueFrom: { secretKeyRef: { name: 'api-postgres', key: 'password' } },
          },
        ],
      };
      return o;
    };
    const d = diffManifests(
      objs(secret('api-postgres', { password: 'old-password-16ch' }), pg()),
      objs(secret('api-postgres', { password: 'new-password-16ch' }), pg()),
    );
    expect(d.stale).toEqual([{ kind: 'StatefulSet', name: 'api-postgres', reads: ['Secret api-postgres'] }]);
    const warnings = diffWarnings(d, 'tf');
    expect(warnings).toEqual([
      {
        kind: 'StatefulSet',
        name: 'api-postgres',
        message:
          'StatefulSet api-postgres reads Secret api-postgres, whose password would change: the api database keeps the password its volume data-api-postgres-0 was initialised with, and restarting it changes none',
        hint: "deploy first checks that the database accepts the password being deployed (db.password-drift) and stops before changing anything when it does not; to change the database's password as well: npm run reset-db-password -- api --rotate",
      },
    ]);
    expect(JSON.stringify(warnings)).not.toContain('rollout restart');
  });

  it('StatefulSet: a volumeClaimTemplates change is refused by Kubernetes (a warning naming the field and the way out)', () => {
    const d = diffManifests(
      objs(statefulSet('sso-postgres')),
      objs(
        statefulSet('sso-postgres', {
          claimLabels: { app: 'sso-postgres', 'helm.sh/chart': 'taskflow-0.2.0' },
        }),
      ),
    );
    expect(d.immutable).toEqual([
      {
        kind: 'StatefulSet',
        name: 'sso-postgres',
        fields: ['spec.volumeClaimTemplates[data].metadata.labels.helm.sh/chart'],
      },
    ]);
    expect(d.rolls).toEqual([]);
    const [w] = diffWarnings(d, 'tf');
    expect(w?.message).toBe(
      'StatefulSet sso-postgres: spec.volumeClaimTemplates[data].metadata.labels.helm.sh/chart would change, which Kubernetes refuses to update: the upgrade would fail',
    );
    expect(w?.hint).toBe(
      'delete the StatefulSet but keep its pods and volumes (kubectl delete statefulset sso-postgres -n tf --cascade=orphan), then npm run deploy recreates it with the new spec',
    );
  });

  it.each([
    ['replicas', { replicas: 3 }, []],
    ['template (a roll, not refused)', { image: 'postgres:17' }, []],
    ['serviceName', { serviceName: 'other' }, ['spec.serviceName']],
    ['updateStrategy', { updateStrategy: { type: 'OnDelete' } }, []],
    ['podManagementPolicy', { podManagementPolicy: 'Parallel' }, ['spec.podManagementPolicy']],
    ['minReadySeconds', { minReadySeconds: 5 }, []],
    [
      'persistentVolumeClaimRetentionPolicy',
      { persistentVolumeClaimRetentionPolicy: { whenDeleted: 'Delete' } },
      [],
    ],
    ['ordinals', { ordinals: { start: 1 } }, []],
  ])('StatefulSet %s: refused fields %j', (_what, change, refused) => {
    const before = statefulSet('db');
    const { image, ...specChange } = change as Obj & { image?: string };
    const after = statefulSet('db', image ? { image } : {});
    after.spec = { ...(after.spec as Obj), ...specChange };
    expect(immutableFields('StatefulSet', before, after)).toEqual(refused);
  });

  it('a Deployment selector change is refused too', () => {
    const before = deployment('web');
    const after = deployment('web');
    (after.spec as Obj).selector = { matchLabels: { app: 'web', tier: 'x' } };
    expect(immutableFields('Deployment', before, after)).toEqual(['spec.selector.matchLabels.tier']);
  });
});

describe('deploy --diff pieces', () => {
  it('a release not installed: everything is added', () => {
    const d = releaseDiff(undefined, { manifest: manifest(configMap('a', {}), deployment('web')) });
    expect(d.objects.map((o) => o.change)).toEqual(['added', 'added']);
    expect(d.rolls).toEqual([]);
  });

  it('the dry run is the upgrade deploy runs, server side, the values on stdin, the release as JSON', () => {
    const argv = dryRunArgs(
      { bin: 'helm', major: 4, target: { namespace: 'tf', release: 'taskflow' } },
      { chart: '/c', valuesFiles: ['/v.yaml'], createNamespace: true, timeout: '600s' },
    );
    expect(argv).toEqual([
      'helm',
      'upgrade',
      'taskflow',
      '/c',
      '--install',
      '--namespace',
      'tf',
      '-f',
      '-',
      '-f',
      '/v.yaml',
      '--create-namespace',
      '--timeout',
      '600s',
      '--dry-run=server',
      '-o',
      'json',
    ]);
  });

  it('--diff is an option with an example; it does not go with --dry-run, --fresh or --port-forward', () => {
    expect(parseDeployOptions({ diff: true }, {}).diff).toBe(true);
    expect(parseDeployOptions({}, {}).diff).toBe(false);
    for (const o of ['dry-run', 'fresh', 'port-forward'])
      expect(() => parseDeployOptions({ diff: true, [o]: true }, {})).toThrow(
        `--diff and --${o} do not go together`,
      );
    expect(DEPLOY_SPEC.options.diff).toBeDefined();
    expect(DEPLOY_SPEC.examples.some((e) => e.startsWith('npm run deploy -- --diff'))).toBe(true);
  });
});

describe('asking before an upgrade that rolls pods', () => {
  const rolling = diffManifests(
    objs(deployment('web')),
    objs(deployment('web', { image: 'taskflow/web:2' })),
  );
  const quiet = diffManifests(objs(configMap('a', { A: '1' })), objs(configMap('a', { A: '2' })));
  /** A terminal (or not) whose user types `answer`; what was asked is collected. */
  function terminal(isTTY: boolean, answer?: string) {
    const stdin = Object.assign(new PassThrough(), { isTTY });
    if (answer !== undefined) stdin.end(`${answer}\n`);
    return { stdin, invocation: { name: 'deploy', argv: ['-n', 'dev'] } };
  }

  it('on a terminal without --yes: asks; "y" goes on, anything else stops with nothing changed (exit 2)', async () => {
    await expect(confirmRolls(terminal(true, 'y'), false, rolling)).resolves.toBeUndefined();
    await expect(confirmRolls(terminal(true, 'n'), false, rolling)).rejects.toMatchObject({
      message: 'not confirmed: nothing was changed',
      exitCode: 2,
    });
  });

  it('never asks with --yes, without a terminal (CI), or when nothing would roll', async () => {
    // no answer is typed: a question would wait forever
    await expect(confirmRolls(terminal(true), true, rolling)).resolves.toBeUndefined();
    await expect(confirmRolls(terminal(false), false, rolling)).resolves.toBeUndefined();
    await expect(confirmRolls(terminal(true), false, quiet)).resolves.toBeUndefined();
  });
});
