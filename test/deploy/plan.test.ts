import { describe, expect, it } from 'vitest';
import { parseDeployOptions } from '../../lib/deploy/options.ts';
import { deployValues, maskedValuesYaml, stickyValues } from '../../lib/deploy/plan.ts';
import { checkObjects, splitManifest, validateSchemas } from '../../lib/chart.ts';
import { backupFile, confirmFresh, dumpArgs } from '../../lib/deploy/fresh.ts';
import { DATABASES } from '../../lib/components.ts';
import { parseSettings } from '../../lib/env.ts';
import { RESOLVED_SECRETS } from '../support/secrets.ts';
import { Readable, Writable } from 'node:stream';
import { renderChart } from '../support/chart.ts';
import { parseDuration } from '../../lib/time.ts';
import {
  BUILTIN_ADDONS_DIR,
  addonSwitches,
  definitionValues,
  definitionValuesByName,
  loadAddonDefinitions,
} from '../../lib/addon-defs.ts';
import { ExitCode, type UsageError } from '../../lib/errors.ts';
import { getPath } from '../../lib/values.ts';

const settings = parseSettings(
  { path: '.env', exists: false, entries: new Map(), duplicates: new Map() },
  {},
).settings;
const secrets = RESOLVED_SECRETS;

describe('options', () => {
  it.each([
    ['10m', 600_000],
    ['90s', 90_000],
    ['1h30m', 5_400_000],
    ['500ms', 500],
    ['45', 45_000],
    ['1.5m', 90_000],
    ['ten', undefined],
    ['10 m', undefined],
    ['0s', undefined],
  ])('parseDuration(%s) = %s', (t, ms) => expect(parseDuration(t)).toBe(ms));

  it('defaults and contradictions', () => {
    expect(parseDeployOptions({}, {})).toMatchObject({
      timeoutMs: 600_000,
      timeout: '600s',
      backup: true,
      dryRun: false,
    });
    expect(() => parseDeployOptions({ timeout: 'soon' }, {})).toThrow(/--timeout: "soon" is not a duration/);
    expect(() => parseDeployOptions({ 'no-backup': true }, {})).toThrow(/only makes sense with --fresh/);
    expect(() => parseDeployOptions({ builder: 'podman' }, {})).toThrow(/not minikube or docker/);
    expect(parseDeployOptions({}, { TASKFLOW_SRC: '/src' }).src).toBe('/src');
  });

  it('--addon is repeatable and takes comma lists; --pgadmin is --addon pgadmin', () => {
    expect(
      parseDeployOptions({ addon: ['adminer,swagger-ui', 'mailpit', 'adminer'], pgadmin: true }, {}).addons,
    ).toEqual(['pgadmin', 'adminer', 'swagger-ui', 'mailpit']);
    expect(parseDeployOptions({}, {}).addons).toEqual([]);
  });
});

describe('add-ons of a deploy', () => {
  const { defs } = loadAddonDefinitions([BUILTIN_ADDONS_DIR]);

  it('a chart add-on is its switch, a definition its whole addons.<name>; an unknown name is exit 2 before anything', () => {
    const v = addonSwitches(['mailpit', 'adminer'], defs);
    expect(v.mailpit).toEqual({ enabled: true });
    expect(getPath(v, 'addons.adminer')).toEqual(definitionValues(defs.find((d) => d.name === 'adminer')!));
    // Mailpit asked for: the values name no SMTP host of their own (the chart points the SSO at Mailpit).
    expect(getPath(deployValues({ settings, secrets, addons: v }), 'sso.smtp.host')).toBeUndefined();
    const err = (() => {
      try {
        addonSwitches(['adminr'], defs);
      } catch (e) {
        return e as UsageError;
      }
    })();
    expect([err?.message, err?.exitCode]).toEqual([
      '--addon: unknown add-on "adminr" (did you mean adminer?)',
      ExitCode.Usage,
    ]);
    expect(err?.hint).toBe(
      'valid add-ons: pgadmin, mailpit, adminer, swagger-ui; see them all: npm run addon -- list',
    );
  });

  it('a redeploy keeps the data add-ons that are on, refreshed to their file when it is found; off ones go', () => {
    const adminer = definitionValuesByName(defs);
    const stale = { ...adminer.adminer, env: [] };
    const previous = {
      addons: {
        adminer: stale,
        gone: { enabled: true, image: { repository: 'x/y', tag: '1' }, ports: [{ name: 'h', port: 80 }] },
        off: { enabled: false, image: { repository: 'x/z', tag: '1' }, ports: [{ name: 'h', port: 80 }] },
      },
    };
    // Without definitions at hand (another folder): kept as the release has them.
    expect(stickyValues(previous, { keepImages: false }).addons).toEqual({
      adminer: stale,
      gone: previous.addons.gone,
    });
    // With them: refreshed to the file, and a definition no longer found is kept as it was.
    const v = deployValues({ settings, secrets, previous, definitions: adminer });
    expect(v.addons).toEqual({ adminer: adminer.adminer, gone: previous.addons.gone });
  });
});

describe('deploy values', () => {
  it('are the same for the same input (a redeploy restarts nothing)', () => {
    expect(JSON.stringify(deployValues({ settings, secrets }))).toBe(
      JSON.stringify(deployValues({ settings, secrets })),
    );
  });

  it('keep add-ons and built image tags of the installed release; --pgadmin and new builds win', () => {
    const built = 'a1b2c3d4e5f6';
    const previous = {
      pgadmin: { enabled: true },
      web: { image: { repository: 'taskflow/web-dashboard', tag: built } },
      mcp: { image: { repository: 'mine/mcp', tag: 'latest' } },
      api: { allowedOrigins: ['x'] },
      global: { imagePullPolicy: 'IfNotPresent' },
    };
    expect(stickyValues(previous, { keepImages: true })).toEqual({
      pgadmin: { enabled: true },
      web: { image: { repository: 'taskflow/web-dashboard', tag: built } },
      global: { imagePullPolicy: 'IfNotPresent' },
    });
    const v = deployValues({ settings, secrets, previous });
    expect(v).toMatchObject({ pgadmin: { enabled: true }, web: { image: { tag: built } } });
    expect(v.mcp).toBeUndefined(); // a one-off -f image override is not carried over
    expect((v.api as { allowedOrigins: string[] }).allowedOrigins).toEqual([
      'http://localhost:3000',
      'http://localhost:3001',
    ]);
    const rebuilt = deployValues({
      settings,
      secrets,
      addons: { pgadmin: { enabled: true } },
      previous,
      images: { web: { image: { tag: 'def' } } },
    });
    expect(rebuilt).toMatchObject({ pgadmin: { enabled: true }, web: { image: { tag: 'def' } } });
    const tagged = { ...settings, imageTag: '1.2.3' };
    expect(deployValues({ settings: tagged, secrets, previous }).web).toBeUndefined();
  });

  it("keep the env file's SMTP while Mailpit stays on, and the chart sends the mail to Mailpit (the one SMTP rule)", async () => {
    const withSmtp = parseSettings(
      { path: '.env', exists: false, entries: new Map(), duplicates: new Map() },
      {
        SMTP_HOST: 'smtp.example.com',
        SMTP_USER: 'u',
        SMTP_PASS: 'smtp-pass-0123456789',
        EMAIL_FROM: 'a@example.com',
      },
    ).settings;
    const previous = { mailpit: { enabled: true } };
    const v = deployValues({ settings: withSmtp, secrets, previous });
    expect(v).toMatchObject({ mailpit: { enabled: true }, sso: { smtp: { host: 'smtp.example.com' } } });
    const objs = await renderChart({ values: v });
    expect(objs.some((o) => o.kind === 'Deployment' && o.metadata.name === 'mailpit')).toBe(true);
    const cm = objs.find((o) => o.kind === 'ConfigMap' && o.metadata.name === 'sso-platform') as
      { data?: Record<string, string> } | undefined;
    expect(cm?.data).toMatchObject({ SMTP_HOST: 'mailpit', SMTP_PORT: '1025' });
    expect(deployValues({ settings: withSmtp, secrets })).toMatchObject({
      sso: { smtp: { host: 'smtp.example.com' } },
    });
  });

  it('print with every secret masked', () => {
    const text = maskedValuesYaml(deployValues({ settings, secrets }));
    for (const s of [secrets.ssoDbPassword, secrets.apiDbPassword, secrets.authSecret])
      expect(text).not.toContain(s!.reveal());
    expect(text).toMatch(/password: ••••••/);
    expect(text).toContain('url: http://localhost:3001');
  });
});

describe('rendered manifests', () => {
  const yaml = `
apiVersion: v1
kind: Service
metadata: { name: web-dashboard, namespace: tf, labels: { app.kubernetes.io/instance: tf } }
spec: { ports: [{ port: 3000 }] }
---
apiVersion: apps/v1
kind: Deployment
metadata: { name: bad, namespace: other, labels: { app.kubernetes.io/instance: tf } }
spec:
  selector: { matchLabels: { a: b } }
  template: { metadata: { labels: { a: b } }, spec: { containers: [{ name: c, image: i, ports: [{ containerPort: "x" }] }] } }
---
`;
  it('checks namespace and labels, and validates against the Kubernetes schemas', async () => {
    const objs = splitManifest(yaml).map((d) => d.object);
    expect(objs).toHaveLength(2);
    expect(checkObjects(objs, { namespace: 'tf', release: 'tf' })).toEqual([
      { object: 'Deployment/bad', message: 'namespace "other" is not the release namespace "tf"' },
    ]);
    const { problems, schemas } = await validateSchemas(objs);
    expect(schemas).toBe(true);
    expect(problems).toEqual([
      { object: 'Deployment/bad', message: expect.stringMatching(/containerPort must be integer/) },
    ]);
  });
});

describe('--fresh', () => {
  it('names backups by release, database and time', () => {
    expect(backupFile('/b', 'tf', 'sso', new Date('2025-03-04T05:06:07.891Z'))).toBe(
      '/b/tf-sso-2025-03-04T05-06-07Z.dump',
    );
    // the dump of `npm run db -- backup`: custom format, as the image's superuser over the local socket
    expect(dumpArgs(DATABASES.api)).toEqual([
      'exec',
      'api-postgres-0',
      '-c',
      'postgres',
      '--',
      'sh',
      '-c',
      'exec pg_dump --format=custom -U "$POSTGRES_USER" -d "$POSTGRES_DB"',
    ]);
  });
  it('without a terminal and without --yes it refuses (exit 2), with --yes it goes on', async () => {
    const stdin = Readable.from([]) as Readable & { isTTY?: boolean };
    const prompt = new Writable({ write: (_c, _e, cb) => cb() });
    await expect(confirmFresh({ namespace: 'tf', yes: false, stdin, prompt })).rejects.toMatchObject({
      exitCode: 2,
      message: expect.stringMatching(/add --yes/),
    });
    await expect(confirmFresh({ namespace: 'tf', yes: true, stdin, prompt })).resolves.toBeUndefined();
  });
  it('on a terminal it wants the namespace name typed', async () => {
    const answer = (text: string) => Object.assign(Readable.from([`${text}\n`]), { isTTY: true });
    const prompt = new Writable({ write: (_c, _e, cb) => cb() });
    await expect(
      confirmFresh({ namespace: 'tf', yes: false, stdin: answer('tf'), prompt }),
    ).resolves.toBeUndefined();
    await expect(confirmFresh({ namespace: 'tf', yes: false, stdin: answer('y'), prompt })).rejects.toThrow(
      /not confirmed/,
    );
  });
});
