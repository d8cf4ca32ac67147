import path from 'node:path';
import { authSecretProblem, readReleaseAuthSecret, readSigningKeys } from '../auth-secret.ts';
import type { ClusterSession } from '../context.ts';
import { UsageError } from '../errors.ts';
import {
  type ExistingSecretRef,
  type ExistingSecretsRead,
  existingSecretsRefusal,
} from '../existing-secrets.ts';
import type { Logger } from '../log.ts';
import type { ResolvedSecrets } from '../secret-resolution.ts';

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
 * auth.secret: the BETTER_AUTH_SECRET this deploy sends against the signing key in the SSO database. One
 * that cannot decrypt the key the SSO signs with is refused (exit 2) with the ways out, whether it is a
 * new one (an edited env file, a second machine) or the release's own over keys of another environment (a
 * restored backup); a change the keys allow is only said.
 */
export async function checkAuthSecret(
  log: Logger,
  s: Pick<ClusterSession, 'kubectl' | 'envFile' | 'target'>,
  secrets: Promise<Pick<ResolvedSecrets, 'authSecret' | 'sources'>>,
): Promise<void> {
  // A failed read is the secrets step's to report, under its own id.
  const resolved = await secrets.catch(() => undefined);
  const wanted = resolved?.authSecret;
  if (!resolved || !wanted) return;
  // Not from the env file: the secret resolution read the release's already (found, or none there).
  const source = resolved.sources.BETTER_AUTH_SECRET;
  const [released, keys] = await Promise.all([
    source === 'cluster' ? wanted : source === 'generated' ? undefined : readReleaseAuthSecret(s.kubectl),
    readSigningKeys(s.kubectl),
  ]);
  const envFile = path.relative(process.cwd(), s.envFile.path) || s.envFile.path;
  const problem = authSecretProblem(
    { wanted, released, envFile, namespace: s.target.namespace, release: s.target.release },
    keys,
  );
  if (problem) throw new UsageError(problem.message, { hint: problem.hint });
  if (released === undefined || released.equals(wanted)) return;
  if ('count' in keys && keys.current !== undefined)
    log.success(
      `BETTER_AUTH_SECRET (${envFile}) changes to the one the SSO database's signing key was made under (a restored backup?): users signed in under the release's sign in again`,
    );
  else
    log.warn('BETTER_AUTH_SECRET changes (the SSO database holds no signing key): every user signs in again');
}
