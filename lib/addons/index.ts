import { revisionOf } from '../helm.ts';
import { type CommandContext, str } from '../cli.ts';
import { CHART_PATH, type ClusterSession, assertSessionMayWrite, openSession } from '../context.ts';
import { ExitCode, OperationError, UsageError } from '../errors.ts';
import path from 'node:path';
import { BACKUP_DIR, backupPath, backupThrough } from '../backups.ts';
import { execArgs } from '../kubectl.ts';
import { isDeepStrictEqual } from 'node:util';
import { findAddonDefinitions, namedDefinitionError, shownPath } from '../addon-defs.ts';
import { loadCommandSettings, printSettingsWarnings } from '../context.ts';
import { listAddons } from './list.ts';
import { newAddon } from './new.ts';
import { printJson } from '../log.ts';
import { launchBackground, stopBackground } from '../forward-background.ts';
import type { ForwardStatus } from '../forward-supervisor.ts';
import { planForwards } from '../forward-targets.ts';
import type { PortAssignment } from '../forward-targets.ts';
import { reportMoves, superviseForwards } from '../forward-supervisor.ts';
import { addonForwardTargets } from '../forward-targets.ts';
import { type AddonOptions, parseAddonOptions } from './options.ts';
export { parseAddonOptions, type AddonOptions } from './options.ts';
import { type Addon, type LoginInfo, findAddon } from './registry.ts';
import { waitForRollouts } from './wait.ts';
import { releaseOnlyDefinitions } from '../addon-release.ts';
import { atPath, deepMerge, getPath } from '../values.ts';
import { confirm } from '../confirm.ts';
import { npmRun } from '../suggest.ts';

export { ADDON_SPEC, PGADMIN_SPEC } from './options.ts';
export { ADDONS, ADDON_NAMES, findAddon, type Addon } from './registry.ts';

/** The forward targets (names for --only) of an add-on's ports. */
export function addonTargets(addon: Addon): string[] {
  return addonForwardTargets(addon).map((t) => t.name);
}

/** The values of the upgrade that turns an add-on on or off: its switch, plus its own extras. */
export function switchValues(addon: Addon, on: boolean, session: ClusterSession): Record<string, unknown> {
  return deepMerge(atPath(`${addon.valuesKey}.enabled`, on), addon.extraValues?.(on, session) ?? {});
}

/**
 * Whether the release runs a definition as its file says now: the values it was turned on with equal the
 * definition's (an edited file differs, and turning it on again brings the release up to date).
 */
export function isCurrent(addon: Addon, values: Record<string, unknown>, session: ClusterSession): boolean {
  if (!addon.definition) return true;
  return isDeepStrictEqual(
    getPath(values, addon.valuesKey),
    getPath(switchValues(addon, true, session), addon.valuesKey),
  );
}

/** `helm upgrade` keeping the release's values (and, through the chart's lookup, its generated secrets). */
async function upgrade(
  session: ClusterSession,
  values: Record<string, unknown>,
  timeoutMs: number,
): Promise<number | null> {
  const out = await session.helm.upgrade(values, {
    chart: CHART_PATH,
    valuesFiles: session.valuesFiles,
    reuseValues: true,
    timeout: `${Math.ceil(timeoutMs / 1000)}s`,
  });
  return revisionOf(out) ?? null;
}

/** Whether the add-on is on in these (computed) release values. */
export function isEnabled(addon: Addon, values: Record<string, unknown>): boolean {
  return getPath(values, `${addon.valuesKey}.enabled`) === true;
}

/** The body of `npm run addon -- <name|list|new>` and `npm run pgadmin` (fixed name). */
export async function addonCommand(
  ctx: CommandContext,
  fixedName?: string,
  cwd: string = process.cwd(),
): Promise<number> {
  const [first, second] = ctx.args.positionals;
  if (fixedName === undefined && first === 'list') {
    if (second !== undefined) {
      throw new UsageError(`unexpected argument: ${second}`, { hint: npmRun('addon', 'list') });
    }
    return listAddons(ctx, cwd);
  }
  if (fixedName === undefined && first === 'new') return newAddon(ctx, cwd);
  if (second !== undefined) {
    throw new UsageError(`unexpected argument: ${second}`, { hint: npmRun('addon', '--help') });
  }
  const name = fixedName ?? first;
  if (name === undefined || findAddon(name)) {
    const opts = parseAddonOptions(ctx.args.values, name);
    return runAddon(ctx, await openSession(ctx), opts);
  }
  // Not one of the chart's: a definition, built-in or from the user's folder.
  const loaded = loadCommandSettings(ctx);
  printSettingsWarnings(ctx.log, loaded.warnings);
  const { defs, problems, dir } = findAddonDefinitions({
    cwd,
    flag: str(ctx.args.values, 'addons-dir'),
    env: ctx.env,
    envFile: loaded.envFile,
  });
  const broken = namedDefinitionError(name, { defs, problems }, cwd);
  if (broken) throw broken;
  if (defs.some((d) => d.name === name)) {
    const opts = parseAddonOptions(ctx.args.values, name, defs);
    return runAddon(ctx, await openSession(ctx, loaded), opts);
  }
  // No file: an add-on still on in the release is known from the copy the release stored, to turn it off.
  // A name that is neither is the usage error (exit 2), also when the cluster cannot be read.
  const session = await openSession(ctx, loaded).catch((err: unknown) => {
    parseAddonOptions(ctx.args.values, name, defs);
    throw err;
  });
  const values = await session.helm.getValues(false).catch(() => undefined);
  const stored = releaseOnlyDefinitions(values, defs).find((d) => d.name === name);
  const opts = parseAddonOptions(ctx.args.values, name, stored ? [...defs, stored] : defs);
  if (stored && !opts.remove) {
    throw new UsageError(
      `add-on ${name} is on in release "${session.target.release}", but no ${name}.yaml was found (built-in, or in ${shownPath(dir, cwd)})`,
      {
        hint: `restore the file to use or change it; or turn it off, from the copy the release stored: ${npmRun('addon', name, '--remove')}`,
      },
    );
  }
  return runAddon(ctx, session, opts);
}

/** Turns an add-on on (wait, forward, print the login) or off, in an open session. */
export async function runAddon(
  ctx: CommandContext,
  session: ClusterSession,
  opts: AddonOptions,
): Promise<number> {
  await session.helm.assertInstalled();
  const values = await session.helm.getValues(true);
  const { release, namespace } = session.target;
  const req: AddonRequest = { ctx, session, opts, addon: opts.addon, release, namespace, values };
  return opts.remove ? removeAddon(req) : enableAddon(req);
}

/** One add-on command against an installed release: who asked, where, and the release's values before it. */
interface AddonRequest {
  ctx: CommandContext;
  session: ClusterSession;
  opts: AddonOptions;
  addon: Addon;
  release: string;
  namespace: string;
  values: Record<string, unknown>;
}

/** The JSON document of an add-on command. */
function resultDoc(req: AddonRequest, action: string, revision: number | null): Record<string, unknown> {
  const { addon, release, namespace, session } = req;
  return {
    ok: true,
    addon: addon.name,
    release,
    namespace,
    context: session.place.context,
    action,
    revision,
  };
}

async function removeAddon(req: AddonRequest): Promise<number> {
  const { ctx, session, opts, addon, release, namespace, values } = req;
  const claims = opts.deleteData ? (addon.claims ?? []) : [];
  if (opts.deleteData && claims.length === 0) {
    throw new UsageError(`${addon.title} keeps no volume claim: --delete-data has nothing to delete`, {
      hint: npmRun('addon', addon.name, '--remove'),
    });
  }
  const on = isEnabled(addon, values);
  if (!on && claims.length === 0) {
    if (opts.json) printJson(resultDoc(req, 'already-off', null), ctx.stdout);
    else ctx.log.info(`${addon.title} is not on in release "${release}": nothing to do`);
    return ExitCode.Ok;
  }
  if (!on && opts.backup) {
    // Its volumes are read through its pod: off, there is none.
    throw new OperationError(`${addon.title} is off: its volume claims cannot be backed up through it`, {
      hint: `turn it on to back them up (${npmRun('addon', addon.name, '--no-forward', '-n', namespace)}), or delete them without a backup: add --no-backup`,
    });
  }
  const loses =
    claims.length > 0
      ? `volume claim ${claims.join(', ')} ${opts.backup ? 'is backed up into backups/, then deleted' : 'is deleted without a backup: its data is lost'}`
      : addon.removeNote;
  await assertSessionMayWrite(
    ctx,
    session,
    { yes: opts.yes },
    addon.losesData || claims.length > 0 ? { what: `turning ${addon.title} off (${loses})` } : undefined,
  );
  const question = on
    ? `Turn ${addon.title} off in release "${release}" (${loses})?`
    : `Delete ${addon.title}'s volume claim ${claims.join(', ')} (no backup: its data is lost)?`;
  await confirm(
    { yes: opts.yes, stdin: ctx.stdin, prompt: process.stderr },
    question,
    on ? `turning ${addon.title} off` : `deleting ${addon.title}'s volume claims`,
    npmRun(
      'addon',
      addon.name,
      '--remove',
      ...(opts.deleteData ? ['--delete-data'] : []),
      '--yes',
      '-n',
      namespace,
    ),
  );
  const backups = claims.length > 0 && opts.backup ? await backupVolumes(req) : [];
  let revision: number | null = null;
  if (on) {
    await stopBackground(namespace, { only: addonTargets(addon) });
    ctx.log.step(`turning ${addon.title} off in release "${release}"`);
    revision = await upgrade(session, switchValues(addon, false, session), opts.timeoutMs);
    await waitForRollouts(session.kubectl, addon.alsoRolls, {
      timeoutMs: opts.timeoutMs,
      signal: ctx.signal,
      namespace,
    });
  }
  if (claims.length > 0) {
    ctx.log.step(`deleting volume claim ${claims.join(', ')}`);
    await session.kubectl.ok(
      ['delete', 'pvc', ...claims, '--ignore-not-found', '--wait=false'],
      `delete the volume claims of ${addon.title}`,
    );
  }
  if (opts.json)
    printJson(
      {
        ...resultDoc(req, on ? 'removed' : 'data-deleted', revision),
        ...(opts.deleteData && { deleted: claims, backups }),
      },
      ctx.stdout,
    );
  else {
    if (on)
      ctx.log.success(
        `${addon.title} is off in release "${release}"${revision ? ` (revision ${revision})` : ''}`,
      );
    const offNote = addon.offNoteFor?.(session) ?? addon.offNote;
    if (offNote) ctx.log.info(offNote);
    for (const f of backups) ctx.log.info(`backup: ${shownPath(f)}`);
    if (claims.length > 0) ctx.log.success(`deleted volume claim ${claims.join(', ')}`);
    else if (addon.claims)
      ctx.log.info(
        `kept volume claim ${addon.claims.join(', ')}: turned on again, ${addon.title} finds its data there (delete it with ${npmRun('addon', addon.name, '--remove', '--delete-data')})`,
      );
  }
  return ExitCode.Ok;
}

/**
 * Backs up each persistent volume of a definition add-on that is on: `tar` of its folder, run in the
 * add-on's container, streamed to backups/<release>-addon-<name>-<volume>-<time>.tar (mode 0600).
 */
async function backupVolumes(req: AddonRequest): Promise<string[]> {
  const { ctx, session, addon, release } = req;
  const now = new Date();
  const files: string[] = [];
  for (const v of (addon.definition?.volumes ?? []).filter((x) => x.persistent)) {
    const file = backupPath(
      path.resolve(BACKUP_DIR),
      `${release}-addon-${addon.name}-${v.name}`,
      now,
      '.tar',
    );
    ctx.log.progress(`backing up volume ${v.name} (${v.path}) of ${addon.title}`);
    files.push(
      await backupThrough(
        session.kubectl,
        execArgs(`deploy/${addon.deployment}`, addon.name, ['tar', '-C', v.path, '-cf', '-', '.'], false),
        file,
        `backup of ${addon.title}'s volume ${v.name}`,
        'the image may have no tar: delete without a backup with --no-backup (the data is then lost), or copy it yourself first (kubectl cp)',
      ),
    );
    ctx.log.done();
  }
  return files;
}

async function enableAddon(req: AddonRequest): Promise<number> {
  const { ctx, session, opts, addon, release, namespace } = req;
  let values = req.values;
  let revision: number | null = null;
  const on = isEnabled(addon, values);
  const already = on && isCurrent(addon, values, session);
  if (already) {
    ctx.log.info(`${addon.title} is already on in release "${release}"`);
  } else {
    await assertSessionMayWrite(ctx, session, { yes: opts.yes });
    ctx.log.step(
      on
        ? `updating ${addon.title} in release "${release}" to its definition (${shownPath(addon.definition?.file ?? '')})`
        : `turning ${addon.title} on in release "${release}" (values and secrets kept)`,
    );
    revision = await upgrade(session, switchValues(addon, true, session), opts.timeoutMs);
    values = await session.helm.getValues(true);
  }
  ctx.log.progress(`waiting for ${[addon.deployment, ...addon.alsoRolls].join(', ')}`);
  await waitForRollouts(session.kubectl, [addon.deployment, ...addon.alsoRolls], {
    timeoutMs: opts.timeoutMs,
    signal: ctx.signal,
    namespace,
  });
  ctx.log.done();
  ctx.log.success(`${addon.title} is ready${revision ? ` (release revision ${revision})` : ''}`);

  const doc = resultDoc(req, already ? 'already-on' : on ? 'updated' : 'enabled', revision);
  const targets = addonTargets(addon);
  const announce = async (
    assignments: readonly PortAssignment[],
    forward: Record<string, unknown>,
  ): Promise<void> => {
    const urls = Object.fromEntries(
      assignments.map((a) => [portName(addon, a.target.name), `http://localhost:${a.localPort}`]),
    );
    const info = await addon.login({ session, values, urls, showPasswords: opts.showPasswords });
    printLogin(ctx, info, { ...doc, forward, login: info.json }, opts);
  };

  if (opts.forward === 'none') {
    await announce([], { mode: 'none' });
    if (!opts.json)
      ctx.log.info(
        `forward it with: ${npmRun('port-forward', '--only', targets.join(','), '-n', namespace)}`,
      );
    return ExitCode.Ok;
  }
  const assignments = await planForwards(session, {
    only: targets,
    // --port moves the first (the web UI's) forward; the others keep their defaults.
    ports: new Map(opts.port === undefined ? [] : targets.slice(0, 1).map((t) => [t, opts.port!])),
    autoPorts: true,
    skipReleaseCheck: true,
  });
  if (opts.forward === 'background') {
    reportMoves(ctx, assignments);
    const run = await launchBackground(ctx, {
      target: session.target,
      assignments,
      only: targets,
      envFile: str(ctx.args.values, 'env-file'),
    });
    await announce(assignments, {
      mode: 'background',
      pid: run.pid,
      logFile: run.logFile,
      forwards: states(run.forwards),
    });
    if (!opts.json) {
      const stop = npmRun('port-forward', '--stop', '--only', targets.join(','), '-n', namespace);
      ctx.log.info(`the port-forward runs in the background (pid ${run.pid}); log: ${run.logFile}`);
      ctx.log.info(`stop it with: ${stop}`);
    }
    return run.forwards.every((f) => f.state === 'ready') ? ExitCode.Ok : ExitCode.Failed;
  }
  let announced: Promise<void> = Promise.resolve();
  const code = await superviseForwards(session.kubectl, assignments, ctx, {
    json: false,
    onSettled: (rows) => {
      announced = announce(assignments, { mode: 'foreground', forwards: states(rows) });
    },
  });
  await announced;
  return code;
}

/** The add-on port name of a forward target (`pgadmin` → `web`). */
function portName(addon: Addon, target: string): string {
  if (addon.ports.length === 1) return addon.ports[0]?.name ?? 'web';
  return target.slice(addon.name.length + 1);
}

function states(rows: readonly ForwardStatus[]): Record<string, unknown>[] {
  return rows.map((r) => ({ name: r.name, url: r.url, state: r.state, detail: r.detail }));
}

/**
 * Prints the URL and login. Secret lines (database passwords, asked for with --show-passwords) are written
 * straight to stdout: the logger would mask them, and printing them is what the user asked for.
 */
function printLogin(
  ctx: CommandContext,
  info: LoginInfo,
  doc: Record<string, unknown>,
  opts: AddonOptions,
): void {
  if (opts.json) {
    if (opts.showPasswords) ctx.stdout.write(`${JSON.stringify(doc, null, 2)}\n`);
    else printJson(doc, ctx.stdout);
    return;
  }
  for (const line of info.lines) {
    if (line.secret) ctx.stdout.write(`${line.text}\n`);
    else ctx.log.info(line.text);
  }
}
