import { closestMeant } from './did-you-mean.ts';

/**
 * The keys of the env file: the settings the suite reads (the settings table of the CLI contract),
 * the few keys only the tools read, and what a mistyped key was probably meant to be.
 */

/** Every setting the suite reads (the settings table of the CLI contract). */
export const KNOWN_KEYS = [
  'POSTGRES_SSO_PASSWORD',
  'POSTGRES_API_PASSWORD',
  'BETTER_AUTH_SECRET',
  'BETTER_AUTH_URL',
  'ALLOWED_ORIGINS',
  'NODE_ENV',
  'SMTP_HOST',
  'SMTP_PORT',
  'SMTP_USER',
  'SMTP_PASS',
  'SMTP_SECURE',
  'EMAIL_FROM',
  'OPENAI_API_KEY',
  'TASKFLOW_NAMESPACE',
  'TASKFLOW_RELEASE',
  'TASKFLOW_ACCESS',
  'TASKFLOW_IMAGE_TAG',
  'TASKFLOW_STORAGE_CLASS',
  'TASKFLOW_CONTEXT',
] as const;
export type KnownKey = (typeof KNOWN_KEYS)[number];

/** Keys the tools read that are not platform settings (no chart value): never reported as unknown. */
export const TOOL_KEYS = ['TASKFLOW_SRC', 'TASKFLOW_ADDONS_DIR', 'TASKFLOW_VERIFY'] as const;

const RECOGNISED: ReadonlySet<string> = new Set<string>([...KNOWN_KEYS, ...TOOL_KEYS]);

/** Whether the suite reads this key (a setting or a tool key). */
export function isRecognisedKey(key: string): boolean {
  return RECOGNISED.has(key);
}

const ALIASES: Readonly<Record<string, KnownKey>> = {
  SMTP_PASSWORD: 'SMTP_PASS',
  SMTP_USERNAME: 'SMTP_USER',
  SMTP_FROM: 'EMAIL_FROM',
  SMTP_TLS: 'SMTP_SECURE',
  POSTGRES_PASSWORD_SSO: 'POSTGRES_SSO_PASSWORD',
  POSTGRES_PASSWORD_API: 'POSTGRES_API_PASSWORD',
  CORS_ORIGINS: 'ALLOWED_ORIGINS',
  AUTH_SECRET: 'BETTER_AUTH_SECRET',
  AUTH_URL: 'BETTER_AUTH_URL',
  OPENAI_KEY: 'OPENAI_API_KEY',
};

// What a key is matched against: every key the suite reads, and the other names people give them (a
// typo of such a name, SMTP_PASWORD of SMTP_PASSWORD, is meant for the same key).
const SPELLINGS: readonly (readonly [string, string])[] = [
  ...[...RECOGNISED].map((k) => [k, k] as const),
  ...Object.entries(ALIASES),
];

/** The known key an unknown key was probably meant to be, if any. */
export function didYouMean(key: string): string | undefined {
  const upper = key.toUpperCase();
  if (RECOGNISED.has(key)) return undefined;
  if (ALIASES[upper]) return ALIASES[upper];
  if (RECOGNISED.has(upper)) return upper;
  return closestMeant(upper, SPELLINGS);
}
