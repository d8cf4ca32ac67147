import { DATABASES, type DbInfo } from '../components.ts';
import { type DriftResult, checkPasswordDrift } from '../drift.ts';
import { NotReadyError } from '../errors.ts';
import type { Kubectl } from '../kubectl.ts';
import type { ClusterSecretReader, ResolvedSecrets } from '../secret-resolution.ts';
import { SECRET_LOCATIONS } from '../secret-resolution.ts';
import type { Secret } from '../secrets.ts';
import { type StorageClassStatus, storageClassStatus } from '../storage.ts';
import { type Values } from './plan.ts';
import { getPath } from '../values.ts';

/**
 * A reader for resolveSecrets that fetches every Secret it may need in one kubectl call (the first
 * time it is asked) instead of one call per key.
 */
export function batchedSecretReader(kubectl: Kubectl): ClusterSecretReader {
  let all: Promise<Map<string, Record<string, string>>> | undefined;
  const names = [...new Set(Object.values(SECRET_LOCATIONS).map((l) => l.secret))];
  const load = async (): Promise<Map<string, Record<string, string>>> => {
    const out = await kubectl.ok(
      ['get', 'secret', ...names, '--ignore-not-found', '-o', 'json'],
      'read the Secrets of the release',
    );
    const map = new Map<string, Record<string, string>>();
    if (!out.trim()) return map;
    const doc = JSON.parse(out) as { kind?: string; items?: SecretDoc[] } & SecretDoc;
    for (const s of doc.items ?? (doc.kind === 'Secret' ? [doc] : []))
      map.set(s.metadata?.name ?? '', s.data ?? {});
    return map;
  };
  return async (secret, key) => {
    all ??= load();
    const b64 = (await all).get(secret)?.[key];
    return b64 === undefined ? undefined : Buffer.from(b64, 'base64').toString('utf8');
  };
}

interface SecretDoc {
  metadata?: { name?: string };
  data?: Record<string, string>;
}

/** The storage class check, as a NotReadyError (exit 3) when the volumes could never bind. */
export async function assertStorage(
  kubectl: Kubectl,
  wanted: string | undefined,
): Promise<StorageClassStatus> {
  const st = await storageClassStatus(kubectl, wanted);
  if (!st.ok) throw new NotReadyError(st.detail, st.hint === undefined ? {} : { hint: st.hint });
  return st;
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

/** The password deploy is about to give a database. */
export function passwordFor(db: DbInfo, secrets: ResolvedSecrets): Secret {
  return db.db === 'sso' ? secrets.ssoDbPassword : secrets.apiDbPassword;
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
