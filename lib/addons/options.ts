import { npmRun } from '../suggest.ts';
import {
  CLUSTER_OPTIONS,
  NO_WAIT_OPTION,
  YES_OPTION,
  type CommandSpec,
  type ParsedValues,
  flag,
  str,
} from '../cli.ts';
import { parsePort } from '../env.ts';
import { UsageError } from '../errors.ts';
import { ADDON_NAMES, type Addon, definitionAddon, findAddon } from './registry.ts';
import { parseDuration } from '../time.ts';
import { ADDONS_DIR_KEY, type AddonDefinition, isChartAddon } from '../addon-defs.ts';
import { closest } from '../did-you-mean.ts';

/** What one `npm run addon` run is asked to do. */
export interface AddonOptions {
  addon: Addon;
  remove: boolean;
  /** With remove: also delete the add-on's volume claims (`--delete-data`), backed up first unless `backup` is false. */
  deleteData: boolean;
  backup: boolean;
  /** none: enable and exit; foreground: forward until Ctrl+C; background: a detached forward. */
  forward: 'none' | 'foreground' | 'background';
  showPasswords: boolean;
  /** Local port of the add-on's web UI (else its default, or the next free one). */
  port?: number;
  timeoutMs: number;
  yes: boolean;
  json: boolean;
}

const ADDON_OPTIONS: CommandSpec['options'] = {
  remove: { type: 'boolean', description: 'turn the add-on off (asks first; --yes without a terminal)' },
  'delete-data': {
    type: 'boolean',
    description: "with --remove: also delete the add-on's volume claims, each backed up first into backups/",
  },
  'no-backup': {
    type: 'boolean',
    description: 'with --delete-data: delete without a backup (the data is lost)',
  },
  'no-forward': { type: 'boolean', description: 'turn it on and exit, without a port-forward' },
  detach: {
    type: 'boolean',
    description: 'keep the port-forward running in the background (see port-forward --stop)',
  },
  'show-passwords': {
    type: 'boolean',
    description:
      "also print the passwords (pgAdmin's databases, a definition's {secret ...} in its login note)",
  },
  port: {
    type: 'string',
    arg: 'PORT',
    description: "local port of the web UI (default: pgadmin 5050, mailpit 8025, a definition's forward)",
  },
  timeout: { type: 'string', arg: 'DURATION', description: 'how long to wait for the rollout (default 5m)' },
  ...CLUSTER_OPTIONS,
  ...YES_OPTION,
  ...NO_WAIT_OPTION,
};

const NOTES = [
  'The add-on becomes part of the release (a helm upgrade that keeps its values and secrets); running it again changes nothing.',
  'When the local port is taken, the next free one is used (and said so). Ctrl+C stops the port-forward; the add-on stays on.',
];

export const ADDON_SPEC: CommandSpec = {
  name: 'addon',
  summary:
    'Turn a dev-tool add-on (pgAdmin, Mailpit, or any definition: built-in or in your addons/ folder) on or off inside the release, and open it on localhost; list every add-on found, or write a starter definition.',
  usage: [
    `<${ADDON_NAMES.join('|')}|NAME> [--remove] [options]`,
    'list [--addons-dir DIR] [options]',
    'new <name> --image IMAGE --port N [--addons-dir DIR]',
  ],
  options: {
    ...ADDON_OPTIONS,
    'addons-dir': {
      type: 'string',
      arg: 'DIR',
      description: `the folder of your add-on definitions (default: ${ADDONS_DIR_KEY}, else addons/)`,
    },
    port: {
      type: 'string',
      arg: 'PORT',
      description:
        "local port of the web UI (default: pgadmin 5050, mailpit 8025, a definition's forward); with new: the container's port",
    },
    image: {
      type: 'string',
      arg: 'IMAGE',
      description: 'with new: the image, repository:tag with a pinned tag',
    },
  },
  maxPositionals: 2,
  examples: [
    'npm run addon -- pgadmin',
    'npm run addon -- mailpit --detach',
    'npm run addon -- mailpit --remove --yes',
    'npm run addon -- whoami --remove --delete-data',
    'npm run addon -- pgadmin --no-forward --json',
    'npm run addon -- adminer --show-passwords',
    'npm run addon -- whoami --addons-dir ../team-addons --detach',
    'npm run addon -- list',
    'npm run addon -- list --addons-dir ../team-addons --json',
    'npm run addon -- new whoami --image traefik/whoami:v1.10.1 --port 80',
  ],
  notes: [
    ...NOTES,
    'pgadmin: both databases pre-configured, no password prompt, on http://localhost:5050.',
    'mailpit: catches the SSO mail (its SMTP points at Mailpit while it is on), inbox on http://localhost:8025; --remove restores the SMTP settings of the env file.',
    "A definition (charts/taskflow/addons/<name>.yaml, or <name>.yaml in your folder) is turned on with its current content: run it again after editing the file and the release follows. --remove keeps the add-on's volume claims; --delete-data deletes them after a backup.",
    `list: the chart's add-ons and every definition (charts/taskflow/addons, then your folder), whether each is on in the release (when the cluster answers), its local ports, and its URL while a detached port-forward serves it; exit 1 when a definition has a problem.`,
    'new: writes <folder>/<name>.yaml, a commented starter that loads clean; it never overwrites a file.',
  ],
};

/** The subcommands of `npm run addon` (names no add-on may take). */
export const SUBCOMMANDS = ['list', 'new'] as const;

export const PGADMIN_SPEC: CommandSpec = {
  name: 'pgadmin',
  summary:
    'Add pgAdmin to the release, pre-configured for both databases (no password prompt), and open it on http://localhost:5050.',
  usage: '[--remove] [options]',
  options: ADDON_OPTIONS,
  maxPositionals: 0,
  examples: [
    'npm run pgadmin',
    'npm run pgadmin -- --show-passwords',
    'npm run pgadmin -- --detach',
    'npm run pgadmin -- --remove --yes',
  ],
  notes: [...NOTES, 'The pgAdmin login is printed; the database passwords only with --show-passwords.'],
};

/**
 * Reads the add-on options; an unknown add-on or a contradiction is a usage error (exit 2). `defs` are the
 * definitions found (built-in and the user's), for a name that is not one of the chart's add-ons.
 */
export function parseAddonOptions(
  v: ParsedValues,
  name: string | undefined,
  defs: readonly AddonDefinition[] = [],
): AddonOptions {
  const data = defs.filter((d) => !isChartAddon(d));
  const names = [...ADDON_NAMES, ...data.map((d) => d.name)];
  if (name === undefined) {
    throw new UsageError('which add-on? name one', { hint: npmRun('addon', `<${names.join('|')}>`) });
  }
  const def = data.find((d) => d.name === name);
  const addon = findAddon(name) ?? (def && definitionAddon(def));
  if (!addon) {
    const near = closest(name, names);
    throw new UsageError(`unknown add-on "${name}"${near ? ` (did you mean ${near}?)` : ''}`, {
      hint: `valid add-ons: ${names.join(', ')}; see them all: ${npmRun('addon', 'list')}`,
    });
  }
  const timeoutText = str(v, 'timeout') ?? '5m';
  const timeoutMs = parseDuration(timeoutText);
  if (timeoutMs === undefined) {
    throw new UsageError(`--timeout: "${timeoutText}" is not a duration`, { hint: 'use e.g. 90s or 5m' });
  }
  const portText = str(v, 'port');
  const port = portText === undefined ? undefined : parsePort(portText);
  if (portText !== undefined && port === undefined) {
    throw new UsageError(`--port: "${portText}" is not a port (1-65535)`, { hint: 'e.g. --port 5051' });
  }
  if (flag(v, 'no-forward') && flag(v, 'detach')) {
    throw new UsageError('--no-forward and --detach exclude each other', { hint: 'pick one' });
  }
  if (v.image !== undefined) {
    throw new UsageError(`--image goes with new, not with ${addon.name}`, {
      hint: npmRun('addon', '--help'),
    });
  }
  const remove = flag(v, 'remove');
  if (flag(v, 'delete-data') && !remove) {
    throw new UsageError('--delete-data goes with --remove', {
      hint: npmRun('addon', addon.name, '--remove', '--delete-data'),
    });
  }
  if (flag(v, 'no-backup') && !flag(v, 'delete-data')) {
    throw new UsageError('--no-backup only makes sense with --delete-data', {
      hint: 'add --remove --delete-data, or drop --no-backup',
    });
  }
  for (const o of ['no-forward', 'detach', 'show-passwords', 'port']) {
    if (remove && v[o] !== undefined) {
      throw new UsageError(`--${o} does not go with --remove`, {
        hint: npmRun('addon', addon.name, '--remove'),
      });
    }
  }
  return {
    addon,
    remove,
    deleteData: flag(v, 'delete-data'),
    backup: !flag(v, 'no-backup'),
    forward: flag(v, 'no-forward') ? 'none' : flag(v, 'detach') ? 'background' : 'foreground',
    showPasswords: flag(v, 'show-passwords'),
    ...(port !== undefined && { port }),
    timeoutMs,
    yes: flag(v, 'yes'),
    json: flag(v, 'json'),
  };
}
