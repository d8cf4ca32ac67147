import { APP, DATABASES, type DbInfo, releaseSelector } from '../components.ts';
import { type LoginResult, checkDbLogin, urlPassword } from '../db.ts';
import { isDbPodRunning } from '../drift.ts';
import { findWorkload, podSpecOf, containersOf, resolveEnv } from '../workload-env.ts';
import type { Helm, ReleaseStatus } from '../helm.ts';
import type { KubeObject, Kubectl } from '../kubectl.ts';
import { type Pod, type PodFailure, pendingInitContainer, podFailures } from '../pod-status.ts';
import { type KubeEvent, WARNING_EVENTS_ARGS, warningsByObject } from '../events.ts';
import { type Finding, failedJobs, notReady } from './workloads.ts';
import { registerSecrets } from '../redact.ts';
import { Secret } from '../secrets.ts';
import { secretValues } from '../config-scan.ts';
import { unsafeUrlChars } from '../existing-secrets.ts';
import { type HeldBy, liveHolder } from '../release-lock.ts';
import { AUTH_SECRET_LOCATION, readSigningKeys, secretOpensKey } from '../auth-secret.ts';

/** The kinds of the one batched read. */
export const DOCTOR_KINDS = ['pods', 'deployments', 'statefulsets', 'jobs', 'pvc', 'configmaps'];

/** A pod or Job failure with what the user needs to fix it. */
export interface Diagnosed extends Finding {
  /** the failing container's last log lines (previous instance for a crash), redacted */
  logs: string;
  events: string[];
  /** on a minikube node (image hints differ) */
  minikube: boolean;
  /** the failing container's image */
  image?: string;
}

/** A database's login check with the password its Secret holds. */
export interface DbAuth {
  db: DbInfo;
  /** undefined: not checked (with why) */
  result?: LoginResult;
  skipped?: string;
  /** Secret (name/key) the password came from */
  secret: string;
  /** apps whose DATABASE_URL carries another password than the database's Secret */
  urlMismatch: string[];
}

/** Everything one doctor pass read. */
export interface DoctorSnapshot {
  release?: ReleaseStatus;
  objects: KubeObject[];
  events: KubeEvent[];
  failures: Diagnosed[];
  dbAuth: DbAuth[];
  /** running SSO pods whose log says Better Auth cannot decrypt its signing keys (another secret) */
  authDecrypt: AuthDecryptFailure[];
  /** whether the secret the SSO runs with decrypts the key it signs with; undefined: nothing to check */
  authKey?: AuthKeyState;
  /** connection URLs that carry a Secret's password unencoded ($(PGPASSWORD)) while it holds URL breakers */
  rawUrlPasswords: RawUrlPassword[];
  /** secret texts read from the release's Secrets (for the ConfigMap scan; never printed) */
  secretTexts: string[];
  now: number;
  /**
   * Read only when the release is not deployed: the command of this suite holding the release now (null:
   * none; undefined: not read, or unreadable), so that no rollback is advised while one runs.
   */
  holder?: HeldBy | null;
}

/** How long an init container may run before doctor calls the pod stuck. */
export const INIT_STUCK_MS = 60_000;

const LOGS_FOR = new Set(['pods.crashloop', 'pods.oom', 'pods.init', 'pods.not-ready', 'jobs.failed']);

/** Reads the release in one pass: one list, the events, helm status, the Secrets; then logs and logins. */
export async function collect(
  kubectl: Kubectl,
  helm: Helm,
  opts: { release: string; now?: number },
): Promise<DoctorSnapshot> {
  const now = opts.now ?? Date.now();
  const [objects, events, release] = await Promise.all([
    kubectl.list(DOCTOR_KINDS, releaseSelector(opts.release)),
    kubectl.json<{ items?: KubeEvent[] }>(WARNING_EVENTS_ARGS, 'read the events').then((d) => d.items ?? []),
    helm.status(),
  ]);
  const holderRead =
    release && release.info.status !== 'deployed' ? liveHolder(kubectl, opts.release, { now }) : undefined;
  const secrets = await readSecrets(kubectl, objects);
  const all = [...objects, ...secrets];
  // Only values under secret-looking keys: a Secret may also hold plain words a ConfigMap rightly repeats.
  const secretTexts = secretValues(all);
  // And every value a container takes from a Secret (an existingSecret's key may be named anything).
  registerSecrets(...secretTexts, ...referencedSecretValues(all));
  const pods = objects.filter((o): o is Pod => o.kind === 'Pod');
  const podFound: Finding[] = pods.flatMap((p) => [...podFailures(p), ...stuckInit(p, now)]);
  const found = [
    ...podFound,
    ...notReady(pods, events, now, new Set(podFound.map((f) => f.pod))),
    ...failedJobs(objects, pods),
  ];
  const byName = warningsByObject(events);
  const [failures, dbAuth] = await Promise.all([
    Promise.all(
      found.map(async (f): Promise<Diagnosed> => {
        const pod = pods.find((p) => p.metadata.name === f.pod);
        const image = containersOf(podSpecOf(pod ?? { kind: 'Pod', metadata: { name: '' } }), f.init).find(
          (c) => c.name === f.container,
        )?.image;
        return {
          ...f,
          logs: LOGS_FOR.has(f.id) && f.pod !== '' ? await logsOf(kubectl, f) : '',
          events: (byName.get(f.pod) ?? []).slice(-5),
          minikube: isMinikubeNode(pod?.spec?.nodeName),
          ...(image !== undefined && { image }),
        };
      }),
    ),
    checkLogins(kubectl, all, pods),
  ]);
  const [authDecrypt, authKey] = await Promise.all([
    decryptFailures(kubectl, pods),
    signingKeyState(kubectl, all, pods),
  ]);
  const holder = await holderRead;
  return {
    ...(release && { release }),
    objects,
    events,
    failures,
    dbAuth,
    authDecrypt,
    ...(authKey && { authKey }),
    rawUrlPasswords: rawUrlPasswords(all),
    secretTexts,
    now,
    ...(holder !== undefined && { holder }),
  };
}

/** An SSO pod that logged Better Auth's decrypt failure. */
export interface AuthDecryptFailure {
  pod: string;
  /** how many of its last log lines say it */
  count: number;
}

/** Better Auth's message when a signing key was encrypted with another secret (plugins/jwt sign.ts). */
export const DECRYPT_FAILURE = 'Failed to decrypt private key';
const AUTH_LOG_TAIL = 500;

/** How many lines of a log say Better Auth could not decrypt a signing key. */
export function decryptFailureCount(log: string): number {
  return log.split('\n').filter((l) => l.includes(DECRYPT_FAILURE)).length;
}

/** Reads the recent log of every running SSO pod for the decrypt failure (it stays Ready meanwhile). */
async function decryptFailures(kubectl: Kubectl, pods: Pod[]): Promise<AuthDecryptFailure[]> {
  const sso = APP.sso.name;
  const running = pods.filter(
    (p) =>
      p.metadata.name.startsWith(`${sso}-`) &&
      p.status?.phase === 'Running' &&
      (p.spec?.containers as { name: string }[] | undefined)?.some((c) => c.name === sso),
  );
  const found = await Promise.all(
    running.map(async (p) => ({
      pod: p.metadata.name,
      count: decryptFailureCount(
        await kubectl.logs(p.metadata.name, { container: sso, tail: AUTH_LOG_TAIL }).catch(() => ''),
      ),
    })),
  );
  return found.filter((f) => f.count > 0);
}

/** The SSO's signing key in use against the BETTER_AUTH_SECRET its Deployment gives it. */
export interface AuthKeyState {
  /** signing keys in the SSO database */
  count: number;
  /** the secret decrypts the newest (the one the SSO signs with) */
  opens: boolean;
}

/**
 * Reads the SSO database's signing keys (in its pod, when it runs) and tries the secret the SSO's
 * Deployment takes (its Secret, the release's or the user's own) on the one in use. Undefined when there
 * is nothing to try: no SSO or database pod, no key in use, or a secret that could not be resolved.
 */
async function signingKeyState(
  kubectl: Kubectl,
  all: readonly KubeObject[],
  pods: readonly Pod[],
): Promise<AuthKeyState | undefined> {
  const db = DATABASES.sso;
  if (
    !isDbPodRunning(
      pods.find((p) => p.metadata.name === db.pod),
      db.container,
    )
  )
    return undefined;
  const sso = findWorkload(all, { kind: 'Deployment', name: APP.sso.name });
  const container = containersOf(
    podSpecOf(sso ?? { kind: 'Deployment', metadata: { name: '' } }),
    false,
  ).find((c) => c.name === APP.sso.name);
  const running = container && resolveEnv(container, AUTH_SECRET_LOCATION.key, all).value;
  if (running === undefined || running === '') return undefined;
  const keys = await readSigningKeys(kubectl);
  if (!('count' in keys) || keys.current === undefined) return undefined;
  return { count: keys.count, opens: secretOpensKey(keys.current, new Secret(running)) };
}

/** A connection URL of a container that gets a Secret's password unencoded, which holds URL breakers. */
export interface RawUrlPassword {
  /** `Deployment/sso-platform container migrate` */
  where: string;
  variable: string;
  secret: string;
  key: string;
  /** the characters outside A-Za-z0-9._~- (never the value) */
  chars: string[];
  /**
   * The chart itself puts it there: the SSO's URL for Neon's HTTP driver (no localhost, 127.0.0.1 or
   * sslmode=disable in it). Otherwise an older chart rendered it, and a deploy drops it from the URL.
   */
  neon: boolean;
}

/** Every value the containers read from a Secret by secretKeyRef (to mask them). */
function referencedSecretValues(all: readonly KubeObject[]): string[] {
  const out: string[] = [];
  for (const o of all)
    for (const c of [...containersOf(podSpecOf(o), false), ...containersOf(podSpecOf(o), true)])
      for (const e of c.env ?? []) {
        const v = e.valueFrom?.secretKeyRef ? resolveEnv(c, e.name, all).value : undefined;
        if (v !== undefined) out.push(v);
      }
  return out;
}

/** The URLs that put $(PGPASSWORD) in their userinfo while the password it expands to is not URL-safe. */
export function rawUrlPasswords(all: readonly KubeObject[]): RawUrlPassword[] {
  const out: RawUrlPassword[] = [];
  for (const o of all.filter((x) => ['Deployment', 'StatefulSet', 'CronJob', 'Job'].includes(x.kind))) {
    for (const c of [...containersOf(podSpecOf(o), true), ...containersOf(podSpecOf(o), false)]) {
      for (const e of c.env ?? []) {
        if (!e.value?.includes(':$(PGPASSWORD)@')) continue;
        const pg = resolveEnv(c, 'PGPASSWORD', all);
        const ref = pg.refs[0];
        if (pg.value === undefined || !ref) continue;
        const chars = unsafeUrlChars(pg.value);
        if (chars.length === 0) continue;
        out.push({
          where: `${o.kind}/${o.metadata.name} container ${c.name}`,
          variable: e.name,
          secret: ref.name,
          key: ref.key ?? '',
          chars,
          neon:
            e.name === 'DATABASE_URL' &&
            !['localhost', '127.0.0.1', 'sslmode=disable'].some((s) => e.value!.includes(s)),
        });
      }
    }
  }
  return out;
}

/** A node of the default minikube profile: `minikube`, or `minikube-m02`… in a multi-node one. */
export function isMinikubeNode(name: string | undefined): boolean {
  return name !== undefined && /^minikube(-m\d+)?$/.test(name);
}

/** A pod whose init container has been running (not failing) for longer than INIT_STUCK_MS. */
export function stuckInit(pod: Pod, now: number): PodFailure[] {
  if (pod.status?.phase !== 'Pending') return [];
  const name = pendingInitContainer(pod);
  const cs = pod.status.initContainerStatuses?.find((c) => c.name === name);
  const started = Date.parse(cs?.state?.running?.startedAt ?? '');
  if (!name || Number.isNaN(started) || now - started < INIT_STUCK_MS) return [];
  const secs = Math.round((now - started) / 1000);
  return [
    {
      id: 'pods.init',
      object: `pod/${pod.metadata.name}`,
      pod: pod.metadata.name,
      container: name,
      init: true,
      reason: 'Stuck',
      message: `init container ${name} has been running for ${secs}s`,
      previousLogs: false,
    },
  ];
}

async function logsOf(kubectl: Kubectl, f: Finding): Promise<string> {
  const base = { ...(f.container !== undefined && { container: f.container }), tail: 20 };
  const logs = await kubectl.logs(f.pod, { ...base, previous: f.previousLogs });
  // A container that crashed once may have no previous instance yet: its current output is the crash.
  return logs.trim() === '' && f.previousLogs ? kubectl.logs(f.pod, base) : logs;
}

/** The release's Secrets the databases and apps read (one call), by the names their pods reference. */
async function readSecrets(kubectl: Kubectl, objects: KubeObject[]): Promise<KubeObject[]> {
  const names = new Set<string>(Object.values(DATABASES).map((d) => d.secret));
  for (const o of objects) {
    for (const c of [...containersOf(podSpecOf(o), false), ...containersOf(podSpecOf(o), true)]) {
      for (const e of c.env ?? [])
        if (e.valueFrom?.secretKeyRef?.name) names.add(e.valueFrom.secretKeyRef.name);
      for (const f of c.envFrom ?? []) if (f.secretRef?.name) names.add(f.secretRef.name);
    }
  }
  const res = await kubectl.run(['get', 'secret', ...names, '--ignore-not-found', '-o', 'json']);
  if (res.exitCode !== 0 || !res.stdout.trim()) return [];
  const doc = JSON.parse(res.stdout) as KubeObject & { items?: KubeObject[] };
  return doc.items ?? (doc.kind === 'Secret' ? [doc] : []);
}

/** Tries the database Secret's password against each running in-cluster database. */
async function checkLogins(kubectl: Kubectl, all: KubeObject[], pods: Pod[]): Promise<DbAuth[]> {
  const dbs = Object.values(DATABASES).filter((db) =>
    findWorkload(all, { kind: 'StatefulSet', name: db.statefulSet }),
  );
  return Promise.all(
    dbs.map(async (db): Promise<DbAuth> => {
      const sts = findWorkload(all, { kind: 'StatefulSet', name: db.statefulSet });
      const c = containersOf(podSpecOf(sts ?? { kind: '', metadata: { name: '' } }), false).find(
        (x) => x.name === db.container,
      );
      const r = c ? resolveEnv(c, 'POSTGRES_PASSWORD', all) : undefined;
      const secret = r?.refs[0]
        ? `Secret ${r.refs[0].name} key ${r.refs[0].key ?? ''}`
        : `Secret ${db.secret}`;
      const base = { db, secret, urlMismatch: urlMismatches(db, all, r?.value) };
      if (r?.value === undefined) return { ...base, skipped: `${secret} is missing: no password to try` };
      const pod = pods.find((p) => p.metadata.name === db.pod);
      if (!isDbPodRunning(pod, db.container)) return { ...base, skipped: `${db.pod} is not running` };
      return { ...base, result: await checkDbLogin(kubectl, db, new Secret(r.value)) };
    }),
  );
}

/** The consumers whose DATABASE_URL holds another password than the database's own Secret. */
function urlMismatches(db: DbInfo, all: KubeObject[], password: string | undefined): string[] {
  if (password === undefined) return [];
  return db.consumers.flatMap((name) => {
    const d = findWorkload(all, { kind: 'Deployment', name });
    const c = containersOf(podSpecOf(d ?? { kind: '', metadata: { name: '' } }), false).find(
      (x) => x.name === name,
    );
    const url = c ? resolveEnv(c, 'DATABASE_URL', all).value : undefined;
    if (url === undefined || !URL.canParse(url)) return [];
    // No password in it, or one that does not decode: not the Secret's either.
    return urlPassword(url) === password ? [] : [name];
  });
}
