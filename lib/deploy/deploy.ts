import { revisionOf } from '../helm.ts';
import path from 'node:path';
import { type CommandContext, str } from '../cli.ts';
import { APPS } from '../components.ts';
import {
  CHART_PATH,
  type ClusterSession,
  assertSessionMayWrite,
  type LoadedSettings,
  loadCommandSettings,
  openSession,
} from '../context.ts';
import { upsertEnvFile } from '../envfile.ts';
import { ExitCode, InterruptedError, OperationError, TaskflowError, UsageError } from '../errors.ts';
import { printChecks, runChecks } from '../checks.ts';
import { SETTINGS_CHECKS } from '../settings-checks.ts';
import { loadEnvLeniently } from '../settings-load.ts';
import { printJson } from '../log.ts';
import { GENERATED_COMMENT, type ResolvedSecrets, resolveSecrets } from '../secret-resolution.ts';
import { imageValues, pickBuilder, planBuilds, runBuilds } from './build.ts';
import { apiScaleUp } from './first-start.ts';
import { runDryRun } from './dry-run.ts';
import { type DeployStep, upgradeOptions } from './steps.ts';
import { collectDetails } from './failure-details.ts';
import { backupDatabases, confirmFresh, teardown } from './fresh.ts';
import { type DeployOptions, buildSource, parseDeployOptions } from './options.ts';
import { type PlanInput, type Values, deployValues } from './plan.ts';
import {
  addonSwitches,
  definitionValuesByName,
  findAddonDefinitions,
  namedDefinitionError,
} from '../addon-defs.ts';
import { driftGuard, managedDatabases } from '../drift.ts';
import { assertStorage } from '../storage.ts';
import { batchedSecretReader } from '../secret-resolution.ts';
import {
  type DeployReport,
  fromError,
  fromRollout,
  fromVerify,
  ingressHosts,
  serviceEntries,
  dataAddonPorts,
} from './report.ts';
import { handOver, rollBack } from './after.ts';
import { printFailures, printSummary } from './summary.ts';
import { readValuesFiles } from '../chart.ts';
import { verifyAll } from './verify.ts';
import { type WatchResult, progressLine, watchRollout } from './watch.ts';
import { chartValues, getPath } from '../values.ts';
import { npmRun } from '../suggest.ts';

/** StatefulSets get at most this long (they have no progress deadline of their own). */
const STATEFULSET_DEADLINE_MS = 5 * 60_000;

/** The `reason` of a failure that ended a step early. */
const STEP_REASONS: Record<string, string> = {
  settings: 'InvalidSettings',
  'env.file': 'InvalidSettings',
  'env.required': 'InvalidSettings',
  'secrets.placeholder': 'InvalidSettings',
  'secrets.strength': 'InvalidSettings',
  'password.charset': 'InvalidSettings',
  tools: 'ToolMissing',
  'cluster.reachable': 'Unreachable',
  'cluster.context': 'ContextNotNamed',
  'cluster.storageclass': 'StorageClassMissing',
  fresh: 'FreshFailed',
  secrets: 'SecretsUnreadable',
  'release.status': 'ReleaseStuck',
  build: 'BuildFailed',
  'helm.upgrade': 'UpgradeFailed',
  rollout: 'WatchFailed',
  verify: 'VerifyFailed',
};

/** The deploy is now in this step (of DEPLOY_STEPS, the list --dry-run prints). */
function enter(run: Run, step: DeployStep): void {
  run.step = step;
}

/** Failure id for an error that stopped the deploy in a given step. */
function failureId(step: string, err: TaskflowError): string {
  if (step === 'tools') return /^helm/.test(err.message) ? 'tools.helm' : 'tools.kubectl';
  return step;
}

/** Where the run is: the report being filled and the step that is running (its id names a failure). */
interface Run {
  ctx: CommandContext;
  opts: DeployOptions;
  report: DeployReport;
  started: number;
  /** a step of DEPLOY_STEPS, or the id of the settings check that failed */
  step: string;
  /** The deploy document was printed already (before a --port-forward hand-over). */
  printed?: boolean;
  /** The add-ons asked for, and every definition found (for those kept on): see lib/deploy/plan.ts. */
  addons?: Pick<PlanInput, 'addons' | 'definitions'>;
}

/**
 * `npm run deploy`: pre-flight, secrets, drift guard, optional build, helm upgrade, fail-fast rollout
 * watch, verification, summary. Returns the exit code; with --json the deploy document ends stdout.
 */
export async function runDeploy(ctx: CommandContext): Promise<number> {
  const opts = parseDeployOptions(ctx.args.values, ctx.env);
  const v = ctx.args.values;
  const run: Run = {
    ctx,
    opts,
    started: Date.now(),
    step: 'settings',
    report: {
      ok: false,
      release: str(v, 'release') ?? 'taskflow',
      namespace: str(v, 'namespace') ?? 'taskflow',
      context: str(v, 'context') ?? null,
      revision: null,
      durationMs: 0,
      services: [],
      failures: [],
    },
  };
  let session: ClusterSession | undefined;
  try {
    const loaded = loadCommandSettings(ctx);
    run.report.release = loaded.target.release;
    run.report.namespace = loaded.target.namespace;
    await settingsGate(run, loaded);
    run.addons = addonPlan(ctx, loaded, opts);
    if (opts.dryRun) return finish(run, await runDryRun(ctx, loaded, opts, run.report, run.addons));
    enter(run, 'tools');
    session = await openSession(ctx, loaded);
    return finish(run, await deployTo(run, session));
  } catch (err) {
    if (ctx.signal.aborted) throw await afterInterrupt(run, session);
    if (!(err instanceof TaskflowError)) throw err;
    run.report.failures.push(
      fromError(failureId(run.step, err), err.message, err.hint, null, STEP_REASONS[run.step]),
    );
    ctx.log.done();
    ctx.log.error(err.message);
    if (err.hint) ctx.log.hint(err.hint);
    return finish(run, err.exitCode);
  }
}

/**
 * The settings checks of `npm run validate` (env file, required keys, typos, placeholder, weak and
 * URL-breaking secrets), before anything else: the first failing one stops the deploy with exit 2 and
 * its check id, naming the env key; warnings are printed as validate prints them.
 */
async function settingsGate(run: Run, loaded: LoadedSettings): Promise<void> {
  const { ctx } = run;
  const v = ctx.args.values;
  const env = loadEnvLeniently({
    path: loaded.envFile.path,
    explicit: str(v, 'env-file') !== undefined,
    env: ctx.env,
    namespace: loaded.target.namespace,
    release: loaded.target.release,
  });
  const secrets = await resolveSecrets(env.settings, { envFilePath: loaded.envFile.path, writeBack: false });
  const results = await runChecks(SETTINGS_CHECKS, { env, secrets });
  // The first deploy without an env file writes one: its absence is not worth a warning here.
  const warnings = results.filter((r) => r.status === 'warn' && !(r.id === 'env.file' && !env.file.exists));
  printChecks(warnings, ctx.log);
  const failed = results.find((r) => r.status === 'fail');
  if (failed) {
    run.step = failed.id;
    throw new UsageError(`${failed.title}: ${failed.detail} [${failed.id}]`, {
      ...(failed.hint !== undefined && { hint: `${failed.hint} (npm run validate runs every check)` }),
    });
  }
}

/**
 * The add-ons of this deploy: the switches of those asked for (an unknown name, or a definition that does
 * not load, is exit 2 before anything is touched), and every definition found, to refresh those kept on.
 */
export function addonPlan(
  ctx: Pick<CommandContext, 'env'>,
  loaded: LoadedSettings,
  opts: Pick<DeployOptions, 'addons' | 'addonsDir'>,
  cwd: string = process.cwd(),
): Pick<PlanInput, 'addons' | 'definitions'> {
  const found = findAddonDefinitions({
    cwd,
    ...(opts.addonsDir !== undefined && { flag: opts.addonsDir }),
    env: ctx.env,
    envFile: loaded.envFile,
  });
  for (const name of opts.addons) {
    const broken = namedDefinitionError(name, found, cwd);
    if (broken) throw broken;
  }
  return {
    addons: addonSwitches(opts.addons, found.defs),
    definitions: definitionValuesByName(found.defs),
  };
}

/** The steps after which the cluster may have changed, and how to name them. */
const WRITING_STEPS: Record<string, string> = {
  fresh: '--fresh (backups, then the namespace deletion)',
  'helm.upgrade': 'the helm upgrade',
  rollout: 'the rollout watch',
  verify: 'the verification',
};

/**
 * After Ctrl+C: what state the release is in (its revision and status, read anew) and the command that
 * continues. Before any write: nothing changed. Returned as the error the command ends with (exit 130).
 */
async function afterInterrupt(run: Run, session: ClusterSession | undefined): Promise<InterruptedError> {
  const { ctx } = run;
  const again = npmRun('deploy', ...(ctx.invocation?.argv ?? []));
  const during = WRITING_STEPS[run.step];
  const report = { ...run.report, durationMs: Date.now() - run.started };
  if (!during || !session) {
    return new InterruptedError('interrupted before anything was changed in the cluster', {
      hint: `run it again: ${again}`,
      report,
    });
  }
  const st = await session.helm.status().catch(() => undefined);
  const { release, namespace } = session.target;
  if (!st) {
    return new InterruptedError(
      `interrupted during ${during}: release ${release} is not installed in namespace ${namespace}`,
      { hint: `run it again: ${again}`, report },
    );
  }
  const status = st.info.status;
  const state = `release ${release} is at revision ${st.version} (${status}) in namespace ${namespace}`;
  const hint = status.startsWith('pending-')
    ? `helm left it locked: ${status === 'pending-install' ? `helm uninstall ${release} -n ${namespace} (database volumes are kept)` : `helm rollback ${release} -n ${namespace}`}, then ${again}`
    : status === 'deployed'
      ? `it runs; to watch the rollout and check it as deploy does: ${again}`
      : `${again} upgrades it again (the data is kept); ${npmRun('doctor', '-n', namespace)} shows the pods`;
  return new InterruptedError(`interrupted during ${during}: ${state}`, {
    hint,
    report: { ...report, revision: st.version, releaseStatus: status },
  });
}

function finish(run: Run, code: number): number {
  run.report.durationMs = Date.now() - run.started;
  run.report.ok = code === ExitCode.Ok && run.report.failures.length === 0;
  if (run.opts.json && !run.printed) printJson(run.report, run.ctx.stdout);
  run.printed = true;
  return code;
}

async function deployTo(run: Run, s: ClusterSession): Promise<number> {
  const { ctx, opts, report } = run;
  const { log } = ctx;
  const { kubectl, helm, settings } = s;
  enter(run, 'cluster.reachable');
  report.context = s.place.context;
  await kubectl.assertReachable();
  enter(run, 'cluster.context');
  await assertSessionMayWrite(
    ctx,
    s,
    { yes: opts.yes },
    opts.fresh ? { what: `--fresh deletes namespace ${s.target.namespace} with both databases` } : undefined,
  );

  enter(run, 'settings');
  const userValues = readValuesFiles(s.valuesFiles);
  enter(run, 'cluster.storageclass');
  const wanted = getPath(userValues, 'global.storageClass');
  const storage = await assertStorage(kubectl, typeof wanted === 'string' ? wanted : settings.storageClass);
  log.success(storage.detail);

  if (opts.fresh) {
    enter(run, 'fresh');
    await freshStart(run, s);
  }

  enter(run, 'secrets');
  const secrets = await resolveSecrets(settings, {
    readCluster: batchedSecretReader(kubectl),
    envFilePath: s.envFile.path,
    writeBack: false,
  });
  ctx.redactor.add(secrets.ssoDbPassword, secrets.apiDbPassword, secrets.authSecret);

  enter(run, 'db.password-drift');
  const dbs = managedDatabases(userValues);
  for (const { db, result } of await driftGuard(kubectl, dbs, secrets)) {
    if (result.status === 'mismatch') {
      report.failures.push(
        fromError('db.password-drift', result.detail, result.hint, `pvc/${db.pvc}`, 'PasswordDrift'),
      );
    } else if (result.status === 'unknown') {
      log.warn(result.detail);
      if (result.hint) log.hint(result.hint);
    } else log.success(`${db.db} database: ${result.detail}`);
  }
  if (report.failures.length > 0) {
    log.error('password drift: stopped before changing anything in the cluster');
    printFailures(log, report.failures);
    return ExitCode.Failed;
  }
  saveGenerated(run, s, secrets);

  enter(run, 'release.status');
  const status = await helm.status();
  if (status && /^pending-/.test(status.info.status)) {
    throw new OperationError(
      `release "${s.target.release}" is stuck in ${status.info.status} (an earlier helm run was interrupted)`,
      {
        hint: `npm run doctor shows its state; then: helm rollback ${s.target.release} -n ${s.target.namespace}`,
      },
    );
  }
  const previous: Values | undefined = status ? await helm.getValues(false) : undefined;

  let images: Values | undefined;
  if (opts.build) {
    enter(run, 'build');
    // The browser URLs baked in come from the values the release gets: chart defaults, ours, then -f files.
    const base = deployValues({ settings, secrets, ...run.addons, ...(previous && { previous }) });
    images = await build(run, s, chartValues(opts.chart ?? CHART_PATH, base, userValues));
  }

  enter(run, 'helm.upgrade');
  const values = deployValues({
    settings,
    secrets,
    ...run.addons,
    ...(previous && { previous }),
    ...(images && { images }),
  });
  const upgradeAndWatch = async (): Promise<WatchResult | number> => {
    enter(run, 'helm.upgrade');
    const since = Date.now();
    log.step(`helm upgrade --install ${s.target.release} (values on stdin)`);
    const out = await helm.upgrade(values, upgradeOptions(opts, opts.chart ?? CHART_PATH, s.valuesFiles));
    report.revision = revisionOf(out) ?? (await helm.status())?.version ?? null;
    log.success(
      `release ${s.target.release} revision ${report.revision ?? '?'} applied; watching the rollout`,
    );

    enter(run, 'rollout');
    const watch = await watchRollout(kubectl, {
      release: s.target.release,
      since,
      deadline: since + opts.timeoutMs,
      statefulSetDeadline: since + Math.min(opts.timeoutMs, STATEFULSET_DEADLINE_MS),
      ...(storage.classes.length > 0 && { storageClasses: storage.classes }),
      signal: ctx.signal,
      onProgress: (snap) => log.progress(progressLine(snap)),
    });
    log.done();
    report.services = serviceEntries(
      watch.snapshot,
      settings,
      ingressHosts(userValues),
      dataAddonPorts(values),
    );
    if (!watch.ok) {
      const detailed = await collectDetails(kubectl, watch.failures);
      report.failures.push(...detailed.map(fromRollout));
      log.error(
        `the rollout failed (${watch.failures.length} problem${watch.failures.length === 1 ? '' : 's'}):`,
      );
      printFailures(log, report.failures);
      if (opts.rollbackOnFailure) log.warn(await rollBack(helm, report.revision));
      else
        log.hint(
          `the release is left as it is for inspection: ${npmRun('doctor', '-n', s.target.namespace)}`,
        );
      return ExitCode.Failed;
    }
    log.success(progressLine(watch.snapshot));
    return watch;
  };
  let watch = await upgradeAndWatch();
  if (typeof watch === 'number') return watch;
  // The API set up its tables on one replica; now the count the values ask for starts safely.
  const scale = await apiScaleUp(kubectl, chartValues(opts.chart ?? CHART_PATH, values, userValues));
  if (scale) {
    log.info(
      `taskflow-api: first start done on ${scale.from} replica (it creates its tables at start-up); scaling to ${scale.to}`,
    );
    watch = await upgradeAndWatch();
    if (typeof watch === 'number') return watch;
  }

  enter(run, 'verify');
  const running = new Set(watch.snapshot.workloads.map((w) => w.name));
  const verify = await verifyAll(
    kubectl,
    dbs.filter((d) => running.has(d.statefulSet)),
    APPS.filter((a) => running.has(a.name)),
    { signal: ctx.signal },
  );
  if (verify.length > 0) {
    report.failures.push(...verify.map(fromVerify));
    log.error('the platform is up but does not pass its checks:');
    printFailures(log, report.failures);
    return ExitCode.Failed;
  }
  log.success('databases accept their passwords; health endpoints answer');

  report.durationMs = Date.now() - run.started;
  printSummary(log, report, {
    envFile: path.relative(process.cwd(), s.envFile.path) || s.envFile.path,
    access: settings.access,
    sources: secrets.sources,
    pgadmin: getPath(values, 'pgadmin.enabled') === true,
    cli: targetArgs(ctx),
  });
  if (opts.portForward) return handOver(ctx, s, () => finish(run, ExitCode.Ok));
  return ExitCode.Ok;
}

/** The target options of this run, repeated in the commands the summary suggests. */
function targetArgs(ctx: CommandContext): string[] {
  const v = ctx.args.values;
  const parts: string[] = [];
  for (const [k, flag] of [
    ['namespace', '-n'],
    ['release', '--release'],
    ['context', '--context'],
    ['env-file', '--env-file'],
  ] as const) {
    const x = str(v, k);
    if (x !== undefined) parts.push(flag, x);
  }
  return parts;
}

/** Writes secrets generated by this run to the env file, so the next run (and the databases) keep them. */
function saveGenerated(run: Run, s: LoadedSettings, secrets: ResolvedSecrets): void {
  const generated = Object.entries(secrets.sources)
    .filter(([, src]) => src === 'generated')
    .map(([k]) => k);
  if (generated.length === 0) return;
  const value = (k: string) =>
    (k === 'POSTGRES_SSO_PASSWORD'
      ? secrets.ssoDbPassword
      : k === 'POSTGRES_API_PASSWORD'
        ? secrets.apiDbPassword
        : secrets.authSecret
    ).reveal();
  upsertEnvFile(s.envFile.path, Object.fromEntries(generated.map((k) => [k, value(k)])), {
    comment: GENERATED_COMMENT,
  });
  run.ctx.log.success(`generated ${generated.join(', ')} and saved them to ${s.envFile.path} (mode 0600)`);
}

async function freshStart(run: Run, s: ClusterSession): Promise<void> {
  const { ctx, opts } = run;
  await confirmFresh({
    namespace: s.target.namespace,
    yes: opts.yes,
    stdin: ctx.stdin,
    prompt: process.stderr,
  });
  if (opts.backup) {
    const files = await backupDatabases(s.kubectl, s.target.release, path.resolve('backups'));
    for (const f of files) ctx.log.success(`backed up to ${path.relative(process.cwd(), f)}`);
    if (files.length === 0) ctx.log.info('no database volumes: nothing to back up');
  }
  ctx.log.step(`uninstalling ${s.target.release} and deleting namespace ${s.target.namespace}`);
  await teardown(s.kubectl, s.helm, { timeoutMs: Math.min(opts.timeoutMs, 5 * 60_000), signal: ctx.signal });
  ctx.log.success(`namespace ${s.target.namespace} deleted`);
}

async function build(run: Run, s: ClusterSession, values: Values): Promise<Values> {
  const { ctx, opts } = run;
  const src = buildSource(opts, s.envFile);
  if (!src) {
    throw new OperationError('--build needs the platform sources', {
      hint: 'set TASKFLOW_SRC=/path/to/taskflow (env file or environment) or pass --src PATH',
    });
  }
  const builder = pickBuilder(opts.builder, ctx.env);
  const profile = builder === 'minikube' ? s.target.context : undefined;
  const builds = planBuilds({
    src: path.resolve(src),
    builder,
    values,
    ...(profile && { profile }),
  });
  await runBuilds(ctx.runner, builds, {
    builder,
    ...(profile && { profile }),
    onBuild: (ref, state) =>
      state === 'done'
        ? ctx.log.success(`built ${ref}`)
        : state === 'reused'
          ? ctx.log.info(`  ${ref} unchanged, reused`)
          : ctx.log.step(`building ${ref}`),
  });
  return imageValues(builds);
}
