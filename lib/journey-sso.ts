// What a person's journey reads of the SSO besides its answers to the browser: whether a pod of it is
// Ready, what its refusals mean in the release's settings, and the clean-up of the throwaway account.
import { type CheckOutcome, fail } from './checks.ts';
import { APP } from './components.ts';
import { sqlLiteral } from './db.ts';
import type { KubeObject, Kubectl } from './kubectl.ts';
import { type Pod, podFailures } from './pod-status.ts';
import { describe } from './rollout.ts';
import { namespaceArgs, npmRun } from './suggest.ts';

type Deployment = KubeObject & {
  spec?: { replicas?: number; selector?: { matchLabels?: Record<string, string> } };
  status?: { readyReplicas?: number };
};

/** A failure when the SSO's Deployment has no Ready pod (with the first pod's reason), else undefined. */
export async function ssoNotReady(kubectl: Kubectl, namespace: string): Promise<CheckOutcome | undefined> {
  const d = await kubectl.getOptional<Deployment>('deployment', APP.sso.name);
  if ((d?.status?.readyReplicas ?? 0) > 0) return undefined;
  const labels = d?.spec?.selector?.matchLabels ?? {};
  const selector = Object.entries(labels)
    .map(([k, v]) => `${k}=${v}`)
    .join(',');
  const pods = selector ? await kubectl.list<Pod>(['pod'], selector) : [];
  const failure = pods.flatMap(podFailures)[0];
  const why = failure
    ? describe(failure)
    : pods.length === 0
      ? `no pod (${d ? `${d.spec?.replicas ?? 1} replicas wanted` : 'no Deployment'})`
      : `${pods.length} pod(s), none Ready`;
  return fail(
    `deployment/${APP.sso.name} has no Ready pod: ${why}`,
    `see why: ${npmRun('doctor', ...namespaceArgs(namespace))}`,
  );
}

/**
 * One transaction that removes the journey's account from the SSO database: the user by its address and
 * by the ids the SSO returned, its OAuth tokens and consents, sessions, accounts, and the verification
 * rows of its address and of the OAuth codes it was given; prints how many users went.
 */
export function cleanupSql(email: string, userIds: readonly string[], codes: readonly string[]): string {
  return [
    'BEGIN;',
    `CREATE TEMP TABLE verify_users ON COMMIT DROP AS SELECT id FROM "user" WHERE email = ${sqlLiteral(email)}${userIds.map((i) => ` OR id = ${sqlLiteral(i)}`).join('')};`,
    'DELETE FROM oauth_access_token WHERE user_id IN (SELECT id FROM verify_users);',
    'DELETE FROM oauth_consent WHERE user_id IN (SELECT id FROM verify_users);',
    'DELETE FROM session WHERE user_id IN (SELECT id FROM verify_users);',
    'DELETE FROM account WHERE user_id IN (SELECT id FROM verify_users);',
    `DELETE FROM verification WHERE identifier IN (${[email, ...codes].map(sqlLiteral).join(', ')});`,
    'DELETE FROM "user" WHERE id IN (SELECT id FROM verify_users);',
    'SELECT count(*) FROM verify_users;',
    'COMMIT;',
    '',
  ].join('\n');
}

/**
 * What the SSO's refusal of a sign-up or sign-in means, in the release's settings: an origin or callback
 * ALLOWED_ORIGINS lacks (Better Auth's 403), or the password check of the haveIBeenPwned plugin that
 * could not reach api.pwnedpasswords.com (its 500 "Failed to check password", better-auth 1.4.4
 * plugins/haveibeenpwned; the SSO turns it on, app contract `outbound`).
 */
export function ssoRefusal(r: {
  status: number;
  message?: string | undefined;
  what: string;
  /** the dashboard's origin, where the request came from */
  web: string;
  allowedOrigins: readonly string[];
}): CheckOutcome {
  const { status, message, what, web, allowedOrigins } = r;
  if (status === 403 && /Invalid (origin|callbackURL)/.test(message ?? '')) {
    const missing = allowedOrigins.includes(web) ? '' : `, without ${web}`;
    return fail(
      `the SSO refused the ${what} from ${web} (${message}): ALLOWED_ORIGINS is ${allowedOrigins.join(',') || '(empty)'}${missing}`,
      `add ${web} to ALLOWED_ORIGINS in the env file, then ${npmRun('deploy')}`,
    );
  }
  if (status === 500 && /^Failed to check password/.test(message ?? ''))
    return fail(
      `the SSO answered 500 to the ${what} (${message}): its HaveIBeenPwned check calls https://api.pwnedpasswords.com on every sign-up, password change and reset, and got no answer`,
      'the SSO pod needs outbound https to api.pwnedpasswords.com:443: allow it in the NetworkPolicy, proxy or firewall in between',
    );
  return fail(
    `the SSO answered ${status} to the ${what}${message ? `: ${message}` : ''}`,
    `see its logs: ${npmRun('logs', 'sso')}`,
  );
}
