import net from 'node:net';
import { OperationError } from '../errors.ts';
import { describeHolder, findPortHolder, type PortHolder } from '../processes.ts';
import type { ForwardTarget } from './targets.ts';
import { npmRun } from '../suggest.ts';

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
