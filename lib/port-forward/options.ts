import { type PortForwardOptions, defaultPortForwardOptions } from '../forwarding.ts';
import { npmRun } from '../suggest.ts';
import { CLUSTER_OPTIONS, type CommandSpec, type OptionSpec, type ParsedValues, flag, list } from '../cli.ts';
import { UsageError } from '../errors.ts';
import { TARGET_NAMES, parseOnly, parsePorts } from '../forward-targets.ts';

export const PORT_FORWARD_OPTIONS: Record<string, OptionSpec> = {
  ports: {
    type: 'string',
    multiple: true,
    arg: 'NAME=PORT,...',
    description:
      "local ports, e.g. web=3100,sso=3101 (defaults: web 3000, sso 3001, api 8000, mcp 8001, pgadmin 5050, mailpit 8025, an add-on's forward)",
  },
  only: {
    type: 'string',
    multiple: true,
    arg: 'NAMES',
    description: `forward only these (comma list of ${TARGET_NAMES.join(', ')}, or an add-on that is on)`,
  },
  'auto-ports': {
    type: 'boolean',
    description: 'when a local port is taken, use the next free one (and say so)',
  },
  detach: { type: 'boolean', description: 'run in the background (pid file and log under .taskflow/)' },
  stop: { type: 'boolean', description: 'stop the background port-forward of the namespace' },
};

export const PORT_FORWARD_SPEC: CommandSpec = {
  name: 'port-forward',
  summary:
    'Forward the platform to localhost and keep the forwards alive: each kubectl port-forward is restarted when its pod goes away.',
  usage: '[options]',
  options: { ...CLUSTER_OPTIONS, ...PORT_FORWARD_OPTIONS },
  examples: [
    'npm run port-forward',
    'npm run port-forward -- --auto-ports',
    'npm run port-forward -- --ports web=3100,sso=3101 --only web,sso',
    'npm run port-forward -- --detach && npm run port-forward -- --stop',
  ],
  notes: [
    `Forwards the four apps and every add-on that is on (${npmRun('addon', 'list')}), each on its local port.`,
    'Every local port is checked first: a taken port names the process holding it (or, with --auto-ports, moves).',
    'Restarts back off from 250 ms to 10 s and start over after a healthy minute. Ctrl+C stops every forward.',
  ],
};

/** Reads the port-forward options (exit 2 on an unknown target or a bad port). */
export function parsePortForwardOptions(v: ParsedValues): PortForwardOptions {
  const opts = defaultPortForwardOptions({
    only: parseOnly(list(v, 'only')),
    ports: parsePorts(list(v, 'ports')),
    autoPorts: flag(v, 'auto-ports'),
    detach: flag(v, 'detach'),
    stop: flag(v, 'stop'),
    json: flag(v, 'json'),
  });
  if (opts.detach && opts.stop) {
    throw new UsageError('--detach and --stop exclude each other', {
      hint: `stop with: ${npmRun('port-forward', '--stop')}`,
    });
  }
  return opts;
}
