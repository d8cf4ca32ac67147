import { DATABASES, type DbName } from '../components.ts';
import { checkDbLogin } from '../db.ts';
import { InterruptedError, TaskflowError } from '../errors.ts';
import { isDbPodRunning } from '../drift.ts';
import type { Kubectl } from '../kubectl.ts';
import { type KubeEvent, WARNING_EVENTS_ARGS, warningsByObject } from '../events.ts';
import { type LoginFact, PASSWORD_FAILED, databaseOf, loginFact } from '../failure-hints.ts';
import type { Pod } from '../pod-status.ts';
import type { RolloutFailure } from './snapshot.ts';

/** A failure with what a user needs to fix it: the container's last log lines and its Warning events. */
export interface DetailedFailure extends RolloutFailure {
  logs: string;
  events: string[];
  /** the namespace of the release (the hints' commands name it) */
  namespace?: string;
  /** the login checks of the databases its logs say reject a password (lib/failure-hints.ts) */
  logins?: LoginFact[];
}

// Image, config and scheduling failures have no container output worth reading.
const HAS_LOGS = new Set(['pods.crashloop', 'pods.oom', 'pods.init', 'rollout.timeout']);

/** The last 30 log lines of a failed container (the previous instance's when it restarted). */
export async function failureLogs(kubectl: Kubectl, f: RolloutFailure): Promise<string> {
  if (!f.pod || !f.container || !HAS_LOGS.has(f.id)) return '';
  const base = { container: f.container, tail: 30 };
  const logs = await kubectl.logs(f.pod, { ...base, previous: f.previousLogs });
  // A container that crashed once may not have a previous instance yet: its current output is the crash.
  if (logs.trim() === '' && f.previousLogs) return kubectl.logs(f.pod, base);
  return logs;
}

/**
 * Fetches logs (one call per failed container, in parallel) and Warning events (one call for the
 * namespace) for the failures; at most `max` failures get logs.
 */
export async function collectDetails(
  kubectl: Kubectl,
  failures: RolloutFailure[],
  max = 5,
): Promise<DetailedFailure[]> {
  const eventsP = kubectl
    .run([...WARNING_EVENTS_ARGS, '-o', 'json'], { timeoutMs: 15_000 })
    .then((r) => (r.exitCode === 0 ? ((JSON.parse(r.stdout) as { items?: KubeEvent[] }).items ?? []) : []))
    .catch(() => [] as KubeEvent[]);
  const logs = await Promise.all(
    failures.map((f, i) => (i < max ? failureLogs(kubectl, f) : Promise.resolve(''))),
  );
  const rejected = new Set(
    failures.flatMap((f, i) =>
      PASSWORD_FAILED.test(logs[i] ?? '') ? [databaseOf(f.pod ?? '', logs[i] ?? '')] : [],
    ),
  );
  const logins = await Promise.all(
    [...rejected].filter((db): db is DbName => db !== undefined).map((db) => checkLogin(kubectl, db)),
  );
  const events = warningsByObject(await eventsP);
  return failures.map((f, i) => {
    const name = f.pod ?? f.object.split('/')[1] ?? '';
    return {
      ...f,
      logs: logs[i] ?? '',
      events: (events.get(name) ?? []).slice(-10),
      namespace: kubectl.target.namespace,
      ...(logins.length > 0 && { logins }),
    };
  });
}

/**
 * The login check doctor's db.auth makes (the password of the database's Secret, in its pod), for a
 * crash whose logs show a rejected password: its answer decides the repair (lib/failure-hints.ts).
 */
export async function checkLogin(kubectl: Kubectl, name: DbName): Promise<LoginFact> {
  const db = DATABASES[name];
  try {
    const pod = await kubectl.getOptional<Pod>('pod', db.pod);
    if (!isDbPodRunning(pod, db.container)) return loginFact(name, undefined, `${db.pod} is not running`);
    const password = await kubectl.secretValue(db.secret, db.secretKey);
    if (password === undefined)
      return loginFact(
        name,
        undefined,
        `Secret ${db.secret} key ${db.secretKey} is missing: no password to try`,
      );
    return loginFact(name, await checkDbLogin(kubectl, db, password));
  } catch (err) {
    // A failed read is an unknown answer (the hint then says what checks it), not a failed deploy.
    if (!(err instanceof TaskflowError) || err instanceof InterruptedError) throw err;
    return loginFact(name, undefined, err.message);
  }
}
