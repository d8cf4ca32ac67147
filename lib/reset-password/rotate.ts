import { upsertEnvFile } from '../envfile.ts';
import { OperationError } from '../errors.ts';
import type { Helm } from '../helm.ts';
import type { Kubectl } from '../kubectl.ts';
import { registerSecrets } from '../redact.ts';
import { type Secret, generateSecret } from '../secrets.ts';
import { type RestartLimits, restartConsumers } from './consumers.ts';
import { type DbTarget, readSecretPassword, setRolePassword } from './database.ts';
import { verifyPassword } from './verify.ts';
import { npmRun } from '../suggest.ts';

/** Where the settings file stands for this database's password key. */
export interface EnvFileState {
  path: string;
  /** `file`: the env file assigns the key; `process-env`: the shell does (we cannot change that); `none`. */
  holder: 'file' | 'process-env' | 'none';
}

export interface RotateDeps extends RestartLimits {
  kubectl: Kubectl;
  helm: Helm;
  chart: string;
  envFile: EnvFileState;
  /** A new password (random hex by default; tests pass their own). */
  generate?: () => Secret;
}

export interface RotateResult {
  restarted: string[];
  envFile: 'updated' | 'process-env' | 'not-set';
}

type Side = 'old' | 'new';
type Step = 'database' | 'release' | 'env file' | 'restart' | 'verify';

/**
 * Rotates a database password: the database first (over the pod's socket), then the release
 * (helm upgrade reusing its values, so the next deploy keeps it), then the env file when it holds
 * the key, then restarts and verifies. A failure after the first change says which side holds which
 * password and the command that finishes the job.
 */
export async function rotatePassword(deps: RotateDeps, t: DbTarget): Promise<RotateResult> {
  const { kubectl, helm, log } = deps;
  const key = t.info.envKey;
  await readSecretPassword(kubectl, t); // the release's Secret must be there to be rotated
  const fresh = (deps.generate ?? generateSecret)();
  registerSecrets(fresh);
  const sides: Record<'database' | 'release' | 'envFile', Side> = {
    database: 'old',
    release: 'old',
    envFile: 'old',
  };
  let step: Step = 'database';
  try {
    log.step(`setting a new password for role "${t.user}" in ${t.info.pod}`);
    await setRolePassword(kubectl, t, fresh);
    sides.database = 'new';

    step = 'release';
    log.step(
      `storing it in release ${helm.target.release} (${t.info.db}.database.password, other values kept)`,
    );
    await helm.upgrade(
      { [t.info.db]: { database: { password: fresh } } },
      { chart: deps.chart, reuseValues: true },
    );
    sides.release = 'new';

    step = 'env file';
    let envFile: RotateResult['envFile'] = 'not-set';
    if (deps.envFile.holder === 'file') {
      upsertEnvFile(deps.envFile.path, { [key]: fresh.reveal() });
      sides.envFile = 'new';
      envFile = 'updated';
      log.success(`${key} updated in ${deps.envFile.path}`);
    } else if (deps.envFile.holder === 'process-env') {
      envFile = 'process-env';
      log.warn(
        `${key} is set in your shell environment with the old password: unset it before the next deploy`,
      );
    }

    step = 'restart';
    const restarted = await restartConsumers(kubectl, t, deps);
    step = 'verify';
    await verifyPassword(kubectl, t, fresh);
    return { restarted, envFile };
  } catch (err) {
    if (sides.database === 'old' || deps.signal.aborted) throw err;
    throw partialFailure(err, step, sides, t, deps);
  }
}

function describeSide(side: Side): string {
  return side === 'new' ? 'the new password' : 'still the old password';
}

/** The error of a rotation that stopped halfway: which side holds which password, and what finishes it. */
export function partialFailure(
  err: unknown,
  step: Step,
  sides: Record<'database' | 'release' | 'envFile', Side>,
  t: DbTarget,
  deps: Pick<RotateDeps, 'envFile' | 'kubectl'>,
): OperationError {
  const ns = deps.kubectl.target.namespace;
  const db = t.info.db;
  const key = t.info.envKey;
  const why = err instanceof Error ? err.message : String(err);
  const lines = [
    `rotation of the ${db} password stopped at the ${step} step: ${why}`,
    `  database (role "${t.user}" in ${t.info.pod}): ${describeSide(sides.database)}`,
    `  release (Secret ${t.secret}, value ${db}.database.password): ${describeSide(sides.release)}`,
  ];
  if (deps.envFile.holder === 'file')
    lines.push(`  env file ${deps.envFile.path} (${key}): ${describeSide(sides.envFile)}`);
  let hint: string;
  if (sides.release === 'old') {
    hint = `to finish: ${npmRun('reset-db-password', db, '--rotate', '--yes')} (a fresh password everywhere); or go back: ${npmRun('reset-db-password', db)} (the database takes the Secret's password again)`;
  } else if (deps.envFile.holder === 'file' && sides.envFile === 'old') {
    hint = `to finish: remove ${key} from ${deps.envFile.path} (deploy then reuses the release's password), then restart: kubectl rollout restart deployment/${t.info.consumers.join(' deployment/')} -n ${ns}`;
  } else {
    hint = `the password is changed everywhere; to finish: ${npmRun('doctor', '-n', ns)}, then ${npmRun('reset-db-password', db)} (restarts and verifies)`;
  }
  return new OperationError(lines.join('\n'), { hint, cause: err });
}
