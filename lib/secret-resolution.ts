import type { Settings, SettingSource } from './env.ts';
import { APP, DATABASES } from './components.ts';
import { type Kubectl, decodeSecretData, secretDataByName, secretsArgs } from './kubectl.ts';
import { upsertEnvFile } from './envfile.ts';
import type { Secret } from './secrets.ts';
import { generateSecret } from './secrets.ts';

/** The secrets the suite keeps stable across deploys (the databases were initialised with them). */
export type SecretKey = 'POSTGRES_SSO_PASSWORD' | 'POSTGRES_API_PASSWORD' | 'BETTER_AUTH_SECRET';
export const SECRET_KEYS: readonly SecretKey[] = [
  'POSTGRES_SSO_PASSWORD',
  'POSTGRES_API_PASSWORD',
  'BETTER_AUTH_SECRET',
];

/** Reads one key of a Secret in the release namespace; undefined when the Secret or key does not exist. */
export interface ClusterSecretReader {
  (secretName: string, key: string): Promise<Secret | undefined>;
}

/** Where the chart keeps each secret (chart contract). */
export const SECRET_LOCATIONS: Readonly<Record<SecretKey, { secret: string; key: string }>> = {
  POSTGRES_SSO_PASSWORD: { secret: DATABASES.sso.secret, key: DATABASES.sso.secretKey },
  POSTGRES_API_PASSWORD: { secret: DATABASES.api.secret, key: DATABASES.api.secretKey },
  BETTER_AUTH_SECRET: { secret: APP.sso.name, key: 'BETTER_AUTH_SECRET' },
};

/**
 * The secrets of one deploy. A key whose value the release reads from the user's own Secret (an
 * existingSecret) holds that Secret's value when it was read (for masking and checks; deploy sends it
 * nowhere), undefined otherwise; it is never taken from the env file nor generated.
 */
export interface ResolvedSecrets {
  ssoDbPassword: Secret | undefined;
  apiDbPassword: Secret | undefined;
  authSecret: Secret | undefined;
  sources: Record<SecretKey, SettingSource>;
  /** keys generated now and written to the env file */
  written: SecretKey[];
  /** keys whose value is in the user's own Secret (an existingSecret) */
  existing: SecretKey[];
}

export const GENERATED_COMMENT =
  'Generated on first deploy and kept: the databases were initialised with these values.';

function fromSettings(settings: Settings, key: SecretKey): Secret | undefined {
  if (key === 'POSTGRES_SSO_PASSWORD') return settings.sso.dbPassword;
  if (key === 'POSTGRES_API_PASSWORD') return settings.api.dbPassword;
  return settings.sso.authSecret;
}

/**
 * Resolves each secret: the env file or process environment, else the value in the cluster's Secret, else
 * a new random one, which is written back to the env file (when `writeBack`) so the next run reuses it.
 * A reader that fails rejects the whole resolution: never generate over a value that could not be read.
 */
export async function resolveSecrets(
  settings: Settings,
  opts: {
    readCluster?: ClusterSecretReader;
    envFilePath: string;
    writeBack: boolean;
    generate?: () => Secret;
    writeEnvFile?: typeof upsertEnvFile;
    /** keys the release reads from the user's own Secrets, with the value found there (if read) */
    existing?: ReadonlyMap<SecretKey, Secret | undefined>;
  },
): Promise<ResolvedSecrets> {
  const generate = opts.generate ?? (() => generateSecret());
  const resolved = await Promise.all(
    SECRET_KEYS.map(async (key): Promise<{ key: SecretKey; value?: Secret; source: SettingSource }> => {
      if (opts.existing?.has(key)) {
        const value = opts.existing.get(key);
        return { key, ...(value !== undefined && { value }), source: 'cluster' };
      }
      const own = fromSettings(settings, key);
      if (own) return { key, value: own, source: settings.sources[key] ?? 'env-file' };
      if (opts.readCluster) {
        const { secret, key: field } = SECRET_LOCATIONS[key];
        const inCluster = await opts.readCluster(secret, field);
        if (inCluster && inCluster.length > 0) return { key, value: inCluster, source: 'cluster' };
      }
      return { key, value: generate(), source: 'generated' };
    }),
  );
  const generated = resolved.filter((r) => r.source === 'generated');
  const written: SecretKey[] = [];
  if (opts.writeBack && generated.length > 0) {
    const updates = Object.fromEntries(generated.map((r) => [r.key, r.value!.reveal()]));
    (opts.writeEnvFile ?? upsertEnvFile)(opts.envFilePath, updates, { comment: GENERATED_COMMENT });
    written.push(...generated.map((r) => r.key));
  }
  const byKey = new Map(resolved.map((r) => [r.key, r]));
  const value = (key: SecretKey): Secret | undefined => byKey.get(key)!.value;
  return {
    ssoDbPassword: value('POSTGRES_SSO_PASSWORD'),
    apiDbPassword: value('POSTGRES_API_PASSWORD'),
    authSecret: value('BETTER_AUTH_SECRET'),
    sources: Object.fromEntries(resolved.map((r) => [r.key, r.source])) as Record<SecretKey, SettingSource>,
    written,
    existing: SECRET_KEYS.filter((k) => opts.existing?.has(k)),
  };
}

/** kubectl arguments that read, in one call, every Secret of the release a kept secret may be in. */
export function secretReadArgs(): string[] {
  return secretsArgs([...new Set(Object.values(SECRET_LOCATIONS).map((l) => l.secret))]);
}

/**
 * A reader for resolveSecrets that fetches every Secret it may need in one kubectl call (the first
 * time it is asked) instead of one call per key.
 */
export function batchedSecretReader(kubectl: Kubectl): ClusterSecretReader {
  let all: Promise<Map<string, Record<string, string>>> | undefined;
  const load = async (): Promise<Map<string, Record<string, string>>> =>
    secretDataByName(await kubectl.ok(secretReadArgs(), 'read the Secrets of the release'));
  return async (secret, key) => {
    all ??= load();
    return decodeSecretData((await all).get(secret)?.[key]);
  };
}
