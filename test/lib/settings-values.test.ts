import { describe, expect, it } from 'vitest';
import { parse, stringify } from 'yaml';
import { valuesStdin } from '../../lib/helm.ts';
import { KNOWN_KEYS, parseEnvText, parseSettings, type Settings } from '../../lib/env.ts';
import type { ResolvedSecrets } from '../../lib/secret-resolution.ts';
import { Secret } from '../../lib/secrets.ts';
import { CHART_VALUE_PATHS, settingsToValues } from '../../lib/settings-values.ts';

const settingsOf = (text: string): Settings => {
  const { settings, problems } = parseSettings(parseEnvText('.env', text).file, {});
  expect(problems.filter((p) => p.severity === 'error')).toEqual([]);
  return settings;
};

const secrets: ResolvedSecrets = {
  ssoDbPassword: new Secret('sso-db-pw'),
  apiDbPassword: new Secret('api-db-pw'),
  authSecret: new Secret('auth-secret'),
  sources: {
    POSTGRES_SSO_PASSWORD: 'generated',
    POSTGRES_API_PASSWORD: 'cluster',
    BETTER_AUTH_SECRET: 'env-file',
  },
  written: [],
  existing: [],
};

const FULL = [
  'BETTER_AUTH_URL=https://sso.example.com',
  'ALLOWED_ORIGINS=https://app.example.com,https://sso.example.com',
  'NODE_ENV=production',
  'SMTP_HOST=smtp.example.com',
  'SMTP_PORT=465',
  'SMTP_USER=mailer',
  'SMTP_PASS=mail-pw',
  'EMAIL_FROM=TaskFlow <no-reply@example.com>',
  'OPENAI_API_KEY=sk-test',
  'TASKFLOW_IMAGE_TAG=sha-abc123',
  'TASKFLOW_STORAGE_CLASS=local-path',
  'TASKFLOW_NAMESPACE=team-a',
].join('\n');

/** The values as helm reads them on stdin. */
const revealed = (values: Record<string, unknown>): unknown => parse(valuesStdin(values).reveal());

describe('settingsToValues', () => {
  it('keeps every secret a Secret: printed or serialised, the values show none', () => {
    const values = settingsToValues(settingsOf(FULL), secrets);
    const sso = values.sso as {
      database: { password: unknown };
      auth: { secret: unknown };
      smtp: { password: unknown };
    };
    for (const leaf of [
      sso.database.password,
      sso.auth.secret,
      sso.smtp.password,
      (values.api as { openaiApiKey: unknown }).openaiApiKey,
    ])
      expect(leaf).toBeInstanceOf(Secret);
    const shown = `${JSON.stringify(values)} ${stringify(values)}`;
    for (const v of ['sso-db-pw', 'auth-secret', 'mail-pw', 'api-db-pw', 'sk-test'])
      expect(shown).not.toContain(v);
  });

  it('emits only the values that are set, beside the secrets, for the defaults', () => {
    expect(revealed(settingsToValues(settingsOf(''), secrets))).toEqual({
      sso: {
        database: { password: 'sso-db-pw' },
        auth: {
          secret: 'auth-secret',
          url: 'http://localhost:3001',
          allowedOrigins: ['http://localhost:3000', 'http://localhost:3001'],
        },
        nodeEnv: 'development',
      },
      api: {
        database: { password: 'api-db-pw' },
        allowedOrigins: ['http://localhost:3000', 'http://localhost:3001'],
      },
    });
  });

  it('maps every setting to its chart value', () => {
    expect(revealed(settingsToValues(settingsOf(FULL), secrets, { pgadmin: true, mailpit: false }))).toEqual({
      global: { imageTag: 'sha-abc123', storageClass: 'local-path' },
      sso: {
        database: { password: 'sso-db-pw' },
        auth: {
          secret: 'auth-secret',
          url: 'https://sso.example.com',
          allowedOrigins: ['https://app.example.com', 'https://sso.example.com'],
        },
        nodeEnv: 'production',
        smtp: {
          host: 'smtp.example.com',
          port: 465,
          secure: true,
          user: 'mailer',
          password: 'mail-pw',
          from: 'TaskFlow <no-reply@example.com>',
        },
      },
      api: {
        database: { password: 'api-db-pw' },
        allowedOrigins: ['https://app.example.com', 'https://sso.example.com'],
        openaiApiKey: 'sk-test',
      },
      pgadmin: { enabled: true },
      mailpit: { enabled: false },
    });
  });

  it('passes EMAIL_FROM without SMTP_HOST: Mailpit needs a sender too', () => {
    const values = settingsToValues(settingsOf('EMAIL_FROM=Dev <dev@example.com>\n'), secrets);
    expect((values.sso as Record<string, unknown>).smtp).toEqual({ from: 'Dev <dev@example.com>' });
  });

  it('behind an ingress, the one origin besides the SSO is the web URL; port-forward keeps the default', () => {
    const ingress = settingsOf(
      'TASKFLOW_ACCESS=ingress\nBETTER_AUTH_URL=https://sso.example.com\nALLOWED_ORIGINS=https://app.example.com,https://sso.example.com\n',
    );
    expect(settingsToValues(ingress, secrets).web).toEqual({ url: 'https://app.example.com' });
    expect(settingsToValues(settingsOf(FULL), secrets)).not.toHaveProperty('web');
  });

  it('leaves out the SMTP fields that are not set', () => {
    const values = settingsToValues(settingsOf('SMTP_HOST=mailpit\nSMTP_PORT=1025\n'), secrets);
    expect((values.sso as Record<string, unknown>).smtp).toEqual({
      host: 'mailpit',
      port: 1025,
      secure: false,
    });
  });

  it('renders YAML that helm reads on stdin, origins as a list', () => {
    const yaml = stringify(
      settingsToValues(settingsOf('ALLOWED_ORIGINS=http://a:3000,http://b:3001\n'), secrets),
    );
    expect(yaml).toContain('allowedOrigins:\n      - http://a:3000\n      - http://b:3001\n');
  });

  it('gives every known key a chart path, each of which the full settings fill', () => {
    expect(Object.keys(CHART_VALUE_PATHS).sort()).toEqual([...KNOWN_KEYS].sort());
    const values = settingsToValues(settingsOf(FULL), secrets);
    for (const path of Object.values(CHART_VALUE_PATHS).flat()) {
      const found = path
        .split('.')
        .reduce<unknown>((v, k) => (v as Record<string, unknown> | undefined)?.[k], values);
      expect(found, path).toBeDefined();
    }
  });
});
