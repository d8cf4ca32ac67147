import { ADDON_CATALOG, type AddonInfo, findAddonInfo } from './addon-catalog.ts';
import { APPS, releaseSelector } from './components.ts';
import { UsageError, OperationError } from './errors.ts';
import type { ClusterSession } from './context.ts';
import { type KubeObject, matchesLabels } from './kubectl.ts';
import { npmRun } from './suggest.ts';
import net from 'node:net';
import { describeHolder, findPortHolder, type PortHolder } from './processes.ts';

/** One service port to forward to localhost. */
export interface ForwardTarget {
  /** Short name used by --only and --ports: web, sso, api, mcp, pgadmin, mailpit. */
  name: string;
  service: string;
  remotePort: number;
  localPort: number;
  /** Add-ons are forwarded only when their Service exists (the add-on is on). */
  addon: boolean;
}

/** The forward targets of an add-on's forwarded ports: its name when it has one, else `<name>-<port>`. */
export function addonForwardTargets(a: Pick<AddonInfo, 'name' | 'service' | 'ports'>): ForwardTarget[] {
  return a.ports.map((p) => ({
    name: a.ports.length === 1 ? a.name : `${a.name}-${p.name}`,
    service: a.service,
    remotePort: p.remote,
    localPort: p.local,
    addon: true,
  }));
}

/** Every forwardable port the chart itself has, apps first (platform.md's browser-facing defaults). */
export const FORWARD_TARGETS: readonly ForwardTarget[] = [
  ...APPS.map((a) => ({
    name: a.component,
    service: a.name,
    remotePort: a.port,
    localPort: a.localPort,
    addon: false,
  })),
  ...ADDON_CATALOG.flatMap(addonForwardTargets),
];

/** Valid target names of the chart itself, for messages. */
export const TARGET_NAMES = FORWARD_TARGETS.map((t) => t.name);

/** The label on a data add-on's objects naming it, and the Service annotation with its local ports. */
export const ADDON_LABEL = 'taskflow.dev/addon';
export const FORWARD_ANNOTATION = 'taskflow.dev/forward';

/**
 * The forward targets of the data add-ons that are on, from their Services (no definition file needed):
 * the label names the add-on, the annotation `http=8081,...` gives each forwarded port's local port.
 */
export function definitionTargets(objects: readonly KubeObject[]): ForwardTarget[] {
  return objects.flatMap((svc) => {
    const name = svc.metadata.labels?.[ADDON_LABEL];
    if (svc.kind !== 'Service' || name === undefined) return [];
    const remote = new Map(
      ((svc.spec?.ports ?? []) as { name?: string; port?: number }[]).map((p) => [p.name, p.port]),
    );
    const ports = (svc.metadata.annotations?.[FORWARD_ANNOTATION] ?? '')
      .split(',')
      .map((item) => /^([a-z0-9-]+)=(\d{1,5})$/.exec(item.trim()))
      .flatMap((m) => {
        const port = m ? remote.get(m[1]) : undefined;
        return m && port !== undefined ? [{ name: m[1] ?? '', remote: port, local: Number(m[2]) }] : [];
      });
    return addonForwardTargets({ name, service: svc.metadata.name, ports });
  });
}

/** The target a name refers to among `targets` (default: the chart's): its short name or its Service name. */
export function findTarget(
  name: string,
  targets: readonly ForwardTarget[] = FORWARD_TARGETS,
): ForwardTarget | undefined {
  return targets.find((t) => t.name === name || t.service === name);
}

function unknownTarget(name: string, option: string, targets = FORWARD_TARGETS): UsageError {
  const later =
    targets === FORWARD_TARGETS ? '' : ` (a data add-on is one while it is on: ${npmRun('addon', 'list')})`;
  return new UsageError(`unknown target "${name}" in ${option}`, {
    hint: `valid targets: ${targets.map((t) => t.name).join(', ')}${later}`,
  });
}

/** A name that may be a data add-on's target, known only once the release's Services are read. */
const LATER = /^[a-z]([-a-z0-9]*[a-z0-9])?$/;

/** Splits repeatable, comma-separated option values into trimmed items. */
export function splitList(values: string[]): string[] {
  return values
    .flatMap((v) => v.split(','))
    .map((s) => s.trim())
    .filter((s) => s !== '');
}

/** Parses `--only web,api` into target names (exit 2 on an unknown one). */
export function parseOnly(values: string[]): string[] | undefined {
  const items = splitList(values);
  if (items.length === 0) return undefined;
  return [
    ...new Set(
      items.map((n) => {
        const t = findTarget(n);
        if (!t && !LATER.test(n)) throw unknownTarget(n, '--only');
        return t?.name ?? n;
      }),
    ),
  ];
}

/** Parses `--ports web=3100,sso=3101` into local port overrides (exit 2 on a bad item). */
export function parsePorts(values: string[]): Map<string, number> {
  const out = new Map<string, number>();
  for (const item of splitList(values)) {
    const m = /^([\w-]+)=(\d{1,5})$/.exec(item);
    if (!m) {
      throw new UsageError(`bad --ports item "${item}": expected NAME=PORT`, {
        hint: 'e.g. --ports web=3100,sso=3101',
      });
    }
    const t = findTarget(m[1] ?? '');
    if (!t && !LATER.test(m[1] ?? '')) throw unknownTarget(m[1] ?? '', '--ports');
    const port = Number(m[2]);
    if (port < 1 || port > 65535) {
      throw new UsageError(`bad --ports item "${item}": port must be 1-65535`, {
        hint: 'e.g. --ports web=3100',
      });
    }
    out.set(t?.name ?? m[1] ?? '', port);
  }
  return out;
}

/** Targets with the local ports the user asked for; two targets on one port is a usage error. */
export function withPorts(targets: readonly ForwardTarget[], ports: Map<string, number>): ForwardTarget[] {
  const out = targets.map((t) => ({ ...t, localPort: ports.get(t.name) ?? t.localPort }));
  const seen = new Map<number, string>();
  for (const t of out) {
    const other = seen.get(t.localPort);
    if (other) {
      throw new UsageError(`${other} and ${t.name} both want local port ${t.localPort}`, {
        hint: `give one another port, e.g. --ports ${t.name}=${t.localPort + 100}`,
      });
    }
    seen.set(t.localPort, t.name);
  }
  return out;
}

export interface PlanOptions {
  /** Target names to forward; undefined: every app, and every add-on that is on. */
  only?: readonly string[];
  /** Local port overrides by target name. */
  ports: ReadonlyMap<string, number>;
  autoPorts: boolean;
  /** How to retry when a port is taken (hint). */
  retryHint?: string;
  /** The caller has checked the release already. */
  skipReleaseCheck?: boolean;
  /** For tests: the port checks. */
  portCheck?: Pick<PortCheckOptions, 'isFree' | 'holderOf'>;
}

/** The live (not terminating) pods behind a Service, by its selector. */
export function podsBehind(service: KubeObject, pods: readonly KubeObject[]): KubeObject[] {
  const selector = (service.spec?.selector ?? {}) as Record<string, string>;
  return pods.filter((p) => !p.metadata.deletionTimestamp && matchesLabels(selector, p.metadata.labels));
}

/**
 * Which targets to forward, from the release's Services and pods (one kubectl call): explicitly named
 * targets must exist; by default every app, plus the add-ons that are on. A target without a Service
 * or without a pod is an error with the next step.
 */
export function chooseTargets(
  objects: readonly KubeObject[],
  only: readonly string[] | undefined,
  target: { release: string; namespace: string },
): ForwardTarget[] {
  const services = new Map(objects.filter((o) => o.kind === 'Service').map((s) => [s.metadata.name, s]));
  const pods = objects.filter((o) => o.kind === 'Pod');
  const ns = target.namespace;
  const all = knownTargets(objects);
  let chosen: ForwardTarget[];
  if (only) {
    chosen = only.map((n) => {
      const t = findTarget(n, all);
      if (!t) throw unknownTarget(n, '--only', all);
      return t;
    });
    for (const t of chosen) {
      if (services.has(t.service)) continue;
      const addon = findAddonInfo(t.service);
      throw addon
        ? new OperationError(`${addon.title} is not enabled in release "${target.release}"`, {
            hint: `turn it on: ${npmRun('addon', addon.name, '-n', ns)}`,
          })
        : new OperationError(`service ${t.service} not found in release "${target.release}"`, {
            hint: `check the release: ${npmRun('doctor', '-n', ns)} (or redeploy: ${npmRun('deploy', '-n', ns)})`,
          });
    }
  } else {
    chosen = all.filter((t) => services.has(t.service));
    if (chosen.length === 0) {
      throw new OperationError(`release "${target.release}" has no services to forward in "${ns}"`, {
        hint: 'run npm run deploy first',
      });
    }
  }
  const podless = chosen.filter((t) => podsBehind(services.get(t.service)!, pods).length === 0);
  if (podless.length > 0) {
    const names = [...new Set(podless.map((t) => t.service))].join(', ');
    throw new OperationError(`pod not found behind service ${names}`, {
      hint: `see why: ${npmRun('doctor', '-n', ns)}`,
    });
  }
  return chosen;
}

/** The chart's targets, then those of the data add-ons whose Services are among `objects`. */
export function knownTargets(objects: readonly KubeObject[]): ForwardTarget[] {
  const chart = new Set(FORWARD_TARGETS.map((t) => t.name));
  return [...FORWARD_TARGETS, ...definitionTargets(objects).filter((t) => !chart.has(t.name))];
}

/** Everything before the first forward starts: release, services, pods, local ports. */
export async function planForwards(session: ClusterSession, opts: PlanOptions): Promise<PortAssignment[]> {
  if (!opts.skipReleaseCheck) await session.helm.assertInstalled();
  const objects = await session.kubectl.list(['services', 'pods'], releaseSelector(session.target.release), {
    timeoutMs: 20_000,
  });
  const all = knownTargets(objects);
  for (const name of opts.ports.keys()) if (!findTarget(name, all)) throw unknownTarget(name, '--ports', all);
  const targets = withPorts(chooseTargets(objects, opts.only, session.target), new Map(opts.ports));
  return assignPorts(targets, {
    auto: opts.autoPorts,
    retryHint: opts.retryHint,
    // A moved forward keeps off the other targets' usual ports, so a later full port-forward still fits.
    reserved: all.map((t) => t.localPort),
    ...opts.portCheck,
  });
}

/** The address every forward listens on (and the bind test uses). */
export const LOCAL_ADDRESS = '127.0.0.1';

/** Whether a local TCP port can be bound now (a bind test, closed at once). */
export function isPortFree(port: number, host = LOCAL_ADDRESS): Promise<boolean> {
  return new Promise((resolve) => {
    const server = net.createServer();
    server.once('error', () => resolve(false));
    server.listen({ port, host, exclusive: true }, () => server.close(() => resolve(true)));
  });
}

/** The first free port after `from`, skipping `avoid`; undefined when none within `span` ports. */
export async function findFreePort(
  from: number,
  avoid: ReadonlySet<number>,
  isFree: (port: number) => Promise<boolean> = isPortFree,
  span = 200,
): Promise<number | undefined> {
  for (let p = from + 1; p <= Math.min(65535, from + span); p++) {
    if (!avoid.has(p) && (await isFree(p))) return p;
  }
  return undefined;
}

/** A target with the local port it got, and why it moved when it did. */
export interface PortAssignment {
  target: ForwardTarget;
  localPort: number;
  /** Set when the wanted port was taken and the forward moved. */
  moved?: { from: number; holder: string };
}

export interface PortCheckOptions {
  /** Move to the next free port instead of failing. */
  auto: boolean;
  isFree?: (port: number) => Promise<boolean>;
  holderOf?: (port: number) => PortHolder | undefined;
  /** Ports a moved forward must not take (other targets' usual ports). */
  reserved?: readonly number[];
  /** How to retry, for the hint (e.g. `npm run port-forward -- --auto-ports`). */
  retryHint?: string;
}

/**
 * Checks each wanted local port before anything starts. A taken port names the process holding it
 * and fails (exit 1), or with `auto` moves to the next free port and says so.
 */
export async function assignPorts(
  targets: readonly ForwardTarget[],
  opts: PortCheckOptions,
): Promise<PortAssignment[]> {
  const isFree = opts.isFree ?? ((p: number) => isPortFree(p));
  const holderOf = opts.holderOf ?? ((p: number) => findPortHolder(p));
  const used = new Set([...targets.map((t) => t.localPort), ...(opts.reserved ?? [])]);
  const out: PortAssignment[] = [];
  const taken: string[] = [];
  let ownForward = false;
  for (const target of targets) {
    if (await isFree(target.localPort)) {
      out.push({ target, localPort: target.localPort });
      continue;
    }
    const found = holderOf(target.localPort);
    if (found && /\bport-forward\b/.test(found.command)) ownForward = true;
    const holder = describeHolder(found);
    if (!opts.auto) {
      taken.push(`local port ${target.localPort} (${target.name}) is in use by ${holder}`);
      continue;
    }
    const next = await findFreePort(target.localPort, used, isFree);
    if (next === undefined) {
      throw new OperationError(
        `local port ${target.localPort} (${target.name}) is in use by ${holder} and no free port follows it`,
        { hint: `stop that process, or pick a port: --ports ${target.name}=PORT` },
      );
    }
    used.add(next);
    out.push({ target, localPort: next, moved: { from: target.localPort, holder } });
  }
  if (taken.length > 0) {
    const first =
      taken.length === 1 ? taken[0] : `${taken.length} local ports are taken: ${taken.join('; ')}`;
    throw new OperationError(first ?? 'local port taken', {
      hint: ownForward
        ? `a port-forward already holds it: stop that one first (a background one: ${npmRun('port-forward', '--stop')}), or rerun with --auto-ports`
        : (opts.retryHint ?? 'stop that process, or rerun with --auto-ports (or --ports NAME=PORT)'),
    });
  }
  return out;
}

export type ForwardState = 'starting' | 'ready' | 'reconnecting' | 'failed' | 'stopped';

/** What the status table shows for one forward. */
export interface ForwardStatus {
  name: string;
  service: string;
  localPort: number;
  remotePort: number;
  url: string;
  state: ForwardState;
  /** Why it is not ready (the last kubectl message), or empty. */
  detail: string;
  restarts: number;
  /** When the state last changed (ms since epoch). */
  since: number;
}
