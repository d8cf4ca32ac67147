import path from 'node:path';
import { type Check, reportChecks, runChecks } from '../checks.ts';
import { type CommandContext, flag, list, str } from '../cli.ts';
import { CHART_PATH } from '../context.ts';
import { prewarmSchemas } from '../chart.ts';
import { ExitCode } from '../errors.ts';
import { placeLine } from '../kube-context.ts';
import { deployTargetArgs, platformSource } from '../images.ts';
import { ACCESS_CHECKS } from './checks-access.ts';
import { ADDON_CHECKS } from './checks-addons.ts';
import { CHART_CHECKS } from './checks-chart.ts';
import { CLUSTER_CHECKS } from './checks-cluster.ts';
import { COMPOSE_CHECKS } from './checks-compose.ts';
import { SETTINGS_CHECKS } from '../settings-checks.ts';
import { SOURCE_CHECKS } from './checks-source.ts';
import { type PreflightContext, type PreflightOptions, createPreflight } from './context.ts';

/** Every validate check, in the order of the CLI contract; each always reports (pass/warn/fail/skip). */
export const VALIDATE_CHECKS: readonly Check<PreflightContext>[] = [
  ...SETTINGS_CHECKS,
  ...ACCESS_CHECKS,
  ...SOURCE_CHECKS,
  ...CHART_CHECKS,
  ...COMPOSE_CHECKS,
  ...CLUSTER_CHECKS,
  ...ADDON_CHECKS,
];

/** The check ids validate reports, in order. */
export const VALIDATE_IDS: readonly string[] = VALIDATE_CHECKS.map((c) => c.id);

/** The pre-flight options from the command line. */
export function preflightOptions(ctx: CommandContext, cwd = process.cwd()): PreflightOptions {
  const v = ctx.args.values;
  const envFile = str(v, 'env-file');
  const context = str(v, 'context');
  const namespace = str(v, 'namespace');
  const release = str(v, 'release');
  const compose = str(v, 'compose');
  // The env file's TASKFLOW_SRC is read with the settings (createPreflight), by the same platformSource.
  const src = platformSource(str(v, 'src'), ctx.env, undefined);
  return {
    envFile: path.resolve(cwd, envFile ?? '.env'),
    explicitEnvFile: envFile !== undefined,
    env: ctx.env,
    ...(namespace !== undefined && { namespace }),
    ...(release !== undefined && { release }),
    ...(context !== undefined && { context }),
    valuesFiles: list(v, 'values').map((f) => path.resolve(cwd, f)),
    chart: path.resolve(cwd, str(v, 'chart') ?? CHART_PATH),
    ...(compose !== undefined && { compose }),
    ...(src !== undefined && { src: path.resolve(cwd, src) }),
    cwd,
    offline: flag(v, 'offline'),
    requireCluster: context !== undefined || flag(v, 'cluster'),
    runner: ctx.runner,
    targetArgs: deployTargetArgs(v),
  };
}

/** Runs every check and prints the report. Exit 0 when none failed, 1 when one did, 2 when the env file is invalid. */
export async function runValidate(ctx: CommandContext): Promise<number> {
  const json = flag(ctx.args.values, 'json');
  const pre = await createPreflight(preflightOptions(ctx));
  // The slow parts start now and run side by side (the one helm render and kubectl in their own
  // processes; the chart folder read for the lint and the schema modules loading here meanwhile); the
  // checks await the same promises.
  void Promise.all([pre.render(), pre.lint(), pre.cluster(), prewarmSchemas()]).catch(() => undefined);
  const place = await pre.place();
  const where = { context: place?.context ?? pre.target.context ?? null, namespace: pre.target.namespace };
  if (place) ctx.log.step(`checking for ${placeLine(place)}, release ${pre.target.release}`);
  else
    ctx.log.step(
      `checking for namespace ${pre.target.namespace}, release ${pre.target.release} (no kube context read)`,
    );
  if (!json) ctx.log.progress('running the pre-flight checks');
  const results = await runChecks(VALIDATE_CHECKS, pre);
  ctx.log.done();
  const code = reportChecks(results, { log: ctx.log, stdout: ctx.stdout, json, where });
  // An unreadable or invalid env file is a configuration error (exit 2), reported with every other check.
  if (results.find((r) => r.id === 'env.file')?.status === 'fail') return ExitCode.Usage;
  return code;
}
