import path from 'node:path';
import type { CommandContext } from '../cli.ts';
import { APPS } from '../components.ts';
import { CHART_PATH, type LoadedSettings, peekPlace } from '../context.ts';
import { allowance, placeLine } from '../kube-context.ts';
import { checkObjects, readValuesFiles, renderChart, validateSchemas } from '../chart.ts';
import { managedDatabases } from '../drift.ts';
import { ExitCode, OperationError, UsageError } from '../errors.ts';
import { quoteForDisplay } from '../exec.ts';
import { Helm, translateHelmError } from '../helm.ts';
import { Kubectl } from '../kubectl.ts';
import { resolveSecrets } from '../secret-resolution.ts';
import { existingSecretRefs } from '../existing-secrets.ts';
import { detectTool, findTool } from '../tools.ts';
import { chartValues } from '../values.ts';
import { printValueWarnings } from './value-warnings.ts';
import { deployTargetArgs, installedUserValues, keptImageValues, readNodeImages } from '../images.ts';
import { imagesGate } from './images-gate.ts';
import { type PlannedBuild, imageValues, planBuilds } from './build.ts';
import { type DeployOptions, buildSource } from './options.ts';
import { type AddonPlan, deployValues, maskedValuesYaml } from './plan.ts';
import { type DeployReport, fromError, serviceUrl } from './report.ts';
import { deployPlan, upgradeOptions } from './steps.ts';
import { refusedConfiguration } from './refusal.ts';

/**
 * `--dry-run`: the offline part of the pre-flight, then render and validate the chart with the values
 * deploy would send, and print the plan: the steps with the commands the real run would start (built
 * by the same functions), the secrets' sources, the values (masked) and the objects. Needs helm, no
 * cluster.
 */
export async function runDryRun(
  ctx: CommandContext,
  s: LoadedSettings,
  opts: DeployOptions,
  report: DeployReport,
  addons: AddonPlan = {},
): Promise<number> {
  const { log } = ctx;
  // Settings warnings were printed by deploy's settings checks, before this.
  const helmTool = await detectTool('helm', ctx.runner, ctx.env);
  const helm = new Helm(ctx.runner, helmTool.path, helmTool.major, s.target);
  // Offline: a secret missing from the env file is shown as generated (on deploy it is first looked up in the
  // cluster); one the -f values take from a Secret of the user's is neither sent nor generated.
  const theirs = existingSecretRefs(readValuesFiles(s.valuesFiles));
  const secrets = await resolveSecrets(s.settings, {
    envFilePath: s.envFile.path,
    writeBack: false,
    existing: new Map(theirs.map((r) => [r.envKey, undefined])),
  });
  ctx.redactor.add(secrets.ssoDbPassword, secrets.apiDbPassword, secrets.authSecret);

  const chart = opts.chart ?? CHART_PATH;
  const place = await peekPlace(ctx, s.target);
  const kubectl = new Kubectl(ctx.runner, findTool('kubectl', ctx.env) ?? 'kubectl', s.target);
  // The installed release's values, when they can be read: what the real deploy keeps from them.
  const installed = place ? await installedUserValues(helm).catch(() => undefined) : undefined;
  // What the deploy's cluster.images step would say (its reads only: the Nodes, the release's values).
  let autoBuild = false;
  if (!opts.build && place?.local) {
    try {
      autoBuild = await imagesGate({
        log,
        place,
        nodes: readNodeImages(kubectl),
        plan: installed && { settings: s.settings, secrets, ...addons, previous: keptImageValues(installed) },
        chart,
        userValues: readValuesFiles(s.valuesFiles),
        src: buildSource(opts, s.envFile),
        targetArgs: deployTargetArgs(ctx.args.values),
      });
    } catch (err) {
      if (!(err instanceof UsageError)) throw err;
      report.context = place.context;
      report.failures.push(fromError('cluster.images', err.message, err.hint, null, 'ImagesMissing'));
      log.error(`a real deploy would stop here: ${err.message}`);
      if (err.hint) log.hint(err.hint);
      return ExitCode.Usage;
    }
  }
  let builds: PlannedBuild[] | undefined;
  if (opts.build || autoBuild) {
    const src = buildSource(opts, s.envFile);
    if (!src) {
      throw new OperationError('--build needs the platform sources', {
        hint: 'set TASKFLOW_SRC=/path/to/taskflow (env file or environment) or pass --src PATH',
      });
    }
    const base = deployValues({ settings: s.settings, secrets, ...addons });
    builds = planBuilds({
      src: path.resolve(src),
      builder: opts.builder ?? 'minikube',
      values: chartValues(chart, base, readValuesFiles(s.valuesFiles)),
    });
  }
  const values = deployValues({
    settings: s.settings,
    secrets,
    ...addons,
    ...(builds && { images: imageValues(builds) }),
  });
  const render = await renderChart(ctx.runner, helmTool.path, {
    values,
    chart,
    valuesFiles: s.valuesFiles,
    target: s.target,
  });
  if (!render.ok) {
    const text = render.parseError ?? render.output;
    throw refusedConfiguration(text, s.valuesFiles) ?? translateHelmError(text, s.target, 'render the chart');
  }
  const objects = render.objects;
  const structural = checkObjects(objects, s.target);
  const { problems: schemaProblems, schemas } = await validateSchemas(objects);
  const problems = [...structural, ...schemaProblems];

  report.context = place?.context ?? s.target.context ?? null;
  log.info(
    `Plan for release ${s.target.release}: ${place ? placeLine(place) : `namespace ${s.target.namespace} (kubectl not found: context unknown)`}; nothing is changed.`,
  );
  // No context at all is not a refusal of this one: the real deploy stops at cluster.reachable.
  if (place?.context && allowance(place, s.settings.context) === 'not-named') {
    log.warn(
      `a real deploy would be refused there: ${place.context} is ${place.reason}; name it with --context ${place.context} or TASKFLOW_CONTEXT=${place.context}`,
    );
  }
  // Said here too, so the plan does not look like the env file's SMTP is applied, or a kept add-on dropped.
  printValueWarnings(log, {
    values,
    chart,
    userValues: readValuesFiles(s.valuesFiles),
    settings: s.settings,
    envFile: s.envFile.path,
    previous: installed,
    addons,
  });
  log.info('');
  log.info('Steps, with the commands each runs (values on stdin, never in argv):');
  const steps = deployPlan({
    kubectl,
    helm,
    opts: autoBuild ? { ...opts, build: true } : opts,
    upgrade: upgradeOptions(opts, chart, s.valuesFiles),
    dbs: managedDatabases(readValuesFiles(s.valuesFiles)),
    existing: theirs,
    ...(builds && { builds }),
    unset: Object.entries(secrets.sources)
      .filter(([, src]) => src === 'generated')
      .map(([key]) => key),
  });
  for (const [i, st] of steps.entries()) {
    log.info(`  ${i + 1}. ${st.id}: ${st.title}`);
    for (const c of st.commands)
      log.info(`       ${c.argv.map(quoteForDisplay).join(' ')}${c.when ? `   (when ${c.when})` : ''}`);
    if (st.note) log.info(`       ${st.note}`);
  }
  log.info('');
  log.info('Secrets:');
  for (const [k, src] of Object.entries(secrets.sources)) {
    const ref = theirs.find((r) => r.envKey === k);
    if (ref) {
      log.info(
        `  ${k}: not sent; the release reads Secret ${ref.secret} (key ${ref.key}), named by ${ref.valuePath}`,
      );
      continue;
    }
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
