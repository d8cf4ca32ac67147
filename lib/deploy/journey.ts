import type { CommandContext } from '../cli.ts';
import type { CheckResult } from '../checks.ts';
import type { ClusterSession } from '../context.ts';
import { walkJourney } from '../journey-walk.ts';
import { JOURNEY_KEY, type JourneyMode } from './options.ts';
import { type ReportFailure, fromError } from './report.ts';

/**
 * Whether deploy walks the journey last: it creates an account (removed after), so on a local cluster
 * unless --no-verify, elsewhere only with --verify. The reason is printed when it is not walked.
 */
export function journeyDecision(
  journey: JourneyMode,
  local: boolean,
): { walk: true } | { walk: false; why: string } {
  if (journey === 'always') return { walk: true };
  if (journey === 'never') return { walk: false, why: `--no-verify or ${JOURNEY_KEY}=never` };
  return local
    ? { walk: true }
    : { walk: false, why: 'a remote context gets no throwaway account unless asked: add --verify' };
}

export interface DeployJourney {
  /** every step's result, when it was walked */
  checks?: CheckResult[];
  /** the failed steps, as deploy failures */
  failures: ReportFailure[];
}

/** deploy's last step: the journey of `npm run verify`, its failed steps as the deploy's failures. */
export async function deployJourney(
  ctx: CommandContext,
  s: ClusterSession,
  journey: JourneyMode,
): Promise<DeployJourney> {
  const decision = journeyDecision(journey, s.place.local);
  if (!decision.walk) {
    ctx.log.info(`a person's journey not walked (${decision.why}); npm run verify walks it`);
    return { failures: [] };
  }
  ctx.log.step("walking a person's journey (npm run verify): sign-up, mail, sign-in, OAuth, the API");
  const checks = await walkJourney({
    kubectl: s.kubectl,
    namespace: s.target.namespace,
    signal: ctx.signal,
    ...(ctx.atExit && { atExit: ctx.atExit }),
  });
  if (!checks) {
    ctx.log.info("a person's journey not walked: the release has no SSO");
    return { failures: [] };
  }
  for (const c of checks)
    if (c.status !== 'fail') ctx.log.info(`  ${c.status === 'pass' ? '✓' : '-'} ${c.title}: ${c.detail}`);
  const failures = checks
    .filter((c) => c.status === 'fail')
    .map((c) => fromError(c.id, c.detail, c.hint, null, 'JourneyFailed'));
  return { checks, failures };
}
