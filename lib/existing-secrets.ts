import { UsageError } from './errors.ts';
import { type Kubectl, decodeSecretData, secretDataByName, secretsArgs } from './kubectl.ts';
import { registerSecrets } from './redact.ts';
import type { SecretKey } from './secret-resolution.ts';
import type { Secret } from './secrets.ts';
import { type Values, getPath } from './values.ts';

/**
 * A Secret of the user's that the release reads instead of a value the suite would set: the chart's
 * `existingSecret` values. Deploy then sends no value for the key and generates none; it reads the
 * Secret to mask its value and to check it before the first write.
 */
export interface ExistingSecretRef {
  /** The env-file key whose value the Secret replaces. */
  envKey: SecretKey;
  /** The chart value that names the Secret (`sso.database.existingSecret`). */
  valuePath: string;
  /** The chart value the Secret replaces (`sso.database.password`). */
  replaces: string;
  secret: string;
  key: string;
  /**
   * The value goes into a connection URL as it is, through Kubernetes' `$(PGPASSWORD)` expansion, which
   * cannot percent-encode: only the SSO on Neon's HTTP driver (an external host whose URL holds none of
   * localhost, 127.0.0.1, sslmode=disable; src/lib/db/index.ts:29). Every other consumer reads
   * PGPASSWORD and takes any password (charts/taskflow/templates/_database.tpl).
   */
  inUrl: boolean;
}

const REFS: readonly { envKey: SecretKey; section: string; keyDefault: string; replaces: string }[] = [
  {
    envKey: 'POSTGRES_SSO_PASSWORD',
    section: 'sso.database',
    keyDefault: 'password',
    replaces: 'sso.database.password',
  },
  {
    envKey: 'POSTGRES_API_PASSWORD',
    section: 'api.database',
    keyDefault: 'password',
    replaces: 'api.database.password',
  },
  {
    envKey: 'BETTER_AUTH_SECRET',
    section: 'sso',
    keyDefault: 'BETTER_AUTH_SECRET',
    replaces: 'sso.auth.secret',
  },
];

function text(v: unknown): string | undefined {
  return typeof v === 'string' && v.trim() !== '' ? v.trim() : undefined;
}

/** Whether the SSO's DATABASE_URL carries the password itself (the chart's `taskflow.db.passwordInUrl`). */
export function ssoPasswordInUrl(values: Values): boolean {
  const host = text(getPath(values, 'sso.database.host'));
  if (!host) return false; // in the cluster: sslmode=disable
  const mode = text(getPath(values, 'sso.database.sslmode')) ?? 'require';
  const user = String(getPath(values, 'sso.database.user') ?? 'sso_user');
  const name = String(getPath(values, 'sso.database.name') ?? 'sso_db');
  const port = String(getPath(values, 'sso.database.port') ?? 5432);
  const probe = `postgresql://${encodeURIComponent(user)}@${host}:${port}/${encodeURIComponent(name)}?sslmode=${mode}`;
  return !['localhost', '127.0.0.1', 'sslmode=disable'].some((s) => probe.includes(s));
}

/** The existingSecrets these values name (the -f files, or the values of a release), enabled parts only. */
export function existingSecretRefs(values: Values): ExistingSecretRef[] {
  const refs: ExistingSecretRef[] = [];
  for (const r of REFS) {
    const app = r.section.split('.')[0]!;
    if (getPath(values, `${app}.enabled`) === false) continue;
    const secret = text(getPath(values, `${r.section}.existingSecret`));
    if (!secret) continue;
    refs.push({
      envKey: r.envKey,
      valuePath: `${r.section}.existingSecret`,
      replaces: r.replaces,
      secret,
      key: text(getPath(values, `${r.section}.existingSecretKey`)) ?? r.keyDefault,
      inUrl: r.envKey === 'POSTGRES_SSO_PASSWORD' && ssoPasswordInUrl(values),
    });
  }
  return refs;
}

/** Characters every URL parser takes unencoded in a password (RFC 3986 unreserved). */
const URL_SAFE = /[A-Za-z0-9._~-]/;

/** The distinct characters of a value that are not URL-safe, in order of appearance. */
export function unsafeUrlChars(value: string): string[] {
  return [...new Set([...value].filter((c) => !URL_SAFE.test(c)))];
}

/** Characters as a message shows them: quoted, a space and control characters by name. */
export function describeChars(chars: readonly string[]): string {
  const names: Record<string, string> = { ' ': 'a space', '\n': 'a newline', '\t': 'a tab', '\r': 'a CR' };
  return chars.map((c) => names[c] ?? `"${c}"`).join(', ');
}

/** What is wrong with the value an existingSecret holds, for the release to work: undefined when nothing. */
export interface ExistingSecretProblem {
  ref: ExistingSecretRef;
  message: string;
  hint: string;
}

/**
 * Judges the value found in an existing Secret (undefined: the Secret or its key is missing). `keys` are
 * the Secret's keys when it exists, for the message.
 */
export function existingSecretProblem(
  ref: ExistingSecretRef,
  found: { value?: string; keys?: readonly string[] },
  namespace: string,
): ExistingSecretProblem | undefined {
  const where = `Secret ${ref.secret} (named by ${ref.valuePath})`;
  const create = `kubectl create secret generic ${ref.secret} -n ${namespace} --from-file=${ref.key}=PATH-TO-A-FILE-HOLDING-IT`;
  if (found.keys === undefined) {
    return {
      ref,
      message: `${where} does not exist in namespace ${namespace}: every pod that reads it would fail to start (CreateContainerConfigError)`,
      hint: `create it with the value under key ${ref.key}: ${create}; or remove ${ref.valuePath} to let the chart keep its own`,
    };
  }
  if (found.value === undefined) {
    return {
      ref,
      message: `${where} has no key ${ref.key} (its keys: ${found.keys.length > 0 ? found.keys.join(', ') : 'none'})`,
      hint: `add the key, or name the one that holds the value: ${ref.valuePath.replace(/existingSecret$/, 'existingSecretKey')}`,
    };
  }
  if (found.value === '') {
    return { ref, message: `${where} key ${ref.key} is empty`, hint: `put the value in it: ${create}` };
  }
  const bad = ref.inUrl ? unsafeUrlChars(found.value) : [];
  if (bad.length > 0) {
    return {
      ref,
      message:
        `${where} key ${ref.key} holds ${describeChars(bad)}: with the external host sso.database.host the SSO uses Neon's HTTP driver, ` +
        'which reads the password from DATABASE_URL, where Kubernetes puts it unencoded ($(PGPASSWORD)); the SSO, its migrations and its seed would fail (TypeError: Invalid URL)',
      hint: `give the role a password of letters, digits and - . _ ~ only (e.g. openssl rand -hex 16) on the database server, put it in the Secret (${create} --dry-run=client -o yaml | kubectl apply -f -), then deploy again`,
    };
  }
  return undefined;
}

/** The refusal of a deploy whose existingSecrets would not work (exit 2, before anything is written). */
export function existingSecretsRefusal(problems: readonly ExistingSecretProblem[]): UsageError {
  const lines = problems.map((p) => `${p.message}\n  hint: ${p.hint}`);
  return new UsageError(
    problems.length === 1
      ? problems[0]!.message
      : `${problems.length} Secrets the values name would not work:\n${lines.join('\n')}`,
    { hint: problems.length === 1 ? problems[0]!.hint : 'fix each as its hint says, then deploy again' },
  );
}

/** kubectl arguments that read the named Secrets in one call (a missing one is left out). */
export function existingSecretReadArgs(refs: readonly ExistingSecretRef[]): string[] {
  return secretsArgs([...new Set(refs.map((r) => r.secret))]);
}

/** What the user's Secrets hold for the release: each key's value (registered for masking) and problems. */
export interface ExistingSecretsRead {
  values: Map<SecretKey, Secret | undefined>;
  problems: ExistingSecretProblem[];
}

/** Reads the Secrets the values name, in one call; every value found is masked from then on. */
export async function readExistingSecrets(
  kubectl: Kubectl,
  refs: readonly ExistingSecretRef[],
): Promise<ExistingSecretsRead> {
  const values = new Map<SecretKey, Secret | undefined>();
  const problems: ExistingSecretProblem[] = [];
  if (refs.length === 0) return { values, problems };
  const data = secretDataByName(
    await kubectl.ok(existingSecretReadArgs(refs), `read Secret ${refs.map((r) => r.secret).join(', ')}`),
  );
  for (const ref of refs) {
    const found = data.get(ref.secret);
    const value = decodeSecretData(found?.[ref.key]);
    registerSecrets(value);
    values.set(ref.envKey, value);
    const problem = existingSecretProblem(
      ref,
      { ...(found && { keys: Object.keys(found) }), ...(value !== undefined && { value: value.reveal() }) },
      kubectl.target.namespace,
    );
    if (problem) problems.push(problem);
  }
  return { values, problems };
}
