import type { AppInfo, DbInfo } from '../components.ts';
import { checkDbLogin } from '../db.ts';
import { type ApiProxy, startApiProxy } from '../api-proxy.ts';
import { type Kubectl, decodeSecretData } from '../kubectl.ts';
import { redact, registerSecrets } from '../redact.ts';
import { abortableSleep } from '../time.ts';

/** A failed verification: `db.auth` or `service.health`. */
export interface VerifyFailure {
  id: 'db.auth' | 'service.health';
  object: string;
  container?: string;
  reason: string;
  message: string;
}

export interface VerifyOptions {
  attempts?: number;
  delayMs?: number;
  signal?: AbortSignal;
  /** The databases' Secrets, already being read (readDbSecrets); else verifyAll reads them. */
  secrets?: Promise<Map<string, Record<string, string>>>;
}

/** The Secrets of these databases, in one kubectl call (none when there is no database). */
export function readDbSecrets(
  kubectl: Kubectl,
  dbs: readonly DbInfo[],
): Promise<Map<string, Record<string, string>>> {
  const names = [...new Set(dbs.map((d) => d.secret))];
  return names.length > 0 ? kubectl.secrets(names) : Promise.resolve(new Map());
}

async function retry<T>(
  attempts: number,
  delayMs: number,
  signal: AbortSignal | undefined,
  fn: () => Promise<T | undefined>,
): Promise<T | undefined> {
  let last: T | undefined;
  for (let i = 0; i < attempts; i++) {
    last = await fn();
    if (last === undefined) return undefined;
    if (i < attempts - 1) await abortableSleep(delayMs, signal);
  }
  return last;
}

/**
 * Each database accepts the password held in its Secret, over TCP inside its pod (password on stdin).
 * A pod that just turned ready may still refuse connections for a moment: unreachable is retried.
 */
export async function verifyDatabase(
  kubectl: Kubectl,
  db: DbInfo,
  secrets: Map<string, Record<string, string>>,
  opts: VerifyOptions = {},
): Promise<VerifyFailure | undefined> {
  const password = decodeSecretData(secrets.get(db.secret)?.[db.secretKey]);
  const object = `pod/${db.pod}`;
  if (password === undefined) {
    return {
      id: 'db.auth',
      object: `secret/${db.secret}`,
      reason: 'SecretMissing',
      message: `Secret ${db.secret} has no key "${db.secretKey}"`,
    };
  }
  registerSecrets(password);
  return retry(opts.attempts ?? 3, opts.delayMs ?? 1000, opts.signal, async () => {
    const r = await checkDbLogin(kubectl, db, password);
    if (r.status === 'ok') return undefined;
    const reason = r.status === 'rejected' ? 'PasswordRejected' : 'Unreachable';
    return {
      id: 'db.auth' as const,
      object,
      container: db.container,
      reason,
      message:
        r.status === 'rejected'
          ? `the ${db.db} database rejects the password in Secret ${db.secret}: ${r.detail}`
          : `could not log in to the ${db.db} database: ${redact(r.detail)}`,
    };
  });
}

/** The API server's service proxy path to an app's health endpoint (works without exec and without a port-forward). */
export function healthPath(namespace: string, app: AppInfo): string {
  return `/api/v1/namespaces/${namespace}/services/${app.name}:${app.port}/proxy${app.healthPath}`;
}

/** kubectl arguments (cluster-scoped) of an app's health request through the service proxy. */
export function healthArgs(namespace: string, app: AppInfo): string[] {
  return ['get', '--raw', healthPath(namespace, app), '--request-timeout=10s'];
}

/** The first line of a text, masked; undefined when there is none. */
function firstLine(text: string): string | undefined {
  return redact(text.trim().split('\n')[0] ?? '') || undefined;
}

/**
 * An app's health endpoint answers (HTTP 2xx through the service proxy), asked through the API proxy
 * when there is one, else with `kubectl get --raw`.
 */
export async function verifyHealth(
  kubectl: Kubectl,
  app: AppInfo,
  opts: VerifyOptions & { proxy?: ApiProxy } = {},
): Promise<VerifyFailure | undefined> {
  const ask = async (): Promise<string | undefined> => {
    if (opts.proxy) {
      const r = await opts.proxy.get(healthPath(kubectl.target.namespace, app), 10_000);
      if (r.status >= 200 && r.status < 300) return undefined;
      return r.error ?? `HTTP ${r.status}${r.body.trim() ? `: ${firstLine(r.body)}` : ''}`;
    }
    const res = await kubectl.run(healthArgs(kubectl.target.namespace, app), {
      clusterScoped: true,
      timeoutMs: 15_000,
    });
    return res.exitCode === 0 ? undefined : (firstLine(res.stderr) ?? `exit code ${res.exitCode}`);
  };
  return retry(opts.attempts ?? 3, opts.delayMs ?? 1000, opts.signal, async () => {
    const failed = await ask();
    if (failed === undefined) return undefined;
    const first = redact(failed);
    return {
      id: 'service.health' as const,
      object: `service/${app.name}`,
      container: app.name,
      reason: 'HealthCheckFailed',
      message: `GET ${app.healthPath} on service ${app.name}:${app.port} failed: ${first}`,
    };
  });
}

/** Verifies every database and app (all in parallel); returns the failures. */
export async function verifyAll(
  kubectl: Kubectl,
  dbs: DbInfo[],
  apps: readonly AppInfo[],
  opts: VerifyOptions = {},
): Promise<VerifyFailure[]> {
  // One API proxy for every health check (a kubectl process each otherwise); without it, kubectl each.
  const health = (async () => {
    const proxy = apps.length > 1 ? await startApiProxy(kubectl).catch(() => undefined) : undefined;
    try {
      return await Promise.all(
        apps.map((a) => verifyHealth(kubectl, a, { ...opts, ...(proxy && { proxy }) })),
      );
    } finally {
      await proxy?.stop();
    }
  })();
  const secrets = await (opts.secrets ?? readDbSecrets(kubectl, dbs)).catch((err: unknown) => err);
  const databases = dbs.map((d): Promise<VerifyFailure | undefined> => {
    if (!(secrets instanceof Map)) {
      const message = secrets instanceof Error ? secrets.message : String(secrets);
      return Promise.resolve({
        id: 'db.auth',
        object: `secret/${d.secret}`,
        reason: 'SecretUnreadable',
        message: `could not read Secret ${d.secret}: ${redact(message)}`,
      });
    }
    return verifyDatabase(kubectl, d, secrets, opts);
  });
  const [dbResults, healthResults] = await Promise.all([Promise.all(databases), health]);
  const results = [...dbResults, ...healthResults];
  return results.filter((r): r is VerifyFailure => r !== undefined);
}
