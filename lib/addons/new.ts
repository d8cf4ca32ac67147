import { existsSync, mkdirSync, rmSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { type CommandContext, flag, str } from '../cli.ts';
import {
  addonFolders,
  formatProblem,
  loadAddonDefinitions,
  reservedNames,
  shownPath,
  starterDefinition,
  userAddonsDir,
} from '../addon-defs.ts';
import { loadCommandSettings, printSettingsWarnings } from '../context.ts';
import { parsePort } from '../env.ts';
import { ExitCode, OperationError, UsageError } from '../errors.ts';
import { printJson } from '../log.ts';
import { npmRun } from '../suggest.ts';

const NAME = /^[a-z]([-a-z0-9]*[a-z0-9])?$/;

/** What `addon new` was asked for. */
export interface NewAddonOptions {
  name: string;
  image: string;
  port: number;
  /** `--addons-dir` as given (the default comes from the settings). */
  addonsDir?: string;
  json: boolean;
}

/** Reads `new <name> --image IMAGE --port N`; anything missing or malformed is a usage error (exit 2). */
export function parseNewOptions(ctx: Pick<CommandContext, 'args'>): NewAddonOptions {
  const v = ctx.args.values;
  const [, name, extra] = ctx.args.positionals;
  const example = npmRun('addon', 'new', name ?? '<name>', '--image', 'IMAGE:TAG', '--port', 'N');
  if (extra !== undefined) throw new UsageError(`unexpected argument: ${extra}`, { hint: example });
  if (name === undefined) throw new UsageError('new: name the add-on', { hint: example });
  if (name.length > 40 || !NAME.test(name)) {
    throw new UsageError(`new: "${name}" is not a DNS label of at most 40 characters`, {
      hint: 'lower-case letters, digits and "-", starting with a letter, e.g. whoami',
    });
  }
  const reserved = reservedNames().get(name);
  if (reserved)
    throw new UsageError(`new: the name ${name} is taken by ${reserved}`, { hint: 'pick another name' });
  const image = str(v, 'image');
  if (image === undefined || image.trim() === '')
    throw new UsageError('new: --image is missing', { hint: example });
  const portText = str(v, 'port');
  const port = portText === undefined ? undefined : parsePort(portText);
  if (port === undefined) {
    throw new UsageError(
      portText === undefined
        ? "new: --port (the container's port) is missing"
        : `--port: "${portText}" is not a port (1-65535)`,
      { hint: example },
    );
  }
  for (const o of ['remove', 'no-forward', 'detach', 'show-passwords', 'timeout']) {
    if (v[o] !== undefined) throw new UsageError(`--${o} does not go with new`, { hint: example });
  }
  const addonsDir = str(v, 'addons-dir');
  return {
    name,
    image: image.trim(),
    port,
    ...(addonsDir !== undefined && { addonsDir }),
    json: flag(v, 'json'),
  };
}

/**
 * `npm run addon -- new <name>`: writes `<folder>/<name>.yaml` from the starter definition (never over a
 * file), then loads it back: a starter that does not load clean is removed again and its problems shown.
 */
export async function newAddon(ctx: CommandContext, cwd: string = process.cwd()): Promise<number> {
  const opts = parseNewOptions(ctx);
  const s = loadCommandSettings(ctx);
  printSettingsWarnings(ctx.log, s.warnings);
  const dir = userAddonsDir({ cwd, flag: opts.addonsDir, env: ctx.env, envFile: s.envFile });
  const file = path.join(dir, `${opts.name}.yaml`);
  const shown = shownPath(file, cwd);
  const exists = () =>
    new UsageError(`new: ${shown} exists already: nothing was written`, {
      hint: `edit it, or pick another name; ${npmRun('addon', 'list', opts.addonsDir && '--addons-dir', opts.addonsDir)} shows what it holds`,
    });
  if (existsSync(file)) throw exists();
  const folders = addonFolders({ cwd, addonsDir: dir });
  const before = loadAddonDefinitions(folders).defs;
  const clash = before.find((d) => d.name === opts.name);
  if (clash) {
    throw new UsageError(`new: an add-on named ${opts.name} exists already (${shownPath(clash.file, cwd)})`, {
      hint: 'pick another name',
    });
  }
  const text = starterDefinition({
    name: opts.name,
    image: opts.image,
    port: opts.port,
    taken: before.flatMap((d) => d.ports.flatMap((p) => (p.forward === undefined ? [] : [p.forward]))),
  });
  mkdirSync(dir, { recursive: true });
  try {
    writeFileSync(file, text, { flag: 'wx' });
  } catch (err) {
    throw (err as NodeJS.ErrnoException).code === 'EEXIST' ? exists() : err;
  }
  const problems = loadAddonDefinitions(folders).problems.filter((p) => p.file === file);
  if (problems.length > 0) {
    rmSync(file, { force: true });
    throw new OperationError(
      `new: the starter definition does not load, so it was not kept:\n${problems.map((p) => `  ${formatProblem(p, cwd)}${p.hint ? ` (${p.hint})` : ''}`).join('\n')}`,
      { hint: 'fix what --image or --port says above and run it again' },
    );
  }
  const next = npmRun('addon', 'list', opts.addonsDir && '--addons-dir', opts.addonsDir);
  if (opts.json) {
    printJson({ ok: true, name: opts.name, file: shown, next }, ctx.stdout);
  } else {
    ctx.log.success(`wrote ${shown}`);
    ctx.log.info(`edit it (title, description, env, login), then check it: ${next}`);
  }
  return ExitCode.Ok;
}
