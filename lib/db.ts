import type { DbInfo } from './components.ts';
import type { Kubectl } from './kubectl.ts';
import type { Secret } from './secrets.ts';

export type LoginResult =
  { status: 'ok' } | { status: 'rejected'; detail: string } | { status: 'unreachable'; detail: string };

/**
 * The login check run inside the postgres pod: a TCP connection (so the password
 * is really checked, unlike the trusted local socket), with the password read
 * from stdin so it never appears in argv.
 */
export const TCP_LOGIN_SCRIPT =
  'PGPASSWORD="$(cat)" PGCONNECT_TIMEOUT=5 psql -h 127.0.0.1 -U "$1" -d "$2" -tAc "select 1"';

/** argv (after `kubectl exec -i POD -c postgres --`) of the TCP login check. */
export function loginCommand(info: DbInfo): string[] {
  return ['sh', '-c', TCP_LOGIN_SCRIPT, 'login-check', info.user, info.database];
}

/** Tries a TCP login with `password` inside the database's pod. */
export async function checkDbLogin(kubectl: Kubectl, info: DbInfo, password: Secret): Promise<LoginResult> {
  const res = await kubectl.exec(info.pod, info.container, loginCommand(info), {
    stdin: password,
    timeoutMs: 30_000,
  });
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
