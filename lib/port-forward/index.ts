import { type CommandContext } from '../cli.ts';
import { loadCommandSettings, openSession } from '../context.ts';
import { runPortForward, stopCommand } from '../forwarding.ts';
import { parsePortForwardOptions } from './options.ts';

export { PORT_FORWARD_OPTIONS, PORT_FORWARD_SPEC } from './options.ts';

/** The `npm run port-forward` entry: options, then the session (`--stop` needs no cluster tools). */
export async function portForwardCommand(ctx: CommandContext): Promise<number> {
  const opts = parsePortForwardOptions(ctx.args.values);
  if (opts.stop) return stopCommand(ctx, loadCommandSettings(ctx).target.namespace, opts);
  return runPortForward(await openSession(ctx), opts, ctx);
}
