import { readFileSync } from 'node:fs';
import { type Check, fail, pass, skip } from '../checks.ts';
import { type PreflightContext, findComposeFile } from './context.ts';
import { type ComposeService, compareCompose, parseCompose } from './compose.ts';

const composeParity: Check<PreflightContext> = {
  id: 'compose.parity',
  title: 'Parity with docker-compose',
  run: async (ctx) => {
    const file = findComposeFile(ctx.opts);
    if (!file)
      return skip(
        'no compose file given (--compose FILE) or found (compose.yaml, docker-compose.yml in . or TASKFLOW_SRC)',
      );
    let services: ComposeService[];
    try {
      services = parseCompose(readFileSync(file, 'utf8'), file);
    } catch (err) {
      const code = (err as NodeJS.ErrnoException).code;
      return fail(
        `cannot read ${file}: ${code ?? (err instanceof Error ? err.message.split('\n')[0] : String(err))}`,
        'pass a readable docker-compose file with --compose FILE',
      );
    }
    const render = await ctx.renderWithAddons(
      services.some((s) => /mailpit/.test(`${s.name} ${s.image ?? ''}`)),
    );
    if (!render) return skip('helm is not available to render the chart');
    if (!render.ok) return skip('the chart did not render (see chart.render)');
    const { gaps, notes } = compareCompose(services, render.objects);
    const head = `${file}: ${services.length} service(s)`;
    if (gaps.length > 0) {
      return fail(
        [`${head}, ${gaps.length} difference(s):`, ...gaps, ...notes].join('\n'),
        'add the missing counterpart to the chart (or values), or drop it from the compose file if it is obsolete',
      );
    }
    return pass([`${head}: every service, port and variable has its counterpart`, ...notes].join('\n'));
  },
};

/** The compose comparison (when a compose file is given or found). */
export const COMPOSE_CHECKS: readonly Check<PreflightContext>[] = [composeParity];
