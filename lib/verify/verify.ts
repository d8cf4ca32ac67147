import type { CommandContext } from '../cli.ts';
import { reportChecks } from '../checks.ts';
import { openSession } from '../context.ts';
import { OperationError } from '../errors.ts';
import { npmRun, namespaceArgs } from '../suggest.ts';
import { walkJourney } from '../journey-walk.ts';
import { parseVerifyOptions } from './spec.ts';

/** `npm run verify`. */
export async function runVerify(ctx: CommandContext): Promise<number> {
  const opts = parseVerifyOptions(ctx.args.values);
  const s = await openSession(ctx);
  const { kubectl } = s;
  await kubectl.assertReachable();
  if (!opts.json)
    ctx.log.step(`walking the journey on release ${s.target.release} in namespace ${s.target.namespace}`);
  const results = await walkJourney({
    kubectl,
    namespace: s.target.namespace,
    signal: ctx.signal,
    mailTimeoutMs: opts.mailTimeoutMs,
    ...(ctx.atExit && { atExit: ctx.atExit }),
  });
  if (!results)
    throw new OperationError(
      `release ${s.target.release} has no SSO settings in namespace ${s.target.namespace} (ConfigMap sso-platform)`,
      { hint: `deploy it first: ${npmRun('deploy', ...namespaceArgs(s.target.namespace))}` },
    );
  return reportChecks(results, {
    log: ctx.log,
    stdout: ctx.stdout,
    json: opts.json,
    where: { context: s.place.context, namespace: s.target.namespace },
  });
}
