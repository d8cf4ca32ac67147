import { type CommandContext, flag, str } from '../cli.ts';
import { CHART_PATH, loadCommandSettings, peekPlace, printSettingsWarnings } from '../context.ts';
import { placeLine } from '../kube-context.ts';
import { batchedSecretReader } from '../secret-resolution.ts';
import { didYouMean } from '../env.ts';
import { ExitCode, OperationError, UsageError } from '../errors.ts';
import { Kubectl } from '../kubectl.ts';
import { printJson } from '../log.ts';
import { resolveSecrets } from '../secret-resolution.ts';
import { settingsToValues } from '../settings-values.ts';
import { detectTool } from '../tools.ts';
import { renderChart, helmFindings } from '../chart.ts';
import { type LiveStatus, liveStatus, readLive, readPodEnvs } from './live.ts';
import { selectFlow } from '../flow-map.ts';
import { BAD_LINKS, type LinkResult, proveFlow } from '../flow-prove.ts';
import { deadVariables, unusedKeys } from '../config-scan.ts';
import { settingBlock, sourceOf, unusedBlock } from './table.ts';
import path from 'node:path';

/** The closing line: how many settings, and how their links fared (`12 settings, 31 links: 28 ok, 3 off`). */
export function flowSummary(settings: number, links: readonly LinkResult[]): string {
  const counts = new Map<string, number>();
  for (const l of links) counts.set(l.status, (counts.get(l.status) ?? 0) + 1);
  const parts = [...counts].sort((a, b) => b[1] - a[1]).map(([status, n]) => `${n} ${status}`);
  return `${settings} setting${settings === 1 ? '' : 's'}, ${links.length} link${links.length === 1 ? '' : 's'}${parts.length ? `: ${parts.join(', ')}` : ''}`;
}

/** kubectl bound to the target when a cluster answers; undefined otherwise (the live column is left out). */
async function liveCluster(
  ctx: CommandContext,
  target: ConstructorParameters<typeof Kubectl>[2],
): Promise<Kubectl | undefined> {
  if (flag(ctx.args.values, 'offline')) return undefined;
  try {
    const tool = await detectTool('kubectl', ctx.runner, ctx.env);
    const k = new Kubectl(ctx.runner, tool.path, target);
    await k.assertReachable();
    return k;
  } catch (err) {
    ctx.log.debug(`no live comparison: ${err instanceof Error ? err.message : String(err)}`);
    return undefined;
  }
}

/**
 * `npm run env-flow -- [VAR...]`: for each setting, its source, chart value, the Secret/ConfigMap key
 * and container variable it reaches in the render, and (with a cluster) whether the live release holds
 * the same value, compared by hash. Values are never printed. Exit 1 when a link is broken.
 */
export async function runEnvFlow(ctx: CommandContext): Promise<number> {
  const { rows, unknown } = selectFlow(ctx.args.positionals);
  if (unknown.length > 0) {
    const guess = unknown.map((u) => didYouMean(u)).find((g) => g !== undefined);
    throw new UsageError(`unknown setting or variable: ${unknown.join(', ')}`, {
      hint: guess ? `did you mean ${guess}?` : 'run npm run env-flow without arguments to list them all',
    });
  }
  const s = loadCommandSettings(ctx);
  printSettingsWarnings(ctx.log, s.warnings);
  const json = flag(ctx.args.values, 'json');
  const helmTool = await detectTool('helm', ctx.runner, ctx.env);
  const [kubectl, place] = await Promise.all([
    liveCluster(ctx, s.target),
    flag(ctx.args.values, 'offline') ? undefined : peekPlace(ctx, s.target),
  ]);
  ctx.log.step(
    place
      ? `${placeLine(place)}, release ${s.target.release}${kubectl ? '' : ' (not reachable: render only)'}`
      : `namespace ${s.target.namespace}, release ${s.target.release} (render only)`,
  );
  const secrets = await resolveSecrets(s.settings, {
    envFilePath: s.envFile.path,
    writeBack: false,
    ...(kubectl && { readCluster: batchedSecretReader(kubectl) }),
  });
  ctx.redactor.add(secrets.ssoDbPassword, secrets.apiDbPassword, secrets.authSecret);
  const chart = path.resolve(str(ctx.args.values, 'chart') ?? CHART_PATH);
  const live = kubectl ? await readLive(kubectl, s.target.release) : undefined;
  // Mailpit on in the release stays on with a redeploy (deploy's sticky switch), so the render has it
  // too: its SMTP wins over the env file's (the one SMTP rule), which the SMTP_* rows say is set aside.
  const mailpit = live?.some((o) => o.kind === 'Deployment' && o.metadata.name === 'mailpit') === true;
  const [render] = await Promise.all([
    renderChart(ctx.runner, helmTool.path, {
      values: settingsToValues(s.settings, secrets, mailpit ? { mailpit: true } : {}),
      chart,
      valuesFiles: s.valuesFiles,
      target: s.target,
    }),
  ]);
  if (!render.ok) {
    throw new OperationError(
      `the chart does not render with these settings:\n${helmFindings(render.output).join('\n')}`,
      {
        hint: 'npm run validate names the setting at fault',
      },
    );
  }
  const links = proveFlow(render.objects, s.settings, secrets, rows);
  const podEnvs = live && kubectl ? await readPodEnvs(kubectl, links, live) : undefined;
  const liveMap = live
    ? new Map<LinkResult, LiveStatus>(links.map((l) => [l, liveStatus(l, live, podEnvs)]))
    : undefined;
  const all = ctx.args.positionals.length === 0;
  const unused = all ? unusedKeys(render.objects) : [];
  const dead = all ? deadVariables(render.objects) : [];
  const broken = links.some((l) => BAD_LINKS.has(l.status));
  if (json) {
    printJson(
      {
        ok: !broken,
        context: place?.context ?? s.target.context ?? null,
        namespace: s.target.namespace,
        live: liveMap !== undefined,
        settings: rows.map((row) => ({
          key: row.key,
          secret: row.secret,
          source: sourceOf(row, s.settings, secrets, s.envFile.path),
          values: row.values,
          links: links
            .filter((l) => l.setting === row)
            .map((l) => ({
              status: l.status,
              via: l.via ?? null,
              target: l.where ?? null,
              detail: l.detail,
              ...(liveMap && { live: l.target ? (liveMap.get(l) ?? 'unknown') : null }),
            })),
        })),
        unused: [...unused, ...dead],
      },
      ctx.stdout,
    );
  } else {
    const out = ctx.stdout as NodeJS.WriteStream;
    const width = out.isTTY && out.columns ? out.columns : undefined;
    for (const row of rows) {
      const mine = links.filter((l) => l.setting === row);
      ctx.log.raw(
        settingBlock(row, sourceOf(row, s.settings, secrets, s.envFile.path), mine, liveMap, width).join(
          '\n',
        ),
      );
    }
    for (const line of unusedBlock(unused, dead)) ctx.log.info(line);
    if (!liveMap) ctx.log.info('(no cluster reachable: the live column is left out)');
    ctx.log.info('');
    const summary = flowSummary(rows.length, links);
    if (broken) ctx.log.error(`${summary}: some settings do not reach their container (✗ above)`);
    else ctx.log.success(summary);
  }
  return broken ? ExitCode.Failed : ExitCode.Ok;
}
