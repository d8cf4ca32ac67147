import { findAddonInfo } from '../addon-catalog.ts';
import { releaseSelector } from '../components.ts';
import type { ClusterSession } from '../context.ts';
import { OperationError } from '../errors.ts';
import { type KubeObject, matchesLabels } from '../kubectl.ts';
import { assignPorts, type PortAssignment, type PortCheckOptions } from './ports.ts';
import { FORWARD_TARGETS, type ForwardTarget, findTarget, withPorts } from './targets.ts';
import { npmRun } from '../suggest.ts';

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
  let chosen: ForwardTarget[];
  if (only) {
    chosen = only.map((n) => findTarget(n)).filter((t): t is ForwardTarget => t !== undefined);
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
    chosen = FORWARD_TARGETS.filter((t) => services.has(t.service));
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

/** Everything before the first forward starts: release, services, pods, local ports. */
export async function planForwards(session: ClusterSession, opts: PlanOptions): Promise<PortAssignment[]> {
  if (!opts.skipReleaseCheck) await session.helm.assertInstalled();
  const objects = await session.kubectl.list(['services', 'pods'], releaseSelector(session.target.release), {
    timeoutMs: 20_000,
  });
  const targets = withPorts(chooseTargets(objects, opts.only, session.target), new Map(opts.ports));
  return assignPorts(targets, {
    auto: opts.autoPorts,
    retryHint: opts.retryHint,
    // A moved forward keeps off the other targets' usual ports, so a later full port-forward still fits.
    reserved: FORWARD_TARGETS.map((t) => t.localPort),
    ...opts.portCheck,
  });
}
