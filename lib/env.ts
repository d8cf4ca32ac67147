import { UsageError } from './errors.ts';
import { Secret } from './secrets.ts';
import {
  type EnvEntry,
  type EnvFile,
  type Problem,
  formatProblems,
  isSecretKey,
  readEnvFile,
  textOf,
} from './envfile.ts';

import { type KnownKey, KNOWN_KEYS, didYouMean, isRecognisedKey } from './env-keys.ts';

export { type KnownKey, KNOWN_KEYS, TOOL_KEYS, didYouMean, isRecognisedKey } from './env-keys.ts';
export {
  type EnvEntry,
  type EnvFile,
  type Problem,
  formatProblems,
  isSecretKey,
  parseEnvText,
  problemLocation,
  readEnvFile,
  textOf,
} from './envfile.ts';

/** Where a setting's value came from; `option` is a command-line flag such as `--namespace`. */
export type SettingSource = 'env-file' | 'process-env' | 'default' | 'generated' | 'cluster' | 'option';

export const DEFAULTS = {
  namespace: 'taskflow',
  release: 'taskflow',
  access: 'port-forward',
  authUrl: 'http://localhost:3001',
  allowedOrigins: 'http://localhost:3000,http://localhost:3001',
  smtpPort: 587,
} as const;

export interface SmtpSettings {
  host: string;
  port: number;
  user?: string;
  password?: Secret;
  secure: boolean;
}

/** Every setting, typed, after defaults; secrets stay `Secret`. */
export interface Settings {
  namespace: string;
  release: string;
  access: 'port-forward' | 'ingress';
  imageTag?: string;
  /** TASKFLOW_CONTEXT: a context that is not local which the writing commands may act on */
  context?: string;
  storageClass?: string;
  sso: {
    dbPassword?: Secret;
    authSecret?: Secret;
    authUrl: string;
    allowedOrigins: string[];
    nodeEnv: 'development' | 'production';
    smtp?: SmtpSettings;
    /** EMAIL_FROM: the sender of every mail, also Mailpit's (the chart's default sender applies when unset) */
    emailFrom?: string;
  };
  api: { dbPassword?: Secret; openaiApiKey?: Secret; allowedOrigins: string[] };
  /** env key -> where its value came from (absent: not set and no default) */
  sources: Record<string, SettingSource>;
  /** env key -> the entry that won (secret keys hold a `Secret`), for checks that need the raw text */
  raw: Map<string, EnvEntry>;
}

/** A DNS-1123 label (namespace, release, Service names): lower-case alphanumerics and '-'. */
export function isDnsLabel(s: string, max = 63): boolean {
  return s.length <= max && /^[a-z0-9]([-a-z0-9]*[a-z0-9])?$/.test(s);
}

/** A password that can go into a postgresql:// URL without encoding (hex always qualifies). */
export function isUrlSafePassword(s: string): boolean {
  return /^[A-Za-z0-9._~-]+$/.test(s);
}

const PLACEHOLDERS =
  /^(change[-_ ]?me.*|password|passwd|secret|default|example|admin|postgres|test|todo|tbd|xxx+|x+|\*+|\.\.\.|<.*>|\$\{.*\}|(your|my|replace|insert|put)[-_ ].*)$/i;

/** An empty value, `changeme…`, `<your-secret>` and other values copied from an example file. */
export function isPlaceholder(s: string): boolean {
  return s.trim() === '' || PLACEHOLDERS.test(s.trim());
}

/** A TCP port number 1-65535 written as digits, else undefined. */
export function parsePort(s: string): number | undefined {
  const n = /^\d{1,5}$/.test(s.trim()) ? Number(s.trim()) : NaN;
  return n >= 1 && n <= 65535 ? n : undefined;
}

/** true/false, 1/0, yes/no, on/off (any case), else undefined. */
export function parseBoolean(s: string): boolean | undefined {
  const v = s.trim().toLowerCase();
  if (['true', '1', 'yes', 'on'].includes(v)) return true;
  if (['false', '0', 'no', 'off'].includes(v)) return false;
  return undefined;
}

/** The origins of a comma-separated list, trimmed, empty items dropped. */
export function parseOrigins(s: string): string[] {
  return s
    .split(',')
    .map((o) => o.trim())
    .filter((o) => o !== '');
}

/** An absolute http:// or https:// URL. */
export function isHttpUrl(s: string): boolean {
  try {
    return ['http:', 'https:'].includes(new URL(s).protocol);
  } catch {
    return false;
  }
}

function unknownKey(key: string, line: number | undefined, source: 'env-file' | 'process-env'): Problem {
  const guess = didYouMean(key);
  return {
    key,
    line,
    source,
    severity: 'warn',
    message: 'unknown key, ignored',
    hint: guess
      ? `did you mean ${guess}?`
      : 'the suite reads only the keys listed by `npm run env-flow`; set other chart values in a file passed with -f',
  };
}

const shown = (s: string): string => JSON.stringify(s.length > 60 ? `${s.slice(0, 57)}...` : s);

type Converted<T> = { ok: T } | { bad: [message: string, hint: string] };
const bad = (message: string, hint: string): { bad: [string, string] } => ({ bad: [message, hint] });
const text = (s: string) => ({ ok: s.trim() });
const secret = (s: string) => ({ ok: new Secret(s) });
const oneOf =
  <T extends string>(...values: T[]) =>
  (s: string): Converted<T> => {
    const v = values.find((x) => x === s.trim());
    return v
      ? { ok: v }
      : bad(`${shown(s)} is not one of ${values.join(', ')}`, `set ${values.join(' or ')}`);
  };
/** A converter for a trimmed string that must pass a test. */
const check = (test: (s: string) => boolean, what: string, hint: string) => (s: string) =>
  test(s.trim()) ? { ok: s.trim() } : bad(`${shown(s)} is not ${what}`, hint);
const dnsName = (what: string, max: number) =>
  check(
    (s) => isDnsLabel(s, max),
    `a valid ${what} name`,
    `use at most ${max} lower-case letters, digits and '-'`,
  );

/** How each key's text becomes a typed value, or why it cannot. */
const CONVERTERS = {
  POSTGRES_SSO_PASSWORD: secret,
  POSTGRES_API_PASSWORD: secret,
  BETTER_AUTH_SECRET: secret,
  BETTER_AUTH_URL: check(
    isHttpUrl,
    'an http(s) URL',
    `the URL the browser opens for the SSO, e.g. ${DEFAULTS.authUrl}`,
  ),
  ALLOWED_ORIGINS: (s: string) => ({ ok: parseOrigins(s) }),
  NODE_ENV: oneOf('development', 'production'),
  SMTP_HOST: text,
  SMTP_PORT: (s: string) =>
    parsePort(s) !== undefined
      ? { ok: parsePort(s) as number }
      : bad(
          `${shown(s)} is not a port number`,
          'use a whole number from 1 to 65535: 587 (STARTTLS) or 465 (TLS)',
        ),
  SMTP_USER: text,
  SMTP_PASS: secret,
  SMTP_SECURE: (s: string) =>
    parseBoolean(s) !== undefined
      ? { ok: parseBoolean(s) as boolean }
      : bad(`${shown(s)} is not a boolean`, 'use true or false'),
  EMAIL_FROM: text,
  OPENAI_API_KEY: secret,
  TASKFLOW_NAMESPACE: dnsName('namespace', 63),
  TASKFLOW_RELEASE: dnsName('release', 53),
  TASKFLOW_ACCESS: oneOf('port-forward', 'ingress'),
  TASKFLOW_IMAGE_TAG: check(
    (s) => /^\w[\w.-]{0,127}$/.test(s),
    'an image tag',
    'up to 128 letters, digits, _ . -',
  ),
  TASKFLOW_STORAGE_CLASS: check(
    (s) => s.length <= 253 && s.split('.').every((l) => isDnsLabel(l)),
    'a storage class name',
    'list the classes with: kubectl get storageclass',
  ),
  TASKFLOW_CONTEXT: check(
    (s) => /^[^\s]{1,253}$/.test(s),
    'a kube context name',
    'list the contexts with: kubectl config get-contexts',
  ),
} satisfies Record<KnownKey, (s: string) => Converted<unknown>>;
type ValueOf<K extends KnownKey> = Extract<ReturnType<(typeof CONVERTERS)[K]>, { ok: unknown }>['ok'];

const PLACE_ORDER = { 'env-file': 0, 'process-env': 1, option: 2 } as const;
// File problems in line order, then the process environment, then options: the order a user fixes them.
const byPlace = (a: Problem, b: Problem): number =>
  PLACE_ORDER[a.source ?? 'env-file'] - PLACE_ORDER[b.source ?? 'env-file'] || (a.line ?? 0) - (b.line ?? 0);

/** Validates the env file plus the process environment (which wins) into typed settings and a problem list. */
export function parseSettings(
  file: EnvFile,
  processEnv: NodeJS.ProcessEnv,
  overrides: { namespace?: string; release?: string } = {},
): { settings: Settings; problems: Problem[] } {
  const problems: Problem[] = [];
  const raw = new Map<string, EnvEntry>();
  const sources: Record<string, SettingSource> = {};
  const known = new Set<string>(KNOWN_KEYS);
  for (const entry of file.entries.values()) {
    if (known.has(entry.key)) raw.set(entry.key, entry);
    else if (!isRecognisedKey(entry.key)) problems.push(unknownKey(entry.key, entry.line, 'env-file'));
  }
  for (const [key, lines] of file.duplicates) {
    const message = `set on lines ${lines.join(', ')}; the last one wins`;
    problems.push({
      key,
      line: lines.at(-1),
      source: 'env-file',
      severity: 'warn',
      message,
      hint: `keep one ${key}= line`,
    });
  }
  // An empty exported variable (e.g. an undefined CI secret) must not blank out the file's value.
  for (const key of KNOWN_KEYS) {
    const v = processEnv[key];
    if (v !== undefined && v !== '') {
      raw.set(key, { key, value: isSecretKey(key) ? new Secret(v) : v, source: 'process-env' });
    }
  }
  // From the process environment only our own prefix is worth a warning: PATH, HOME... are not ours.
  for (const key of Object.keys(processEnv)) {
    if (key.startsWith('TASKFLOW_') && !isRecognisedKey(key) && didYouMean(key)) {
      problems.push(unknownKey(key, undefined, 'process-env'));
    }
  }

  const convert = <K extends KnownKey>(
    key: K,
    s: string,
    at: Pick<Problem, 'line' | 'source'>,
    flag = '',
  ) => {
    const result = (CONVERTERS[key] as (s: string) => Converted<ValueOf<K>>)(s);
    if ('ok' in result) return result.ok;
    const [message, hint] = result.bad;
    problems.push({ key, ...at, severity: 'error', message: flag + message, hint });
    return undefined;
  };
  /** The typed value of a key; blank counts as unset (the default applies), a bad value is an error. */
  const get = <K extends KnownKey>(key: K): ValueOf<K> | undefined => {
    const entry = raw.get(key);
    const value = entry ? textOf(entry.value) : '';
    if (!entry || value.trim() === '') return undefined;
    const at = { line: entry.line, source: entry.source };
    if (value.includes('\n')) {
      const hint = 'a quote that is not closed swallows the lines after it';
      problems.push({ key, ...at, severity: 'error', message: 'the value spans several lines', hint });
      return undefined;
    }
    const typed = convert(key, value, at);
    if (typed !== undefined) sources[key] = entry.source;
    return typed;
  };
  const or = <K extends KnownKey>(
    key: K,
    value: ValueOf<K> | undefined,
    fallback: ValueOf<K>,
  ): ValueOf<K> => {
    if (value !== undefined) return value;
    sources[key] ??= 'default';
    return fallback;
  };
  const named = (
    key: 'TASKFLOW_NAMESPACE' | 'TASKFLOW_RELEASE',
    override: string | undefined,
    fallback: string,
  ) => {
    if (override === undefined) return or(key, get(key), fallback);
    const flag = key === 'TASKFLOW_NAMESPACE' ? '--namespace' : '--release';
    const value = convert(key, override, { source: 'option' }, `${flag}: `);
    if (value !== undefined) sources[key] = 'option';
    return value ?? fallback;
  };

  const access = or('TASKFLOW_ACCESS', get('TASKFLOW_ACCESS'), DEFAULTS.access);
  const allowedOrigins = or('ALLOWED_ORIGINS', get('ALLOWED_ORIGINS'), parseOrigins(DEFAULTS.allowedOrigins));
  const settings: Settings = {
    namespace: named('TASKFLOW_NAMESPACE', overrides.namespace, DEFAULTS.namespace),
    release: named('TASKFLOW_RELEASE', overrides.release, DEFAULTS.release),
    access,
    sso: {
      authUrl: or('BETTER_AUTH_URL', get('BETTER_AUTH_URL'), DEFAULTS.authUrl),
      allowedOrigins,
      // Development by default in port-forward mode: the browser talks plain http to localhost and the dev
      // seed registers the localhost OAuth clients. Behind an ingress (https), production.
      nodeEnv: or('NODE_ENV', get('NODE_ENV'), access === 'ingress' ? 'production' : 'development'),
    },
    api: { allowedOrigins: [...allowedOrigins] },
    sources,
    raw,
  };
  const optional = {
    imageTag: get('TASKFLOW_IMAGE_TAG'),
    storageClass: get('TASKFLOW_STORAGE_CLASS'),
    context: get('TASKFLOW_CONTEXT'),
    ssoDb: get('POSTGRES_SSO_PASSWORD'),
    authSecret: get('BETTER_AUTH_SECRET'),
    apiDb: get('POSTGRES_API_PASSWORD'),
    openai: get('OPENAI_API_KEY'),
  };
  if (optional.imageTag !== undefined) settings.imageTag = optional.imageTag;
  if (optional.storageClass !== undefined) settings.storageClass = optional.storageClass;
  if (optional.context !== undefined) settings.context = optional.context;
  if (optional.ssoDb) settings.sso.dbPassword = optional.ssoDb;
  if (optional.authSecret) settings.sso.authSecret = optional.authSecret;
  if (optional.apiDb) settings.api.dbPassword = optional.apiDb;
  if (optional.openai) settings.api.openaiApiKey = optional.openai;
  // Port and TLS are type-checked even with SMTP off; their defaults count only when it is on.
  const [host, port, secure] = [get('SMTP_HOST'), get('SMTP_PORT'), get('SMTP_SECURE')];
  const [user, password, from] = [get('SMTP_USER'), get('SMTP_PASS'), get('EMAIL_FROM')];
  if (host !== undefined) {
    const p = or('SMTP_PORT', port, DEFAULTS.smtpPort);
    const smtp: SmtpSettings = { host, port: p, secure: or('SMTP_SECURE', secure, p === 465) };
    if (user !== undefined) smtp.user = user;
    if (password !== undefined) smtp.password = password;
    settings.sso.smtp = smtp;
  }
  if (from !== undefined) settings.sso.emailFrom = from;
  return { settings, problems: problems.sort(byPlace) };
}

/** Reads the env file and the process environment into settings; a missing `--env-file` is a UsageError. */
export function loadSettings(
  opts: {
    envFile?: string;
    explicitEnvFile?: boolean;
    env?: NodeJS.ProcessEnv;
    namespace?: string;
    release?: string;
    readFile?: (path: string) => string;
  } = {},
): { settings: Settings; problems: Problem[]; envFile: EnvFile } {
  const path = opts.envFile ?? '.env';
  const envFile = readEnvFile(path, opts.readFile ? { readFile: opts.readFile } : {});
  if (!envFile.exists && opts.explicitEnvFile) {
    throw new UsageError(`The env file ${path} does not exist`, {
      hint: 'check the path given to --env-file, or leave the option out to use .env (defaults apply)',
    });
  }
  const overrides = { namespace: opts.namespace, release: opts.release };
  const { settings, problems } = parseSettings(envFile, opts.env ?? process.env, overrides);
  return { settings, problems, envFile };
}

/** Throws one UsageError (exit 2) listing every error with its line and hint; warnings pass. */
export function assertNoErrors(problems: readonly Problem[], file: EnvFile): void {
  const errors = problems.filter((p) => p.severity === 'error');
  if (errors.length === 0) return;
  throw new UsageError(formatProblems(errors, file.path), {
    hint: `fix the settings above (in ${file.path} or the process environment), then run the command again`,
  });
}
