import path from 'node:path';
import { type CommandContext, flag, str } from '../cli.ts';
import { ADDON_CATALOG } from '../addon-catalog.ts';
import {
  type AddonDefinition,
  type DefinitionProblem,
  addonFolders,
  formatProblem,
  isChartAddon,
  loadAddonDefinitions,
  shownPath,
  userAddonsDir,
} from '../addon-defs.ts';
import { loadCommandSettings, peekPlace, printSettingsWarnings } from '../context.ts';
import { placeLine } from '../kube-context.ts';
import { ExitCode, UsageError } from '../errors.ts';
import { npmRun } from '../suggest.ts';
import { Helm, type HelmTarget } from '../helm.ts';
import { printJson } from '../log.ts';
import { detectTool } from '../tools.ts';
import { getPath } from '../values.ts';
import { releaseOnlyDefinitions } from '../addon-release.ts';
import { detachedForwards } from '../forward-background.ts';
import type { ForwardStatus } from '../forward-supervisor.ts';

/** One row of `addon list`: an add-on, where it comes from, whether it is on, its local ports. */
export interface AddonRow {
  name: string;
  title: string;
  /** `built-in` (charts/taskflow/addons), or the definition's file (relative to cwd when inside it). */
  source: string;
  /** On in the release; null when the release's values could not be read. */
  on: boolean | null;
  /** Each forwarded port: its default local port, and its URL while a detached port-forward serves it. */
  ports: { name: string; local: number; url?: string }[];
  /** On in the release, but no definition file names it: known from the copy the release stored. */
  definitionMissing?: true;
}

/** The SOURCE of an add-on on in the release whose definition file was not found. */
export const DEFINITION_MISSING = 'definition missing';

/** The release's values, or why they cannot be read (no helm, no cluster, no release). */
export type ReleaseValues = { values: Record<string, unknown> } | { note: string };

/** The rows: the chart's add-ons, then every definition loaded, each with its switch in `values`. */
export function addonRows(
  defs: readonly AddonDefinition[],
  release: ReleaseValues,
  cwd: string = process.cwd(),
  forwards: readonly Pick<ForwardStatus, 'service' | 'remotePort' | 'url' | 'state'>[] = [],
): AddonRow[] {
  // A port is forwarded when a live detached run serves its Service port (ready, or reconnecting).
  const urlOf = (service: string, remote: number): string | undefined =>
    forwards.find((f) => f.service === service && f.remotePort === remote && f.state !== 'failed')?.url;
  const on = (key: string): boolean | null =>
    'values' in release ? getPath(release.values, `${key}.enabled`) === true : null;
  return [
    ...ADDON_CATALOG.map((a) => ({
      name: a.name,
      title: a.title,
      source: 'built-in',
      on: on(a.valuesKey),
      ports: a.ports.map((p) => withUrl({ name: p.name, local: p.local }, urlOf(a.service, p.remote))),
    })),
    ...defs
      .filter((d) => !isChartAddon(d))
      .map((d) => ({
        name: d.name,
        title: d.title,
        source: d.builtin ? 'built-in' : shownPath(d.file, cwd),
        on: on(`addons.${d.name}`),
        ports: definitionPorts(d),
      })),
    // On in the release with no file found: known from the release's stored copy, and removable.
    ...('values' in release ? releaseOnlyDefinitions(release.values, defs) : []).map((d) => ({
      name: d.name,
      title: d.title,
      source: DEFINITION_MISSING,
      on: true,
      ports: definitionPorts(d),
      definitionMissing: true as const,
    })),
  ];

  function definitionPorts(d: AddonDefinition): AddonRow['ports'] {
    return d.ports.flatMap((p) =>
      p.forward === undefined
        ? []
        : [withUrl({ name: p.name, local: p.forward }, urlOf(d.name, p.service ?? p.port))],
    );
  }
}

function withUrl<T extends object>(port: T, url: string | undefined): T & { url?: string } {
  return url === undefined ? port : { ...port, url };
}

/** Reads the release's computed values once (`helm get values --all`); a failure is a note, not an error. */
export async function readReleaseValues(ctx: CommandContext, target: HelmTarget): Promise<ReleaseValues> {
  try {
    const tool = await detectTool('helm', ctx.runner, ctx.env);
    const helm = new Helm(ctx.runner, tool.path, tool.major, target);
    return { values: await helm.getValues(true) };
  } catch (err) {
    return { note: err instanceof Error ? (err.message.split('\n')[0] ?? err.message) : String(err) };
  }
}

/** The table of rows as printed (a header, one line each). */
export function formatRows(rows: readonly AddonRow[]): string[] {
  const cells = rows.map((r) => [
    r.name,
    r.title,
    r.source,
    r.on === null ? '?' : r.on ? 'on' : 'off',
    r.ports.map((p) => `${p.name} ${p.url ?? `:${p.local}`}`).join(', ') || '-',
  ]);
  const table = [['NAME', 'TITLE', 'SOURCE', 'ON', 'LOCAL PORTS'], ...cells];
  const widths = table[0]!.map((_, i) => Math.max(...table.map((row) => (row[i] ?? '').length)));
  return table.map((row) =>
    row
      .map((c, i) => (i === row.length - 1 ? c : c.padEnd(widths[i] ?? 0)))
      .join('  ')
      .trimEnd(),
  );
}

/**
 * `npm run addon -- list`: every add-on found (the chart's, the built-in and the user's definitions), on
 * or off in the release when its values can be read. Exit 1 when a definition has a problem.
 */
export async function listAddons(ctx: CommandContext, cwd: string = process.cwd()): Promise<number> {
  for (const o of ['remove', 'no-forward', 'detach', 'show-passwords', 'port', 'image', 'timeout']) {
    if (ctx.args.values[o] !== undefined) {
      throw new UsageError(`--${o} does not go with list`, { hint: npmRun('addon', 'list') });
    }
  }
  const s = loadCommandSettings(ctx);
  printSettingsWarnings(ctx.log, s.warnings);
  const dir = userAddonsDir({
    cwd,
    flag: str(ctx.args.values, 'addons-dir'),
    env: ctx.env,
    envFile: s.envFile,
  });
  const { defs, problems } = loadAddonDefinitions(addonFolders({ cwd, addonsDir: dir }));
  const [release, place] = await Promise.all([
    readReleaseValues(ctx, s.target),
    peekPlace(ctx, s.target).catch(() => undefined),
  ]);
  const { namespace } = s.target;
  // The first line, as every command that reads a cluster prints it (stderr with --json).
  ctx.log.step(
    place
      ? `${placeLine(place)}, release ${s.target.release}`
      : `namespace ${namespace}, release ${s.target.release} (kubectl not found: context unknown)`,
  );
  const rows = addonRows(defs, release, cwd, detachedForwards(namespace, cwd));
  const note =
    'note' in release
      ? `on/off unknown (release ${s.target.release} in namespace ${namespace}): ${release.note}`
      : undefined;
  if (flag(ctx.args.values, 'json')) {
    printJson(
      {
        ok: problems.length === 0,
        context: place?.context ?? null,
        namespace,
        release: s.target.release,
        addons: rows,
        problems: problems.map((p) => problemDoc(p, cwd)),
        ...(note !== undefined && { note }),
      },
      ctx.stdout,
    );
  } else {
    for (const line of formatRows(rows)) ctx.log.raw(line);
    ctx.log.info(`your definitions: ${shownPath(dir, cwd)}${dirNote(defs, problems, dir)}`);
    if (note !== undefined) ctx.log.warn(note);
    for (const r of rows.filter((x) => x.definitionMissing))
      ctx.log.warn(
        `${r.name}: on in release ${s.target.release}, but no ${r.name}.yaml was found; a deploy keeps it as the release stored it; turn it off: ${npmRun('addon', r.name, '--remove')}`,
      );
    for (const p of problems) {
      ctx.log.error(formatProblem(p, cwd));
      if (p.hint) ctx.log.hint(p.hint);
    }
  }
  return problems.length === 0 ? ExitCode.Ok : ExitCode.Failed;
}

/** ` (none there)` when the user's folder gave nothing, not even a problem. */
function dirNote(
  defs: readonly AddonDefinition[],
  problems: readonly DefinitionProblem[],
  dir: string,
): string {
  const inDir = (f: string) => path.dirname(f) === dir;
  return defs.some((d) => inDir(d.file)) || problems.some((p) => inDir(p.file)) ? '' : ' (none there)';
}

function problemDoc(p: DefinitionProblem, cwd: string): Record<string, unknown> {
  return {
    file: shownPath(p.file, cwd),
    line: p.line,
    column: p.column,
    message: p.message,
    ...(p.hint !== undefined && { hint: p.hint }),
  };
}
