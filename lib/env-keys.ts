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
export const TOOL_KEYS = ['TASKFLOW_SRC'] as const;

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

// Optimal string alignment distance: Levenshtein plus transposition of neighbours (PASWSORD).
function editDistance(a: string, b: string): number {
  const d = Array.from({ length: a.length + 1 }, (_, i) => [i, ...Array<number>(b.length).fill(0)]);
  for (let j = 1; j <= b.length; j++) d[0]![j] = j;
  for (let i = 1; i <= a.length; i++) {
    for (let j = 1; j <= b.length; j++) {
      const cost = a[i - 1] === b[j - 1] ? 0 : 1;
      let v = Math.min(d[i - 1]![j]! + 1, d[i]![j - 1]! + 1, d[i - 1]![j - 1]! + cost);
      if (i > 1 && j > 1 && a[i - 1] === b[j - 2] && a[i - 2] === b[j - 1])
        v = Math.min(v, d[i - 2]![j - 2]! + 1);
      d[i]![j] = v;
    }
  }
  return d[a.length]![b.length]!;
}

/** The known key an unknown key was probably meant to be, if any. */
export function didYouMean(key: string): string | undefined {
  const upper = key.toUpperCase();
  if (RECOGNISED.has(key)) return undefined;
  if (ALIASES[upper]) return ALIASES[upper];
  if (RECOGNISED.has(upper)) return upper;
  const limit = Math.min(3, Math.max(1, Math.floor(upper.length / 5)));
  let best: { key: string; d: number } | undefined;
  for (const known of RECOGNISED) {
    const d = editDistance(upper, known);
    if (d <= limit && (best === undefined || d < best.d)) best = { key: known, d };
  }
  return best?.key;
}
