import { renderChart, type K8sObject, type RenderOptions } from '../support/chart.ts';
import type { ToolsetName } from '../support/tools.ts';

/** A data add-on using every feature the chart renders (values as the add-on converter writes them). */
export const FULL_ADDON = {
  enabled: true,
  title: 'DB UI',
  image: 'adminer:4.8.1-standalone',
  ports: [
    { name: 'http', port: 8080, forward: 8091 },
    { name: 'metrics', port: 9090, service: 80 },
  ],
  env: [
    { name: 'ADMINER_DEFAULT_SERVER', fact: 'sso.database.host' },
    { name: 'PGPASS', secret: { name: 'sso-postgres', key: 'password' } },
    { name: 'AUTH_URL', configMap: { name: 'sso-platform', key: 'BETTER_AUTH_URL' } },
  ],
  files: [
    { path: '/etc/dbui/servers.json', content: '{"servers": ["sso-postgres", "api-postgres"]}' },
    { path: '/run/secrets/api-password', secret: { name: 'api-postgres', key: 'password' } },
    { path: '/etc/dbui/auth-url', configMap: { name: 'sso-platform', key: 'BETTER_AUTH_URL' } },
  ],
  volumes: [
    { name: 'cache', path: '/var/cache/dbui', size: '64Mi' },
    { name: 'store', path: '/srv/store', size: '2Gi', persistent: true },
  ],
  resources: { requests: { cpu: '20m', memory: '48Mi' }, limits: { cpu: '300m', memory: '384Mi' } },
  securityContext: { runAsUser: 2000, runAsGroup: 2001, fsGroup: 2002, readOnlyRootFilesystem: true },
  serviceAccountToken: false,
  command: ['/usr/local/bin/dbui'],
  args: ['--listen', '0.0.0.0:8080'],
  readiness: { path: '/healthz', port: 'http' },
  liveness: { path: '/livez', port: 'http' },
  startupSeconds: 60,
  databases: ['sso', 'api'],
};

/** A data add-on with only what is required. */
export const MINIMAL_ADDON = {
  enabled: true,
  image: 'ghcr.io/example/notes:v1.2.3',
  ports: [{ name: 'web', port: 3000 }],
};

/** Release and namespace every profile renders into (not the defaults, so hard-coded ones show). */
export const RELEASE = 'tf-release';
export const NAMESPACE = 'tf-space';

/** The value sets the chart tests render: the two profiles, the add-ons, and the secret variants. */
export const PROFILES = {
  default: {},
  dev: { valuesFiles: ['values-dev.yaml'] },
  prod: { valuesFiles: ['values-prod.yaml'] },
  pgadmin: { values: { pgadmin: { enabled: true } } },
  mailpit: { values: { mailpit: { enabled: true } } },
  /** Both add-ons at once, as `npm run pgadmin` then `npm run addon -- mailpit` leave a release. */
  addons: { values: { pgadmin: { enabled: true }, mailpit: { enabled: true } } },
  smtp: {
    values: {
      sso: {
        smtp: {
          host: 'smtp.example.com',
          port: 587,
          user: 'mailer',
          password: 'smtp-pass-value',
          from: 'TaskFlow <no-reply@example.com>',
        },
      },
    },
  },
  given: {
    values: {
      sso: {
        auth: { secret: 'a'.repeat(48) },
        database: { password: 'given-sso-password-0123' },
      },
      api: { database: { password: 'given-api-password-0123' }, openaiApiKey: 'sk-test-openai-key' },
      pgadmin: { enabled: true, password: 'given-pgadmin-password' },
    },
  },
  existingSecret: {
    values: {
      sso: {
        existingSecret: 'my-auth',
        database: { existingSecret: 'my-sso-db', existingSecretKey: 'pw' },
      },
      api: {
        database: { existingSecret: 'my-api-db' },
        migrations: { command: ['python', '-m', 'migrate'] },
      },
      pgadmin: { enabled: true },
    },
  },
  externalDb: {
    valuesFiles: ['values-prod.yaml'],
    values: {
      sso: {
        database: { host: 'ep-quiet-bird-123456.eu-central-1.aws.neon.tech', password: 'external-sso-pass' },
      },
      api: {
        database: {
          host: 'api-db.example.com',
          existingSecret: 'api-db-creds',
          sslmode: 'verify-full',
          caSecret: 'api-db-ca',
        },
      },
      pgadmin: { enabled: true },
    },
  },
  /** An SSO database outside the cluster reached without TLS (the SSO's plain driver needs sslmode=disable). */
  externalPlain: {
    values: {
      sso: { database: { host: 'pg.internal.example', password: 'external-sso-pass', sslmode: 'disable' } },
      api: { database: { host: 'pg.internal.example', password: 'external-api-pass', sslmode: 'require' } },
    },
  },
  /** SMTP on without a sender: the chart's default sender must reach the SSO. */
  smtpNoSender: {
    values: {
      sso: {
        smtp: {
          host: 'smtp.example.com',
          port: 465,
          secure: true,
          user: 'mailer',
          password: 'smtp-pass-value',
        },
      },
    },
  },
  /** Mailpit on with a sender of the user's. */
  mailpitSender: {
    values: { mailpit: { enabled: true }, sso: { smtp: { from: 'Dev <dev@example.com>' } } },
  },
  /** Two data add-ons rendered from the generic templates: every feature, and the least. */
  dataAddons: { values: { addons: { dbui: FULL_ADDON, notes: MINIMAL_ADDON } } },
} satisfies Record<string, Pick<RenderOptions, 'values' | 'valuesFiles'>>;

export type ProfileName = keyof typeof PROFILES;
export const PROFILE_NAMES = Object.keys(PROFILES) as ProfileName[];

const cache = new Map<string, Promise<K8sObject[]>>();

/** The objects a profile renders to (rendered once per test file and toolset, then shared). */
export function render(profile: ProfileName, toolset: ToolsetName = 'v35'): Promise<K8sObject[]> {
  const id = `${profile}/${toolset}`;
  let p = cache.get(id);
  if (!p) {
    p = renderChart({ ...PROFILES[profile], toolset, release: RELEASE, namespace: NAMESPACE });
    cache.set(id, p);
  }
  return p;
}
