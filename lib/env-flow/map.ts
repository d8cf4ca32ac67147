import type { KubeObject } from '../kubectl.ts';
import type { Settings } from '../env.ts';
import type { ResolvedSecrets } from '../secret-resolution.ts';
import { CHART_VALUE_PATHS } from '../settings-values.ts';
import type { Secret } from '../secrets.ts';

/**
 * THE map of where each setting travels: env key -> chart value -> (Secret or ConfigMap key, found in
 * the render) -> the container env var of the application that reads it (platform.md). validate's
 * `env.flow`, `npm run env-flow` and doctor's `secrets.in-configmap` all read this one table.
 */

/** A workload of the chart (chart contract names). */
export interface WorkloadRef {
  kind: 'Deployment' | 'StatefulSet' | 'CronJob';
  name: string;
}

/** How the value the container sees relates to the setting. */
export type Match =
  /** the exact text */
  | 'equal'
  /** the same origins, in any order, any spacing */
  | 'origins'
  /** a postgresql:// URL whose (percent-decoded) password is the setting */
  | 'db-url'
  /** an http URL whose host is this Service and port its port */
  | { service: string; port: number; path?: string };

/** Where one setting must arrive. */
export type FlowTarget =
  | {
      type: 'env';
      workload: WorkloadRef;
      /** container name; `*` = any container of the pod (the migrations CronJob) */
      container: string;
      init?: boolean;
      envVar: string;
      match: Match;
    }
  /** the tag of the workload's main container image */
  | { type: 'image'; workload: WorkloadRef; container: string }
  /** the storageClassName of the StatefulSet's volume claim template */
  | { type: 'storage'; workload: WorkloadRef };

/** One row of the map. */
export interface FlowSetting {
  /** env key of the settings file, or the env var the chart wires internally (no env key) */
  key: string;
  /** `settings`: an env key users set; `chart`: internal wiring the chart computes */
  kind: 'settings' | 'chart';
  secret: boolean;
  /** chart values that carry it */
  values: readonly string[];
  targets: readonly FlowTarget[];
  /** Why the setting does not travel with these settings (SMTP off, key unset), or undefined when it does. */
  off?: (s: Settings, objects: readonly KubeObject[]) => string | undefined;
  /** The value the container must see (undefined: only presence is proven). Reveals secrets: compare only. */
  expected?: (s: Settings, secrets: ResolvedSecrets) => string | undefined;
}

const DEPLOY = (name: string): WorkloadRef => ({ kind: 'Deployment', name });
const STS = (name: string): WorkloadRef => ({ kind: 'StatefulSet', name });
const SSO = DEPLOY('sso-platform');
const API = DEPLOY('taskflow-api');
const MCP = DEPLOY('mcp-server');
const WEB = DEPLOY('web-dashboard');

const env = (
  workload: WorkloadRef,
  container: string,
  envVar: string,
  match: Match = 'equal',
  init = false,
) => ({ type: 'env', workload, container, envVar, match, ...(init && { init }) }) as const;
const ssoEnv = (envVar: string, match: Match = 'equal') => env(SSO, 'sso-platform', envVar, match);
const reveal = (s: Secret | undefined) => s?.reveal();

const smtpOff = (s: Settings) =>
  s.sso.smtp ? undefined : 'SMTP is off (SMTP_HOST is not set): the SSO gets no SMTP settings';
const smtpUnset = (key: string, has: (s: Settings) => boolean) => (s: Settings) =>
  smtpOff(s) ?? (has(s) ? undefined : `${key} is not set`);

const values = (key: string) => CHART_VALUE_PATHS[key] ?? [];

/** The settings that reach containers, each with every place it must arrive. */
export const FLOW: readonly FlowSetting[] = [
  {
    key: 'POSTGRES_SSO_PASSWORD',
    kind: 'settings',
    secret: true,
    values: values('POSTGRES_SSO_PASSWORD'),
    targets: [
      env(STS('sso-postgres'), 'postgres', 'POSTGRES_PASSWORD'),
      ssoEnv('DATABASE_URL', 'db-url'),
      env(SSO, 'migrate', 'DATABASE_URL', 'db-url', true),
      env({ kind: 'CronJob', name: 'sso-migrate' }, '*', 'DATABASE_URL', 'db-url'),
    ],
    expected: (_s, x) => x.ssoDbPassword.reveal(),
  },
  {
    key: 'POSTGRES_API_PASSWORD',
    kind: 'settings',
    secret: true,
    values: values('POSTGRES_API_PASSWORD'),
    targets: [
      env(STS('api-postgres'), 'postgres', 'POSTGRES_PASSWORD'),
      env(API, 'taskflow-api', 'DATABASE_URL', 'db-url'),
      env(API, 'taskflow-api', 'TASKFLOW_CHATKIT_DATABASE_URL', 'db-url'),
    ],
    expected: (_s, x) => x.apiDbPassword.reveal(),
  },
  {
    key: 'BETTER_AUTH_SECRET',
    kind: 'settings',
    secret: true,
    values: values('BETTER_AUTH_SECRET'),
    targets: [ssoEnv('BETTER_AUTH_SECRET')],
    expected: (_s, x) => x.authSecret.reveal(),
  },
  {
    key: 'BETTER_AUTH_URL',
    kind: 'settings',
    secret: false,
    values: values('BETTER_AUTH_URL'),
    targets: [ssoEnv('BETTER_AUTH_URL')],
    expected: (s) => s.sso.authUrl,
  },
  {
    key: 'ALLOWED_ORIGINS',
    kind: 'settings',
    secret: false,
    values: values('ALLOWED_ORIGINS'),
    targets: [ssoEnv('ALLOWED_ORIGINS', 'origins'), env(API, 'taskflow-api', 'ALLOWED_ORIGINS', 'origins')],
    expected: (s) => s.sso.allowedOrigins.join(','),
  },
  {
    key: 'NODE_ENV',
    kind: 'settings',
    secret: false,
    values: values('NODE_ENV'),
    targets: [ssoEnv('NODE_ENV')],
    expected: (s) => s.sso.nodeEnv,
  },
  {
    key: 'SMTP_HOST',
    kind: 'settings',
    secret: false,
    values: values('SMTP_HOST'),
    targets: [ssoEnv('SMTP_HOST')],
    off: smtpOff,
    expected: (s) => s.sso.smtp?.host,
  },
  {
    key: 'SMTP_PORT',
    kind: 'settings',
    secret: false,
    values: values('SMTP_PORT'),
    targets: [ssoEnv('SMTP_PORT')],
    off: smtpOff,
    expected: (s) => (s.sso.smtp ? String(s.sso.smtp.port) : undefined),
  },
  {
    key: 'SMTP_USER',
    kind: 'settings',
    secret: false,
    values: values('SMTP_USER'),
    targets: [ssoEnv('SMTP_USER')],
    off: smtpUnset('SMTP_USER', (s) => s.sso.smtp?.user !== undefined),
    expected: (s) => s.sso.smtp?.user,
  },
  {
    key: 'SMTP_PASS',
    kind: 'settings',
    secret: true,
    values: values('SMTP_PASS'),
    targets: [ssoEnv('SMTP_PASS')],
    off: smtpUnset('SMTP_PASS', (s) => s.sso.smtp?.password !== undefined),
    expected: (s) => reveal(s.sso.smtp?.password),
  },
  {
    key: 'SMTP_SECURE',
    kind: 'settings',
    secret: false,
    values: values('SMTP_SECURE'),
    targets: [ssoEnv('SMTP_SECURE')],
    off: smtpOff,
    expected: (s) => (s.sso.smtp ? String(s.sso.smtp.secure) : undefined),
  },
  {
    key: 'EMAIL_FROM',
    kind: 'settings',
    secret: false,
    values: values('EMAIL_FROM'),
    targets: [ssoEnv('EMAIL_FROM')],
    off: smtpUnset('EMAIL_FROM', (s) => s.sso.smtp?.from !== undefined),
    expected: (s) => s.sso.smtp?.from,
  },
  {
    key: 'OPENAI_API_KEY',
    kind: 'settings',
    secret: true,
    values: values('OPENAI_API_KEY'),
    targets: [env(API, 'taskflow-api', 'OPENAI_API_KEY')],
    off: (s) => (s.api.openaiApiKey ? undefined : 'OPENAI_API_KEY is not set (optional)'),
    expected: (s) => reveal(s.api.openaiApiKey),
  },
  {
    key: 'TASKFLOW_IMAGE_TAG',
    kind: 'settings',
    secret: false,
    values: values('TASKFLOW_IMAGE_TAG'),
    targets: [
      { type: 'image', workload: SSO, container: 'sso-platform' },
      { type: 'image', workload: API, container: 'taskflow-api' },
      { type: 'image', workload: MCP, container: 'mcp-server' },
      { type: 'image', workload: WEB, container: 'web-dashboard' },
    ],
    off: (s) => (s.imageTag ? undefined : 'TASKFLOW_IMAGE_TAG is not set: the chart default tags apply'),
    expected: (s) => s.imageTag,
  },
  {
    key: 'TASKFLOW_STORAGE_CLASS',
    kind: 'settings',
    secret: false,
    values: values('TASKFLOW_STORAGE_CLASS'),
    targets: [
      { type: 'storage', workload: STS('sso-postgres') },
      { type: 'storage', workload: STS('api-postgres') },
    ],
    off: (s) =>
      s.storageClass ? undefined : 'TASKFLOW_STORAGE_CLASS is not set: the cluster default class is used',
    expected: (s) => s.storageClass,
  },
  ...(['TASKFLOW_NAMESPACE', 'TASKFLOW_RELEASE', 'TASKFLOW_ACCESS'] as const).map((key): FlowSetting => ({
    key,
    kind: 'settings',
    secret: false,
    values: [],
    targets: [],
    off: () => 'read by the scripts only (no container reads it)',
  })),
  wiring('SSO_URL', API, 'taskflow-api', 'sso-platform', 3001),
  wiring('MCP_SERVER_URL', API, 'taskflow-api', 'mcp-server', 8001, '/mcp'),
  wiring('TASKFLOW_API_URL', MCP, 'mcp-server', 'taskflow-api', 8000),
  wiring('TASKFLOW_SSO_URL', MCP, 'mcp-server', 'sso-platform', 3001),
  wiring('SERVER_API_URL', WEB, 'web-dashboard', 'taskflow-api', 8000),
  wiring('SERVER_SSO_URL', WEB, 'web-dashboard', 'sso-platform', 3001),
  // Without SMTP (and without Mailpit) new users could sign up but never verify, so never sign in.
  {
    key: 'DISABLE_EMAIL_VERIFICATION',
    kind: 'chart',
    secret: false,
    values: [],
    targets: [ssoEnv('DISABLE_EMAIL_VERIFICATION')],
    off: (s, objects) =>
      s.sso.smtp
        ? 'SMTP is configured: e-mail verification stays on'
        : objects.some((o) => o.kind === 'Deployment' && o.metadata.name === 'mailpit')
          ? 'Mailpit catches the mail: e-mail verification stays on'
          : undefined,
    expected: () => 'true',
  },
  // The MCP must listen on every interface (its Service reaches it through the pod IP) on the port its
  // Service targets.
  fixed('TASKFLOW_MCP_HOST', MCP, 'mcp-server', '0.0.0.0'),
  fixed('TASKFLOW_MCP_PORT', MCP, 'mcp-server', '8001'),
];

/** A variable the chart sets to one fixed value the application needs. */
function fixed(envVar: string, workload: WorkloadRef, container: string, value: string): FlowSetting {
  return {
    key: envVar,
    kind: 'chart',
    secret: false,
    values: [],
    targets: [env(workload, container, envVar)],
    expected: () => value,
  };
}

function wiring(
  envVar: string,
  workload: WorkloadRef,
  container: string,
  service: string,
  port: number,
  path?: string,
): FlowSetting {
  return {
    key: envVar,
    kind: 'chart',
    secret: false,
    values: [],
    targets: [env(workload, container, envVar, { service, port, ...(path !== undefined && { path }) })],
  };
}

/** Env vars the old chart injected that no application reads (platform.md): carrying them over is a smell. */
export const DEAD_VARIABLES: readonly string[] = [
  'JWT_SECRET',
  'MCP_API_KEY',
  'DATABASE_PASSWORD',
  'DATABASE_HOST',
  'DATABASE_PORT',
  'DATABASE_NAME',
  'DATABASE_USER',
  'ENV',
  'CORS_ORIGINS',
];

/** Container env vars that carry secrets (from the map), plus any name that looks like one. */
export const SECRET_ENV_VARS: ReadonlySet<string> = new Set(
  FLOW.filter((f) => f.secret).flatMap((f) => f.targets.flatMap((t) => (t.type === 'env' ? [t.envVar] : []))),
);

/** The rows for a list of names: env keys or container env vars (all rows when the list is empty). */
export function selectFlow(names: readonly string[]): { rows: FlowSetting[]; unknown: string[] } {
  if (names.length === 0) return { rows: [...FLOW], unknown: [] };
  const wanted = names.map((n) => n.toUpperCase());
  const rows = FLOW.filter(
    (f) => wanted.includes(f.key) || f.targets.some((t) => t.type === 'env' && wanted.includes(t.envVar)),
  );
  const unknown = wanted.filter(
    (n) => !FLOW.some((f) => f.key === n || f.targets.some((t) => t.type === 'env' && t.envVar === n)),
  );
  return { rows, unknown };
}
