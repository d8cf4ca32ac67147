import { type Check, type CheckOutcome, fail, pass, skip, warn, worst } from '../checks.ts';
import { checkObjects, helmFindings, validateSchemas } from '../chart.ts';
import { BAD_LINKS, proveFlow } from '../flow-prove.ts';
import { databaseUrlMismatches, deadVariables, secretsInConfigMaps, unusedKeys } from '../config-scan.ts';
import type { PreflightContext } from './context.ts';
import { findingLine } from './lint.ts';
import { npmRun } from '../suggest.ts';

const noHelm = async (ctx: PreflightContext): Promise<CheckOutcome> => {
  const h = await ctx.helm();
  return skip(`helm is not available: ${h.error?.message ?? 'not found'}`, h.error?.hint);
};

/** A chart check: skipped without helm, else `run` judges what `get` made (the render, the lint). */
function chartCheck<T>(
  id: string,
  title: string,
  get: (ctx: PreflightContext) => Promise<T | undefined>,
  run: (got: T, ctx: PreflightContext) => Promise<CheckOutcome> | CheckOutcome,
): Check<PreflightContext> {
  return {
    id,
    title,
    run: async (ctx) => {
      const got = await get(ctx);
      return got === undefined ? noHelm(ctx) : run(got, ctx);
    },
  };
}

/** A failure showing the findings in helm's output (at most 8 lines), else the output's first lines. */
const helmFailure = (output: string, hint: string, lines = helmFindings(output)): CheckOutcome =>
  fail(lines.length > 0 ? lines.join('\n') : output.split('\n').slice(0, 8).join('\n'), hint);

const chartLint = chartCheck(
  'chart.lint',
  'Chart lint (helm lint --strict rules)',
  (ctx) => ctx.lint(),
  (lint) => {
    if (lint.findings.length > 0) {
      return helmFailure(
        lint.findings.map(findingLine).join('\n'),
        'fix the values named above (or the chart); helm lint --strict treats warnings as errors',
      );
    }
    if (!lint.rendered)
      return skip(
        'the chart did not render with these values (see chart.render): its objects cannot be linted',
      );
    return pass(`the chart lints clean with these values (its files and ${lint.objects} rendered objects)`);
  },
);

const chartRender = chartCheck(
  'chart.render',
  'Chart renders valid objects',
  (ctx) => ctx.render(),
  async (render, ctx) => {
    if (!render.ok) {
      return helmFailure(
        render.output,
        'the chart rejected these values: fix the settings or values files named above',
        render.parseError ? [`the output is not valid YAML: ${render.parseError}`] : undefined,
      );
    }
    const structural = checkObjects(render.objects, ctx.target);
    const { problems, schemas } = await validateSchemas(render.objects);
    const all = [...structural, ...problems].map((p) => `${p.object}: ${p.message.split('\n')[0] ?? ''}`);
    if (all.length > 0)
      return fail(all.join('\n'), 'fix the chart templates named above (or the values that feed them)');
    const how = schemas
      ? 'valid against the Kubernetes schemas'
      : 'structurally valid (schema package not installed)';
    return pass(`${render.objects.length} objects, ${how} (helm template ${render.durationMs} ms)`);
  },
);

const envFlow = chartCheck(
  'env.flow',
  'Settings reach their containers',
  (ctx) => ctx.render(),
  (render, ctx) => {
    if (!render.ok) return skip('the chart did not render (see chart.render)');
    const links = proveFlow(render.objects, ctx.env.settings, ctx.secrets);
    const out: CheckOutcome[] = [];
    for (const l of links.filter((x) => BAD_LINKS.has(x.status))) {
      out.push(fail(`${l.setting.key} → ${l.where ?? ''}: ${l.detail}`));
    }
    for (const f of databaseUrlMismatches(render.objects))
      out.push(fail(`${f.object} env ${f.key} ${f.why}`));
    for (const f of secretsInConfigMaps(render.objects, ctx.secretTexts)) {
      out.push(fail(`${f.object} key ${f.key} ${f.why}: secrets belong in a Secret`));
    }
    for (const f of deadVariables(render.objects))
      out.push(warn(`${f.object} sets ${f.key}, which ${f.why}`));
    for (const f of unusedKeys(render.objects)) out.push(warn(`${f.object} key ${f.key}: ${f.why}`));
    const ok = links.filter((l) => l.status === 'ok').length;
    const failed = out.some((o) => o.status === 'fail');
    const hint = failed
      ? `${npmRun('env-flow', '<KEY>')} shows the whole path of a setting; fix the chart template or the values override named above`
      : 'remove the unused keys and variables from the chart';
    return worst(
      out.map((o) => ({ ...o, hint })),
      pass(`${ok} links proven: every setting reaches the container that reads it; no secret in a ConfigMap`),
    );
  },
);

/** The chart checks: lint, render and schema validation, and the proof of the settings' flow. */
export const CHART_CHECKS: readonly Check<PreflightContext>[] = [envFlow, chartLint, chartRender];
