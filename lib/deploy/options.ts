import path from 'node:path';
import {
  CLUSTER_OPTIONS,
  NO_WAIT_OPTION,
  YES_OPTION,
  type OptionSpec,
  type ParsedValues,
  flag,
  list,
  str,
} from '../cli.ts';
import type { EnvFile } from '../env.ts';
import { textOf } from '../envfile.ts';
import { UsageError } from '../errors.ts';
import { platformSource } from '../images.ts';
import { parseDuration } from '../time.ts';

/** What `npm run deploy` was asked to do (besides the shared cluster options). */
export interface DeployOptions {
  dryRun: boolean;
  /** `--diff`: print what the deploy would change and which workloads would roll; change nothing. */
  diff: boolean;
  build: boolean;
  builder?: 'minikube' | 'docker';
  src?: string;
  pgadmin: boolean;
  /** Add-ons to turn on (`--addon`, repeatable or comma-separated; `--pgadmin` adds pgadmin). */
  addons: string[];
  /** The folder of the user's add-on definitions (`--addons-dir`). */
  addonsDir?: string;
  portForward: boolean;
  timeoutMs: number;
  /** Helm-style text of the timeout, for helm's own --timeout. */
  timeout: string;
  fresh: boolean;
  backup: boolean;
  rollbackOnFailure: boolean;
  /**
   * The journey as the last step: --verify (always), --no-verify (never), else TASKFLOW_VERIFY from the
   * environment or the env file (journeySetting), else on a local cluster only (auto).
   */
  journey?: JourneyMode;
  json: boolean;
  yes: boolean;
  /** The chart to install (default: the bundled charts/taskflow). */
  chart?: string;
}

/** deploy's own options (cli.md), then the shared cluster ones. */
export const DEPLOY_OPTIONS: Record<string, OptionSpec> = {
  'dry-run': {
    type: 'boolean',
    description: 'check settings, render and validate the chart, print the plan; touch no cluster',
  },
  diff: {
    type: 'boolean',
    description:
      'print what this deploy would change (objects, Secret key names only) and which workloads would roll; change nothing; exit 0 no change, 1 changes',
  },
  build: {
    type: 'boolean',
    description: "build the five images from TASKFLOW_SRC into the cluster's image store, tagged by content",
  },
  src: {
    type: 'string',
    arg: 'PATH',
    description:
      'your TaskFlow checkout: --build builds from it; on a local cluster whose nodes lack the images, deploy builds them from it first (default: TASKFLOW_SRC)',
  },
  builder: {
    type: 'string',
    arg: 'minikube|docker',
    description:
      'where --build builds (default: minikube when installed, else docker; DOCKER_CONTEXT is honoured)',
  },
  pgadmin: { type: 'boolean', description: 'enable the pgAdmin add-on in the release (= --addon pgadmin)' },
  addon: {
    type: 'string',
    multiple: true,
    arg: 'NAME',
    description: 'turn an add-on on in the release too; comma lists work (the addon command lists them)',
  },
  'addons-dir': {
    type: 'string',
    arg: 'DIR',
    description: 'the folder of your add-on definitions (default: TASKFLOW_ADDONS_DIR, else addons/)',
  },
  'port-forward': { type: 'boolean', description: 'when done, forward every service to localhost and stay' },
  timeout: {
    type: 'string',
    arg: 'DURATION',
    description: 'how long the rollout may take, e.g. 90s, 10m, 1h (default: 10m)',
  },
  fresh: {
    type: 'boolean',
    description: 'uninstall and delete the namespace INCLUDING DATA first (asks; backs up both databases)',
  },
  'no-backup': { type: 'boolean', description: 'with --fresh: skip the database backups' },
  'rollback-on-failure': {
    type: 'boolean',
    description: 'roll the release back when the rollout fails (default: leave it for npm run doctor)',
  },
  verify: {
    type: 'boolean',
    description:
      "walk a person's journey (npm run verify) as the last step on any context; a remote one gets a throwaway account, removed after",
  },
  'no-verify': {
    type: 'boolean',
    description: 'skip the journey that ends a deploy to a local cluster',
  },
  chart: {
    type: 'string',
    arg: 'PATH',
    description: 'chart folder or package to install (default: the bundled charts/taskflow)',
  },
  ...CLUSTER_OPTIONS,
  ...YES_OPTION,
  ...NO_WAIT_OPTION,
};

/** Reads deploy's options; contradictions are usage errors (exit 2). */
export function parseDeployOptions(v: ParsedValues, env: NodeJS.ProcessEnv): DeployOptions {
  const timeoutText = str(v, 'timeout') ?? '10m';
  const timeoutMs = parseDuration(timeoutText);
  if (timeoutMs === undefined) {
    throw new UsageError(`--timeout: "${timeoutText}" is not a duration`, {
      hint: 'use e.g. 90s, 10m or 1h',
    });
  }
  const builder = str(v, 'builder');
  if (builder !== undefined && builder !== 'minikube' && builder !== 'docker') {
    throw new UsageError(`--builder: "${builder}" is not minikube or docker`, {
      hint: 'use --builder minikube or --builder docker',
    });
  }
  if (flag(v, 'no-backup') && !flag(v, 'fresh')) {
    throw new UsageError('--no-backup only makes sense with --fresh', {
      hint: 'add --fresh, or drop --no-backup',
    });
  }
  if (flag(v, 'diff')) {
    const clash = ['dry-run', 'fresh', 'port-forward'].find((o) => flag(v, o));
    if (clash) {
      throw new UsageError(`--diff and --${clash} do not go together: --diff changes nothing`, {
        hint:
          clash === 'dry-run'
            ? '--dry-run works without a cluster; --diff compares with the release in the cluster: pick one'
            : `run the --diff first, then the deploy with --${clash}`,
      });
    }
  }
  if (flag(v, 'verify') && flag(v, 'no-verify'))
    throw new UsageError('--verify and --no-verify contradict each other', { hint: 'pick one' });
  // The environment's TASKFLOW_SRC is read here, the env file's by buildSource: one reading (platformSource).
  const src = platformSource(str(v, 'src'), env, undefined);
  const chart = str(v, 'chart');
  const addonsDir = str(v, 'addons-dir');
  return {
    dryRun: flag(v, 'dry-run'),
    diff: flag(v, 'diff'),
    build: flag(v, 'build'),
    ...(builder !== undefined && { builder }),
    ...(src !== undefined && { src }),
    pgadmin: flag(v, 'pgadmin'),
    addons: [
      ...new Set([
        ...(flag(v, 'pgadmin') ? ['pgadmin'] : []),
        ...list(v, 'addon')
          .flatMap((a) => a.split(','))
          .map((a) => a.trim())
          .filter((a) => a !== ''),
      ]),
    ],
    ...(addonsDir !== undefined && { addonsDir }),
    portForward: flag(v, 'port-forward'),
    timeoutMs,
    timeout: `${Math.ceil(timeoutMs / 1000)}s`,
    fresh: flag(v, 'fresh'),
    backup: !flag(v, 'no-backup'),
    rollbackOnFailure: flag(v, 'rollback-on-failure'),
    ...(flag(v, 'verify') && { journey: 'always' as const }),
    ...(flag(v, 'no-verify') && { journey: 'never' as const }),
    json: flag(v, 'json'),
    yes: flag(v, 'yes'),
    ...(chart !== undefined && { chart: path.resolve(chart) }),
  };
}

/** The platform source folder for --build: --src, else TASKFLOW_SRC from the environment, else from the env file. */
export function buildSource(opts: DeployOptions, envFile: EnvFile): string | undefined {
  return platformSource(opts.src, {}, envFile);
}

export const JOURNEY_MODES = ['auto', 'always', 'never'] as const;
export type JourneyMode = (typeof JOURNEY_MODES)[number];
export const JOURNEY_KEY = 'TASKFLOW_VERIFY';

/**
 * Whether deploy walks the journey: the flag, else TASKFLOW_VERIFY (the environment wins over the env
 * file), else auto. A value outside auto/always/never is a configuration error (exit 2).
 */
export function journeySetting(
  opts: Pick<DeployOptions, 'journey'>,
  env: NodeJS.ProcessEnv,
  envFile: Pick<EnvFile, 'entries'>,
): JourneyMode {
  if (opts.journey) return opts.journey;
  const e = envFile.entries.get(JOURNEY_KEY);
  const fromFile = e === undefined ? undefined : textOf(e.value);
  const text = (env[JOURNEY_KEY] ?? fromFile ?? '').trim();
  if (text === '') return 'auto';
  if ((JOURNEY_MODES as readonly string[]).includes(text)) return text as JourneyMode;
  throw new UsageError(`${JOURNEY_KEY}: "${text}" is not one of ${JOURNEY_MODES.join(', ')}`, {
    hint: `set ${JOURNEY_KEY}=never to skip the journey after deploy, always to walk it on any context`,
  });
}
