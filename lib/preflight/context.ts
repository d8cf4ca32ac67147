import { existsSync } from 'node:fs';
import path from 'node:path';
import { readValuesFiles } from '../chart.ts';
import type { Runner } from '../exec.ts';
import type { HelmTarget } from '../helm.ts';
import { registerSecrets } from '../redact.ts';
import { type ResolvedSecrets, resolveSecrets } from '../secret-resolution.ts';
import { existingSecretRefs } from '../existing-secrets.ts';
import { settingsToValues } from '../settings-values.ts';
import { findTool } from '../tools.ts';
import { type LenientEnv, loadEnvLeniently } from '../settings-load.ts';
import { renderChart, type Render } from '../chart.ts';
import { type ChartLint, lintChart } from './lint.ts';
import { type ClusterState, missingKubeconfig, probeCluster, type ToolProbe, probeTool } from './cluster.ts';
import type { Place } from '../kube-context.ts';
import { platformSource } from '../images.ts';
import { peekPlace } from '../context.ts';
import { type Values, chartValues, deepMerge } from '../values.ts';

/** What `npm run validate` was asked to check. */
export interface PreflightOptions {
  envFile: string;
  explicitEnvFile: boolean;
  env: NodeJS.ProcessEnv;
  namespace?: string;
  release?: string;
  context?: string;
  valuesFiles: string[];
  chart: string;
  /** `--compose FILE`; else one found in cwd or TASKFLOW_SRC */
  compose?: string;
  /** the platform sources (`--src`, else TASKFLOW_SRC from the environment or the env file) */
  src?: string;
  cwd: string;
  /** `--offline`: skip every cluster check */
  offline: boolean;
  /** a cluster was asked for (--context, --cluster): unreachable is then a failure, not a skip */
  requireCluster: boolean;
  runner: Runner;
  /** the target options of the command line, repeated in the deploy commands a check suggests */
  targetArgs?: string[];
}

/**
 * Everything the checks share, computed once: the settings (never throwing), the secrets resolved in
 * memory only (missing ones are generated placeholders, marked as such; the env file is never
 * written), the chart values, and lazily the tools, the lint, the render and the cluster probe.
 */
export interface PreflightContext {
  opts: PreflightOptions;
  env: LenientEnv;
  secrets: ResolvedSecrets;
  /** every secret text known (for leak scans) */
  secretTexts: string[];
  /** the values validate would send on stdin */
  values: Values;
  /** the user's -f files merged (undefined when one cannot be read: chart.render reports it) */
  userValues?: Values;
  /** what helm would use: the chart's values.yaml, then `values`, then the -f files */
  readonly chartValues: Values;
  /** the platform source folder, when one is named */
  src?: string;
  target: HelmTarget;
  helm: () => Promise<ToolProbe>;
  kubectl: () => Promise<ToolProbe>;
  /** helm lint --strict's rules over the chart folder and the render (no helm process of its own) */
  lint: () => Promise<ChartLint | undefined>;
  render: () => Promise<Render | undefined>;
  /** a render with pgAdmin and every optional variable on (and Mailpit, if asked), for the compose comparison */
  renderWithAddons: (mailpit: boolean) => Promise<Render | undefined>;
  cluster: () => Promise<ClusterState>;
  /** the kube context validate would check against (read from the kubeconfig only); undefined offline or without one */
  place: () => Promise<Place | undefined>;
}

/** Memoizes a lazy computation. */
export function once<T>(f: () => Promise<T>): () => Promise<T> {
  let p: Promise<T> | undefined;
  return () => (p ??= f());
}

/** Builds the shared context (synchronous parts now, the rest on first use). */
export async function createPreflight(opts: PreflightOptions): Promise<PreflightContext> {
  const env = loadEnvLeniently({
    path: opts.envFile,
    explicit: opts.explicitEnvFile,
    env: opts.env,
    ...(opts.namespace !== undefined && { namespace: opts.namespace }),
    ...(opts.release !== undefined && { release: opts.release }),
  });
  const { settings } = env;
  let userValues: Values | undefined;
  try {
    userValues = readValuesFiles(opts.valuesFiles.filter((f) => existsSync(f)));
  } catch {
    userValues = undefined;
  }
  // Offline: no cluster is read and nothing is written; a missing secret becomes a random stand-in, and
  // one the -f values take from a Secret of the user's (existingSecret) is not sent, as deploy does.
  const theirs = userValues ? existingSecretRefs(userValues) : [];
  const secrets = await resolveSecrets(settings, {
    envFilePath: opts.envFile,
    writeBack: false,
    existing: new Map(theirs.map((r) => [r.envKey, undefined])),
  });
  const extra = [settings.sso.smtp?.password, settings.api.openaiApiKey];
  registerSecrets(secrets.ssoDbPassword, secrets.apiDbPassword, secrets.authSecret, ...extra);
  const secretTexts = [secrets.ssoDbPassword, secrets.apiDbPassword, secrets.authSecret, ...extra]
    .filter((s) => s !== undefined)
    .map((s) => s.reveal());
  const values = settingsToValues(settings, secrets);
  const target: HelmTarget = {
    namespace: settings.namespace,
    release: settings.release,
    ...(opts.context !== undefined && { context: opts.context }),
  };
  const helm = once(() => probeTool('helm', opts.runner, opts.env));
  const kubectl = once(() => probeTool('kubectl', opts.runner, opts.env));
  const chartInput = (v: Values) => ({ values: v, chart: opts.chart, valuesFiles: opts.valuesFiles, target });
  // The path alone (no process) lets lint and render start at once, beside the version probe.
  const helmPath = findTool('helm', opts.env);
  const helmBin = () => Promise.resolve(helmPath);
  const render = once(async () => {
    const bin = await helmBin();
    return bin ? renderChart(opts.runner, bin, chartInput(values)) : undefined;
  });
  const composeRenders = new Map<boolean, Promise<Render | undefined>>();
  const src = platformSource(opts.src, {}, env.file);
  let merged: Values | undefined;
  const ctx: PreflightContext = {
    opts,
    env,
    secrets,
    secretTexts,
    values,
    ...(userValues !== undefined && { userValues }),
    // Read when a check asks (the chart's values.yaml is parsed then), not before helm starts.
    get chartValues() {
      return (merged ??= chartValues(opts.chart, values, userValues ?? {}));
    },
    ...(src !== undefined && { src: path.resolve(opts.cwd, src) }),
    target,
    helm,
    kubectl,
    render,
    lint: once(() => lintChart(opts.chart, render())),
    renderWithAddons: (mailpit: boolean) => {
      const cached = composeRenders.get(mailpit);
      if (cached) return cached;
      const p = helmBin().then((bin) =>
        bin ? renderChart(opts.runner, bin, chartInput(parityValues(values, mailpit))) : undefined,
      );
      composeRenders.set(mailpit, p);
      return p;
    },
    cluster: once(async () => probeCluster(opts, target, opts.offline ? {} : await kubectl())),
    place: once(async () => {
      if (opts.offline || missingKubeconfig(opts.env) !== undefined) return undefined;
      return peekPlace({ runner: opts.runner, env: opts.env }, target);
    }),
  };
  return ctx;
}

/**
 * Values that make every variable the chart can pass show up: pgAdmin on, a dummy API key, and SMTP
 * complete (dummy, non-secret values) unless Mailpit is on, which takes the SSO's mail instead (the
 * chart refuses an SMTP host next to it).
 */
export function parityValues(values: Values, mailpit: boolean): Values {
  const { smtp, ...sso } = (values.sso ?? {}) as Values;
  const dummySmtp = {
    host: 'smtp.invalid',
    port: 587,
    user: 'u',
    password: 'p',
    secure: false,
    from: 'a@b.c',
  };
  return deepMerge(
    { ...values, sso: mailpit ? sso : { ...sso, smtp: smtp ?? dummySmtp } },
    { pgadmin: { enabled: true }, mailpit: { enabled: mailpit }, api: { openaiApiKey: 'sk-parity' } },
  );
}

/** The compose file to compare with: `--compose`, else the first one found in cwd, then in TASKFLOW_SRC. */
export function findComposeFile(opts: Pick<PreflightOptions, 'compose' | 'cwd' | 'env'>): string | undefined {
  if (opts.compose !== undefined) return path.resolve(opts.cwd, opts.compose);
  const names = ['compose.yaml', 'compose.yml', 'docker-compose.yml', 'docker-compose.yaml'];
  const dirs = [opts.cwd, opts.env.TASKFLOW_SRC].filter((d): d is string => d !== undefined && d !== '');
  for (const dir of dirs) {
    for (const n of names) if (existsSync(path.join(dir, n))) return path.join(dir, n);
  }
  return undefined;
}
