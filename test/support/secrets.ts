import type { ResolvedSecrets } from '../../lib/secret-resolution.ts';
import { Secret } from '../../lib/secrets.ts';

/** Secrets as deploy resolves them (two from the env file, the SSO's read from the cluster), for value tests. */
export const RESOLVED_SECRETS: ResolvedSecrets = {
  ssoDbPassword: new Secret('sso-pass-0123456789abcdef'),
  apiDbPassword: new Secret('api-pass-0123456789abcdef'),
  authSecret: new Secret('auth-secret-0123456789abcdef0123456789'),
  sources: {
    POSTGRES_SSO_PASSWORD: 'env-file',
    POSTGRES_API_PASSWORD: 'env-file',
    BETTER_AUTH_SECRET: 'cluster',
  },
  written: [],
  existing: [],
};
