import { DATABASES } from '../components.ts';
import type { Settings } from '../env.ts';
import { type ResolvedSecrets, SECRET_KEYS, SECRET_LOCATIONS, type SecretKey } from '../secret-resolution.ts';
import type { LiveStatus } from './live.ts';
import type { FlowSetting } from '../flow-map.ts';
import type { LinkResult, LinkStatus } from '../flow-prove.ts';
import type { KeyFinding } from '../config-scan.ts';
import { npmRun } from '../suggest.ts';

/** Where a setting's value comes from, in words (never the value). */
export function sourceOf(
  row: FlowSetting,
  settings: Settings,
  secrets: ResolvedSecrets,
  envPath: string,
): string {
  if (row.kind === 'chart') return 'chart (internal wiring)';
  const key = row.key;
  const entry = settings.raw.get(key);
  const fromFile =
    entry?.source === 'env-file' ? `env file ${envPath}${entry.line ? `:${entry.line}` : ''}` : undefined;
  if ((SECRET_KEYS as readonly string[]).includes(key)) {
    const src = secrets.sources[key as SecretKey];
    if (src === 'cluster') return `existing Secret ${SECRET_LOCATIONS[key as SecretKey].secret}`;
    if (src === 'generated') return 'generated (not in the env file, nor in the cluster)';
  }
  const src = settings.sources[key];
  if (src === 'env-file') return fromFile ?? 'env file';
  if (src === 'process-env') return 'process environment';
  if (src === 'option') return 'command-line option';
  if (src === 'default') return 'default';
  return entry ? (fromFile ?? 'process environment') : 'not set';
}

const MARK: Record<LinkStatus, string> = {
  ok: '✓',
  off: '-',
  absent: '-',
  external: '~',
  missing: '✗',
  broken: '✗',
  mismatch: '✗',
  exposed: '✗',
};

const LIVE_TEXT: Record<LiveStatus, string> = {
  same: 'same',
  differs: 'differs (redeploy applies it)',
  stale: 'stale: the pod started with an older value (kubectl rollout restart applies it)',
  drifting:
    'same in the pod, but the live Secret/ConfigMap holds another value (the next restart takes it; npm run deploy restores it)',
  missing: 'missing in the live pod',
  'not-deployed': 'not deployed',
  unknown: 'not comparable',
};

/**
 * The live cell of a link. A database's own POSTGRES_PASSWORD differing is not something a redeploy
 * fixes: the volume keeps the password it was initialised with.
 */
function liveText(l: LinkResult, status: LiveStatus): string {
  const t = l.target;
  const db =
    t?.workload.kind === 'StatefulSet'
      ? Object.values(DATABASES).find((d) => d.statefulSet === t.workload.name)?.db
      : undefined;
  if (db && t?.type === 'env' && t.envVar === 'POSTGRES_PASSWORD') {
    if (status === 'differs')
      return `differs (the database keeps its password: ${npmRun('reset-db-password', db)})`;
    if (status === 'stale')
      return `stale (read only when the volume is first initialised; npm run doctor checks the database itself)`;
    if (status === 'drifting')
      return `same in the pod, but its Secret now holds another password (npm run doctor checks which one the database accepts)`;
  }
  return LIVE_TEXT[status];
}

/** Pads columns to a table (the last column is not padded). */
export function formatTable(rows: string[][]): string[] {
  const widths: number[] = [];
  for (const r of rows) r.forEach((c, i) => (widths[i] = Math.max(widths[i] ?? 0, c.length)));
  return rows.map((r) =>
    r
      .map((c, i) => (i === r.length - 1 ? c : c.padEnd(widths[i] ?? 0)))
      .join('  ')
      .trimEnd(),
  );
}

/** One setting's block: its source and chart values, then one row per link. */
export function settingBlock(
  row: FlowSetting,
  source: string,
  links: LinkResult[],
  live: Map<LinkResult, LiveStatus> | undefined,
  /** the terminal's width: a table wider than it is printed as a list instead (no width: a pipe) */
  width?: number,
): string[] {
  const values = row.values.length > 0 ? row.values.join(', ') : '-';
  const head = `${row.key}${row.secret ? ' (secret)' : ''}   source: ${source}   chart value: ${values}`;
  if (links.every((l) => l.status === 'off'))
    return [head, ...links.map((l) => `  ${MARK.off} unused: ${l.detail}`)];
  const table: string[][] = [
    ['', 'Secret/ConfigMap key', 'container env', ...(live ? ['live'] : []), 'note'],
  ];
  for (const l of links) {
    const liveCell = live ? [l.target ? liveText(l, live.get(l) ?? 'unknown') : ''] : [];
    const note = l.status === 'ok' ? '' : `${l.status}: ${l.detail}`;
    table.push([MARK[l.status], l.via ?? '-', l.where ?? '-', ...liveCell, note]);
  }
  const lines = formatTable(table).map((t) => `  ${t}`);
  if (width === undefined || Math.max(head.length, ...lines.map((l) => l.length)) <= width) {
    return [head, ...lines];
  }
  // Narrow terminal: one link per entry, each part on its own line, instead of a table that wraps.
  return [
    `${row.key}${row.secret ? ' (secret)' : ''}`,
    `  source: ${source}`,
    `  chart value: ${values}`,
    ...table
      .slice(1)
      .flatMap(([mark = '', via = '', where = '', ...rest]) => [
        `  ${mark} ${via}`,
        `      -> ${where}`,
        ...rest.filter(Boolean).map((r) => `      ${r}`),
      ]),
  ];
}

/** The keys and variables that lead nowhere. */
export function unusedBlock(unused: KeyFinding[], dead: KeyFinding[]): string[] {
  if (unused.length === 0 && dead.length === 0) return [];
  return [
    'Unused links:',
    ...unused.map((f) => `  - ${f.object} key ${f.key}: ${f.why}`),
    ...dead.map((f) => `  - ${f.object} sets ${f.key}: ${f.why}`),
  ];
}
