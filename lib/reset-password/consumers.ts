import { APP, type DbName } from '../components.ts';
import { urlPassword } from '../db.ts';
import { OperationError } from '../errors.ts';
import type { Kubectl } from '../kubectl.ts';
import type { Logger } from '../log.ts';
import { restartDeployment } from '../rollout.ts';
import type { Secret } from '../secrets.ts';
import type { DbTarget } from './database.ts';
import { npmRun } from '../suggest.ts';

/** The Secret keys holding a connection URL built from each database's password (chart contract). */
export const URL_KEYS: Record<DbName, { secret: string; keys: string[] }> = {
  sso: { secret: APP.sso.name, keys: ['DATABASE_URL'] },
  api: { secret: APP.api.name, keys: ['DATABASE_URL', 'TASKFLOW_CHATKIT_DATABASE_URL'] },
};

/**
 * `Secret/key` names of the connection URLs that carry another password than `password`: the chart
 * builds them at render time, so a Secret edited by hand leaves them behind.
 */
export async function staleUrls(kubectl: Kubectl, t: DbTarget, password: Secret): Promise<string[]> {
  const { secret, keys } = URL_KEYS[t.info.db];
  const s = await kubectl.getOptional<{ data?: Record<string, string> }>('secret', secret);
  const out: string[] = [];
  for (const key of keys) {
    const b64 = s?.data?.[key];
    if (b64 === undefined) continue;
    const inUrl = urlPassword(Buffer.from(b64, 'base64').toString('utf8'));
    if (inUrl !== undefined && inUrl !== password.reveal()) out.push(`${secret}/${key}`);
  }
  return out;
}

export interface RestartLimits {
  deadline: number;
  timeoutText: string;
  signal: AbortSignal;
  log: Logger;
}

/** Restarts each Deployment that uses the database (skipping those not deployed) and waits until ready. */
export async function restartConsumers(
  kubectl: Kubectl,
  t: DbTarget,
  limits: RestartLimits,
): Promise<string[]> {
  const restarted: string[] = [];
  for (const name of t.info.consumers) {
    if (!(await kubectl.getOptional('deployment', name))) {
      limits.log.info(`deployment/${name} is not deployed: nothing to restart`);
      continue;
    }
    limits.log.step(`restarting deployment/${name}`);
    const outcome = await restartDeployment(kubectl, name, {
      deadline: limits.deadline,
      timeoutText: limits.timeoutText,
      signal: limits.signal,
      onLine: (line) => limits.log.raw(`[${name}] ${line}`),
    });
    if (!outcome.ok) {
      for (const line of outcome.logs?.trimEnd().split('\n') ?? []) limits.log.raw(`[${name}] ${line}`);
      throw new OperationError(
        `deployment/${name} did not come back after the restart: ${outcome.reason ?? ''}`,
        {
          hint: `see why: ${npmRun('doctor', '-n', kubectl.target.namespace)}`,
        },
      );
    }
    restarted.push(name);
  }
  return restarted;
}
