import { existsSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { parse } from 'yaml';
import { CHART_PATH } from './context.ts';
import { UsageError } from './errors.ts';
import { type Values, getPath } from './values.ts';

/**
 * The app contract: what each TaskFlow application reads, from its source (charts/taskflow/app-contract.yaml).
 * This module loads it and implements its value rules; it decides nothing about the chart itself.
 */

export type LayoutName = 'phase4' | 'monorepo';
export type AppFolder = 'sso' | 'api' | 'mcp' | 'web';

/** Where an application reads a variable: `<file>:<line>` per layout (`same`, `absent`), or image/library. */
export type SourceRef = Partial<Record<LayoutName | 'image' | 'library', string>>;

/** A named rule, or one with an argument. */
export type Rule = string | { 'min-length': number } | { 'one-of': string[] };

export interface ContractVar {
  name: string;
  source: SourceRef;
  /** true, `smtp` (whenever SMTP reaches the SSO), `no-smtp`, or false */
  required: boolean | 'smtp' | 'no-smtp';
  rule?: Rule;
  secret?: boolean;
  /** env-file key whose value the variable carries */
  setting?: string;
  match?: 'equal' | 'origins' | 'db-url';
  /** set by the chart itself: an in-cluster URL or a fixed value (`{web.url}` reads a chart value) */
  wiring?: { service: string; port: number; path?: string } | { value: string };
  /** false: the application reads it but the chart does not set it */
  chart?: boolean;
  note?: string;
}

export interface BuildArg {
  name: string;
  source: SourceRef;
  /** text with `{chart.value.path}` placeholders, filled from the merged chart values */
  value: string;
  rule?: Rule;
  note?: string;
}

export interface ContractWorkload {
  kind: 'Deployment' | 'StatefulSet' | 'CronJob';
  name: string;
}

export interface ContractApp {
  id: string;
  title: string;
  workload: ContractWorkload;
  container: string;
  init?: boolean;
  also?: (ContractWorkload & { container: string })[];
  images?: { repository: string; target?: string; values: string }[];
  runtime: ContractVar[];
  build?: BuildArg[];
  facts?: Record<string, unknown>;
}

export interface TrustedClientFacts {
  source: string;
  redirectUris: string[];
  productionDropsLocalhost: boolean;
}

export interface AppContract {
  /** the file it was read from */
  file: string;
  source: {
    repository: string;
    layouts: Record<LayoutName, { commit: string } & Record<AppFolder, string>>;
    defaultLayout: LayoutName;
  };
  apps: ContractApp[];
  dead: string[];
}

export const CONTRACT_FILE = path.join(CHART_PATH, 'app-contract.yaml');

const cache = new Map<string, AppContract>();

/** The contract of a chart folder (default: the bundled chart), read once per process. */
export function loadContract(file: string = CONTRACT_FILE): AppContract {
  const hit = cache.get(file);
  if (hit) return hit;
  let doc: unknown;
  try {
    doc = parse(readFileSync(file, 'utf8'));
  } catch (err) {
    throw new UsageError(`cannot read the app contract ${file}: ${(err as Error).message.split('\n')[0]}`, {
      hint: 'restore charts/taskflow/app-contract.yaml from git',
    });
  }
  const d = doc as {
    source?: AppContract['source'];
    apps?: Record<string, Omit<ContractApp, 'id'>>;
    dead?: string[];
  };
  if (!d?.source?.layouts || !d.apps || typeof d.apps !== 'object') {
    throw new UsageError(`the app contract ${file} has no source.layouts or apps`, {
      hint: 'restore charts/taskflow/app-contract.yaml from git',
    });
  }
  const apps = Object.entries(d.apps).map(([id, a]) => {
    for (const v of a.runtime ?? []) {
      if (typeof v.name !== 'string' || v.source === undefined || v.required === undefined) {
        throw new UsageError(
          `the app contract ${file}: ${id} has a variable without name, source or required`,
        );
      }
    }
    return { id, ...a, runtime: a.runtime ?? [] };
  });
  const contract: AppContract = { file, source: d.source, apps, dead: d.dead ?? [] };
  cache.set(file, contract);
  return contract;
}

/** The app of a contract by its id (`sso`, `api`, ...). */
export function contractApp(contract: AppContract, id: string): ContractApp {
  const app = contract.apps.find((a) => a.id === id);
  if (!app) throw new Error(`the app contract has no app ${id}`);
  return app;
}

/** Every workload/container pair an app's variables are checked in. */
export function appTargets(
  app: ContractApp,
): { workload: ContractWorkload; container: string; init: boolean }[] {
  return [
    { workload: app.workload, container: app.container, init: app.init === true },
    ...(app.also ?? []).map((a) => ({
      workload: { kind: a.kind, name: a.name },
      container: a.container,
      init: false,
    })),
  ];
}

/** Whether a variable must be present, given whether SMTP reaches the SSO. */
export function isRequired(v: ContractVar, smtpOn: boolean): boolean {
  if (v.required === 'smtp') return smtpOn;
  if (v.required === 'no-smtp') return !smtpOn;
  return v.required === true;
}

/** A `{chart.value}` template filled from values; undefined when a placeholder has no string value. */
export function fillTemplate(template: string, values: Values): string | undefined {
  let missing = false;
  const out = template.replace(/\{([\w.]+)\}/g, (_m, p: string) => {
    const v = getPath(values, p);
    if (typeof v !== 'string' || v === '') {
      missing = true;
      return '';
    }
    return v.replace(/\/$/, '');
  });
  return missing ? undefined : out;
}

/** A source reference as text: `sso-platform/src/lib/auth.ts:76 (apps/sso/src/lib/auth.ts:77)`. */
export function describeSource(contract: AppContract, app: AppFolder | undefined, ref: SourceRef): string {
  const parts: string[] = [];
  const layouts = contract.source.layouts;
  const at = (l: LayoutName) => {
    const r = ref[l] === 'same' ? ref.phase4 : ref[l];
    if (!r || r === 'absent') return undefined;
    return app ? `${layouts[l][app]}/${r}` : r;
  };
  const p4 = at('phase4');
  const mono = at('monorepo');
  if (p4) parts.push(p4);
  if (mono && mono !== p4) parts.push(p4 ? `(${mono})` : mono);
  if (ref.image) parts.push(`postgres image ${ref.image}`);
  if (ref.library) parts.push(ref.library);
  return parts.join(' ');
}

// --- value rules -------------------------------------------------------------------------------------

const HOSTNAME =
  /^(?=.{1,253}$)[A-Za-z0-9]([A-Za-z0-9-]{0,61}[A-Za-z0-9])?(\.[A-Za-z0-9]([A-Za-z0-9-]{0,61}[A-Za-z0-9])?)*$/;
const ORIGIN = /^https?:\/\/[A-Za-z0-9.-]+(:\d{1,5})?$/;
const EMAIL = /^[^\s@<>"]+@[^\s@<>"]+\.[^\s@<>".]+$/;
const LOG_LEVELS = ['CRITICAL', 'FATAL', 'ERROR', 'WARN', 'WARNING', 'INFO', 'DEBUG', 'NOTSET'];
const PYDANTIC_BOOLS = ['true', 'false', '1', '0', 'yes', 'no', 'on', 'off', 't', 'f', 'y', 'n'];

/** Parses a postgresql:// URL; undefined when it is not one. */
function pgUrl(value: string): URL | undefined {
  try {
    const u = new URL(value);
    return ['postgresql:', 'postgres:'].includes(u.protocol) ? u : undefined;
  } catch {
    return undefined;
  }
}

/** The SSO's database driver for a URL: a substring test, as src/lib/db/index.ts does it. */
export function ssoDriver(url: string, contract: AppContract = loadContract()): 'postgres' | 'neon' {
  const driver = contractApp(contract, 'sso').facts?.driver as { plainWhenUrlContains: string[] };
  return driver.plainWhenUrlContains.some((s) => url.includes(s)) ? 'postgres' : 'neon';
}

/** Whether a host is Neon's (the SSO's HTTP driver speaks only to Neon). */
export function isNeonHost(host: string, contract: AppContract = loadContract()): boolean {
  const driver = contractApp(contract, 'sso').facts?.driver as { neonHostSuffix: string };
  return host.toLowerCase().endsWith(driver.neonHostSuffix);
}

/** The sender the chart gives the SSO when none is set (the chart reads the same fact from the contract). */
export function defaultSender(contract: AppContract = loadContract()): string {
  return (contractApp(contract, 'sso').facts?.mail as { defaultSender: string }).defaultSender;
}

/** The sslmode values the API's chat store converts for asyncpg. */
export function chatSslmodes(contract: AppContract = loadContract()): string[] {
  return contractApp(contract, 'api').facts?.chatSslmodes as string[];
}

const ASYNCPG_PARAMS = new Set(['sslmode', 'ssl', 'channel_binding', 'target_session_attrs', 'direct_tls']);
const SSLMODES = ['disable', 'allow', 'prefer', 'require', 'verify-ca', 'verify-full'];

/**
 * Why a value breaks a rule, or undefined when it passes. A value holding `$(PGPASSWORD)` (a password
 * from an existingSecret, expanded by the kubelet) is checked with that reference standing in.
 */
export function ruleProblem(
  rule: Rule,
  value: string,
  contract: AppContract = loadContract(),
): string | undefined {
  if (typeof rule === 'object') {
    if ('min-length' in rule)
      return value.length >= rule['min-length'] ? undefined : `shorter than ${rule['min-length']} characters`;
    return rule['one-of'].includes(value) ? undefined : `not one of ${rule['one-of'].join(', ')}`;
  }
  switch (rule) {
    case 'non-empty':
      return value.trim() === '' ? 'empty' : undefined;
    case 'url':
      return URL.canParse(value) && /^https?:$/.test(new URL(value).protocol)
        ? undefined
        : 'not an absolute http(s) URL';
    case 'hostname':
      return HOSTNAME.test(value) ? undefined : 'not a host name (no scheme, port or path)';
    case 'port':
      return /^\d{1,5}$/.test(value) && Number(value) >= 1 && Number(value) <= 65535
        ? undefined
        : 'not a port number';
    case 'number':
      return value.trim() !== '' && Number.isFinite(Number(value)) ? undefined : 'not a number';
    case 'true-or-false':
      return value === 'true' || value === 'false' ? undefined : 'not "true" or "false"';
    case 'pydantic-bool':
      return PYDANTIC_BOOLS.includes(value.toLowerCase()) ? undefined : 'not a boolean';
    case 'log-level':
      return LOG_LEVELS.includes(value.toUpperCase())
        ? undefined
        : `not a log level (${LOG_LEVELS.join(', ')})`;
    case 'email-sender': {
      const m = /^[^<>]*<([^<>]+)>$/.exec(value.trim());
      return EMAIL.test(m ? (m[1] ?? '') : value.trim())
        ? undefined
        : 'not an e-mail address ("Name <a@b.c>" or a@b.c)';
    }
    case 'origin-list':
    case 'origin-list-strict': {
      const items = value.split(',');
      if (items.some((o) => o.trim() === '')) return 'has an empty entry';
      if (rule === 'origin-list-strict' && items.some((o) => o !== o.trim()))
        return 'has spaces around an entry (the SSO does not trim them)';
      const bad = items.find((o) => !ORIGIN.test(o.trim()));
      return bad === undefined ? undefined : `"${bad.trim()}" is not an origin (scheme://host[:port])`;
    }
    case 'sso-database-url':
    case 'api-database-url':
    case 'chat-database-url':
      return databaseUrlProblem(rule, value, contract);
    default:
      return `unknown rule ${rule}`;
  }
}

function databaseUrlProblem(rule: string, value: string, contract: AppContract): string | undefined {
  const u = pgUrl(value.replaceAll('$(PGPASSWORD)', 'x'));
  if (!u) return 'not a postgresql:// URL';
  if (rule === 'chat-database-url' && u.protocol !== 'postgresql:')
    return 'the chat store accepts only postgresql:// (postgres:// is rejected)';
  const params = [...u.searchParams.keys()];
  const sslmode = u.searchParams.get('sslmode');
  if (rule === 'sso-database-url') {
    if (ssoDriver(value, contract) === 'neon' && !isNeonHost(u.hostname, contract))
      return `the SSO would use Neon's HTTP driver for ${u.hostname}, which is not a Neon host (only localhost, 127.0.0.1 or sslmode=disable select plain PostgreSQL)`;
    return undefined;
  }
  const unknown = params.find((p) => !ASYNCPG_PARAMS.has(p));
  if (unknown) return `query parameter ${unknown} reaches asyncpg.connect, which fails on it`;
  const ssl = u.searchParams.get('ssl');
  for (const mode of [sslmode, ssl]) {
    if (mode !== null && !SSLMODES.includes(mode)) return `sslmode ${mode} is not one asyncpg knows`;
  }
  if (rule === 'chat-database-url' && sslmode !== null && !chatSslmodes(contract).includes(sslmode))
    return `sslmode=${sslmode} is not converted by the chat store (only ${chatSslmodes(contract).join(', ')}): chat would be off`;
  return undefined;
}

// --- source layouts and trusted clients -------------------------------------------------------------

/** The layout of a source folder: the first whose four app folders all hold a Dockerfile. */
export function detectLayout(
  src: string,
  contract: AppContract = loadContract(),
  exists: (p: string) => boolean = existsSync,
): LayoutName | undefined {
  const names = Object.keys(contract.source.layouts) as LayoutName[];
  return names.find((l) =>
    (['sso', 'api', 'mcp', 'web'] as const).every((a) =>
      exists(path.join(src, contract.source.layouts[l][a], 'Dockerfile')),
    ),
  );
}

/** The taskflow public client's redirect URIs as the contract records them for a layout. */
export function recordedTrustedClient(
  layout: LayoutName,
  contract: AppContract = loadContract(),
): TrustedClientFacts {
  const tc = contractApp(contract, 'sso').facts?.trustedClients as Record<string, unknown>;
  return tc[layout] as TrustedClientFacts;
}

/**
 * The redirect URIs of the SSO's public OAuth client read from an SSO source folder's trusted clients
 * file, or undefined when the file or the client cannot be found. `productionDropsLocalhost` is true when
 * the list goes through the file's production filter (NODE_ENV !== "production" keeps localhost).
 */
export function readTrustedClient(
  ssoDir: string,
  contract: AppContract = loadContract(),
  read: (p: string) => string = (p) => readFileSync(p, 'utf8'),
): (TrustedClientFacts & { file: string }) | undefined {
  const tc = contractApp(contract, 'sso').facts?.trustedClients as { file: string; clientId: string };
  const file = path.join(ssoDir, tc.file);
  let text: string;
  try {
    text = read(file);
  } catch {
    return undefined;
  }
  const at =
    text.indexOf(`"${tc.clientId}"`) >= 0
      ? text.indexOf(`"${tc.clientId}"`)
      : text.indexOf(`'${tc.clientId}'`);
  if (at < 0) return undefined;
  const m = /redirectUrls\s*:\s*(\w+\s*\()?\s*\[([^\]]*)\]/.exec(text.slice(at));
  if (!m) return undefined;
  const redirectUris = [...(m[2] ?? '').matchAll(/["'`]([^"'`]+)["'`]/g)].map((x) => x[1] ?? '');
  const line = text.slice(0, at).split('\n').length;
  const filtered = m[1] !== undefined && /NODE_ENV\s*!==?\s*["']production["']/.test(text);
  return { file, source: `${tc.file}:${line}`, redirectUris, productionDropsLocalhost: filtered };
}

/** The redirect URIs the SSO image accepts: localhost ones dropped when its production filter applies. */
export function acceptedRedirects(facts: TrustedClientFacts): string[] {
  if (!facts.productionDropsLocalhost) return facts.redirectUris;
  return facts.redirectUris.filter((u) => {
    const host = URL.canParse(u) ? new URL(u).hostname : '';
    return !['localhost', '127.0.0.1', '[::1]'].includes(host);
  });
}
