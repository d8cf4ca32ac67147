import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { type CommandContext, list, str } from './cli.ts';
import { assertNoErrors, loadSettings, type EnvFile, type Problem, type Settings } from './env.ts';
import { Helm, type HelmTarget } from './helm.ts';
import { Kubectl } from './kubectl.ts';
import type { Logger } from './log.ts';
import { type Destructive, type Place, assertMayWrite, placeLine, resolvePlace } from './kube-context.ts';
import { detectTools, findTool, type Tools } from './tools.ts';
import { ReleaseLock, ago, describeHolder, thisHolder, waitingLine } from './release-lock.ts';
import { type Script, npmRun } from './suggest.ts';

/** The repository root (this file lives in lib/). */
export const REPO_ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
/** The bundled chart. */
export const CHART_PATH = path.join(REPO_ROOT, 'charts', 'taskflow');

/** Settings loaded and checked for one command run. */
export interface LoadedSettings {
  settings: Settings;
  envFile: EnvFile;
  /** Warnings (errors have already thrown). */
  warnings: Problem[];
  target: HelmTarget;
  valuesFiles: string[];
}

/**
 * Loads the env file and the shared cluster options into settings; every
 * invalid value is reported at once (UsageError, exit 2); warnings are logged.
 */
export function loadCommandSettings(ctx: CommandContext): LoadedSettings {
  const v = ctx.args.values;
  const envFilePath = path.resolve(str(v, 'env-file') ?? '.env');
  const { settings, problems, envFile } = loadSettings({
    envFile: envFilePath,
    explicitEnvFile: str(v, 'env-file') !== undefined,
    env: ctx.env,
    namespace: str(v, 'namespace'),
    release: str(v, 'release'),
  });
  assertNoErrors(problems, envFile);
  ctx.redactor.add(
    settings.sso.dbPassword,
    settings.sso.authSecret,
    settings.sso.smtp?.password,
    settings.api.dbPassword,
    settings.api.openaiApiKey,
  );
  const warnings = problems.filter((p) => p.severity === 'warn');
  const target: HelmTarget = {
    namespace: settings.namespace,
    release: settings.release,
    context: str(v, 'context'),
  };
  return { settings, envFile, warnings, target, valuesFiles: list(v, 'values').map((f) => path.resolve(f)) };
}

/** Everything a cluster command needs: settings, tools, kubectl/helm bound to the target, and where that is. */
export interface ClusterSession extends LoadedSettings {
  tools: Tools;
  kubectl: Kubectl;
  helm: Helm;
  /** the kube context in use and whether it is local */
  place: Place;
}

/** The one printer of settings warnings (unknown or repeated keys): `line N: message`, then its hint. */
export function printSettingsWarnings(log: Logger, warnings: readonly Problem[]): void {
  for (const w of warnings) {
    log.warn(`${w.line ? `line ${w.line}: ` : ''}${w.message}`);
    if (w.hint) log.hint(w.hint);
  }
}

/**
 * Finds kubectl and helm (exit 3 when missing), binds them to the target, and prints where the command
 * acts (context, local or remote, namespace) as its first line of progress. Without `loaded` it loads
 * the settings and prints their warnings; a caller that passes settings it loaded has reported them
 * (deploy reports them through its settings checks).
 */
export async function openSession(ctx: CommandContext, loaded?: LoadedSettings): Promise<ClusterSession> {
  const s = loaded ?? loadCommandSettings(ctx);
  if (!loaded) printSettingsWarnings(ctx.log, s.warnings);
  const tools = await detectTools(ctx.runner, ctx.env);
  const kubectl = new Kubectl(ctx.runner, tools.kubectl.path, s.target);
  const helm = new Helm(ctx.runner, tools.helm.path, tools.helm.major, s.target);
  const place = await resolvePlace(kubectl);
  ctx.log.step(`${placeLine(place)}, release ${s.target.release}`);
  return { ...s, tools, kubectl, helm, place };
}

/** Where a command that only reads (or a dry run) would act, for its label; undefined without kubectl. */
export async function peekPlace(
  ctx: Pick<CommandContext, 'runner' | 'env'>,
  target: LoadedSettings['target'],
): Promise<Place | undefined> {
  const bin = findTool('kubectl', ctx.env);
  return bin ? resolvePlace(new Kubectl(ctx.runner, bin, target)) : undefined;
}

/**
 * The guard before a command's first write (see lib/kube-context.ts): a context that is not local must
 * be named (--context or TASKFLOW_CONTEXT); a destructive step there must be confirmed by its name.
 * Then the release's lock (lib/release-lock.ts): one writing command per release at a time, waiting
 * for the one that holds it (or, with --no-wait, refusing at once, exit 2), given back when the command
 * ends however it ends. Returns the lock (`waited`: what was read before it may be stale).
 */
export async function assertSessionMayWrite(
  ctx: Pick<CommandContext, 'invocation' | 'stdin'> &
    Partial<Pick<CommandContext, 'args' | 'log' | 'signal' | 'atExit'>>,
  s: Pick<ClusterSession, 'place' | 'settings' | 'kubectl'> &
    Partial<Pick<ClusterSession, 'helm' | 'target'>>,
  io: { yes: boolean; prompt?: NodeJS.WritableStream },
  destructive?: Destructive,
): Promise<ReleaseLock> {
  // An unreadable kubeconfig: the usual "cannot reach" / "no kubeconfig" report, exit 3.
  if (s.place.error) await s.kubectl.assertReachable();
  await assertMayWrite(
    s.place,
    {
      ...(s.settings.context !== undefined && { allowed: s.settings.context }),
      ...(ctx.invocation && { command: ctx.invocation }),
      io: { yes: io.yes, stdin: ctx.stdin, prompt: io.prompt ?? process.stderr },
    },
    destructive,
  );
  return holdRelease(ctx, s);
}

/** One lock per session: a command that passes the guard twice (add-ons) takes the release once. */
const LOCKS = new WeakMap<object, ReleaseLock>();

/** Takes the release's lock for this command, printing whom it waits for; released at exit. */
async function holdRelease(
  ctx: Pick<CommandContext, 'invocation'> &
    Partial<Pick<CommandContext, 'args' | 'log' | 'signal' | 'atExit'>>,
  s: Pick<ClusterSession, 'kubectl' | 'settings'> & Partial<Pick<ClusterSession, 'helm' | 'target'>>,
): Promise<ReleaseLock> {
  const known = LOCKS.get(s.kubectl);
  if (known) return known;
  const release = s.target?.release ?? s.settings.release;
  const name = ctx.invocation?.name ?? 'taskflow';
  const command = [name, ...(ctx.args?.positionals.slice(0, 1) ?? [])].join(' ');
  const again = npmRun(name as Script, ...(ctx.invocation?.argv ?? []).filter((a) => a !== '--no-wait'));
  const log = ctx.log;
  let waitedSince: number | undefined;
  const lock = new ReleaseLock(s.kubectl, release, thisHolder(command), {
    noWait: ctx.args?.values['no-wait'] === true,
    again,
    ...(ctx.signal && { signal: ctx.signal }),
    events: {
      waiting: (h) => {
        log?.done();
        log?.warn(waitingLine(release, h, Date.now()));
        waitedSince ??= Date.now();
      },
      // A line every ten seconds where there is no spinner (the logger prints only changed text).
      progress: (h, ms) =>
        log?.progress(
          `waiting for npm run ${h.command} (pid ${h.pid} on ${h.host}): ${ago(Math.floor(ms / 10_000) * 10_000)}`,
        ),
      tookOver: (h, why) => {
        log?.done();
        log?.warn(`took release "${release}" over from ${describeHolder(h, Date.now())}: ${why}`);
      },
      trouble: (message) => log?.warn(message),
    },
  });
  // Registered before acquiring: Ctrl+C while waiting leaves nothing behind either.
  ctx.atExit?.(() => lock.release());
  await lock.acquire();
  LOCKS.set(s.kubectl, lock);
  if (waitedSince !== undefined) {
    log?.done();
    log?.success(`release "${release}" is free after ${ago(Date.now() - waitedSince)}: going on`);
  }
  if (s.helm)
    s.helm.otherWriter = async () => {
      const h = await lock.otherHolder();
      return h ? describeHolder(h, Date.now()) : h;
    };
  return lock;
}
