import { type Check, type CheckOutcome, fail, pass, skip, warn, worst } from '../checks.ts';
import type { DbInfo } from '../components.ts';
import { managedDatabases } from '../drift.ts';
import { batchedSecretReader } from '../secret-resolution.ts';
import { checkPasswordDrift, passwordFor } from '../drift.ts';
import type { Kubectl } from '../kubectl.ts';
import { allowance } from '../kube-context.ts';
import { registerSecrets } from '../redact.ts';
import { SECRET_LOCATIONS } from '../secret-resolution.ts';
import type { Secret } from '../secrets.ts';
import { storageClassStatus } from '../storage.ts';
import type { PreflightContext } from './context.ts';
import type { ToolProbe } from './cluster.ts';
import { type Values, chartValues, getPath, deepMerge } from '../values.ts';
import { Helm } from '../helm.ts';
import {
  type NodeImages,
  installedImageValues,
  judgeImages,
  missingImagesError,
  platformImages,
  readNodeImages,
} from '../images.ts';
import { npmRun } from '../suggest.ts';

const toolOutcome = (name: string, t: ToolProbe): CheckOutcome =>
  t.info
    ? pass(`${t.info.version} (${t.info.path})`)
    : fail(t.error?.message ?? `${name} not found`, t.error?.hint);

const toolsKubectl: Check<PreflightContext> = {
  id: 'tools.kubectl',
  title: 'kubectl',
  run: async (ctx) =>
    ctx.opts.offline ? skip('skipped: --offline') : toolOutcome('kubectl', await ctx.kubectl()),
};

const toolsHelm: Check<PreflightContext> = {
  id: 'tools.helm',
  title: 'helm',
  run: async (ctx) => toolOutcome('helm', await ctx.helm()),
};

const clusterReachable: Check<PreflightContext> = {
  id: 'cluster.reachable',
  title: 'Cluster',
  run: async (ctx) => {
    const c = await ctx.cluster();
    if (c.status === 'reachable') return pass(c.detail);
    if (c.status === 'unreachable' && ctx.opts.requireCluster) return fail(c.detail, c.hint);
    if (c.status === 'unreachable') {
      return skip(`no cluster reachable (${c.detail}): cluster checks skipped, offline checks only`, c.hint);
    }
    return skip(c.detail, c.hint);
  },
};

/**
 * The writing commands act on a context that is not local only when it is named (lib/kube-context.ts):
 * warn ahead of a deploy that would be refused, and say which context is checked. Kubeconfig only, no
 * API call, so an unreachable cluster is still judged.
 */
const clusterContext: Check<PreflightContext> = {
  id: 'cluster.context',
  title: 'Kube context',
  run: async (ctx) => {
    if (ctx.opts.offline) return skip('skipped: --offline');
    const place = await ctx.place();
    if (place === undefined) return skip('skipped: no kubeconfig or no kubectl');
    if (place.error) return skip(`skipped: ${place.error.message}`, place.error.hint);
    const name = place.context ?? '';
    const server = place.server ? ` (${place.server})` : '';
    const allowed = ctx.env.settings.context;
    switch (allowance(place, allowed)) {
      case 'local':
        return pass(`${name}${server}: a local cluster (${place.reason})`);
      case 'named':
        return pass(
          allowed === name
            ? `${name}${server}: not a local cluster; TASKFLOW_CONTEXT names it, so deploy and the other writing commands act on it`
            : `${name}${server}: not a local cluster; named with --context (the writing commands need --context ${name} each time, or TASKFLOW_CONTEXT=${name})`,
        );
      default:
        return warn(
          `${name}${server} is ${place.reason}, and the env file does not name it${allowed ? ` (TASKFLOW_CONTEXT is ${allowed})` : ''}: deploy, migrate, reset-db-password and addon will refuse to write there`,
          `if you mean that cluster: TASKFLOW_CONTEXT=${name} in the env file (or --context ${name}); otherwise switch to your local one (kubectl config get-contexts; kubectl config use-context NAME)`,
        );
    }
  },
};

/** A check that needs the cluster: skipped (offline, unreachable) unless kubectl reaches it. */
function clusterCheck(
  id: string,
  title: string,
  run: (ctx: PreflightContext, k: Kubectl) => Promise<CheckOutcome>,
): Check<PreflightContext> {
  return {
    id,
    title,
    run: async (ctx) => {
      const c = await ctx.cluster();
      if (c.kubectl) return run(ctx, c.kubectl);
      return skip(c.status === 'offline' ? 'skipped: --offline' : 'skipped: no cluster reachable');
    },
  };
}

const storageClass = clusterCheck('cluster.storageclass', 'Storage class', async (ctx, k) => {
  const fromValues = ctx.userValues ? getPath(ctx.userValues, 'global.storageClass') : undefined;
  const wanted =
    ctx.env.settings.storageClass ??
    (typeof fromValues === 'string' && fromValues !== '' ? fromValues : undefined);
  const st = await storageClassStatus(k, wanted);
  return st.ok ? pass(st.detail, st.hint) : fail(st.detail, st.hint);
});

/**
 * The TaskFlow images the deploy would run, against the images the Nodes report (lib/images.ts): on a
 * local cluster an image no node has that names no registry cannot be pulled. Fails as the deploy
 * refuses (no TaskFlow source named), warns when the deploy would build them first; skips when the
 * context is not local or the Nodes cannot tell.
 */
const clusterImages = clusterCheck('cluster.images', 'TaskFlow images', async (ctx, k) => {
  const place = await ctx.place();
  if (!place?.local) return skip(judgeImages([], place, undefined).detail);
  const helmTool = (await ctx.helm()).info;
  if (!helmTool) return skip('cannot tell: helm is needed to read the images the release keeps');
  let nodes: NodeImages;
  let kept: Values;
  try {
    const helm = new Helm(ctx.opts.runner, helmTool.path, helmTool.major, ctx.target);
    [nodes, kept] = await Promise.all([readNodeImages(k), installedImageValues(helm)]);
  } catch (err) {
    return skip(`cannot tell: ${err instanceof Error ? err.message : String(err)}`);
  }
  // As deploy: the images an earlier --build gave the release stay, unless TASKFLOW_IMAGE_TAG sets one.
  const keep = ctx.env.settings.imageTag === undefined ? kept : {};
  const values = chartValues(ctx.opts.chart, deepMerge(keep, ctx.values), ctx.userValues ?? {});
  const verdict = judgeImages(platformImages(values, ctx.opts.chart), place, nodes);
  if (verdict.status === 'ok') return pass(verdict.detail);
  if (verdict.status !== 'missing') return skip(verdict.detail);
  if (ctx.src !== undefined) {
    return warn(
      verdict.detail,
      `${npmRun('deploy', ...(ctx.opts.targetArgs ?? []))} builds them from ${ctx.src} first (as --build), with minikube or docker`,
    );
  }
  const refusal = missingImagesError(verdict, ctx.opts.targetArgs ?? []);
  return fail(verdict.detail, `deploy refuses (exit 2); ${refusal.hint ?? ''}`);
});

/** The password deploy would give a database: the settings' own, else the cluster's Secret, else a generated one. */
async function passwordToDeploy(
  ctx: PreflightContext,
  db: DbInfo,
  read: ReturnType<typeof batchedSecretReader>,
): Promise<{ password: Secret; from: string }> {
  const key = db.envKey;
  const own =
    key === 'POSTGRES_SSO_PASSWORD' ? ctx.env.settings.sso.dbPassword : ctx.env.settings.api.dbPassword;
  if (own) return { password: own, from: key };
  const loc = SECRET_LOCATIONS[key];
  const inCluster = await read(loc.secret, loc.key);
  if (inCluster !== undefined) {
    registerSecrets(inCluster);
    return { password: inCluster, from: `Secret ${loc.secret} (${key} not set)` };
  }
  return {
    password: passwordFor(db, ctx.secrets),
    from: `a generated password (${key} not set, no Secret ${loc.secret})`,
  };
}

const passwordDrift = clusterCheck('db.password-drift', 'Database password drift', async (ctx, k) => {
  const dbs = managedDatabases(deepMerge(ctx.userValues ?? {}, ctx.values));
  if (dbs.length === 0) return pass('no in-cluster database whose password the suite sets');
  const read = batchedSecretReader(k);
  const outcomes = await Promise.all(
    dbs.map(async (db): Promise<CheckOutcome> => {
      const { password, from } = await passwordToDeploy(ctx, db, read);
      const r = await checkPasswordDrift(k, db, password);
      const detail = `${db.db}: ${r.detail} (password from ${from})`;
      if (r.status === 'mismatch') return fail(detail, r.hint);
      if (r.status === 'unknown') return warn(detail, r.hint);
      return pass(detail);
    }),
  );
  return worst(outcomes, pass('no database'));
});

/** The cluster checks: tools, reachability, storage, images, password drift (skip without a cluster). */
export const CLUSTER_CHECKS: readonly Check<PreflightContext>[] = [
  toolsKubectl,
  toolsHelm,
  clusterReachable,
  clusterContext,
  storageClass,
  clusterImages,
  passwordDrift,
];
