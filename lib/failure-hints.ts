import { APP, APPS, DATABASES, type DbName } from './components.ts';
import type { LoginResult } from './db.ts';
import { MIGRATION_CRONJOBS } from './jobs.ts';
import { npmRun } from './suggest.ts';

/**
 * The hints deploy and doctor both give for a failing container, decided from checked facts only: its
 * log lines and, for a rejected password, the database's own login check. One function each, so the
 * two commands cannot give different repairs for the same state.
 */

/** What PostgreSQL's clients print when it rejects their password. */
export const PASSWORD_FAILED = /password authentication failed/i;

/** A program that cannot load one of its modules: Python (ModuleNotFoundError, ImportError) or Node. */
const MODULE_MISSING =
  /\b(ModuleNotFoundError: .*|ImportError: .*|Error: Cannot find module .*|Error \[ERR_MODULE_NOT_FOUND\]: .*)$/m;

/** The database a failure is about: from the user or database named in its logs, else from the pod's name. */
export function databaseOf(pod: string, logs: string): DbName | undefined {
  for (const db of Object.values(DATABASES)) {
    if (logs.includes(`"${db.user}"`) || logs.includes(db.database)) return db.db;
  }
  return (['sso', 'api'] as const).find((db) =>
    [APP[db].name, MIGRATION_CRONJOBS[db], DATABASES[db].statefulSet].some((p) => pod.startsWith(p)),
  );
}

/** What the login check with the password in a database's Secret found. */
export type LoginFact =
  | { db: DbName; state: 'accepted' }
  | { db: DbName; state: 'rejected' }
  | { db: DbName; state: 'unknown'; why: string };

/** The fact a login check gives: its result, or (not run) why it was not. */
export function loginFact(db: DbName, result: LoginResult | undefined, notChecked?: string): LoginFact {
  if (result?.status === 'ok') return { db, state: 'accepted' };
  if (result?.status === 'rejected') return { db, state: 'rejected' };
  if (result?.status === 'unreachable') return { db, state: 'unknown', why: result.detail };
  return { db, state: 'unknown', why: notChecked ?? 'not checked' };
}

/** A failing container, as both commands see it. */
export interface FailingContainer {
  pod: string;
  container?: string | undefined;
  logs: string;
  namespace: string;
}

/**
 * The repair of a "password authentication failed" in a pod's logs. The database does not take the
 * password of its Secret: make them agree (reset-db-password). It does: the pod started with an older
 * one, and restarting it is the repair. Not checked: say what checks it, not a guess. Never a restart
 * of the database itself: that changes no password.
 */
export function passwordHint(f: FailingContainer, facts: readonly LoginFact[]): string {
  const db = databaseOf(f.pod, f.logs);
  const doctor = npmRun('doctor', '-n', f.namespace);
  if (!db) {
    return `PostgreSQL rejects the password ${f.pod} was given, and its logs do not say which database: ${doctor} checks both logins (db.auth) and names the repair`;
  }
  const fact = facts.find((x) => x.db === db) ?? loginFact(db, undefined, 'no login check was made');
  if (fact.state === 'rejected') {
    return `the ${db} database rejects the password in its Secret too (login checked): make them agree: ${npmRun('reset-db-password', db)}`;
  }
  if (fact.state === 'unknown') {
    return `PostgreSQL rejects the password ${f.pod} was given; whether the ${db} database accepts the one in its Secret is not known (${fact.why}): ${doctor} checks it (db.auth) while ${DATABASES[db].pod} runs, and names the repair`;
  }
  return `the ${db} database accepts the password in its Secret (login checked), so this pod started with an older one: ${restart(f.pod, db, f.namespace)}`;
}

/** How to restart a pod so it reads its Secret again: its Deployment, its migration, or the pod itself. */
function restart(pod: string, db: DbName, ns: string): string {
  const app = APPS.find((a) => pod.startsWith(`${a.name}-`));
  if (app) return `kubectl rollout restart deployment/${app.name} -n ${ns}`;
  const migrate = (Object.keys(MIGRATION_CRONJOBS) as DbName[]).find((d) =>
    pod.startsWith(MIGRATION_CRONJOBS[d]),
  );
  if (migrate) return `run it again: ${npmRun('migrate', migrate)}`;
  // The database's own pod logs its clients' failures: restarting it would change no password.
  if (pod.startsWith(`${DATABASES[db].statefulSet}-`))
    return `restart its clients: kubectl rollout restart deployment/${DATABASES[db].consumers.join(' deployment/')} -n ${ns}`;
  return `delete pod ${pod} so it restarts (kubectl delete pod ${pod} -n ${ns})`;
}

/** The hint the logs decide, or undefined when they say nothing recognised. */
export function logsHint(f: FailingContainer, facts: readonly LoginFact[]): string | undefined {
  if (PASSWORD_FAILED.test(f.logs)) return passwordHint(f, facts);
  const missing = MODULE_MISSING.exec(f.logs)?.[1]?.trim();
  if (missing) {
    return `the image of ${f.container ?? f.pod} lacks code it imports (${missing}): it was built from other sources or an incomplete build; rebuild it from your TaskFlow checkout: ${npmRun('deploy', '--build')}`;
  }
  return undefined;
}

/** The hint of a crashing container: what its logs decide, else where to read more of them. */
export function crashHint(f: FailingContainer, facts: readonly LoginFact[]): string {
  const byLogs = logsHint(f, facts);
  if (byLogs) return byLogs;
  if (/Invalid URL/i.test(f.logs)) {
    return 'a URL in its settings does not parse (a password with @ : / ? # % + pasted raw?): npm run validate names the setting';
  }
  if (/ECONNREFUSED|could not connect|connection refused/i.test(f.logs)) {
    return `it cannot reach a dependency (log lines above); check the database pods: kubectl get pods -n ${f.namespace}`;
  }
  return `read the log lines above; more with: kubectl logs ${f.pod}${f.container ? ` -c ${f.container}` : ''} --previous -n ${f.namespace}`;
}
