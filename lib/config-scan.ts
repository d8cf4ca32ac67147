import { MAILPIT_SMTP } from './addon-catalog.ts';
import { isSecretKey } from './env.ts';
import type { KubeObject } from './kubectl.ts';
import { DEAD_VARIABLES, SECRET_ENV_VARS } from './flow-map.ts';
import {
  containerEnvNames,
  containersOf,
  objectData,
  podSpecOf,
  referencedObjects,
  resolveEnv,
} from './workload-env.ts';

/** A finding about one object key or container variable (never carries a value). */
export interface KeyFinding {
  object: string;
  key: string;
  why: string;
}

// scheme://user:password@host: credentials inside a URL.
const URL_WITH_PASSWORD = /^[a-z][a-z0-9+.-]*:\/\/[^/\s:@]+:[^@\s/]+@/i;

/** Secrets at least this long are looked for inside values, not just as whole values. */
const LONG_SECRET = 12;

/**
 * Secret-looking entries of ConfigMaps: a key named like a secret, a variable the map marks secret, a URL
 * with a password, or the text of a known secret value. Used by validate (`env.flow`) and doctor.
 */
export function secretsInConfigMaps(
  objects: readonly KubeObject[],
  knownSecrets: readonly string[] = [],
): KeyFinding[] {
  const out: KeyFinding[] = [];
  // A long secret is found anywhere in a value; a short one (which secrets.strength already fails) only
  // as the whole value: "taskflow" as a password must not flag every URL that names taskflow-api.
  const long = knownSecrets.filter((s) => s.length >= LONG_SECRET);
  const short = new Set(knownSecrets.filter((s) => s.length >= 6 && s.length < LONG_SECRET));
  const holdsSecret = (value: string): boolean =>
    short.has(value.trim()) || long.some((s) => value.includes(s));
  for (const cm of objects.filter((o) => o.kind === 'ConfigMap')) {
    const data = objectData(objects, 'ConfigMap', cm.metadata.name) ?? new Map<string, string>();
    for (const [key, value] of data) {
      const object = `ConfigMap ${cm.metadata.name}`;
      if (holdsSecret(value)) out.push({ object, key, why: 'holds the value of a secret' });
      else if (URL_WITH_PASSWORD.test(value.trim()))
        out.push({ object, key, why: 'holds a URL with a password' });
      else if ((SECRET_ENV_VARS.has(key) || isSecretKey(key)) && value.trim() !== '') {
        out.push({ object, key, why: 'is named like a secret' });
      }
    }
  }
  return out;
}

const APP_COMPONENTS = new Set(['sso', 'api', 'mcp', 'web']);

/** Variables the old chart injected that no application reads (platform.md), in the app containers. */
export function deadVariables(objects: readonly KubeObject[]): KeyFinding[] {
  const out: KeyFinding[] = [];
  for (const w of objects.filter((o) => o.kind === 'Deployment')) {
    const component = w.metadata.labels?.['app.kubernetes.io/component'];
    if (component !== undefined && !APP_COMPONENTS.has(component)) continue;
    const spec = podSpecOf(w);
    for (const c of [...containersOf(spec, true), ...containersOf(spec, false)]) {
      for (const name of containerEnvNames(c, objects)) {
        if (DEAD_VARIABLES.includes(name)) {
          out.push({
            object: `Deployment ${w.metadata.name} container ${c.name}`,
            key: name,
            why: 'no application reads it',
          });
        }
      }
    }
  }
  return out;
}

/**
 * Keys of Secrets and ConfigMaps that no pod reads: every key of an object referenced only by key
 * (envFrom and volumes use them all). Objects no pod references at all are left alone: the scripts
 * read some (the database Secrets) directly.
 */
export function unusedKeys(objects: readonly KubeObject[]): KeyFinding[] {
  const refs = objects.flatMap((o) => referencedObjects(podSpecOf(o)));
  const out: KeyFinding[] = [];
  for (const o of objects.filter((x) => x.kind === 'Secret' || x.kind === 'ConfigMap')) {
    const kind = o.kind as 'Secret' | 'ConfigMap';
    const mine = refs.filter((r) => r.kind === kind && r.name === o.metadata.name);
    if (mine.length === 0 || mine.some((r) => r.key === undefined)) continue;
    const used = new Set(mine.map((r) => r.key));
    for (const key of objectData(objects, kind, o.metadata.name)?.keys() ?? []) {
      if (!used.has(key))
        out.push({ object: `${kind} ${o.metadata.name}`, key, why: 'no container reads it' });
    }
  }
  return out;
}

/**
 * Whether a Secret entry is one the chart fills with a published word, not a secret: SMTP_PASS while the
 * Mailpit add-on is on is the chart's fixed `mailpit` (the same word as its SMTP_HOST in the ConfigMap).
 */
const isChartPublic = (key: string, value: string): boolean =>
  key === 'SMTP_PASS' && value === MAILPIT_SMTP.password;

/**
 * The values under secret-looking keys of the Secrets among the objects (to register and to scan for),
 * except those the chart itself publishes (isChartPublic).
 */
export function secretValues(objects: readonly KubeObject[]): string[] {
  return objects
    .filter((o) => o.kind === 'Secret')
    .flatMap((o) =>
      [...(objectData(objects, 'Secret', o.metadata.name) ?? [])]
        .filter(([k, v]) => (isSecretKey(k) || SECRET_ENV_VARS.has(k)) && !isChartPublic(k, v))
        .map(([, v]) => v),
    );
}

/**
 * Database URLs that do not match the in-cluster database they point at: for every container variable
 * named `DATABASE_URL` or `*_DATABASE_URL` whose host is one of the release's PostgreSQL StatefulSets,
 * the user and database name must be the ones that StatefulSet creates (POSTGRES_USER, POSTGRES_DB)
 * and the port one its Service serves. A values override that renames one side only fails here
 * instead of as "role does not exist" at run time. Never carries a value but names.
 */
export function databaseUrlMismatches(objects: readonly KubeObject[]): KeyFinding[] {
  const databases = new Map<string, { user?: string; db?: string; ports: number[] }>();
  for (const sts of objects.filter((o) => o.kind === 'StatefulSet')) {
    const pg = containersOf(podSpecOf(sts), false).find((c) => resolveEnv(c, 'POSTGRES_USER', objects).found);
    if (!pg) continue;
    const svc = objects.find((o) => o.kind === 'Service' && o.metadata.name === sts.metadata.name);
    const ports = ((svc?.spec as { ports?: { port?: number }[] } | undefined)?.ports ?? []).flatMap((p) =>
      p.port === undefined ? [] : [p.port],
    );
    const user = resolveEnv(pg, 'POSTGRES_USER', objects).value;
    const db = resolveEnv(pg, 'POSTGRES_DB', objects).value ?? user;
    databases.set(sts.metadata.name, {
      ...(user !== undefined && { user }),
      ...(db !== undefined && { db }),
      ports,
    });
  }
  const out: KeyFinding[] = [];
  for (const w of objects.filter((o) => ['Deployment', 'StatefulSet', 'CronJob', 'Job'].includes(o.kind))) {
    const spec = podSpecOf(w);
    for (const [init, c] of [
      ...containersOf(spec, true).map((x) => [true, x] as const),
      ...containersOf(spec, false).map((x) => [false, x] as const),
    ]) {
      for (const name of containerEnvNames(c, objects).filter((n) => /(^|_)DATABASE_URL$/.test(n))) {
        const url = resolveEnv(c, name, objects).value;
        if (url === undefined || !URL.canParse(url)) continue;
        const u = new URL(url);
        const target = databases.get(u.hostname.split('.')[0] ?? '');
        if (!target) continue; // an external database
        const object = `${w.kind} ${w.metadata.name} ${init ? 'init container' : 'container'} ${c.name}`;
        const user = decodeURIComponent(u.username);
        const db = decodeURIComponent(u.pathname.replace(/^\//, ''));
        const port = Number(u.port || '5432');
        const sts = u.hostname.split('.')[0] ?? '';
        if (target.user !== undefined && user !== target.user)
          out.push({
            object,
            key: name,
            why: `connects as "${user}", but StatefulSet ${sts} creates user "${target.user}"`,
          });
        if (target.db !== undefined && db !== target.db)
          out.push({
            object,
            key: name,
            why: `opens database "${db}", but StatefulSet ${sts} creates "${target.db}"`,
          });
        if (target.ports.length > 0 && !target.ports.includes(port))
          out.push({
            object,
            key: name,
            why: `uses port ${port}, but Service ${sts} serves ${target.ports.join(', ')}`,
          });
      }
    }
  }
  return out;
}
