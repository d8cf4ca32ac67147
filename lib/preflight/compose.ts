import { existsSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { parse as parseDotenv } from 'dotenv';
import { parse } from 'yaml';
import { APPS, DATABASES } from '../components.ts';
import { DEAD_VARIABLES } from '../flow-map.ts';
import { containerEnvNames, containersOf, findWorkload, podSpecOf } from '../workload-env.ts';
import type { KubeObject } from '../kubectl.ts';

/** One compose service, reduced to what the parity check compares. */
export interface ComposeService {
  name: string;
  image?: string;
  ports: { published?: number; target: number }[];
  /** names of the variables it receives (environment and env_file) */
  env: string[];
}

interface RawService {
  image?: unknown;
  ports?: unknown;
  environment?: unknown;
  env_file?: unknown;
}

/** Parses a compose file's services (ports, env names); env_file paths are read relative to the file. */
export function parseCompose(text: string, file = 'compose.yaml'): ComposeService[] {
  const doc = parse(text) as { services?: Record<string, RawService> } | null;
  const services = doc?.services;
  if (!services || typeof services !== 'object') throw new Error('no services: section');
  return Object.entries(services).map(([name, s]) => ({
    name,
    ...(typeof s?.image === 'string' && { image: s.image }),
    ports: parsePorts(s?.ports),
    env: [...new Set([...envNames(s?.environment), ...envFileNames(s?.env_file, path.dirname(file))])],
  }));
}

function parsePorts(ports: unknown): ComposeService['ports'] {
  if (!Array.isArray(ports)) return [];
  return ports.flatMap((p): ComposeService['ports'] => {
    if (typeof p === 'number') return [{ target: p }];
    if (typeof p === 'object' && p !== null) {
      const o = p as { target?: unknown; published?: unknown };
      const target = Number(o.target);
      const published = o.published === undefined ? undefined : Number(o.published);
      return Number.isInteger(target) ? [{ target, ...(published !== undefined && { published }) }] : [];
    }
    // "[ip:]published:target[/proto]" or "target"; ranges are left out.
    const parts = String(p)
      .replace(/\/(tcp|udp)$/, '')
      .split(':');
    const target = Number(parts.at(-1));
    const published = parts.length >= 2 ? Number(parts.at(-2)) : undefined;
    if (!Number.isInteger(target)) return [];
    return [{ target, ...(published !== undefined && Number.isInteger(published) && { published }) }];
  });
}

function envNames(env: unknown): string[] {
  if (Array.isArray(env)) return env.map((e) => String(e).split('=')[0] ?? '').filter(Boolean);
  if (env && typeof env === 'object') return Object.keys(env);
  return [];
}

function envFileNames(envFile: unknown, dir: string): string[] {
  const files = (Array.isArray(envFile) ? envFile : envFile === undefined ? [] : [envFile]).map((f) =>
    typeof f === 'object' && f !== null ? String((f as { path?: unknown }).path) : String(f),
  );
  return files.flatMap((f) => {
    const p = path.resolve(dir, f);
    return existsSync(p) ? Object.keys(parseDotenv(readFileSync(p))) : [];
  });
}

/** A chart counterpart of a compose service. */
export interface Counterpart {
  label: string;
  workloads: { kind: 'Deployment' | 'StatefulSet'; name: string; container: string }[];
  service: string;
  /** local ports npm run port-forward uses for it (empty: forwarded on demand only) */
  localPorts: number[];
}

const app = (component: string): Counterpart => {
  const a = APPS.find((x) => x.component === component);
  const name = a?.name ?? component;
  return {
    label: component,
    workloads: [{ kind: 'Deployment', name, container: name }],
    service: name,
    localPorts: a ? [a.localPort] : [],
  };
};

/** compose service (by name or image) → chart component (platform.md). */
export const COUNTERPARTS: readonly { match: RegExp; part: Counterpart }[] = [
  { match: /^sso(-platform)?$|sso-platform/, part: app('sso') },
  { match: /^(taskflow-)?api$|taskflow\/api\b/, part: app('api') },
  { match: /^mcp(-server)?$|mcp-server/, part: app('mcp') },
  { match: /^web(-dashboard)?$|web-dashboard/, part: app('web') },
  {
    match: /^pgadmin|dpage\/pgadmin4/,
    part: {
      label: 'pgAdmin add-on',
      workloads: [{ kind: 'Deployment', name: 'pgadmin', container: 'pgadmin' }],
      service: 'pgadmin',
      localPorts: [5050],
    },
  },
  {
    match: /^mailpit|axllent\/mailpit/,
    part: {
      label: 'Mailpit add-on',
      workloads: [{ kind: 'Deployment', name: 'mailpit', container: 'mailpit' }],
      service: 'mailpit',
      localPorts: [8025, 1025],
    },
  },
  {
    match: /^(postgres|db|database)$|^postgres(:|$)/,
    part: {
      label: `the databases (${DATABASES.sso.statefulSet}, ${DATABASES.api.statefulSet})`,
      workloads: Object.values(DATABASES).map((d) => ({
        kind: 'StatefulSet' as const,
        name: d.statefulSet,
        container: d.container,
      })),
      service: DATABASES.sso.statefulSet,
      localPorts: [],
    },
  },
];

/** The chart counterpart of a compose service, if any. */
export function counterpartOf(s: ComposeService): Counterpart | undefined {
  return COUNTERPARTS.find((c) => c.match.test(s.name) || (s.image !== undefined && c.match.test(s.image)))
    ?.part;
}

/**
 * Variables the chart sets only under some settings, so the parity render (SMTP on) does not show
 * them: their compose counterpart is a note, not a gap.
 */
const CONDITIONAL_VARIABLES: Readonly<Record<string, string>> = {
  DISABLE_EMAIL_VERIFICATION: 'set by the chart while SMTP is off (no SMTP_HOST, Mailpit off)',
};

/** The comparison: `gaps` are compose things without a counterpart; `notes` explain deliberate differences. */
export interface Parity {
  gaps: string[];
  notes: string[];
}

/** Compares compose services with the rendered chart (rendered with every add-on on). */
export function compareCompose(services: ComposeService[], objects: readonly KubeObject[]): Parity {
  const gaps: string[] = [];
  const notes: string[] = [];
  for (const s of services) {
    const part = counterpartOf(s);
    if (!part) {
      gaps.push(`service ${s.name}: no counterpart in the chart`);
      continue;
    }
    const containers = part.workloads.flatMap((w) => {
      const obj = findWorkload(objects, w);
      return containersOf(podSpecOf(obj ?? { kind: w.kind, metadata: { name: w.name } }), false).filter(
        (c) => c.name === w.container,
      );
    });
    if (containers.length === 0) {
      gaps.push(
        `service ${s.name}: the chart renders no ${part.workloads.map((w) => `${w.kind} ${w.name}`).join(' / ')} (${part.label})`,
      );
      continue;
    }
    const svc = objects.find((o) => o.kind === 'Service' && o.metadata.name === part.service);
    const svcPorts = (
      (svc?.spec as { ports?: { port?: number; targetPort?: number | string }[] } | undefined)?.ports ?? []
    ).flatMap((p) => [p.port, typeof p.targetPort === 'number' ? p.targetPort : undefined]);
    for (const p of s.ports) {
      if (!svcPorts.includes(p.target))
        gaps.push(`service ${s.name}: port ${p.target} has no counterpart on Service ${part.service}`);
      if (p.published === undefined) continue;
      if (part.localPorts.length === 0) {
        notes.push(
          `service ${s.name}: localhost:${p.published} → reach ${part.label} with kubectl port-forward (not forwarded by default)`,
        );
      } else if (!part.localPorts.includes(p.published)) {
        gaps.push(
          `service ${s.name}: published on localhost:${p.published}, npm run port-forward uses ${part.localPorts.join(', ')}`,
        );
      }
    }
    const chartNames = new Set(containers.flatMap((c) => containerEnvNames(c, objects)));
    for (const name of s.env) {
      if (chartNames.has(name)) continue;
      if (DEAD_VARIABLES.includes(name))
        notes.push(`service ${s.name}: ${name} dropped on purpose (no application reads it)`);
      else if (CONDITIONAL_VARIABLES[name])
        notes.push(`service ${s.name}: ${name} is ${CONDITIONAL_VARIABLES[name]}`);
      else if (name.startsWith('NEXT_PUBLIC_'))
        notes.push(`service ${s.name}: ${name} is a build argument, not a run-time variable`);
      else
        gaps.push(
          `service ${s.name}: variable ${name} has no counterpart in ${part.workloads[0]?.name ?? part.label}`,
        );
    }
  }
  return { gaps, notes };
}
