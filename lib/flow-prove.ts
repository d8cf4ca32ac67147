import { parseOrigins, type Settings } from './env.ts';
import type { KubeObject } from './kubectl.ts';
import type { ResolvedSecrets } from './secret-resolution.ts';
import { FLOW, type FlowSetting, type FlowTarget, type Match } from './flow-map.ts';
import {
  type Container,
  type EnvResolution,
  containersOf,
  findWorkload,
  podSpecOf,
  resolveEnv,
} from './workload-env.ts';

/**
 * `ok` the value arrives; `off` the setting does not apply; `absent` the workload is not rendered
 * (component disabled); `external` it comes from an object outside the release (existingSecret);
 * `missing`/`broken`/`mismatch` it does not arrive, or arrives wrong; `exposed` a secret sits in a
 * ConfigMap or in the pod spec.
 */
export type LinkStatus = 'ok' | 'off' | 'absent' | 'external' | 'missing' | 'broken' | 'mismatch' | 'exposed';

/** One link of the flow: a setting at one of its targets. */
export interface LinkResult {
  setting: FlowSetting;
  target?: FlowTarget;
  status: LinkStatus;
  /** where it was found, e.g. `ConfigMap sso-platform key BETTER_AUTH_URL` */
  via?: string;
  /** `Deployment sso-platform / container sso-platform / env BETTER_AUTH_URL` */
  where?: string;
  detail: string;
  /** the text the container gets (kept in memory for comparison; never printed for secrets) */
  value?: string;
}

export const BAD_LINKS: ReadonlySet<LinkStatus> = new Set(['missing', 'broken', 'mismatch', 'exposed']);

/** Describes a target for humans. */
export function targetLabel(t: FlowTarget): string {
  const w = `${t.workload.kind} ${t.workload.name}`;
  if (t.type === 'storage') return `${w} volumeClaimTemplates storageClassName`;
  if (t.type === 'image') return `${w} container ${t.container} image tag`;
  const c = t.container === '*' ? 'a container' : `${t.init ? 'init container' : 'container'} ${t.container}`;
  return `${w} ${c} env ${t.envVar}`;
}

/** Proves each row against the objects: does every setting reach each container that reads it? */
export function proveFlow(
  objects: readonly KubeObject[],
  settings: Settings,
  secrets: ResolvedSecrets,
  rows: readonly FlowSetting[] = FLOW,
): LinkResult[] {
  const out: LinkResult[] = [];
  for (const setting of rows) {
    const off = setting.off?.(settings, objects);
    if (off !== undefined || setting.targets.length === 0) {
      out.push({ setting, status: 'off', detail: off ?? 'not used by any container' });
      continue;
    }
    const expected = setting.expected?.(settings, secrets);
    for (const target of setting.targets) out.push(proveTarget(objects, setting, target, expected));
  }
  return out;
}

function proveTarget(
  objects: readonly KubeObject[],
  setting: FlowSetting,
  target: FlowTarget,
  expected: string | undefined,
): LinkResult {
  const base = { setting, target, where: targetLabel(target) };
  const workload = findWorkload(objects, target.workload);
  if (!workload) {
    return {
      ...base,
      status: 'absent',
      detail: `${target.workload.kind} ${target.workload.name} is not deployed`,
    };
  }
  const spec = podSpecOf(workload);
  if (target.type === 'storage') {
    const templates =
      (workload.spec as { volumeClaimTemplates?: { spec?: { storageClassName?: string } }[] })
        ?.volumeClaimTemplates ?? [];
    const cls = templates[0]?.spec?.storageClassName;
    const via = 'volumeClaimTemplates[0].spec.storageClassName';
    if (cls === expected)
      return { ...base, status: 'ok', via, detail: `storage class "${cls ?? ''}"`, value: cls ?? '' };
    return {
      ...base,
      status: 'mismatch',
      via,
      detail: `asks for storage class "${cls ?? '(cluster default)'}", not "${expected ?? ''}"`,
    };
  }
  const containers =
    target.type === 'env' && target.container === '*'
      ? [...containersOf(spec, true), ...containersOf(spec, false)]
      : containersOf(spec, target.type === 'env' && target.init === true).filter(
          (c) => c.name === target.container,
        );
  if (containers.length === 0) {
    return {
      ...base,
      status: 'missing',
      detail: `${target.workload.kind} ${target.workload.name} has no container ${target.container}`,
    };
  }
  if (target.type === 'image') return proveImage(base, containers[0] as Container, expected);
  const resolved = containers.map((c) => resolveEnv(c, target.envVar, objects)).find((r) => r.found);
  if (!resolved) {
    return { ...base, status: 'missing', detail: `${target.envVar} is not set in ${containerLabel(target)}` };
  }
  return judge(base, setting, target.match, resolved, expected);
}

function containerLabel(t: Extract<FlowTarget, { type: 'env' }>): string {
  return t.container === '*' ? `${t.workload.kind} ${t.workload.name}` : `container ${t.container}`;
}

function proveImage(
  base: Pick<LinkResult, 'setting' | 'target' | 'where'>,
  c: Container,
  expected: string | undefined,
): LinkResult {
  const image = c.image ?? '';
  const tag = /:([\w][\w.-]*)$/.exec(image.replace(/@sha256:.*$/, ''))?.[1] ?? 'latest';
  const via = `image ${image}`;
  if (tag === expected) return { ...base, status: 'ok', via, detail: `tag ${tag}`, value: tag };
  return {
    ...base,
    status: 'mismatch',
    via,
    detail: `runs tag ${tag}, not ${expected ?? ''} (a values file sets the image tag?)`,
  };
}

function judge(
  base: Pick<LinkResult, 'setting' | 'target' | 'where'>,
  setting: FlowSetting,
  match: Match,
  r: EnvResolution,
  expected: string | undefined,
): LinkResult {
  const at = { ...base, via: r.via };
  if (r.broken) return { ...at, status: 'broken', detail: r.broken };
  if (setting.secret && r.refs.some((x) => x.kind === 'ConfigMap')) {
    return {
      ...at,
      status: 'exposed',
      detail: `a secret is read from a ConfigMap (${r.via}): it belongs in a Secret`,
    };
  }
  if (
    setting.secret &&
    r.literal &&
    r.value !== undefined &&
    expected &&
    r.value.includes(expected) &&
    r.refs.length === 0
  ) {
    return {
      ...at,
      status: 'exposed',
      detail: 'a secret is written into the pod spec: it belongs in a Secret',
    };
  }
  if (r.external !== undefined || r.value === undefined) {
    return { ...at, status: 'external', detail: r.external ?? `from ${r.via}: value not visible here` };
  }
  const problem = mismatch(match, r.value, expected, setting.secret);
  return problem === undefined
    ? { ...at, status: 'ok', detail: `reaches it through ${r.via}`, value: r.value }
    : { ...at, status: 'mismatch', detail: `${r.via}: ${problem}`, value: r.value };
}

const show = (v: string, secret: boolean): string => (secret ? 'another value' : JSON.stringify(v));

/** Why the value is not the setting's, or undefined when it is. Never quotes a secret. */
export function mismatch(
  match: Match,
  actual: string,
  expected: string | undefined,
  secret: boolean,
): string | undefined {
  if (match === 'equal') {
    if (expected === undefined || actual === expected) return undefined;
    return `holds ${show(actual, secret)} instead of the setting ${show(expected, secret)}`;
  }
  if (match === 'origins') {
    const a = new Set(parseOrigins(actual));
    const e = parseOrigins(expected ?? '');
    if (e.every((o) => a.has(o)) && a.size === new Set(e).size) return undefined;
    return `holds ${JSON.stringify(actual)} instead of ${JSON.stringify(e.join(','))}`;
  }
  if (match === 'db-url') return dbUrlProblem(actual, expected);
  return serviceUrlProblem(actual, match);
}

function dbUrlProblem(actual: string, expected: string | undefined): string | undefined {
  let url: URL;
  try {
    url = new URL(actual);
  } catch {
    return 'not a valid URL (Invalid URL): the password must be percent-encoded in a postgresql:// URL';
  }
  if (!['postgres:', 'postgresql:'].includes(url.protocol))
    return `not a postgresql:// URL (${url.protocol})`;
  let password: string;
  try {
    password = decodeURIComponent(url.password);
  } catch {
    return 'the password in the URL is not valid percent-encoding';
  }
  if (expected !== undefined && password !== expected) {
    return 'the password in the URL is not the setting (a literal % @ : / ? # + breaks it unless percent-encoded)';
  }
  // The SSO picks its plain (non-TLS) driver by this suffix; its in-cluster database speaks no TLS.
  const inCluster = /^sso-postgres(\.|$)/.test(url.hostname);
  if (inCluster && url.searchParams.get('sslmode') !== 'disable') {
    return `the URL to the in-cluster database ${url.hostname} lacks ?sslmode=disable`;
  }
  return undefined;
}

function serviceUrlProblem(
  actual: string,
  m: { service: string; port: number; path?: string },
): string | undefined {
  let url: URL;
  try {
    url = new URL(actual);
  } catch {
    return `${JSON.stringify(actual)} is not a URL`;
  }
  const hostOk = url.hostname === m.service || url.hostname.startsWith(`${m.service}.`);
  const port = url.port === '' ? (url.protocol === 'https:' ? 443 : 80) : Number(url.port);
  if (!hostOk || port !== m.port) {
    return `points at ${url.host}, not the Service ${m.service}:${m.port}`;
  }
  if (m.path !== undefined && !url.pathname.startsWith(m.path))
    return `path ${url.pathname} is not ${m.path}`;
  return undefined;
}
