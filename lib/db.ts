import type { DbInfo } from './components.ts';
import type { RunResult } from './exec.ts';
import type { Kubectl } from './kubectl.ts';
import { verifierMatches } from './pg-verifier.ts';
import { registerSecrets } from './redact.ts';
import type { Secret } from './secrets.ts';

export type LoginResult =
  { status: 'ok' } | { status: 'rejected'; detail: string } | { status: 'unreachable'; detail: string };

/**
 * The login check run inside the postgres pod: a TCP connection (so the password
 * is really checked, unlike the trusted local socket), with the password read
 * from stdin so it never appears in argv.
 */
export const TCP_LOGIN_SCRIPT = tcpLoginLine('"$(cat)"');

/** The TCP login of role $1 to database $2, with the password the shell word `password` expands to. */
function tcpLoginLine(password: string): string {
  return `PGPASSWORD=${password} PGCONNECT_TIMEOUT=5 psql -h 127.0.0.1 -U "$1" -d "$2" -tAc "select 1"`;
}

/** argv (after `kubectl exec -i POD -c postgres --`) of the TCP login check. */
export function loginCommand(info: DbInfo): string[] {
  return ['sh', '-c', TCP_LOGIN_SCRIPT, 'login-check', info.user, info.database];
}

/**
 * psql inside the postgres container over its trusted local socket, as the image's superuser
 * (POSTGRES_USER of the pod), SQL read from stdin: no password is needed and none is in argv.
 */
export const PSQL_SOCKET_SCRIPT = `exec ${psqlSocketLine('"$@"')}`;

/** psql over the trusted socket as the image's superuser, with these (shell) arguments. */
function psqlSocketLine(args: string): string {
  return `psql -X -q -v ON_ERROR_STOP=1 -U "$POSTGRES_USER" -d "$POSTGRES_DB" ${args}`;
}

/** argv (after `kubectl exec -i POD -c postgres --`) of psql over the local socket; `extra` are psql flags. */
export function psqlCommand(extra: string[] = []): string[] {
  return ['sh', '-c', PSQL_SOCKET_SCRIPT, 'psql', ...extra];
}

/** The query that reads a role's stored verifier (SCRAM or md5), one value per line. */
export function verifierSql(role: string): string {
  return `SELECT coalesce(rolpassword, '') FROM pg_authid WHERE rolname = ${sqlLiteral(role)};\n`;
}

/**
 * The whole login check in one exec (each exec is a kubectl process and an API round trip): the role's
 * stored verifier read over the trusted socket as the image's superuser (the role name a psql variable,
 * so no quoting is built by hand), printed on a `verifier:` line, then the TCP login with the password
 * read from stdin. Its exit code and its stderr are the TCP login's.
 */
export const LOGIN_CHECK_SCRIPT = [
  'pw="$(cat)"',
  `v="$(printf '%s\\n' "SELECT coalesce(rolpassword, '') FROM pg_authid WHERE rolname = :'role';" | ${psqlSocketLine('-tA -v role="$1"')} 2>/dev/null)"`,
  `printf 'verifier:%s\\n' "$v"`,
  tcpLoginLine('"$pw"'),
].join('; ');

/** argv (after `kubectl exec -i POD -c postgres --`) of the login check (checkDbLogin). */
export function loginCheckCommand(info: DbInfo): string[] {
  return ['sh', '-c', LOGIN_CHECK_SCRIPT, 'login-check', info.user, info.database];
}

/**
 * Whether the database accepts `password`. The official image trusts TCP logins from 127.0.0.1, so
 * a login inside the pod alone would pass with any password on a real cluster: the role's stored
 * verifier is compared first, and a mismatch is a rejection. The TCP login then confirms the path the
 * applications take; when the verifier cannot be read, it decides alone. One exec does both.
 */
export async function checkDbLogin(kubectl: Kubectl, info: DbInfo, password: Secret): Promise<LoginResult> {
  const res = await kubectl.exec(info.pod, info.container, loginCheckCommand(info), {
    stdin: password,
    timeoutMs: 30_000,
  });
  const lines = res.stdout.split('\n');
  const at = lines.findIndex((l) => l.startsWith('verifier:'));
  const stored = at >= 0 ? (lines[at] ?? '').slice('verifier:'.length).trim() : '';
  if (stored !== '') {
    registerSecrets(stored);
    if (verifierMatches(stored, info.user, password.reveal()) === 'mismatch') {
      return { status: 'rejected', detail: `password authentication failed for user "${info.user}"` };
    }
  }
  return loginOutcome({ ...res, stdout: lines.filter((_, i) => i !== at).join('\n') }, info);
}

/** A TCP login with `password` inside the database's pod, the password on stdin. */
export async function tcpLogin(kubectl: Kubectl, info: DbInfo, password: Secret): Promise<LoginResult> {
  const res = await kubectl.exec(info.pod, info.container, loginCommand(info), {
    stdin: password,
    timeoutMs: 30_000,
  });
  return loginOutcome(res, info);
}

/** What a TCP login's psql said: `1` on stdout is a login; the first line of its error otherwise. */
function loginOutcome(res: Pick<RunResult, 'exitCode' | 'stdout' | 'stderr'>, info: DbInfo): LoginResult {
  const text = `${res.stderr}\n${res.stdout}`;
  if (res.exitCode === 0 && res.stdout.trim() === '1') return { status: 'ok' };
  if (/password authentication failed|no password supplied/i.test(text)) {
    return { status: 'rejected', detail: `password authentication failed for user "${info.user}"` };
  }
  const first = text.split('\n').find((l) => l.trim()) ?? `exit code ${res.exitCode}`;
  return { status: 'unreachable', detail: first.trim() };
}

/** SQL string literal with quotes doubled (standard_conforming_strings is on in every supported version). */
export function sqlLiteral(value: string): string {
  return `'${value.replace(/'/g, "''")}'`;
}

/** SQL identifier, double-quoted. */
export function sqlIdent(name: string): string {
  return `"${name.replace(/"/g, '""')}"`;
}

/** The password a postgresql:// URL carries (percent-decoded), or undefined when it has none or does not parse. */
export function urlPassword(url: string): string | undefined {
  try {
    const u = new URL(url);
    return u.password === '' ? undefined : decodeURIComponent(u.password);
  } catch {
    return undefined;
  }
}
