import { ADDON_CATALOG } from '../addon-catalog.ts';
import { APPS } from '../components.ts';
import { UsageError } from '../errors.ts';

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

/** Every forwardable port, apps first (platform.md's browser-facing defaults). */
export const FORWARD_TARGETS: readonly ForwardTarget[] = [
  ...APPS.map((a) => ({
    name: a.component,
    service: a.name,
    remotePort: a.port,
    localPort: a.localPort,
    addon: false,
  })),
  ...ADDON_CATALOG.flatMap((a) =>
    a.ports.map((p) => ({
      name: a.ports.length === 1 ? a.name : `${a.name}-${p.name}`,
      service: a.service,
      remotePort: p.remote,
      localPort: p.local,
      addon: true,
    })),
  ),
];

/** Valid target names, for messages. */
export const TARGET_NAMES = FORWARD_TARGETS.map((t) => t.name);

/** The target a name refers to: its short name or its Service name. */
export function findTarget(name: string): ForwardTarget | undefined {
  return FORWARD_TARGETS.find((t) => t.name === name || t.service === name);
}

function unknownTarget(name: string, option: string): UsageError {
  return new UsageError(`unknown target "${name}" in ${option}`, {
    hint: `valid targets: ${TARGET_NAMES.join(', ')}`,
  });
}

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
        if (!t) throw unknownTarget(n, '--only');
        return t.name;
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
    if (!t) throw unknownTarget(m[1] ?? '', '--ports');
    const port = Number(m[2]);
    if (port < 1 || port > 65535) {
      throw new UsageError(`bad --ports item "${item}": port must be 1-65535`, {
        hint: 'e.g. --ports web=3100',
      });
    }
    out.set(t.name, port);
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
