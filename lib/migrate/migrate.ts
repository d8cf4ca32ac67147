import type { CommandContext } from '../cli.ts';
import { APP } from '../components.ts';
import { type ClusterSession, assertSessionMayWrite, openSession } from '../context.ts';
import { ExitCode, OperationError, TaskflowError, UsageError } from '../errors.ts';
import { type ConfirmIo, assertCanConfirm, confirm } from '../confirm.ts';
import { backupSsoFirst } from '../db-backup.ts';
import type { HelmTarget } from '../helm.ts';
import type { KubeObject, Kubectl } from '../kubectl.ts';
import { type Logger, printJson } from '../log.ts';
import { type CleanupResult, cleanupManualJobs } from './cleanup.ts';
import { MIGRATION_CRONJOBS } from '../jobs.ts';
import { restartDeployment } from '../rollout.ts';
import { type TargetDeps, type TargetResult, runMigrationJob } from './run-job.ts';
import { type MigrateOptions, parseMigrateOptions } from './spec.ts';
import { type MigrateTarget, parseTargets } from './targets.ts';
import { npmRun } from '../suggest.ts';

const API_DEPLOYMENT = APP.api.name;

/** How each target will run: a Job from its CronJob, or (api without a command) a restart. */
export type MigrationPlan = { target: MigrateTarget; method: 'job' | 'restart' };

/** The document `npm run migrate -- --json` prints. */
export interface MigrateReport {
  ok: boolean;
  release: string;
  namespace: string;
  /** the kube context acted on */
  context: string | null;
  durationMs: number;
  targets: TargetResult[];
  cleanup: CleanupResult;
  /** --accept-data-loss: the SSO database's backup, made before the push */
  backup?: string;
}

/** `npm run migrate -- <sso|api|all>`: checks the release, runs the targets concurrently, reports, cleans up. */
export async function runMigrate(ctx: CommandContext): Promise<number> {
  const targets = parseTargets(ctx.args.positionals);
  const opts = parseMigrateOptions(ctx.args.values);
  if (opts.acceptDataLoss && !targets.includes('sso')) {
    throw new UsageError('--accept-data-loss applies to the SSO migrations only (drizzle-kit push)', {
      hint: `run: ${npmRun('migrate', 'sso', '--accept-data-loss')}`,
    });
  }
  const io: ConfirmIo = { yes: opts.yes, stdin: ctx.stdin, prompt: opts.json ? process.stderr : ctx.stdout };
  const what =
    '--accept-data-loss lets drizzle-kit drop columns or tables, or truncate tables, of the SSO database';
  const retry = npmRun('migrate', ...ctx.args.positionals, '--accept-data-loss', '--yes');
  // Before any cluster call: without a terminal the question needs --yes.
  if (opts.acceptDataLoss) assertCanConfirm(io, what, retry);
  const session = await openSession(ctx);
  await assertSessionMayWrite(
    ctx,
    session,
    { yes: opts.yes, prompt: io.prompt },
    opts.acceptDataLoss ? { what } : undefined,
  );
  if (opts.acceptDataLoss) {
    await confirm(
      io,
      'Apply the SSO schema even where drizzle-kit drops or truncates data? The SSO database is backed up first.',
      what,
      retry,
    );
  }
  return migrate(ctx, session, targets, opts);
}

/** The migrate run against an open session (tests inject kubectl and helm through it). */
export async function migrate(
  ctx: Pick<CommandContext, 'log' | 'stdout' | 'signal'>,
  s: Pick<ClusterSession, 'kubectl' | 'helm' | 'target'> & Partial<Pick<ClusterSession, 'place'>>,
  targets: MigrateTarget[],
  opts: MigrateOptions,
): Promise<number> {
  const started = Date.now();
  const { log } = ctx;
  await s.kubectl.assertReachable();
  await s.helm.assertInstalled();
  const plans = planTargets(targets, await s.kubectl.list(['cronjobs', 'deployments']), s.target);
  const backup = opts.acceptDataLoss
    ? (
        await backupSsoFirst(s.kubectl, s.target.release, log, {
          failedHint: `nothing was pushed; see what is wrong: ${npmRun('doctor')}, then retry`,
          noVolume: {
            reason: 'it cannot be backed up first',
            hint: 'back it up on its server, then apply the change there yourself (drizzle-kit push --force)',
          },
        })
      ).file
    : undefined;
  const deadline = started + opts.timeoutMs;
  for (const p of plans) {
    log.step(
      p.method === 'job'
        ? `${p.target}: running a Job from cronjob/${MIGRATION_CRONJOBS[p.target]}`
        : `${p.target}: restarting deployment/${API_DEPLOYMENT} (the API creates its tables at start-up)`,
    );
  }
  const results = await Promise.all(
    plans.map((p) =>
      runTarget(ctx, s, p, {
        deadline,
        timeoutText: opts.timeoutText,
        ...(opts.pollMs && { pollMs: opts.pollMs }),
        ...(opts.acceptDataLoss && p.target === 'sso' && { env: { TASKFLOW_ACCEPT_DATA_LOSS: 'true' } }),
      }),
    ),
  );
  const cleanup = await cleanUp(s.kubectl, plans, log);
  const report: MigrateReport = {
    ok: results.every((r) => r.ok),
    release: s.target.release,
    namespace: s.target.namespace,
    context: s.place?.context ?? s.target.context ?? null,
    durationMs: Date.now() - started,
    targets: results,
    cleanup,
    ...(backup && { backup }),
  };
  printOutcome(log, report, s.target);
  if (opts.json) printJson(report, ctx.stdout);
  return report.ok ? ExitCode.Ok : ExitCode.Failed;
}

/** Picks each target's method from what the release holds; a missing piece is an error naming it. */
export function planTargets(
  targets: MigrateTarget[],
  objects: KubeObject[],
  target: HelmTarget,
): MigrationPlan[] {
  const has = (kind: string, name: string): boolean =>
    objects.some((o) => o.kind === kind && o.metadata.name === name);
  return targets.map((t) => {
    if (has('CronJob', MIGRATION_CRONJOBS[t])) return { target: t, method: 'job' };
    if (t === 'sso') {
      throw new OperationError(
        `cronjob/${MIGRATION_CRONJOBS.sso} not found in namespace ${target.namespace}: release ${target.release} runs no SSO migrations (is sso.enabled off?)`,
        { hint: 'deploy the release with the bundled chart: npm run deploy' },
      );
    }
    if (has('Deployment', API_DEPLOYMENT)) return { target: t, method: 'restart' };
    throw new OperationError(
      `neither cronjob/${MIGRATION_CRONJOBS.api} nor deployment/${API_DEPLOYMENT} exists in namespace ${target.namespace}: the API is not deployed (is api.enabled off?)`,
      { hint: 'deploy it: npm run deploy' },
    );
  });
}

async function runTarget(
  ctx: Pick<CommandContext, 'log' | 'signal'>,
  s: Pick<ClusterSession, 'kubectl' | 'target'>,
  plan: MigrationPlan,
  limits: { deadline: number; timeoutText: string; pollMs?: number; env?: Record<string, string> },
): Promise<TargetResult> {
  const started = Date.now();
  const prefix = `[${plan.target}] `;
  const onLine = (line: string): void => ctx.log.raw(`${prefix}${line}`);
  const deps: TargetDeps = {
    kubectl: s.kubectl,
    release: s.target.release,
    ...limits,
    signal: ctx.signal,
    onLine,
    onDiagnostic: (line) => ctx.log.debug(`${prefix}${line}`),
  };
  try {
    if (plan.method === 'job') return await runMigrationJob(deps, plan.target);
    const outcome = await restartDeployment(s.kubectl, API_DEPLOYMENT, {
      ...limits,
      signal: ctx.signal,
      onLine,
    });
    return {
      target: plan.target,
      method: 'restart',
      object: `deployment/${API_DEPLOYMENT}`,
      durationMs: Date.now() - started,
      ...outcome,
    };
  } catch (err) {
    if (ctx.signal.aborted || !(err instanceof TaskflowError)) throw err;
    return {
      target: plan.target,
      ok: false,
      method: plan.method,
      object:
        plan.method === 'job' ? `cronjob/${MIGRATION_CRONJOBS[plan.target]}` : `deployment/${API_DEPLOYMENT}`,
      durationMs: Date.now() - started,
      reason: err.message,
    };
  }
}

async function cleanUp(kubectl: Kubectl, plans: MigrationPlan[], log: Logger): Promise<CleanupResult> {
  const jobTargets = plans.filter((p) => p.method === 'job').map((p) => p.target);
  if (jobTargets.length === 0) return { deleted: [], kept: [] };
  try {
    const res = await cleanupManualJobs(kubectl, jobTargets);
    if (res.deleted.length > 0) log.debug(`deleted finished Jobs: ${res.deleted.join(', ')}`);
    return res;
  } catch (err) {
    log.warn(
      `could not clean up finished migration Jobs: ${err instanceof Error ? err.message : String(err)}`,
    );
    return { deleted: [], kept: [] };
  }
}

function seconds(ms: number): string {
  return `${(ms / 1000).toFixed(1)}s`;
}

/**
 * Whether the SSO must restart after the seed: it looks the default organisation up once, when it
 * starts (app contract: sso), so a run that created it leaves the running SSO without it.
 */
export function afterSeedLines(
  outcome: TargetResult['defaultOrganization'],
  namespace: string,
): { line: string; restart?: string } {
  const restart = `kubectl rollout restart deployment/${APP.sso.name} -n ${namespace}`;
  if (outcome === 'existed') {
    return {
      line: 'sso: the default organisation was there already: the running SSO has it, no restart needed',
    };
  }
  if (outcome === 'created') {
    return {
      line: 'sso: this run created the default organisation; the running SSO looked it up when it started, so new users join it only after a restart',
      restart,
    };
  }
  return {
    line: "sso: the seed's output did not say whether it created the default organisation; a restart of the SSO makes sure new users join it",
    restart,
  };
}

function afterSeed(log: Logger, outcome: TargetResult['defaultOrganization'], namespace: string): void {
  const { line, restart } = afterSeedLines(outcome, namespace);
  if (!restart) return log.info(line);
  log.warn(line);
  log.hint(`restart it: ${restart}`);
}

/** Success lines, then each failure with its reason, its logs and the next step. */
function printOutcome(log: Logger, report: MigrateReport, target: HelmTarget): void {
  log.done();
  const ns = target.namespace;
  for (const r of report.targets.filter((t) => t.ok)) {
    log.success(
      `${r.target}: ${r.method === 'job' ? `${r.object} completed` : `${r.object} restarted and ready`} in ${seconds(r.durationMs)}`,
    );
    if (r.target === 'sso') afterSeed(log, r.defaultOrganization, ns);
  }
  for (const r of report.targets.filter((t) => !t.ok)) {
    log.error(`${r.target} migration failed: ${r.reason ?? 'unknown reason'}`);
    if (r.logs?.trim()) {
      log.info(`last log lines of ${r.target}:`);
      for (const line of r.logs.trimEnd().split('\n')) log.raw(`[${r.target}] ${line}`);
    }
    const kept = report.cleanup.kept.includes(r.object.replace(/^job\//, ''));
    log.hint(
      r.object.startsWith('job/')
        ? `inspect: kubectl describe ${r.object} -n ${ns}; kubectl logs ${r.object} -n ${ns}${kept ? ' (kept for inspection)' : ''}; npm run doctor`
        : `inspect: ${npmRun('doctor', '-n', ns)}; kubectl logs ${r.object} -n ${ns}`,
    );
  }
}
