import { APP, DATABASES } from './components.ts';
import type { KubeObject } from './kubectl.ts';
import type { Settings } from './env.ts';
import type { ResolvedSecrets } from './secret-resolution.ts';
import { type ContractVar, appTargets, defaultSender, loadContract } from './app-contract.ts';
import { CHART_VALUE_PATHS } from './settings-values.ts';
import type { Secret } from './secrets.ts';
import { MAILPIT_TARGET } from './addon-release.ts';
import { npmRun } from './suggest.ts';

/**
 * THE map of where each setting travels: env key -> chart value -> (Secret or ConfigMap key, found in
 * the render) -> the container env var of the application that reads it. Which container variable
 * carries which setting is the app contract's (charts/taskflow/app-contract.yaml); this module adds how
 * each setting's expected value follows from the settings. validate's `env.flow`, `npm run env-flow`
 * and doctor's `secrets.in-configmap` all read this one table.
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
const SSO = DEPLOY(APP.sso.name);
const API = DEPLOY(APP.api.name);
const MCP = DEPLOY(APP.mcp.name);
const WEB = DEPLOY(APP.web.name);
const reveal = (s: Secret | undefined) => s?.reveal();

const contract = loadContract();

const mailpitOn = (objects: readonly KubeObject[]) =>
  objects.some((o) => o.kind === 'Deployment' && o.metadata.name === 'mailpit');
// The one SMTP rule (lib/addon-release.ts): while Mailpit is on, the env file's SMTP is set aside.
const smtpOff = (s: Settings, objects: readonly KubeObject[]) =>
  !s.sso.smtp
    ? 'SMTP is off (SMTP_HOST is not set): the SSO gets no SMTP settings'
    : mailpitOn(objects)
      ? `set aside while the Mailpit add-on is on: the SSO sends its mail to Mailpit (${MAILPIT_TARGET}); it applies again after ${npmRun('addon', 'mailpit', '--remove')}`
      : undefined;
const smtpUnset =
  (key: string, has: (s: Settings) => boolean) => (s: Settings, objects: readonly KubeObject[]) =>
    smtpOff(s, objects) ?? (has(s) ? undefined : `${key} is not set`);

/**
 * How each setting applies: when it does not travel (`off`) and the value its containers must see.
 * Where it goes is the app contract's: every variable that names the setting.
 */
const SETTING_RULES: Readonly<Record<string, Pick<FlowSetting, 'off' | 'expected'>>> = {
  POSTGRES_SSO_PASSWORD: { expected: (_s, x) => x.ssoDbPassword?.reveal() },
  POSTGRES_API_PASSWORD: { expected: (_s, x) => x.apiDbPassword?.reveal() },
  BETTER_AUTH_SECRET: { expected: (_s, x) => x.authSecret?.reveal() },
  BETTER_AUTH_URL: { expected: (s) => s.sso.authUrl },
  ALLOWED_ORIGINS: { expected: (s) => s.sso.allowedOrigins.join(',') },
  NODE_ENV: { expected: (s) => s.sso.nodeEnv },
  SMTP_HOST: { off: smtpOff, expected: (s) => s.sso.smtp?.host },
  SMTP_PORT: { off: smtpOff, expected: (s) => (s.sso.smtp ? String(s.sso.smtp.port) : undefined) },
  SMTP_USER: {
    off: smtpUnset('SMTP_USER', (s) => s.sso.smtp?.user !== undefined),
    expected: (s) => s.sso.smtp?.user,
  },
  SMTP_PASS: {
    off: smtpUnset('SMTP_PASS', (s) => s.sso.smtp?.password !== undefined),
    expected: (s) => reveal(s.sso.smtp?.password),
  },
  SMTP_SECURE: { off: smtpOff, expected: (s) => (s.sso.smtp ? String(s.sso.smtp.secure) : undefined) },
  // Whenever SMTP reaches the SSO (its own or Mailpit's) it needs a sender: the setting, else the default.
  EMAIL_FROM: {
    off: (s, objects) =>
      s.sso.smtp || mailpitOn(objects)
        ? undefined
        : 'SMTP is off (no SMTP_HOST, no Mailpit): the SSO sends no mail, so it needs no sender',
    expected: (s) => s.sso.emailFrom ?? defaultSender(contract),
  },
  OPENAI_API_KEY: {
    off: (s) => (s.api.openaiApiKey ? undefined : 'OPENAI_API_KEY is not set (optional)'),
    expected: (s) => reveal(s.api.openaiApiKey),
  },
};

/** Chart-wired variables that apply only in some configurations. */
const WIRING_OFF: Readonly<Record<string, FlowSetting['off']>> = {
  // Without SMTP (and without Mailpit) new users could sign up but never verify, so never sign in.
  DISABLE_EMAIL_VERIFICATION: (s, objects) =>
    s.sso.smtp
      ? 'SMTP is configured: e-mail verification stays on'
      : mailpitOn(objects)
        ? 'Mailpit catches the mail: e-mail verification stays on'
        : undefined,
};

/** Every container target of the contract's variables that pass a test, StatefulSets (the databases) first. */
function contractTargets(test: (v: ContractVar) => boolean): FlowTarget[] {
  const out: FlowTarget[] = [];
  for (const app of contract.apps) {
    for (const v of app.runtime.filter(test)) {
      for (const t of appTargets(app)) {
        out.push({
          type: 'env',
          workload: t.workload,
          container: t.container,
          ...(t.init && { init: true }),
          envVar: v.name,
          match: v.wiring && 'service' in v.wiring ? { ...v.wiring } : (v.match ?? 'equal'),
        });
      }
    }
  }
  const rank = (t: FlowTarget) => (t.workload.kind === 'StatefulSet' ? 0 : 1);
  return out.sort((a, b) => rank(a) - rank(b));
}

/** A setting's row: the contract's targets, this module's rules. */
function settingRow(key: string): FlowSetting {
  const vars = contract.apps.flatMap((a) => a.runtime.filter((v) => v.setting === key));
  return {
    key,
    kind: 'settings',
    secret: vars.some((v) => v.secret === true),
    values: CHART_VALUE_PATHS[key] ?? [],
    targets: contractTargets((v) => v.setting === key),
    ...SETTING_RULES[key],
  };
}

/** The chart-wired variables of the contract (in-cluster URLs and fixed values), one row per name. */
function wiringRows(): FlowSetting[] {
  const names = [
    ...new Set(
      contract.apps.flatMap((a) => a.runtime.filter((v) => v.wiring !== undefined).map((v) => v.name)),
    ),
  ];
  return names.map((name): FlowSetting => {
    const vars = contract.apps.flatMap((a) => a.runtime.filter((v) => v.name === name && v.wiring));
    const fixed = vars.map((v) => v.wiring).find((w) => w && 'value' in w && !w.value.includes('{'));
    const off = WIRING_OFF[name];
    return {
      key: name,
      kind: 'chart',
      secret: false,
      values: [],
      targets: contractTargets((v) => v.name === name && v.wiring !== undefined),
      ...(off && { off }),
      ...(fixed && 'value' in fixed && { expected: () => fixed.value }),
    };
  });
}

/** The settings that reach containers, each with every place it must arrive. */
export const FLOW: readonly FlowSetting[] = [
  ...Object.keys(SETTING_RULES).map(settingRow),
  {
    key: 'TASKFLOW_IMAGE_TAG',
    kind: 'settings',
    secret: false,
    values: CHART_VALUE_PATHS.TASKFLOW_IMAGE_TAG ?? [],
    targets: [
      { type: 'image', workload: SSO, container: APP.sso.name },
      { type: 'image', workload: API, container: APP.api.name },
      { type: 'image', workload: MCP, container: APP.mcp.name },
      { type: 'image', workload: WEB, container: APP.web.name },
    ],
    off: (s) => (s.imageTag ? undefined : 'TASKFLOW_IMAGE_TAG is not set: the chart default tags apply'),
    expected: (s) => s.imageTag,
  },
  {
    key: 'TASKFLOW_STORAGE_CLASS',
    kind: 'settings',
    secret: false,
    values: CHART_VALUE_PATHS.TASKFLOW_STORAGE_CLASS ?? [],
    targets: [
      { type: 'storage', workload: STS(DATABASES.sso.statefulSet) },
      { type: 'storage', workload: STS(DATABASES.api.statefulSet) },
    ],
    off: (s) =>
      s.storageClass ? undefined : 'TASKFLOW_STORAGE_CLASS is not set: the cluster default class is used',
    expected: (s) => s.storageClass,
  },
  ...(['TASKFLOW_NAMESPACE', 'TASKFLOW_RELEASE', 'TASKFLOW_ACCESS', 'TASKFLOW_CONTEXT'] as const).map(
    (key): FlowSetting => ({
      key,
      kind: 'settings',
      secret: false,
      values: [],
      targets: [],
      off: () => 'read by the scripts only (no container reads it)',
    }),
  ),
  ...wiringRows(),
];

/** Env vars the old chart injected that no application reads (the app contract): carrying them over is a smell. */
export const DEAD_VARIABLES: readonly string[] = contract.dead;

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
