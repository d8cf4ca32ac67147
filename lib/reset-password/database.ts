import type { DbInfo } from '../components.ts';
import { type LoginResult, tcpLogin as tcpLoginInPod } from '../db.ts';
import { isDbPodRunning } from '../drift.ts';
import { OperationError } from '../errors.ts';
import type { Helm } from '../helm.ts';
import type { Kubectl } from '../kubectl.ts';
import type { Pod } from '../pod-status.ts';
import { redact, registerSecrets } from '../redact.ts';
import type { Secret } from '../secrets.ts';
import { alterRoleSql, psqlCommand, verifierSql } from './sql.ts';
import { verifierMatches } from '../pg-verifier.ts';
import { npmRun } from '../suggest.ts';

/** One database as this release runs it: the role to fix and where its password lives. */
export interface DbTarget {
  info: DbInfo;
  /** The role the applications log in as (`<db>.database.user`). */
  user: string;
  database: string;
  /** The Secret and key holding the password (the release's own, or `existingSecret`). */
  secret: string;
  secretKey: string;
  /** True when the password Secret is the user's own (`<db>.database.existingSecret`). */
  existingSecret: boolean;
  /** `<db>.database.host` when the database is outside the cluster. */
  externalHost?: string;
}

function text(v: unknown): string | undefined {
  return typeof v === 'string' && v.trim() !== '' ? v.trim() : undefined;
}

/** Reads the release's computed values for one database (user, name, existingSecret, external host). */
export async function resolveDbTarget(helm: Helm, info: DbInfo): Promise<DbTarget> {
  const values = await helm.getValues(true);
  const section = (values[info.db] as { database?: Record<string, unknown> } | undefined)?.database ?? {};
  const existing = text(section.existingSecret);
  const host = text(section.host);
  return {
    info,
    user: text(section.user) ?? info.user,
    database: text(section.name) ?? info.database,
    secret: existing ?? info.secret,
    secretKey: existing ? (text(section.existingSecretKey) ?? 'password') : info.secretKey,
    existingSecret: existing !== undefined,
    ...(host && { externalHost: host }),
  };
}

/** Refuses a database outside the cluster: there is no pod to reach it through. */
export function assertInCluster(t: DbTarget): void {
  if (t.externalHost) {
    throw new OperationError(
      `the ${t.info.db} database is external (${t.info.db}.database.host=${t.externalHost}): there is no postgres pod to repair it through`,
      {
        hint: `change the password of "${t.user}" on that server, then put the same value in Secret ${t.secret} (npm run deploy)`,
      },
    );
  }
}

/** The password in the release's Secret (registered for masking); a missing Secret or key is an error. */
export async function readSecretPassword(kubectl: Kubectl, t: DbTarget): Promise<Secret> {
  const value = await kubectl.secretValue(t.secret, t.secretKey);
  if (value === undefined || value.length === 0) {
    throw new OperationError(
      `Secret ${t.secret} (key ${t.secretKey}) not found in namespace ${kubectl.target.namespace}`,
      {
        hint: t.existingSecret
          ? `create it (the release names it in ${t.info.db}.database.existingSecret), then run this again`
          : 'deploy the release first: npm run deploy',
      },
    );
  }
  registerSecrets(value);
  return value;
}

/** Throws unless the database pod exists and its postgres container runs. */
export async function assertPodRunning(kubectl: Kubectl, info: DbInfo): Promise<void> {
  const pod = await kubectl.getOptional<Pod>('pod', info.pod);
  const ns = kubectl.target.namespace;
  if (!pod) {
    throw new OperationError(`pod ${info.pod} not found in namespace ${ns}`, {
      hint: `is the release deployed here? ${npmRun('deploy', '-n', ns)} (${npmRun('doctor', '-n', ns)} explains a missing pod)`,
    });
  }
  if (!isDbPodRunning(pod, info.container)) {
    throw new OperationError(
      `pod ${info.pod} is not running (phase ${pod.status?.phase ?? 'unknown'}): its database cannot be reached`,
      { hint: `see why: ${npmRun('doctor', '-n', ns)}` },
    );
  }
}

/** Sets the role's password inside the pod over the trusted socket; the statement travels on stdin. */
export async function setRolePassword(kubectl: Kubectl, t: DbTarget, password: Secret): Promise<void> {
  const res = await kubectl.exec(t.info.pod, t.info.container, psqlCommand(), {
    stdin: alterRoleSql(t.user, password),
    timeoutMs: 60_000,
  });
  if (res.exitCode !== 0) {
    const why = redact(`${res.stderr}\n${res.stdout}`).trim().split('\n')[0] ?? `exit code ${res.exitCode}`;
    throw new OperationError(`could not change the password of "${t.user}" in ${t.info.pod}: ${why}`, {
      hint: `see: ${npmRun('doctor', '-n', kubectl.target.namespace)}`,
    });
  }
}

/** Whether the database accepts a password, and how that was found out. */
export interface Agreement {
  status: 'in-sync' | 'out-of-sync' | 'unknown';
  detail: string;
}

/**
 * Compares a password with the database: against the role's stored verifier (read over the socket,
 * exact whatever pg_hba.conf says), else, when that cannot be read, by a TCP login inside the pod.
 */
export async function compareWithDatabase(
  kubectl: Kubectl,
  t: DbTarget,
  password: Secret,
): Promise<Agreement> {
  const res = await kubectl.exec(t.info.pod, t.info.container, psqlCommand(['-tA']), {
    stdin: verifierSql(t.user),
    timeoutMs: 30_000,
  });
  const verifier = res.exitCode === 0 ? res.stdout.trim() : '';
  if (verifier !== '') registerSecrets(verifier);
  const where = `role "${t.user}" in ${t.info.pod}`;
  if (res.exitCode === 0 && verifier === '') {
    return { status: 'out-of-sync', detail: `${where} has no password or does not exist` };
  }
  const byVerifier = verifier === '' ? 'unknown' : verifierMatches(verifier, t.user, password.reveal());
  if (byVerifier === 'match')
    return { status: 'in-sync', detail: `${where} has the password of Secret ${t.secret}` };
  if (byVerifier === 'mismatch') {
    return { status: 'out-of-sync', detail: `${where} has another password than Secret ${t.secret}` };
  }
  return fromLogin(
    await tcpLoginInPod(kubectl, { ...t.info, user: t.user, database: t.database }, password),
    t,
  );
}

function fromLogin(login: LoginResult, t: DbTarget): Agreement {
  if (login.status === 'ok') {
    return {
      status: 'in-sync',
      detail: `a TCP login as "${t.user}" with the password of Secret ${t.secret} works`,
    };
  }
  if (login.status === 'rejected') return { status: 'out-of-sync', detail: login.detail };
  return { status: 'unknown', detail: `could not check inside ${t.info.pod}: ${login.detail}` };
}

/** A TCP login with the password inside the pod: the path the applications take (rejected means broken). */
export function tcpLogin(kubectl: Kubectl, t: DbTarget, password: Secret): Promise<LoginResult> {
  return tcpLoginInPod(kubectl, { ...t.info, user: t.user, database: t.database }, password);
}
