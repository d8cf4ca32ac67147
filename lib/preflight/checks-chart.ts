import { type Check, type CheckOutcome, fail, pass, skip, warn, worst } from '../checks.ts';
import { checkObjects, validateSchemas } from '../chart.ts';
import { BAD_LINKS, proveFlow } from '../flow-prove.ts';
import { databaseUrlMismatches, deadVariables, secretsInConfigMaps, unusedKeys } from '../config-scan.ts';
import type { PreflightContext } from './context.ts';
import { helmFindings } from '../chart.ts';
import { npmRun } from '../suggest.ts';

const noHelm = async (ctx: PreflightContext): Promise<CheckOutcome> => {
  const h = await ctx.helm();
  return skip(`helm is not available: ${h.error?.message ?? 'not found'}`, h.error?.hint);
};

const chartLint: Check<PreflightContext> = {
  id: 'chart.lint',
  title: 'helm lint --strict',
  run: async (ctx) => {
    const lint = await ctx.lint();
    if (!lint) return noHelm(ctx);
    if (lint.ok) return pass(`the chart lints clean with these values (${lint.durationMs} ms)`);
    const lines = helmFindings(lint.output);
    return fail(
      lines.length > 0 ? lines.join('\n') : lint.output.split('\n').slice(0, 8).join('\n'),
      'fix the values named above (or the chart); helm lint --strict treats warnings as errors',
    );
  },
};

const chartRender: Check<PreflightContext> = {
  id: 'chart.render',
  title: 'Chart renders valid objects',
  run: async (ctx) => {
    const render = await ctx.render();
    if (!render) return noHelm(ctx);
    if (!render.ok) {
      const lines = render.parseError
        ? [`the output is not valid YAML: ${render.parseError}`]
        : helmFindings(render.output);
      return fail(
        lines.length > 0 ? lines.join('\n') : render.output.split('\n').slice(0, 8).join('\n'),
        'the chart rejected these values: fix the settings or values files named above',
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
};

const envFlow: Check<PreflightContext> = {
  id: 'env.flow',
  title: 'Settings reach their containers',
  run: async (ctx) => {
    const render = await ctx.render();
    if (!render) return noHelm(ctx);
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
};

/** The chart checks: lint, render and schema validation, and the proof of the settings' flow. */
export const CHART_CHECKS: readonly Check<PreflightContext>[] = [envFlow, chartLint, chartRender];
