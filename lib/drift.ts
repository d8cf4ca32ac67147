import { DATABASES, type DbInfo } from './components.ts';
import type { ResolvedSecrets } from './secret-resolution.ts';
import { type Values, getPath } from './values.ts';
import { checkDbLogin } from './db.ts';
import type { Kubectl } from './kubectl.ts';
import type { Pod } from './pod-status.ts';
import type { Secret } from './secrets.ts';
import { npmRun } from './suggest.ts';

/** `no-data`: no volume yet (any password will initialise it); `unknown`: data exists but nothing could tell. */
export type DriftStatus = 'no-data' | 'match' | 'mismatch' | 'unknown';

export interface DriftResult {
  status: DriftStatus;
  detail: string;
  hint?: string;
}

/**
 * The ways out of a password drift. `secretAgrees`: the password being deployed is the one in the
 * database's Secret, so only the database diverged and a sync (database := Secret) fixes it. Otherwise
 * the env file brings a new value: keep the old one, or rotate (new password in database, release and
 * env file alike).
 */
export function driftHint(db: DbInfo, secretAgrees = false): string {
  if (secretAgrees) {
    return `make the database take the password of Secret ${db.secret} (the one being deployed): ${npmRun('reset-db-password', db.db)}`;
  }
  return `keep the database's password: remove ${db.envKey} from the env file (deploy then reuses the one in the cluster); or change it everywhere: ${npmRun('reset-db-password', db.db, '--rotate')} (then deploy again)`;
}

/** Whether the database pod's postgres container is running (so a login can be tried in it). */
export function isDbPodRunning(pod: Pod | undefined, container: string): boolean {
  if (!pod || pod.metadata.deletionTimestamp || pod.status?.phase !== 'Running') return false;
  const cs = pod.status.containerStatuses?.find((c) => c.name === container);
  return cs?.state?.running !== undefined;
}

/**
 * Whether `password` is the one the database's existing data accepts. No PVC: nothing to drift from.
 * Pod running: a TCP login inside the pod, the password on stdin. Otherwise: compared with the
 * password in the database's Secret (what the data was last deployed with).
 */
export async function checkPasswordDrift(
  kubectl: Kubectl,
  db: DbInfo,
  password: Secret,
): Promise<DriftResult> {
  const pvc = await kubectl.getOptional('pvc', db.pvc);
  if (!pvc)
    return {
      status: 'no-data',
      detail: `no volume ${db.pvc} yet: the database will be initialised with this password`,
    };
  const pod = await kubectl.getOptional<Pod>('pod', db.pod);
  let loginDetail = '';
  if (isDbPodRunning(pod, db.container)) {
    const login = await checkDbLogin(kubectl, db, password);
    if (login.status === 'ok')
      return { status: 'match', detail: `${db.pod} accepts the password for user "${db.user}"` };
    if (login.status === 'rejected') {
      const inSecret = await kubectl.secretValue(db.secret, db.secretKey);
      return {
        status: 'mismatch',
        detail: `the ${db.db} database (volume ${db.pvc}) rejects the password about to be deployed (${login.detail})`,
        hint: driftHint(db, password.equals(inSecret)),
      };
    }
    loginDetail = ` (login check inside ${db.pod} failed: ${login.detail})`;
  }
  const inSecret = await kubectl.secretValue(db.secret, db.secretKey);
  if (inSecret === undefined) {
    return {
      status: 'unknown',
      detail: `volume ${db.pvc} holds data but ${db.pod} is not running and Secret ${db.secret} is gone: cannot tell which password it was initialised with${loginDetail}`,
      hint: `if the deploy then fails with "password authentication failed", run: ${npmRun('reset-db-password', db.db)}`,
    };
  }
  if (password.equals(inSecret)) {
    return {
      status: 'match',
      detail: `the password equals the one in Secret ${db.secret} (${db.pod} not running)${loginDetail}`,
    };
  }
  return {
    status: 'mismatch',
    detail: `the ${db.db} database (volume ${db.pvc}) was deployed with another password than the one about to be deployed (compared with Secret ${db.secret}; ${db.pod} is not running)${loginDetail}`,
    hint: driftHint(db),
  };
}

/** The in-cluster databases the release runs and whose password deploy sets (no external host, no existingSecret). */
export function managedDatabases(values: Values): DbInfo[] {
  return Object.values(DATABASES).filter((db) => {
    const prefix = db.db === 'sso' ? 'sso' : 'api';
    if (getPath(values, `${prefix}.enabled`) === false) return false;
    const host = getPath(values, `${prefix}.database.host`);
    const existing = getPath(values, `${prefix}.database.existingSecret`);
    return !(typeof host === 'string' && host !== '') && !(typeof existing === 'string' && existing !== '');
  });
}

/**
 * The in-cluster databases the release runs, each with the Secret and key its password is in (the
 * user's own for an existingSecret): what the verification after a deploy logs in with.
 */
export function inClusterDatabases(values: Values): DbInfo[] {
  return Object.values(DATABASES).flatMap((db) => {
    const prefix = db.db === 'sso' ? 'sso' : 'api';
    if (getPath(values, `${prefix}.enabled`) === false) return [];
    const host = getPath(values, `${prefix}.database.host`);
    if (typeof host === 'string' && host !== '') return [];
    const existing = getPath(values, `${prefix}.database.existingSecret`);
    if (typeof existing !== 'string' || existing === '') return [db];
    const key = getPath(values, `${prefix}.database.existingSecretKey`);
    return [{ ...db, secret: existing, secretKey: typeof key === 'string' && key !== '' ? key : 'password' }];
  });
}

/** The password deploy is about to give a database. */
export function passwordFor(db: DbInfo, secrets: ResolvedSecrets): Secret {
  const password = db.db === 'sso' ? secrets.ssoDbPassword : secrets.apiDbPassword;
  // A managed database's password is never an existingSecret's, so it is always resolved.
  if (password === undefined) throw new Error(`no password resolved for the ${db.db} database`);
  return password;
}

/** Runs the password-drift guard for each managed database (in parallel). */
export async function driftGuard(
  kubectl: Kubectl,
  dbs: DbInfo[],
  secrets: ResolvedSecrets,
): Promise<{ db: DbInfo; result: DriftResult }[]> {
  return Promise.all(
    dbs.map(async (db) => ({ db, result: await checkPasswordDrift(kubectl, db, passwordFor(db, secrets)) })),
  );
}
