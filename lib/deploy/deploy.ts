import { revisionOf } from '../helm.ts';
import path from 'node:path';
import { type CommandContext, str, targetOptionArgs } from '../cli.ts';
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
import { type Builder, type PlannedBuild, imageValues, pickBuilder, planBuilds, runBuilds } from './build.ts';
import type { DbInfo } from '../components.ts';
import type { ManifestDiff } from '../manifest-diff.ts';
import {
  type DiffDocument,
  type DiffWarning,
  confirmRolls,
  diffWarnings,
  missingWorkloads,
  plannedRelease,
  type InstalledRelease,
  printDiff,
  readInstalled,
  releaseDiff,
  storedRelease,
} from './diff.ts';
import { inputsDigest, unchangedSince, withRecord } from './inputs.ts';
import { apiScaleUp } from './first-start.ts';
import { runDryRun } from './dry-run.ts';
import { type DeployStep, upgradeOptions } from './steps.ts';
import { collectDetails } from './failure-details.ts';
import { backupDatabases, confirmFresh, freshDeletesTheirs, teardown } from './fresh.ts';
import { existingSecretRefs, readExistingSecrets } from '../existing-secrets.ts';
import { checkAuthSecret, checkTheirSecrets } from './secret-gates.ts';
import { type DeployOptions, buildSource, journeySetting, parseDeployOptions } from './options.ts';
import { type AddonPlan, type PlanInput, type Values, deployValues } from './plan.ts';
import {
  addonSwitches,
  definitionValuesByName,
  findAddonDefinitions,
  namedDefinitionError,
} from '../addon-defs.ts';
import { driftGuard, inClusterDatabases, managedDatabases } from '../drift.ts';
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
import { deployJourney } from './journey.ts';
import { printFailures, printSummary } from './summary.ts';
import { readValuesFiles } from '../chart.ts';
import { type VerifyFailure, readDbSecrets, verifyAll } from './verify.ts';
import type { Snapshot } from './snapshot.ts';
import { type WatchResult, progressLine, watchRollout } from './watch.ts';
import { chartValues, getPath } from '../values.ts';
import { printValueWarnings } from './value-warnings.ts';
import { namespaceArgs, npmRun } from '../suggest.ts';
import { deployTargetArgs, readNodeImages } from '../images.ts';
import { imagesGate } from './images-gate.ts';
import { ReleaseLock, describeHolder, thisHolder } from '../release-lock.ts';

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
  'cluster.images': 'ImagesMissing',
  fresh: 'FreshFailed',
  secrets: 'SecretsUnreadable',
  'release.status': 'ReleaseStuck',
  diff: 'DiffFailed',
  build: 'BuildFailed',
  'helm.upgrade': 'UpgradeFailed',
  rollout: 'WatchFailed',
  verify: 'VerifyFailed',
  journey: 'JourneyFailed',
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
  addons?: AddonPlan;
  /** The secrets resolved in memory by the settings checks (the cluster not read yet). */
  offlineSecrets?: ResolvedSecrets;
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
    // --verify / --no-verify, else TASKFLOW_VERIFY: settled here, so a bad value stops before any change.
    opts.journey = journeySetting(opts, ctx.env, loaded.envFile);
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
  run.offlineSecrets = secrets;
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
): AddonPlan {
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
    dir: found.dir,
  };
}

/** The steps after which the cluster may have changed, and how to name them. */
const WRITING_STEPS: Record<string, string> = {
  fresh: '--fresh (backups, then the namespace deletion)',
  'helm.upgrade': 'the helm upgrade',
  rollout: 'the rollout watch',
  verify: 'the verification',
  journey: "a person's journey",
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
  const chart = opts.chart ?? CHART_PATH;
  enter(run, 'settings');
  const userValues = readValuesFiles(s.valuesFiles);
  const wanted = getPath(userValues, 'global.storageClass');
  // The user's own Secrets the values name (existingSecret): read first, judged before any write.
  const theirs = existingSecretRefs(userValues);
  if (opts.fresh && theirs.length > 0) throw freshDeletesTheirs(theirs, s.target.namespace);
  const theirsRead = theirs.length > 0 ? readExistingSecrets(kubectl, theirs) : undefined;
  const readSecrets = async () =>
    resolveSecrets(settings, {
      readCluster: batchedSecretReader(kubectl),
      envFilePath: s.envFile.path,
      writeBack: false,
      ...(theirsRead && { existing: (await theirsRead).values }),
    });
  // Reads that do not depend on one another start together, with the reachability check (after --fresh,
  // the secrets and the release are read anew); each is awaited in its step, so a failure is still
  // named by the step it belongs to, and nothing is written before the context check.
  let early = opts.fresh ? undefined : { secrets: readSecrets(), installed: readInstalled(helm) };
  const storageRead = opts.diff
    ? undefined
    : assertStorage(kubectl, typeof wanted === 'string' ? wanted : settings.storageClass);
  // The Nodes' image lists, when the images are to be judged (a local cluster, nothing built by --build).
  const nodesRead = !opts.build && !opts.diff && s.place.local ? readNodeImages(kubectl) : undefined;
  for (const p of [theirsRead, early?.secrets, early?.installed, storageRead, nodesRead])
    p?.catch(() => undefined);
  enter(run, 'cluster.reachable');
  report.context = s.place.context;
  await kubectl.assertReachable();
  // Before the context guard: it takes the release lock, whose Lease needs the namespace, and a refusal
  // here must leave nothing written. Only a local context is judged, which the guard never refuses.
  let autoBuild = false;
  if (nodesRead) {
    enter(run, 'cluster.images');
    autoBuild = await imagesGate({
      log,
      place: s.place,
      nodes: nodesRead,
      plan: await imagesPlan(run, s, opts.fresh ? undefined : early?.installed),
      chart,
      userValues,
      src: buildSource(opts, s.envFile),
      targetArgs: deployTargetArgs(ctx.args.values),
    });
  }

  if (theirsRead) {
    enter(run, 'cluster.secrets');
    await checkTheirSecrets(log, theirs, theirsRead);
  }

  // --diff only reads: it needs no permission to write to the context.
  let lock: ReleaseLock | undefined;
  if (!opts.diff) {
    enter(run, 'cluster.context');
    lock = await assertSessionMayWrite(
      ctx,
      s,
      { yes: opts.yes },
      opts.fresh
        ? { what: `--fresh deletes namespace ${s.target.namespace} with both databases` }
        : undefined,
    );
    // Another deploy ran meanwhile: the release and its secrets are read again, as they are now.
    if (lock.waited && early) early = { secrets: readSecrets(), installed: readInstalled(helm) };
  }

  // Before any write to the release: a BETTER_AUTH_SECRET that cannot decrypt the SSO's signing key
  // breaks sign-in. After the context check, as its exec into the database pod acts on the cluster
  // (--diff, which has no such check, tries it on a local context only); --fresh deletes the keys.
  if (
    early &&
    (!opts.diff || s.place.local) &&
    getPath(userValues, 'sso.enabled') !== false &&
    !theirs.some((r) => r.envKey === 'BETTER_AUTH_SECRET')
  ) {
    enter(run, 'auth.secret');
    await checkAuthSecret(log, s, early.secrets);
  }

  let storageClasses: string[] = [];
  if (storageRead) {
    enter(run, 'cluster.storageclass');
    const storage = await storageRead;
    storageClasses = storage.classes;
    log.success(storage.detail);
  }

  if (opts.fresh) {
    enter(run, 'fresh');
    await freshStart(run, s);
    // The lease went with the namespace: taken again before anything else may take it.
    await lock?.reclaim();
  }

  enter(run, 'secrets');
  const secrets = await (early?.secrets ?? readSecrets());
  ctx.redactor.add(secrets.ssoDbPassword, secrets.apiDbPassword, secrets.authSecret);

  enter(run, 'release.status');
  const installed = await (early?.installed ?? readInstalled(helm));
  if (installed && /^pending-/.test(installed.status)) throw await pendingError(s, installed.status, lock);
  const previous: Values | undefined = installed?.config;

  let builds: PlannedBuilds | undefined;
  if (opts.build || autoBuild) {
    enter(run, 'build');
    // The browser URLs baked in come from the values the release gets: chart defaults, ours, then -f files.
    const base = deployValues({ settings, secrets, ...run.addons, ...(previous && { previous }) });
    builds = planImages(run, s, chartValues(chart, base, userValues));
  }
  const values = deployValues({
    settings,
    secrets,
    ...run.addons,
    ...(previous && { previous }),
    ...(builds && { images: imageValues(builds.builds) }),
  });
  printValueWarnings(log, {
    values,
    chart,
    userValues,
    settings,
    envFile: s.envFile.path,
    previous,
    addons: run.addons,
  });
  const upgrade = upgradeOptions(opts, chart, s.valuesFiles);
  const dbs = managedDatabases(userValues);
  const checks: CheckInput = {
    s,
    userValues,
    values,
    verified: inClusterDatabases(userValues),
    storageClasses,
    sources: secrets.sources,
  };
  // What this deploy sends, digested, and recorded in the revision it makes (lib/deploy/inputs.ts).
  const digest = inputsDigest({
    chart,
    values,
    valuesFiles: s.valuesFiles,
    release: s.target.release,
    namespace: s.target.namespace,
    helmVersion: s.tools.helm.version,
  });
  const sent = (revision: number): Values => (digest ? withRecord(values, { digest, revision }) : values);
  const sameInputs = !opts.diff && unchangedSince(installed, digest);

  // A deployed release may need no upgrade at all: its checks (only reads) start now, alongside the
  // comparison, and are dropped (stopped) when the comparison finds something to change.
  const ahead =
    installed?.status === 'deployed' && !opts.diff ? checkAhead(run, checks, Date.now()) : undefined;
  let diff: ManifestDiff | undefined;
  if (!sameInputs && (installed || opts.diff)) {
    enter(run, 'diff');
    try {
      const planned = await plannedRelease(helm, sent((installed?.revision ?? 0) + 1), upgrade);
      diff = releaseDiff(installed ? storedRelease(installed) : undefined, planned);
    } finally {
      if (diff?.changed !== false) ahead?.stop();
    }
  }
  const warnings = diff ? diffWarnings(diff, s.target.namespace) : [];
  const where = {
    release: s.target.release,
    namespace: s.target.namespace,
    revision: installed?.revision ?? null,
  };
  if (opts.diff && diff) return diffResult(run, diff, warnings, where);

  if (installed && ahead && (sameInputs || (diff && !diff.changed))) {
    // Nothing to change: no upgrade, no new revision; the release is still checked as after an upgrade
    // (the drift guard is the verification's database login then: the Secrets are the ones deployed).
    report.revision = installed.revision;
    report.upgraded = false;
    const why = sameInputs
      ? 'was deployed with the same chart, values and files'
      : 'already has what this deploy would apply';
    log.success(`release ${s.target.release} revision ${installed.revision} ${why}: no upgrade; checking it`);
    const watch = await watchAndReport(run, checks, ahead.since, false, ahead.watch);
    if (typeof watch === 'number') return watch;
    enter(run, 'diff');
    const missing = missingWorkloads(storedRelease(installed), watch.snapshot.workloads);
    if (missing.length === 0) return verifyAndSummarize(run, checks, watch, ahead.verify);
    // Deleted by hand: an upgrade creates it again (helm applies every object of the manifest).
    ahead.stop();
    delete report.upgraded;
    log.warn(
      `${missing.join(', ')} of revision ${installed.revision} ${missing.length === 1 ? 'is' : 'are'} missing from the cluster: upgrading to create ${missing.length === 1 ? 'it' : 'them'} again`,
    );
  }
  if (diff?.changed) {
    printDiff(log, diff, warnings, where);
    await confirmRolls(ctx, opts.yes, diff);
  }

  enter(run, 'db.password-drift');
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

  if (builds) {
    enter(run, 'build');
    await runPlannedBuilds(run, builds);
  }

  const upgradeAndWatch = async (after: number): Promise<WatchResult | number> => {
    enter(run, 'helm.upgrade');
    const since = Date.now();
    log.step(`helm upgrade --install ${s.target.release} (values on stdin)`);
    const out = await helm.upgrade(sent(after + 1), upgrade);
    report.revision = revisionOf(out) ?? (await helm.latest())?.revision ?? null;
    report.upgraded = true;
    log.success(
      `release ${s.target.release} revision ${report.revision ?? '?'} applied; watching the rollout`,
    );
    return watchAndReport(run, checks, since, true);
  };
  let watch = await upgradeAndWatch(installed?.revision ?? 0);
  if (typeof watch === 'number') return watch;
  // The API set up its tables on one replica; now the count the values ask for starts safely.
  const scale = await apiScaleUp(kubectl, chartValues(chart, values, userValues));
  if (scale) {
    log.info(
      `taskflow-api: first start done on ${scale.from} replica (it creates its tables at start-up); scaling to ${scale.to}`,
    );
    watch = await upgradeAndWatch(report.revision ?? 0);
    if (typeof watch === 'number') return watch;
  }
  return verifyAndSummarize(run, checks, watch);
}

/**
 * A release left in pending-*: by an interrupted helm run when no other command of the suite holds the
 * release (checked: the lock is ours, or --diff read the lease), else by the one that holds it now.
 */
async function pendingError(s: ClusterSession, status: string, lock?: ReleaseLock): Promise<OperationError> {
  const { release, namespace } = s.target;
  const other = lock
    ? await lock.otherHolder()
    : await new ReleaseLock(s.kubectl, release, thisHolder('deploy --diff'), { again: '' }).otherHolder();
  if (other) {
    return new OperationError(
      `release "${release}" is ${status}: ${describeHolder(other, Date.now())} is changing it`,
      {
        hint: `wait for it to finish, then: ${npmRun('deploy', ...namespaceArgs(namespace))}`,
      },
    );
  }
  return new OperationError(
    `release "${release}" is stuck in ${status} (an earlier helm run was interrupted${other === null ? '; no command of this suite holds the release' : ''})`,
    {
      hint:
        other === null
          ? `npm run doctor shows its state; then: helm rollback ${release} -n ${namespace}`
          : `if no helm runs on it any more (npm run doctor shows its state): helm rollback ${release} -n ${namespace}`,
    },
  );
}

/** What the rollout check and the verification need from the run. */
interface CheckInput {
  s: ClusterSession;
  userValues: Values;
  values: Values;
  /** the in-cluster databases the verification logs in to, with the Secret of each password */
  verified: DbInfo[];
  storageClasses: string[];
  sources: ResolvedSecrets['sources'];
}

/**
 * Watches the release's workloads until ready (the fail-fast watch); fills the services, and on failure
 * the failures (rolling back when asked and this run upgraded). Returns the watch, or the exit code.
 */
async function watchAndReport(
  run: Run,
  c: CheckInput,
  since: number,
  upgraded: boolean,
  started?: Promise<WatchResult>,
): Promise<WatchResult | number> {
  const { ctx, opts, report } = run;
  const { log } = ctx;
  const { kubectl, helm, settings, target } = c.s;
  enter(run, 'rollout');
  const watch = await (started ??
    watchFrom(run, c, since, ctx.signal, (snap) => log.progress(progressLine(snap))));
  log.done();
  report.services = serviceEntries(
    watch.snapshot,
    settings,
    ingressHosts(c.userValues),
    dataAddonPorts(c.values),
  );
  if (!watch.ok) {
    const detailed = await collectDetails(kubectl, watch.failures);
    report.failures.push(...detailed.map(fromRollout));
    log.error(
      `the rollout failed (${watch.failures.length} problem${watch.failures.length === 1 ? '' : 's'}):`,
    );
    printFailures(log, report.failures);
    if (upgraded && opts.rollbackOnFailure) log.warn(await rollBack(helm, report.revision));
    else log.hint(`the release is left as it is for inspection: ${npmRun('doctor', '-n', target.namespace)}`);
    return ExitCode.Failed;
  }
  log.success(progressLine(watch.snapshot));
  return watch;
}

/** The fail-fast rollout watch of the release's workloads from `since`. */
function watchFrom(
  run: Run,
  c: CheckInput,
  since: number,
  signal: AbortSignal,
  onProgress?: (snap: Snapshot) => void,
): Promise<WatchResult> {
  const { opts } = run;
  return watchRollout(c.s.kubectl, {
    release: c.s.target.release,
    since,
    deadline: since + opts.timeoutMs,
    statefulSetDeadline: since + Math.min(opts.timeoutMs, STATEFULSET_DEADLINE_MS),
    ...(c.storageClasses.length > 0 && { storageClasses: c.storageClasses }),
    signal,
    ...(onProgress && { onProgress }),
  });
}

/** The verification of the workloads a watch saw running: database logins, health endpoints. */
function verifyRunning(
  c: CheckInput,
  watch: WatchResult,
  signal: AbortSignal,
  secrets?: Promise<Map<string, Record<string, string>>>,
): Promise<VerifyFailure[]> {
  const running = new Set(watch.snapshot.workloads.map((w) => w.name));
  return verifyAll(
    c.s.kubectl,
    c.verified.filter((d) => running.has(d.statefulSet)),
    APPS.filter((a) => running.has(a.name)),
    { signal, ...(secrets && { secrets }) },
  );
}

/** The checks of a release, started before it is known whether they are wanted (they only read). */
interface CheckAhead {
  since: number;
  watch: Promise<WatchResult>;
  verify: Promise<VerifyFailure[]>;
  /** Drops them: their waits end, their promises reject (handled). */
  stop(): void;
}

function checkAhead(run: Run, c: CheckInput, since: number): CheckAhead {
  const ctl = new AbortController();
  const onAbort = () => ctl.abort();
  run.ctx.signal.addEventListener('abort', onAbort, { once: true });
  const watch = watchFrom(run, c, since, ctl.signal);
  // The databases' Secrets are read alongside the watch, not after it.
  const secrets = readDbSecrets(c.s.kubectl, c.verified);
  const verify = watch.then((w) => (w.ok ? verifyRunning(c, w, ctl.signal, secrets) : []));
  for (const p of [watch, verify, secrets]) p.catch(() => undefined);
  void verify.finally(() => run.ctx.signal.removeEventListener('abort', onAbort)).catch(() => undefined);
  return { since, watch, verify, stop: () => ctl.abort() };
}

/** The verification (database logins, health endpoints), then the summary (or the port-forward hand-over). */
async function verifyAndSummarize(
  run: Run,
  c: CheckInput,
  watch: WatchResult,
  started?: Promise<VerifyFailure[]>,
): Promise<number> {
  const { ctx, opts, report } = run;
  const { log } = ctx;
  const { s } = c;
  enter(run, 'verify');
  const verify = await (started ?? verifyRunning(c, watch, ctx.signal));
  if (verify.length > 0) {
    report.failures.push(...verify.map(fromVerify));
    log.error('the platform is up but does not pass its checks:');
    printFailures(log, report.failures);
    return ExitCode.Failed;
  }
  log.success('databases accept their passwords; health endpoints answer');

  enter(run, 'journey');
  const journey = await deployJourney(ctx, s, opts.journey ?? 'auto');
  if (journey.checks) report.journey = journey.checks;
  if (journey.failures.length > 0) {
    report.failures.push(...journey.failures);
    log.error('the platform is up, but a person cannot use it:');
    printFailures(log, report.failures);
    return ExitCode.Failed;
  }

  report.durationMs = Date.now() - run.started;
  printSummary(log, report, {
    envFile: path.relative(process.cwd(), s.envFile.path) || s.envFile.path,
    access: s.settings.access,
    sources: c.sources,
    existing: existingSecretRefs(c.userValues),
    pgadmin: getPath(c.values, 'pgadmin.enabled') === true,
    cli: targetArgs(ctx),
  });
  if (opts.portForward) return handOver(ctx, s, () => finish(run, ExitCode.Ok));
  return ExitCode.Ok;
}

/** `--diff`: prints the comparison (or its document) and exits 0 with no change, 1 with changes. */
function diffResult(
  run: Run,
  diff: ManifestDiff,
  warnings: DiffWarning[],
  where: { release: string; namespace: string; revision: number | null },
): number {
  const { ctx, report } = run;
  printDiff(ctx.log, diff, warnings, where);
  const code = diff.changed ? ExitCode.Failed : ExitCode.Ok;
  if (run.opts.json) {
    const document: DiffDocument = {
      ok: true,
      changed: diff.changed,
      release: where.release,
      namespace: where.namespace,
      context: report.context,
      revision: where.revision,
      objects: diff.objects,
      rolls: diff.rolls,
      warnings,
      durationMs: Date.now() - run.started,
      failures: [],
    };
    printJson(document, ctx.stdout);
    run.printed = true;
  }
  return code;
}

/** The target options of this run, repeated in the commands the summary suggests. */
function targetArgs(ctx: CommandContext): string[] {
  return targetOptionArgs(ctx.args.values);
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
        : secrets.authSecret)!.reveal();
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

/**
 * The values inputs the image check judges, before the secrets step: the secrets of the settings checks
 * (no image depends on them) and the installed release's values (none with --fresh, which removes it);
 * undefined when the release cannot be read (the release.status step then says why).
 */
async function imagesPlan(
  run: Run,
  s: ClusterSession,
  installed: Promise<InstalledRelease | undefined> | undefined,
): Promise<PlanInput | undefined> {
  const secrets = run.offlineSecrets;
  if (!secrets) return undefined;
  let previous: Values | undefined;
  try {
    previous = (await installed)?.config;
  } catch {
    return undefined;
  }
  return { settings: s.settings, secrets, ...run.addons, ...(previous && { previous }) };
}

/** The images --build makes: their content tags are known before anything is built. */
interface PlannedBuilds {
  builds: PlannedBuild[];
  builder: Builder;
  profile?: string;
}

function planImages(run: Run, s: ClusterSession, values: Values): PlannedBuilds {
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
  return { builds, builder, ...(profile && { profile }) };
}

async function runPlannedBuilds(run: Run, p: PlannedBuilds): Promise<void> {
  const { ctx } = run;
  await runBuilds(ctx.runner, p.builds, {
    builder: p.builder,
    ...(p.profile && { profile: p.profile }),
    onBuild: (ref, state) =>
      state === 'done'
        ? ctx.log.success(`built ${ref}`)
        : state === 'reused'
          ? ctx.log.info(`  ${ref} unchanged, reused`)
          : ctx.log.step(`building ${ref}`),
  });
}
