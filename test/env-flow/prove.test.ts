import { describe, expect, it } from 'vitest';
import { parseEnvText, parseSettings } from '../../lib/env.ts';
import { BAD_LINKS, type LinkResult, type LinkStatus, proveFlow } from '../../lib/flow-prove.ts';
import type { KubeObject } from '../../lib/kubectl.ts';
import { resolveSecrets } from '../../lib/secret-resolution.ts';
import { FIX, FIX_ENV, contractRender, obj, setKey } from '../fixtures/render.ts';

async function prove(objects: KubeObject[], envText = FIX_ENV): Promise<LinkResult[]> {
  const { settings } = parseSettings(parseEnvText('.env', envText).file, {});
  const secrets = await resolveSecrets(settings, { envFilePath: '.env', writeBack: false });
  return proveFlow(objects, settings, secrets);
}

/** `KEY @ where` -> status, for the links of interest. */
function statusOf(links: LinkResult[], key: string, where: string): LinkStatus | undefined {
  return links.find((l) => l.setting.key === key && (l.where ?? '').includes(where))?.status;
}

type Container = { name: string; env?: unknown[]; envFrom?: unknown[]; image?: string };
const containerOf = (objects: KubeObject[], kind: string, name: string, init = false): Container => {
  const spec = (obj(objects, kind, name).spec as { template: { spec: Record<string, Container[]> } }).template
    .spec;
  const list = (init ? spec.initContainers : spec.containers) ?? [];
  return list[init ? list.length - 1 : 0] as Container;
};

describe('proveFlow on the contract render', () => {
  it('proves every link of a clean render', async () => {
    const links = await prove(contractRender());
    expect(links.filter((l) => BAD_LINKS.has(l.status)).map((l) => `${l.setting.key}: ${l.detail}`)).toEqual(
      [],
    );
    expect(statusOf(links, 'SMTP_PASS', 'container sso-platform env SMTP_PASS')).toBe('ok');
    expect(statusOf(links, 'POSTGRES_SSO_PASSWORD', 'init container migrate env DATABASE_URL')).toBe('ok');
    expect(statusOf(links, 'POSTGRES_SSO_PASSWORD', 'CronJob sso-migrate')).toBe('ok');
    expect(statusOf(links, 'ALLOWED_ORIGINS', 'taskflow-api')).toBe('ok'); // spacing differs, same origins
    expect(statusOf(links, 'MCP_SERVER_URL', 'taskflow-api')).toBe('ok');
    expect(links.find((l) => l.setting.key === 'OPENAI_API_KEY')?.status).toBe('off');
  });

  it('marks SMTP settings unused when SMTP_HOST is missing', async () => {
    const links = await prove(contractRender(), 'SMTP_USER=mailer\nSMTP_PASS=x-secret-value\n');
    expect(links.find((l) => l.setting.key === 'SMTP_USER')).toMatchObject({
      status: 'off',
      detail: expect.stringMatching(/SMTP is off/),
    });
  });

  it('without SMTP proves the SSO gets DISABLE_EMAIL_VERIFICATION=true (unless Mailpit takes the mail)', async () => {
    const noSmtp = 'BETTER_AUTH_URL=http://localhost:3001\n';
    const objects = contractRender();
    expect(statusOf(await prove(objects, noSmtp), 'DISABLE_EMAIL_VERIFICATION', 'sso-platform')).toBe(
      'missing',
    );
    setKey(objects, 'ConfigMap', 'sso-platform', 'DISABLE_EMAIL_VERIFICATION', 'true');
    expect(statusOf(await prove(objects, noSmtp), 'DISABLE_EMAIL_VERIFICATION', 'sso-platform')).toBe('ok');
    const link = (await prove(objects)).find((l) => l.setting.key === 'DISABLE_EMAIL_VERIFICATION');
    expect(link).toMatchObject({ status: 'off', detail: 'SMTP is configured: e-mail verification stays on' });
    objects.push({ kind: 'Deployment', metadata: { name: 'mailpit' } });
    expect(
      (await prove(objects, noSmtp)).find((l) => l.setting.key === 'DISABLE_EMAIL_VERIFICATION'),
    ).toMatchObject({
      status: 'off',
      detail: 'Mailpit catches the mail: e-mail verification stays on',
    });
  });

  const cases: [string, (o: KubeObject[]) => void, string, string, LinkStatus, RegExp][] = [
    [
      'SMTP_PASS missing from the Secret',
      (o) => setKey(o, 'Secret', 'sso-platform', 'SMTP_PASS', undefined),
      'SMTP_PASS',
      'env SMTP_PASS',
      'missing',
      /SMTP_PASS is not set in container sso-platform/,
    ],
    [
      'SMTP_HOST missing from the ConfigMap',
      (o) => setKey(o, 'ConfigMap', 'sso-platform', 'SMTP_HOST', undefined),
      'SMTP_HOST',
      'env SMTP_HOST',
      'missing',
      /not set/,
    ],
    [
      'BETTER_AUTH_SECRET in a ConfigMap',
      (o) => {
        setKey(o, 'Secret', 'sso-platform', 'BETTER_AUTH_SECRET', undefined);
        setKey(o, 'ConfigMap', 'sso-platform', 'BETTER_AUTH_SECRET', FIX.authSecret);
      },
      'BETTER_AUTH_SECRET',
      'env BETTER_AUTH_SECRET',
      'exposed',
      /read from a ConfigMap/,
    ],
    [
      'a raw password with / and + in the URL',
      (o) =>
        setKey(
          o,
          'Secret',
          'sso-platform',
          'DATABASE_URL',
          'postgresql://sso_user:pa/ss+word@sso-postgres:5432/sso_db?sslmode=disable',
        ),
      'POSTGRES_SSO_PASSWORD',
      'container sso-platform env DATABASE_URL',
      'mismatch',
      /not a valid URL \(Invalid URL\): the password must be percent-encoded/,
    ],
    [
      'the SSO URL without sslmode=disable',
      (o) =>
        setKey(
          o,
          'Secret',
          'sso-platform',
          'DATABASE_URL',
          `postgresql://sso_user:${FIX.ssoPw}@sso-postgres:5432/sso_db`,
        ),
      'POSTGRES_SSO_PASSWORD',
      'container sso-platform env DATABASE_URL',
      'mismatch',
      /lacks \?sslmode=disable/,
    ],
    [
      'a keyRef to a key that does not exist',
      (o) => setKey(o, 'Secret', 'sso-platform', 'DATABASE_URL', undefined),
      'POSTGRES_SSO_PASSWORD',
      'init container migrate',
      'broken',
      /Secret sso-platform has no key DATABASE_URL .*CreateContainerConfigError/,
    ],
    [
      'a values file overriding BETTER_AUTH_URL',
      (o) => setKey(o, 'ConfigMap', 'sso-platform', 'BETTER_AUTH_URL', 'http://sso-platform:3001'),
      'BETTER_AUTH_URL',
      'env BETTER_AUTH_URL',
      'mismatch',
      /holds "http:\/\/sso-platform:3001" instead of the setting "http:\/\/localhost:3001"/,
    ],
    [
      'the API reading CORS_ORIGINS only',
      (o) => {
        setKey(o, 'ConfigMap', 'taskflow-api', 'ALLOWED_ORIGINS', undefined);
        setKey(o, 'ConfigMap', 'taskflow-api', 'CORS_ORIGINS', 'http://localhost:3000');
      },
      'ALLOWED_ORIGINS',
      'taskflow-api',
      'missing',
      /not set/,
    ],
    [
      'the MCP pointing at a compose name',
      (o) => setKey(o, 'ConfigMap', 'mcp-server', 'TASKFLOW_API_URL', 'http://api:8000'),
      'TASKFLOW_API_URL',
      'mcp-server',
      'mismatch',
      /points at api:8000, not the Service taskflow-api:8000/,
    ],
    [
      'the MCP listening on loopback only',
      (o) => setKey(o, 'ConfigMap', 'mcp-server', 'TASKFLOW_MCP_HOST', '127.0.0.1'),
      'TASKFLOW_MCP_HOST',
      'mcp-server',
      'mismatch',
      /holds "127\.0\.0\.1" instead of the setting "0\.0\.0\.0"/,
    ],
    [
      'the web dashboard disabled',
      (o) => o.splice(o.indexOf(obj(o, 'Deployment', 'web-dashboard')), 1),
      'SERVER_API_URL',
      'web-dashboard',
      'absent',
      /not deployed/,
    ],
    [
      'an existingSecret outside the release',
      (o) => {
        const c = containerOf(o, 'StatefulSet', 'sso-postgres');
        c.env = [
          { name: 'POSTGRES_PASSWORD', valueFrom: { secretKeyRef: { name: 'my-db-secret', key: 'pw' } } },
        ];
      },
      'POSTGRES_SSO_PASSWORD',
      'StatefulSet sso-postgres',
      'external',
      /Secret my-db-secret is not part of the release/,
    ],
    [
      'a secret written into the pod spec',
      (o) => {
        setKey(o, 'Secret', 'sso-platform', 'BETTER_AUTH_SECRET', undefined);
        containerOf(o, 'Deployment', 'sso-platform').env = [
          { name: 'BETTER_AUTH_SECRET', value: FIX.authSecret },
        ];
      },
      'BETTER_AUTH_SECRET',
      'env BETTER_AUTH_SECRET',
      'exposed',
      /written into the pod spec/,
    ],
    [
      'a URL composed with $(VAR) from a Secret',
      (o) => {
        setKey(o, 'Secret', 'sso-platform', 'DATABASE_URL', undefined);
        const c = containerOf(o, 'Deployment', 'sso-platform');
        c.env = [
          { name: 'DB_PASSWORD', valueFrom: { secretKeyRef: { name: 'sso-postgres', key: 'password' } } },
          {
            name: 'DATABASE_URL',
            value: 'postgresql://sso_user:$(DB_PASSWORD)@sso-postgres:5432/sso_db?sslmode=disable',
          },
        ];
      },
      'POSTGRES_SSO_PASSWORD',
      'container sso-platform env DATABASE_URL',
      'ok',
      /pod spec value with Secret sso-postgres key password/,
    ],
  ];

  it.each(cases)('%s', async (_name, mutate, key, where, status, detail) => {
    const objects = contractRender();
    mutate(objects);
    const links = await prove(objects);
    const link = links.find((l) => l.setting.key === key && (l.where ?? '').includes(where));
    expect(link?.status).toBe(status);
    expect(`${link?.via ?? ''} ${link?.detail ?? ''}`).toMatch(detail);
    // Never a secret value in what a user sees.
    for (const s of Object.values(FIX)) expect(`${link?.detail ?? ''} ${link?.via ?? ''}`).not.toContain(s);
  });

  it('checks the image tag and storage class settings', async () => {
    const env = `${FIX_ENV}TASKFLOW_IMAGE_TAG=abc123\nTASKFLOW_STORAGE_CLASS=fast\n`;
    const links = await prove(contractRender(), env);
    expect(statusOf(links, 'TASKFLOW_IMAGE_TAG', 'web-dashboard')).toBe('mismatch');
    expect(links.find((l) => l.setting.key === 'TASKFLOW_IMAGE_TAG')?.detail).toBe(
      'runs tag 1.0.0, not abc123 (a values file sets the image tag?)',
    );
    expect(statusOf(links, 'TASKFLOW_STORAGE_CLASS', 'sso-postgres')).toBe('mismatch');
  });
});
