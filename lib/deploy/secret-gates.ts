import path from 'node:path';
import { authSecretChangeProblem, countSigningKeys, readReleaseAuthSecret } from '../auth-secret.ts';
import type { ClusterSession } from '../context.ts';
import { UsageError } from '../errors.ts';
import {
  type ExistingSecretRef,
  type ExistingSecretsRead,
  existingSecretsRefusal,
} from '../existing-secrets.ts';
import type { Logger } from '../log.ts';

/**
 * The checks of deploy's secrets that must pass before its first write (steps cluster.secrets and
 * auth.secret): the user's own Secrets the values name, and a changed BETTER_AUTH_SECRET.
 */

/** cluster.secrets: every named Secret exists, holds its key, and a value a URL can carry where needed. */
export async function checkTheirSecrets(
  log: Logger,
  theirs: readonly ExistingSecretRef[],
  read: Promise<ExistingSecretsRead>,
): Promise<void> {
  const { problems } = await read;
  if (problems.length > 0) throw existingSecretsRefusal(problems);
  log.success(
    `the release reads ${theirs.map((r) => `${r.replaces} from Secret ${r.secret} (key ${r.key})`).join(', ')}: found, values masked`,
  );
}

/**
 * auth.secret: the env file's BETTER_AUTH_SECRET against the release's. Another one over signing keys
 * made with the release's is refused (exit 2) with the two ways out; without keys it is only said.
 */
export async function checkAuthSecret(
  log: Logger,
  s: Pick<ClusterSession, 'kubectl' | 'settings' | 'envFile' | 'target'>,
): Promise<void> {
  const wanted = s.settings.sso.authSecret;
  if (!wanted) return;
  const released = await readReleaseAuthSecret(s.kubectl);
  if (released === undefined || released.reveal() === wanted.reveal()) return;
  const problem = authSecretChangeProblem(wanted, released, await countSigningKeys(s.kubectl), {
    envFile: path.relative(process.cwd(), s.envFile.path) || s.envFile.path,
    namespace: s.target.namespace,
    release: s.target.release,
  });
  if (problem) throw new UsageError(problem.message, { hint: problem.hint });
  log.warn('BETTER_AUTH_SECRET changes (the SSO database holds no signing key): every user signs in again');
}
