import type { CommandContext } from '../cli.ts';
import { APPS } from '../components.ts';
import { CHART_PATH, type LoadedSettings, peekPlace } from '../context.ts';
import { allowance, placeLine } from '../kube-context.ts';
import { ExitCode } from '../errors.ts';
import { Helm, helmUpgradeArgs } from '../helm.ts';
import { quoteForDisplay } from '../exec.ts';
import { resolveSecrets } from '../secret-resolution.ts';
import { detectTool } from '../tools.ts';
import { imageValues, planBuilds } from './build.ts';
import { type DeployOptions, buildSource } from './options.ts';
import { deployValues, maskedValuesYaml } from './plan.ts';
import { checkObjects, parseManifests, validateSchemas } from '../chart.ts';
import { type DeployReport, fromError, serviceUrl } from './report.ts';
import type { Values } from './plan.ts';
import { readValuesFiles } from '../chart.ts';
import { chartValues } from '../values.ts';

/**
 * `--dry-run`: the offline part of the pre-flight, then render and validate the chart with the values
 * deploy would send, and print the plan (secrets masked). Needs helm, no cluster.
 */
export async function runDryRun(
  ctx: CommandContext,
  s: LoadedSettings,
  opts: DeployOptions,
  report: DeployReport,
): Promise<number> {
  const { log } = ctx;
  // Settings warnings were printed by deploy's settings checks, before this.
  const helmTool = await detectTool('helm', ctx.runner, ctx.env);
  const helm = new Helm(ctx.runner, helmTool.path, helmTool.major, s.target);
  // Offline: a secret missing from the env file is shown as generated (on deploy it is first looked up in the cluster).
  const secrets = await resolveSecrets(s.settings, { envFilePath: s.envFile.path, writeBack: false });
  ctx.redactor.add(secrets.ssoDbPassword, secrets.apiDbPassword, secrets.authSecret);

  let images: Values | undefined;
  const lines: string[] = [];
  if (opts.build) {
    const src = buildSource(opts, s.envFile);
    if (src) {
      const base = deployValues({ settings: s.settings, secrets, pgadmin: opts.pgadmin });
      const builds = planBuilds({
        src,
        builder: opts.builder ?? 'minikube',
        values: chartValues(opts.chart ?? CHART_PATH, base, readValuesFiles(s.valuesFiles)),
      });
      images = imageValues(builds);
      lines.push(
        'Image builds (two at a time, skipped when the tag is already present):',
        ...builds.map((b) => `  ${b.argv.map(quoteForDisplay).join(' ')}`),
      );
    } else lines.push('Image builds: TASKFLOW_SRC is not set: --build would stop here');
  }
  const values = deployValues({
    settings: s.settings,
    secrets,
    pgadmin: opts.pgadmin,
    ...(images && { images }),
  });
  const rendered = await helm.template(values, opts.chart ?? CHART_PATH, s.valuesFiles);
  const objects = parseManifests(rendered);
  const structural = checkObjects(objects, s.target);
  const { problems: schemaProblems, schemas } = await validateSchemas(objects);
  const problems = [...structural, ...schemaProblems];

  const place = await peekPlace(ctx, s.target);
  report.context = place?.context ?? s.target.context ?? null;
  log.info(
    `Plan for release ${s.target.release}: ${place ? placeLine(place) : `namespace ${s.target.namespace} (kubectl not found: context unknown)`}; nothing is changed.`,
  );
  if (place && allowance(place, s.settings.context) === 'not-named') {
    log.warn(
      `a real deploy would be refused there: ${place.context} is ${place.reason}; name it with --context ${place.context} or TASKFLOW_CONTEXT=${place.context}`,
    );
  }
  log.info('');
  log.info('Steps:');
  if (opts.fresh) {
    log.info(
      `  --fresh: ${opts.backup ? 'back up both databases to backups/, then ' : ''}uninstall, delete namespace ${s.target.namespace} and its volumes`,
    );
  }
  log.info('  pre-flight: cluster reachable, storage class, password-drift guard for both databases');
  for (const l of lines) log.info(`  ${l}`);
  const argv = helmUpgradeArgs(helmTool.path, helmTool.major, s.target, {
    chart: opts.chart ?? CHART_PATH,
    valuesFiles: s.valuesFiles,
    createNamespace: true,
    timeout: opts.timeout,
  });
  log.info(`  ${argv.map(quoteForDisplay).join(' ')}   (values below, on stdin)`);
  log.info(
    `  watch the rollout (fail fast, timeout ${opts.timeout}), verify database logins and health endpoints`,
  );
  log.info('');
  log.info('Secrets:');
  for (const [k, src] of Object.entries(secrets.sources)) {
    log.info(
      `  ${k}: ${src === 'generated' ? 'not set: reused from the cluster if it has one, else generated and saved to the env file' : `from ${src}`}`,
    );
  }
  log.info('');
  log.info('Values (secrets masked):');
  log.raw(maskedValuesYaml(values).trimEnd().replace(/^/gm, '  '));
  const hooks = objects.filter((o) => o.metadata.annotations?.['helm.sh/hook']);
  log.info(
    `Rendered ${objects.length - hooks.length} objects${hooks.length ? ` (and ${hooks.length} helm hooks: ${hooks.map((h) => `${h.kind}/${h.metadata.name}`).join(', ')})` : ''}:`,
  );
  const kinds = new Map<string, string[]>();
  for (const o of objects.filter((x) => !hooks.includes(x)))
    kinds.set(o.kind, [...(kinds.get(o.kind) ?? []), o.metadata.name]);
  for (const [kind, names] of [...kinds].sort()) log.info(`  ${kind}: ${names.sort().join(', ')}`);
  if (!schemas)
    log.warn('Kubernetes schema validation skipped (the kubernetes-models package is not installed)');

  report.services = APPS.map((a) => ({
    name: a.name,
    ready: false,
    url: serviceUrl(a.name, s.settings, {}),
  }));
  if (problems.length > 0) {
    for (const p of problems) {
      report.failures.push(
        fromError(
          'chart.render',
          `${p.object}: ${p.message}`,
          'fix the values (or the chart) named above; npm run validate runs every check',
        ),
      );
      log.error(`${p.object}: ${p.message}`);
    }
    return ExitCode.Failed;
  }
  log.success(`chart renders and every object is valid${schemas ? ' Kubernetes' : ''}`);
  return ExitCode.Ok;
}
