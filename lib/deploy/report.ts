import type { CheckResult } from '../checks.ts';
import { isObject } from '../values.ts';
import { APP, APPS, DATABASES } from '../components.ts';
import { ADDON_CATALOG } from '../addon-catalog.ts';
import type { Settings } from '../env.ts';
import { redact } from '../redact.ts';
import type { DetailedFailure } from './failure-details.ts';
import type { Snapshot } from './snapshot.ts';
import { defaultTagProblem } from '../images.ts';
import type { VerifyFailure } from './verify.ts';
import { npmRun } from '../suggest.ts';
import { crashHint, logsHint } from '../failure-hints.ts';

/** One service in the deploy document. */
export interface ServiceEntry {
  name: string;
  ready: boolean;
  url: string | null;
}

/** One failure in the deploy document (cli.md). */
export interface ReportFailure {
  id: string;
  object: string | null;
  container: string | null;
  reason: string;
  detail: string;
  logs: string | null;
}

/** The document `npm run deploy -- --json` prints at the end (cli.md). */
export interface DeployReport {
  ok: boolean;
  release: string;
  namespace: string;
  /** the kube context acted on (null when none could be read) */
  context: string | null;
  revision: number | null;
  /** false: nothing differed, the upgrade was skipped (no new revision); absent when no upgrade was decided */
  upgraded?: boolean;
  durationMs: number;
  services: ServiceEntry[];
  failures: ReportFailure[];
  /** the steps of a person's journey, when deploy walked it last (npm run verify's checks) */
  journey?: CheckResult[];
}

/** The next step for each kind of failure (also documented in KUBERNETES-QUICKSTART.md). */
export const FAILURE_HINTS: Record<string, string> = {
  'pods.crashloop': 'read the log lines above (kubectl logs <pod> --previous shows more)',
  'pods.image': `the image cannot be pulled: build it into the cluster (${npmRun('deploy', '--build')}) or fix TASKFLOW_IMAGE_TAG / the image repository`,
  'pods.config':
    'a Secret or ConfigMap key the pod needs is missing (named above): npm run env-flow shows where each setting goes',
  'pods.init': `an init container failed: wait-for-db means the database is not reachable, migrate means the migration failed (log lines above); rerun with ${npmRun('migrate', 'sso')}`,
  'pods.pending':
    'nothing can run the pod or bind its volume: check TASKFLOW_STORAGE_CLASS (kubectl get storageclass) and free resources (kubectl describe pod)',
  'pods.oom': 'raise the memory limit in a values file passed with -f (<component>.resources.limits.memory)',
  'rollout.timeout':
    'still starting? rerun with a longer --timeout; otherwise npm run doctor shows what is stuck',
  'job.failed': 'read the Job logs: kubectl logs job/<name>',
  'db.auth': `make the database and its Secret agree: ${npmRun('reset-db-password', '<sso|api>')}`,
  'service.health':
    'the pod is ready but its health endpoint fails: npm run doctor, then kubectl logs deploy/<name>',
};

/** The hint of a failure id, naming the database when the failing pod is one of its consumers or its own. */
export function hintFor(id: string, podOrObject: string): string | undefined {
  const hint = FAILURE_HINTS[id];
  const name = podOrObject.replace(/^\w+\//, '');
  const db = Object.values(DATABASES).find(
    (d) => name.startsWith(`${d.statefulSet}-`) || d.consumers.some((c) => name.startsWith(`${c}-`)),
  );
  return db && hint ? hint.replace('<sso|api>', db.db) : hint;
}

/** The human-visible detail: message, Warning events, and the next step. */
export function failureDetail(message: string, events: string[], hint: string | undefined): string {
  const parts = [message];
  if (events.length > 0) parts.push(`events: ${events.join('; ')}`);
  if (hint) parts.push(`hint: ${hint}`);
  return redact(parts.join('\n'));
}

/** What a document entry is made of: the failure's own fields, its events, hint and logs. */
interface EntryParts {
  id: string;
  object: string | null;
  container?: string | null;
  reason: string;
  message: string;
  events?: string[];
  hint: string | undefined;
  logs?: string;
}

/** A document entry: the detail joins message, events and hint; blank logs become null, others are redacted. */
function entry(p: EntryParts): ReportFailure {
  const logs = p.logs ?? '';
  return {
    id: p.id,
    object: p.object,
    container: p.container ?? null,
    reason: p.reason,
    detail: failureDetail(p.message, p.events ?? [], p.hint),
    logs: logs.trim() === '' ? null : redact(logs),
  };
}

/** A rollout failure (with logs and events) as a document entry. */
export function fromRollout(f: DetailedFailure): ReportFailure {
  return entry({ ...f, hint: rolloutHint(f) });
}

/**
 * The hint of a rollout failure; an image with the chart's default tag gets the plain reason. What the
 * logs decide (a rejected password, from the database's login check; a missing module) is the hint
 * doctor gives for the same state (lib/failure-hints.ts).
 */
function rolloutHint(f: DetailedFailure): string | undefined {
  if (f.id === 'pods.image') {
    const image = /\btaskflow\/[\w.-]+:[\w.-]+/.exec(`${f.message} ${f.events.join(' ')}`)?.[0];
    const unbuilt = image === undefined ? undefined : defaultTagProblem(image);
    if (unbuilt) return unbuilt;
  }
  if (f.pod && f.namespace !== undefined) {
    const seen = { pod: f.pod, container: f.container, logs: f.logs, namespace: f.namespace };
    if (f.id === 'pods.crashloop') return crashHint(seen, f.logins ?? []);
    const byLogs = logsHint(seen, f.logins ?? []);
    if (byLogs) return byLogs;
  }
  return hintFor(f.id, f.pod ?? f.object);
}

/** A verification failure as a document entry. */
export function fromVerify(f: VerifyFailure): ReportFailure {
  return entry({ ...f, hint: hintFor(f.id, f.object) });
}

/** An error that ended the deploy early, as a document entry. */
export function fromError(
  id: string,
  message: string,
  hint: string | undefined,
  object: string | null = null,
  reason = 'Error',
): ReportFailure {
  return entry({ id, object, reason, message, hint });
}

/** The browser URL of each app: localhost ports for port-forward, the configured origins behind an ingress. */
export function serviceUrl(
  name: string,
  settings: Settings,
  ingressHosts: Record<string, string>,
  dataAddons: Record<string, number | undefined> = {},
): string | null {
  const app = APPS.find((a) => a.name === name);
  const local =
    app?.localPort ?? ADDON_CATALOG.find((a) => a.service === name)?.ports[0]?.local ?? dataAddons[name];
  if (settings.access === 'port-forward') return local === undefined ? null : `http://localhost:${local}`;
  const host = ingressHosts[name];
  if (host) return host;
  if (name === APP.sso.name) return settings.sso.authUrl;
  if (name === APP.web.name)
    return (
      settings.sso.allowedOrigins.find((o) => new URL(o).origin !== new URL(settings.sso.authUrl).origin) ??
      null
    );
  return null;
}

/** Browser URLs of the Ingress hosts set in the user's values files (https when a TLS entry names the host). */
export function ingressHosts(values: Record<string, unknown>): Record<string, string> {
  const ingress = values.ingress as
    { enabled?: boolean; hosts?: Record<string, string>; tls?: { hosts?: string[] }[] } | undefined;
  if (!ingress?.enabled) return {};
  const tls = new Set((ingress.tls ?? []).flatMap((t) => t.hosts ?? []));
  const out: Record<string, string> = {};
  // The chart's ingress.hosts are keyed by component: web, sso, api.
  for (const { component, name } of [APP.web, APP.sso, APP.api]) {
    const host = ingress.hosts?.[component];
    if (host) out[name] = `${tls.has(host) ? 'https' : 'http'}://${host}`;
  }
  return out;
}

/**
 * The data add-ons that are on in these values (`addons.<name>`), each with the local port of its first
 * forwarded port (undefined when none is forwarded).
 */
export function dataAddonPorts(values: Record<string, unknown>): Record<string, number | undefined> {
  const addons = values.addons;
  if (!isObject(addons)) return {};
  return Object.fromEntries(
    Object.entries(addons)
      .filter(([, a]) => isObject(a) && a.enabled === true)
      .map(([name, a]) => {
        const ports = ((a as { ports?: { forward?: number }[] }).ports ?? []).filter((p) => p.forward);
        return [name, ports[0]?.forward];
      }),
  );
}

/** The services list: the four apps and any add-on the release runs, with their readiness. */
export function serviceEntries(
  snapshot: Snapshot | undefined,
  settings: Settings,
  ingressHosts: Record<string, string> = {},
  dataAddons: Record<string, number | undefined> = {},
): ServiceEntry[] {
  const workloads = snapshot?.workloads ?? [];
  const names = [
    ...APPS.map((a) => a.name),
    ...ADDON_CATALOG.map((a) => a.service),
    ...Object.keys(dataAddons),
  ];
  return names
    .filter((n) => APPS.some((a) => a.name === n) || workloads.some((w) => w.name === n))
    .filter((n) => snapshot === undefined || workloads.some((w) => w.name === n))
    .map((name) => ({
      name,
      ready: workloads.find((w) => w.name === name)?.ready ?? false,
      url: serviceUrl(name, settings, ingressHosts, dataAddons),
    }));
}

/** Failures with the same cause, printed once with the list of their objects (the document keeps one entry each). */
export interface FailureGroup {
  /** the first failure: its message, events and logs stand for the group's */
  first: ReportFailure;
  members: ReportFailure[];
  /** the hint, said of every member ("each of these images ...") */
  hint: string | undefined;
}

/** The image a failure's message names (`image "taskflow/api:1"`), if any. */
export function failureImage(f: ReportFailure): string | undefined {
  // ErrImagePull names the reference the runtime resolved (docker.io/taskflow/api:0.1.0), ImagePullBackOff
  // the pod's own (taskflow/api:0.1.0): one spelling, so that both group as one cause.
  return /image "([^"]+)"/.exec(f.detail)?.[1]?.replace(/^docker\.io\/(library\/)?/, '');
}

/** A failure's hint, or undefined. */
export function failureHint(f: ReportFailure): string | undefined {
  return f.detail
    .split('\n')
    .find((l) => l.startsWith('hint: '))
    ?.slice('hint: '.length);
}

/** A text with the failure's own image and pod replaced by placeholders: what members of one cause share. */
function generic(text: string, f: ReportFailure): string {
  const image = failureImage(f);
  const pod = f.object?.replace(/^pod\//, '');
  let out = image ? text.split(image).join('<image>') : text;
  if (pod) out = out.split(pod).join('<pod>');
  return out;
}

/**
 * Groups failures of one cause: the same id, the same hint but for each one's own image and pod, and
 * the same logs. A pull error on every app is then one block naming the four pods, not four blocks.
 */
export function groupFailures(failures: readonly ReportFailure[]): FailureGroup[] {
  const groups = new Map<string, ReportFailure[]>();
  for (const f of failures) {
    const key = JSON.stringify([f.id, generic(failureHint(f) ?? '', f), generic(f.logs ?? '', f)]);
    groups.set(key, [...(groups.get(key) ?? []), f]);
  }
  return [...groups.values()].map((members) => {
    const first = members[0] as ReportFailure;
    const hint = failureHint(first);
    if (members.length === 1 || hint === undefined) return { first, members, hint };
    const said = generic(hint, first)
      .replace(/<image>/g, 'each of these images')
      .replace(/<pod>/g, 'each of these pods');
    return { first, members, hint: said };
  });
}
