import { type Check, type CheckOutcome, fail, pass, warn, worst } from './checks.ts';
import { type Problem, isPlaceholder, isUrlSafePassword, problemLocation } from './env.ts';
import { didYouMean } from './env-keys.ts';
import type { ResolvedSecrets, SecretKey } from './secret-resolution.ts';
import { type LenientEnv, rawText, whereSet } from './settings-load.ts';

/** What the settings checks read: the settings as loaded (never throwing) and the secrets resolved offline. */
export interface SettingsContext {
  env: LenientEnv;
  secrets: ResolvedSecrets;
}

/** Values the old chart and compose file shipped as defaults (platform.md): never acceptable as secrets. */
export const OLD_DEFAULTS: readonly string[] = [
  'changeme-generate-secure-secure',
  'changeme-sso-db',
  'changeme-api-db',
  'postgres',
  'admin',
  'taskflow',
  'sso_password',
  'api_password',
  'your-32-char-secret',
  'domain_pk_local_dev',
];

/** Keys whose error problems belong to a more specific check than env.required. */
const TOPICAL_KEYS = ['BETTER_AUTH_URL', 'ALLOWED_ORIGINS', 'SMTP_PORT', 'SMTP_SECURE'];

const line = (p: Problem, path: string) =>
  `${p.key === '' ? `${problemLocation(p, path)}: ` : `${p.key} (${problemLocation(p, path)}): `}${p.message}`;

const envFile: Check<SettingsContext> = {
  id: 'env.file',
  title: 'Env file',
  run: ({ env }) => {
    const path = env.file.path;
    if (env.readError) {
      return fail(
        `cannot read ${path} (${env.readError})`,
        `check that ${path} is a readable file, or name another with --env-file PATH`,
      );
    }
    if (!env.file.exists) {
      if (env.explicit) {
        return fail(
          `${path} does not exist`,
          'check the path given to --env-file, or leave the option out to use .env',
        );
      }
      return warn(
        `${path} not found: defaults apply and missing secrets would be generated`,
        'create it to keep your settings (npm run deploy writes the generated secrets into it)',
      );
    }
    if (env.syntax.length > 0) {
      return fail(
        [`${path} is not valid dotenv:`, ...env.syntax.map((p) => `  ${line(p, path)}`)].join('\n'),
        env.syntax[0]?.hint,
      );
    }
    const dups = env.problems.filter((p) => p.severity === 'warn' && /last one wins/.test(p.message));
    if (dups.length > 0) return warn(dups.map((p) => line(p, path)).join('\n'), dups[0]?.hint);
    return pass(`${path}: ${env.file.entries.size} setting(s)`);
  },
};

const envRequired: Check<SettingsContext> = {
  id: 'env.required',
  title: 'Required settings',
  run: ({ env, secrets }) => {
    const { settings } = env;
    const path = env.file.path;
    const errors = env.problems.filter((p) => p.severity === 'error' && !TOPICAL_KEYS.includes(p.key));
    const out: CheckOutcome[] = errors.map((p) => fail(line(p, path), p.hint));
    if (settings.access === 'ingress') {
      for (const key of ['BETTER_AUTH_URL', 'ALLOWED_ORIGINS']) {
        if (settings.sources[key] === 'default') {
          out.push(
            fail(
              `${key} is required with TASKFLOW_ACCESS=ingress (its default is for port-forward on localhost)`,
              `set ${key} to the https URL(s) of your ingress hosts`,
            ),
          );
        }
      }
    }
    const generated = Object.entries(secrets.sources)
      .filter(([, s]) => s === 'generated')
      .map(([k]) => k);
    const note =
      generated.length > 0
        ? `; not set, would be generated: ${generated.join(', ')}`
        : '; every secret is set';
    return worst(out, pass(`every required setting has a value${note}`));
  },
};

/**
 * env.unknown: each unknown key on its line, with the key it was probably meant to be; the hint says
 * what to do about them (the renames, else where the keys the suite reads are listed), never the
 * detail again.
 */
export function unknownKeysOutcome(problems: readonly Problem[], path: string): CheckOutcome {
  const unknown = problems.filter((p) => p.severity === 'warn' && p.message.startsWith('unknown key'));
  if (unknown.length === 0) return pass('every key is one the suite reads');
  const guessed = unknown.map((p) => ({ p, meant: didYouMean(p.key) }));
  const lines = guessed.map(
    ({ p, meant }) =>
      `${p.key} (${problemLocation(p, path)}): ignored; ${meant ? `did you mean ${meant}?` : 'no setting of the suite has this name'}`,
  );
  const renames = guessed.flatMap(({ p, meant }) => (meant ? [`${p.key} to ${meant}`] : []));
  const others = guessed.filter(({ meant }) => meant === undefined).map(({ p }) => p.key);
  const hint = [
    ...(renames.length > 0
      ? [`rename ${renames.join(', ')}${unknown.every((p) => p.source === 'env-file') ? ` in ${path}` : ''}`]
      : []),
    ...(others.length > 0
      ? [
          `remove ${others.join(', ')} or use a key that \`npm run env-flow\` lists; other chart values go in a values file passed with -f`,
        ]
      : []),
  ].join('; ');
  return warn(lines.join('\n'), hint);
}

const envUnknown: Check<SettingsContext> = {
  id: 'env.unknown',
  title: 'Unknown keys',
  run: ({ env }) => unknownKeysOutcome(env.problems, env.file.path),
};

interface SecretSetting {
  key: string;
  text: string;
  where: string;
}

/** The secrets the user set (env file or process env), with their raw text; unset ones are generated. */
function setSecrets(ctx: SettingsContext): SecretSetting[] {
  const { settings } = ctx.env;
  const keys = [
    'POSTGRES_SSO_PASSWORD',
    'POSTGRES_API_PASSWORD',
    'BETTER_AUTH_SECRET',
    'SMTP_PASS',
    'OPENAI_API_KEY',
  ];
  return keys.flatMap((key) => {
    const text = rawText(settings, key);
    return text === undefined ? [] : [{ key, text, where: whereSet(settings, key, ctx.env.file.path) }];
  });
}

const isBadSecret = (text: string): boolean =>
  isPlaceholder(text) || OLD_DEFAULTS.includes(text.trim().toLowerCase());

const secretsPlaceholder: Check<SettingsContext> = {
  id: 'secrets.placeholder',
  title: 'Secrets are real values',
  run: (ctx) => {
    const bad = setSecrets(ctx).filter((s) => isBadSecret(s.text));
    if (bad.length === 0) return pass('no secret is empty, a placeholder or a known default');
    const lines = bad.map((s) =>
      s.text.trim() === ''
        ? `${s.key} (${s.where}) is empty`
        : `${s.key} (${s.where}) is a placeholder or a default shipped with the old chart/compose file`,
    );
    return fail(
      lines.join('\n'),
      'remove the line to have a strong value generated and kept, or set one: openssl rand -hex 32',
    );
  },
};

const MIN_LENGTH: Partial<Record<SecretKey, number>> = {
  BETTER_AUTH_SECRET: 32,
  POSTGRES_SSO_PASSWORD: 16,
  POSTGRES_API_PASSWORD: 16,
};

const secretsStrength: Check<SettingsContext> = {
  id: 'secrets.strength',
  title: 'Secret strength',
  run: (ctx) => {
    const lines: string[] = [];
    for (const s of setSecrets(ctx)) {
      const min = MIN_LENGTH[s.key as SecretKey];
      // A placeholder is reported once, by secrets.placeholder.
      if (min === undefined || isBadSecret(s.text) || s.text.length >= min) continue;
      lines.push(`${s.key} (${s.where}) has ${s.text.length} characters; at least ${min} are needed`);
    }
    if (lines.length === 0) return pass('BETTER_AUTH_SECRET has 32+ characters, database passwords 16+');
    return fail(
      lines.join('\n'),
      'use a random hex value: openssl rand -hex 32 (or remove the line to have one generated)',
    );
  },
};

const passwordCharset: Check<SettingsContext> = {
  id: 'password.charset',
  title: 'Database password characters',
  run: (ctx) => {
    const bad = setSecrets(ctx).filter(
      (s) => (s.key === 'POSTGRES_SSO_PASSWORD' || s.key === 'POSTGRES_API_PASSWORD') && !isBadSecret(s.text),
    );
    const lines = bad
      .filter((s) => !isUrlSafePassword(s.text))
      .map((s) => {
        const chars = [...new Set(s.text.replace(/[A-Za-z0-9._~-]/g, ''))].map((c) =>
          c === ' '
            ? 'space'
            : /[\p{Cc}\p{Cf}\p{Z}]/u.test(c) // control, format and other blank characters: by code point
              ? `U+${(c.codePointAt(0) ?? 0).toString(16).toUpperCase().padStart(4, '0')}`
              : c,
        );
        // Only the offending characters are named (never the password): they are what breaks the URL.
        return `${s.key} (${s.where}) contains ${chars.join(' ')}: outside A-Za-z0-9._~- it breaks postgresql:// URLs unless percent-encoded`;
      });
    if (lines.length === 0) return pass('both use only A-Za-z0-9._~- (safe in postgresql:// URLs)');
    return fail(
      lines.join('\n'),
      'use a hex password: openssl rand -hex 16 (or remove the line to have one generated)',
    );
  },
};

/** The settings checks: the file, required keys, typos, and the secrets. */
export const SETTINGS_CHECKS: readonly Check<SettingsContext>[] = [
  envFile,
  envRequired,
  envUnknown,
  secretsPlaceholder,
  secretsStrength,
  passwordCharset,
];
