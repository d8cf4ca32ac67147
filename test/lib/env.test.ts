import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { inspect } from 'node:util';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import {
  KNOWN_KEYS,
  assertNoErrors,
  didYouMean,
  isDnsLabel,
  isPlaceholder,
  isUrlSafePassword,
  loadSettings,
  parseBoolean,
  parseEnvText,
  parsePort,
  parseSettings,
  type Problem,
  type Settings,
} from '../../lib/env.ts';
import { UsageError } from '../../lib/errors.ts';

const settingsOf = (text: string, env: NodeJS.ProcessEnv = {}, overrides = {}) =>
  parseSettings(parseEnvText('.env', text).file, env, overrides);

/** A readable digest of a problem, for exact comparisons. */
const brief = (p: Problem) => `${p.severity} ${p.source}:${p.line ?? '-'} ${p.key}: ${p.message} (${p.hint})`;

describe('KNOWN_KEYS', () => {
  it('lists exactly the keys of the settings table', () => {
    expect([...KNOWN_KEYS].sort()).toEqual(
      [
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
      ].sort(),
    );
  });
});

describe('parseSettings', () => {
  it('applies the documented defaults to an empty file', () => {
    const { settings, problems } = settingsOf('');
    expect(problems).toEqual([]);
    expect({ ...settings, raw: undefined }).toEqual({
      namespace: 'taskflow',
      release: 'taskflow',
      access: 'port-forward',
      sso: {
        authUrl: 'http://localhost:3001',
        allowedOrigins: ['http://localhost:3000', 'http://localhost:3001'],
        nodeEnv: 'development',
      },
      api: { allowedOrigins: ['http://localhost:3000', 'http://localhost:3001'] },
      sources: {
        TASKFLOW_NAMESPACE: 'default',
        TASKFLOW_RELEASE: 'default',
        TASKFLOW_ACCESS: 'default',
        ALLOWED_ORIGINS: 'default',
        BETTER_AUTH_URL: 'default',
        NODE_ENV: 'default',
      },
      raw: undefined,
    });
  });

  const reveal = (v: unknown) =>
    v && typeof v === 'object' && 'reveal' in v ? (v as { reveal(): string }).reveal() : v;
  it.each<[string, string, (s: Settings) => unknown, unknown]>([
    ['POSTGRES_SSO_PASSWORD', 'ssopw', (s) => reveal(s.sso.dbPassword), 'ssopw'],
    ['POSTGRES_API_PASSWORD', 'apipw', (s) => reveal(s.api.dbPassword), 'apipw'],
    ['BETTER_AUTH_SECRET', 'authsecret', (s) => reveal(s.sso.authSecret), 'authsecret'],
    ['BETTER_AUTH_URL', 'https://sso.example.com', (s) => s.sso.authUrl, 'https://sso.example.com'],
    [
      'ALLOWED_ORIGINS',
      ' https://a.example, ,https://b.example ',
      (s) => s.sso.allowedOrigins,
      ['https://a.example', 'https://b.example'],
    ],
    ['ALLOWED_ORIGINS', 'https://a.example', (s) => s.api.allowedOrigins, ['https://a.example']],
    ['NODE_ENV', 'production', (s) => s.sso.nodeEnv, 'production'],
    ['SMTP_HOST', 'smtp.example.com', (s) => s.sso.smtp?.host, 'smtp.example.com'],
    ['SMTP_USER', 'mailer', (s) => s.sso.smtp?.user, 'mailer'],
    ['SMTP_PASS', 'mailpw', (s) => reveal(s.sso.smtp?.password), 'mailpw'],
    ['SMTP_PORT', '2525', (s) => s.sso.smtp?.port, 2525],
    ['SMTP_SECURE', 'yes', (s) => s.sso.smtp?.secure, true],
    [
      'EMAIL_FROM',
      'TaskFlow <no-reply@example.com>',
      (s) => s.sso.emailFrom,
      'TaskFlow <no-reply@example.com>',
    ],
    ['OPENAI_API_KEY', 'sk-test', (s) => reveal(s.api.openaiApiKey), 'sk-test'],
    ['TASKFLOW_NAMESPACE', 'team-a', (s) => s.namespace, 'team-a'],
    ['TASKFLOW_RELEASE', 'tf2', (s) => s.release, 'tf2'],
    ['TASKFLOW_ACCESS', 'ingress', (s) => s.access, 'ingress'],
    ['TASKFLOW_IMAGE_TAG', 'sha-1a2b3c', (s) => s.imageTag, 'sha-1a2b3c'],
    ['TASKFLOW_STORAGE_CLASS', 'local-path', (s) => s.storageClass, 'local-path'],
    [
      'TASKFLOW_CONTEXT',
      'arn:aws:eks:eu-west-1:1234:cluster/prod',
      (s) => s.context,
      'arn:aws:eks:eu-west-1:1234:cluster/prod',
    ],
  ])('reads %s=%j from the file', (key, value, pick, expected) => {
    const needsHost = (key.startsWith('SMTP_') && key !== 'SMTP_HOST') || key === 'EMAIL_FROM';
    const host = needsHost ? 'SMTP_HOST=smtp.example.com\n' : '';
    const { settings, problems } = settingsOf(`${host}${key}=${value}\n`);
    expect(problems).toEqual([]);
    expect(pick(settings)).toEqual(expected);
    expect(settings.sources[key]).toBe('env-file');
    expect(settings.raw.get(key)?.line).toBe(host ? 2 : 1);
  });

  it('lets the process environment win over the file, for known keys only', () => {
    const { settings, problems } = settingsOf('TASKFLOW_NAMESPACE=from-file\nSMTP_HOST=file-host\n', {
      TASKFLOW_NAMESPACE: 'from-env',
      SMTP_HOST: '', // empty: does not blank out the file's value
      PATH: '/usr/bin',
      HOME: '/root',
      DEBUG: '1',
    });
    expect(problems).toEqual([]);
    expect(settings.namespace).toBe('from-env');
    expect(settings.sources.TASKFLOW_NAMESPACE).toBe('process-env');
    expect(settings.raw.get('TASKFLOW_NAMESPACE')).toEqual({
      key: 'TASKFLOW_NAMESPACE',
      value: 'from-env',
      source: 'process-env',
    });
    expect(settings.sso.smtp?.host).toBe('file-host');
    expect(settings.raw.has('PATH')).toBe(false);
  });

  it('lets --namespace and --release win over both', () => {
    const { settings } = settingsOf(
      'TASKFLOW_NAMESPACE=file\n',
      { TASKFLOW_RELEASE: 'env' },
      { namespace: 'opt', release: 'rel' },
    );
    expect([settings.namespace, settings.release]).toEqual(['opt', 'rel']);
    expect([settings.sources.TASKFLOW_NAMESPACE, settings.sources.TASKFLOW_RELEASE]).toEqual([
      'option',
      'option',
    ]);
  });

  it('treats blank values as unset, so defaults apply', () => {
    const { settings, problems } = settingsOf(
      'BETTER_AUTH_URL=\nALLOWED_ORIGINS=""\nSMTP_HOST="  "\nPOSTGRES_SSO_PASSWORD=\n',
    );
    expect(problems).toEqual([]);
    expect(settings.sso.authUrl).toBe('http://localhost:3001');
    expect(settings.sources.BETTER_AUTH_URL).toBe('default');
    expect(settings.sso.smtp).toBeUndefined();
    expect(settings.sso.dbPassword).toBeUndefined();
    expect(settings.raw.get('ALLOWED_ORIGINS')?.value).toBe(''); // still visible to validate
  });

  it.each([
    ['port-forward', 'development'],
    ['ingress', 'production'],
  ])('defaults NODE_ENV for %s access to %s', (access, nodeEnv) => {
    expect(settingsOf(`TASKFLOW_ACCESS=${access}\n`).settings.sso.nodeEnv).toBe(nodeEnv);
  });

  it.each([
    ['SMTP_HOST=mail\n', { host: 'mail', port: 587, secure: false }],
    ['SMTP_HOST=mail\nSMTP_PORT=465\n', { host: 'mail', port: 465, secure: true }],
    ['SMTP_HOST=mail\nSMTP_PORT=465\nSMTP_SECURE=false\n', { host: 'mail', port: 465, secure: false }],
    ['SMTP_HOST=mail\nSMTP_SECURE=TRUE\n', { host: 'mail', port: 587, secure: true }],
  ])('turns SMTP on with the host: %j', (text, smtp) => {
    const { settings, problems } = settingsOf(text);
    expect(problems).toEqual([]);
    expect(settings.sso.smtp).toEqual(smtp);
  });

  it('leaves SMTP off without a host, and its defaults unrecorded', () => {
    const { settings } = settingsOf('SMTP_USER=me\nSMTP_PORT=25\n');
    expect(settings.sso.smtp).toBeUndefined();
    expect(settings.sources.SMTP_SECURE).toBeUndefined();
    expect(settings.sources.SMTP_PORT).toBe('env-file');
  });

  it.each([
    ['SMTP_PORT', 'abc', '"abc" is not a port number'],
    ['SMTP_PORT', '70000', '"70000" is not a port number'],
    ['SMTP_PORT', '0', '"0" is not a port number'],
    ['SMTP_SECURE', 'maybe', '"maybe" is not a boolean'],
    ['NODE_ENV', 'test', '"test" is not one of development, production'],
    ['TASKFLOW_ACCESS', 'nodeport', '"nodeport" is not one of port-forward, ingress'],
    ['BETTER_AUTH_URL', 'localhost:3001', '"localhost:3001" is not an http(s) URL'],
    ['BETTER_AUTH_URL', 'not a url', '"not a url" is not an http(s) URL'],
    ['TASKFLOW_NAMESPACE', 'Team_A', '"Team_A" is not a valid namespace name'],
    ['TASKFLOW_NAMESPACE', 'x'.repeat(64), 'is not a valid namespace name'],
    ['TASKFLOW_RELEASE', '-bad', '"-bad" is not a valid release name'],
    ['TASKFLOW_RELEASE', 'r'.repeat(54), 'is not a valid release name'],
    ['TASKFLOW_IMAGE_TAG', 'bad tag', '"bad tag" is not an image tag'],
    ['TASKFLOW_STORAGE_CLASS', 'Fast_SSD', '"Fast_SSD" is not a storage class name'],
    ['TASKFLOW_CONTEXT', 'prod aks', '"prod aks" is not a kube context name'],
  ])('rejects %s=%j with its line and a hint', (key, value, message) => {
    const { problems } = settingsOf(`# settings\n${key}='${value}'\n`);
    expect(problems).toHaveLength(1);
    expect(problems[0]).toMatchObject({ key, line: 2, severity: 'error', source: 'env-file' });
    expect(problems[0]?.message).toContain(message);
    expect(problems[0]?.hint.length).toBeGreaterThan(5);
  });

  it('rejects a known key whose value runs over several lines', () => {
    const { problems } = settingsOf('NODE_ENV="production\nSMTP_HOST=x"\n');
    expect(problems.map(brief)).toEqual([
      'error env-file:1 NODE_ENV: the value spans several lines (a quote that is not closed swallows the lines after it)',
    ]);
  });

  it('rejects a bad value from the process environment or an option, naming where it came from', () => {
    const { problems } = settingsOf('', { NODE_ENV: 'test' }, { namespace: 'Bad!' });
    expect(problems.map(brief)).toEqual([
      'error process-env:- NODE_ENV: "test" is not one of development, production (set development or production)',
      `error option:- TASKFLOW_NAMESPACE: --namespace: "Bad!" is not a valid namespace name (use at most 63 lower-case letters, digits and '-')`,
    ]);
  });

  it('warns about unknown keys in the file with a guess, and about nothing in the process env but our prefix', () => {
    const text =
      'SMTP_PASSWORD=x\nPOSTGRES_PASSWORD_SSO=y\nCORS_ORIGINS=http://a\nLOG_LEVEL=debug\nSMTP_HOST=m\nSMTP_HOST=n\n';
    const { problems } = settingsOf(text, {
      TASKFLOW_NAMESPCE: 'x',
      TASKFLOW_API_URL: 'http://api',
      SMTP_PASSWORD: 'z',
    });
    expect(problems.map(brief)).toEqual([
      'warn env-file:1 SMTP_PASSWORD: unknown key, ignored (did you mean SMTP_PASS?)',
      'warn env-file:2 POSTGRES_PASSWORD_SSO: unknown key, ignored (did you mean POSTGRES_SSO_PASSWORD?)',
      'warn env-file:3 CORS_ORIGINS: unknown key, ignored (did you mean ALLOWED_ORIGINS?)',
      'warn env-file:4 LOG_LEVEL: unknown key, ignored (the suite reads only the keys listed by `npm run env-flow`; set other chart values in a file passed with -f)',
      'warn env-file:6 SMTP_HOST: set on lines 5, 6; the last one wins (keep one SMTP_HOST= line)',
      'warn process-env:- TASKFLOW_NAMESPCE: unknown key, ignored (did you mean TASKFLOW_NAMESPACE?)',
    ]);
  });

  it('knows the keys only the tools read (TASKFLOW_SRC for deploy --build) and suggests them for typos', () => {
    expect(settingsOf('TASKFLOW_SRC=../taskflow\n', { TASKFLOW_SRC: '/src' }).problems).toEqual([]);
    expect(settingsOf('TASKFLOW_SOURCE=../taskflow\n').problems.map(brief)).toEqual([
      'warn env-file:1 TASKFLOW_SOURCE: unknown key, ignored (did you mean TASKFLOW_SRC?)',
    ]);
  });
});

describe('assertNoErrors', () => {
  it('passes warnings', () => {
    const { problems } = settingsOf('UNKNOWN=1\n');
    expect(() => assertNoErrors(problems, parseEnvText('.env', '').file)).not.toThrow();
  });

  it('throws one usage error (exit 2) listing every error with its line and hint', () => {
    const text = 'SMTP_PORT=abc\nFOO=1\nSMTP_SECURE=maybe\nNODE_ENV=staging\nBETTER_AUTH_URL=nope\n';
    const { file } = parseEnvText('config/.env', text);
    const { problems } = parseSettings(file, {}, { release: 'UPPER' });
    let err: unknown;
    try {
      assertNoErrors(problems, file);
    } catch (e) {
      err = e;
    }
    expect(err).toBeInstanceOf(UsageError);
    expect((err as UsageError).exitCode).toBe(2);
    expect((err as UsageError).message).toBe(
      [
        'Invalid settings: 5 errors',
        '  config/.env:1: SMTP_PORT: "abc" is not a port number',
        '      hint: use a whole number from 1 to 65535: 587 (STARTTLS) or 465 (TLS)',
        '  config/.env:3: SMTP_SECURE: "maybe" is not a boolean',
        '      hint: use true or false',
        '  config/.env:4: NODE_ENV: "staging" is not one of development, production',
        '      hint: set development or production',
        '  config/.env:5: BETTER_AUTH_URL: "nope" is not an http(s) URL',
        '      hint: the URL the browser opens for the SSO, e.g. http://localhost:3001',
        `  command-line option: TASKFLOW_RELEASE: --release: "UPPER" is not a valid release name`,
        `      hint: use at most 53 lower-case letters, digits and '-'`,
      ].join('\n'),
    );
    expect((err as UsageError).hint).toContain('config/.env');
  });
});

describe('didYouMean', () => {
  it.each([
    ['SMTP_PASSWORD', 'SMTP_PASS'],
    ['POSTGRES_PASSWORD_SSO', 'POSTGRES_SSO_PASSWORD'],
    ['CORS_ORIGINS', 'ALLOWED_ORIGINS'],
    ['smtp_host', 'SMTP_HOST'],
    ['TASKFLOW_NAMESPCE', 'TASKFLOW_NAMESPACE'],
    ['POSTGRES_SSO_PASWSORD', 'POSTGRES_SSO_PASSWORD'],
    ['BETTER_AUTH_SECRETS', 'BETTER_AUTH_SECRET'],
    ['ALLOWED_ORIGIN', 'ALLOWED_ORIGINS'],
    // typos of a known key and of the other names people give it (SMTP_PASWORD is 1 from SMTP_PASSWORD)
    ['SMTP_PASWORD', 'SMTP_PASS'],
    ['SMTP_PASSWROD', 'SMTP_PASS'],
    ['SMTP_PASWD', 'SMTP_PASS'],
    ['SMTP_HSOT', 'SMTP_HOST'],
    ['SMTP_USERNAM', 'SMTP_USER'],
    ['BETER_AUTH_SECRET', 'BETTER_AUTH_SECRET'],
    ['BETTER_AUTH_ULR', 'BETTER_AUTH_URL'],
    ['POSTGRES_SSO_PASS', 'POSTGRES_SSO_PASSWORD'],
    ['POSTGRES_PASSWRD_API', 'POSTGRES_API_PASSWORD'],
    ['CORS_ORIGIN', 'ALLOWED_ORIGINS'],
    ['OPENAI_KYE', 'OPENAI_API_KEY'],
    ['EMAIL_FORM', 'EMAIL_FROM'],
    // a prefix of several spellings of one key still names it
    ['SMTP_US', 'SMTP_USER'],
    ['SMTP_HOST', undefined],
    ['PATH', undefined],
    ['DEBUG', undefined],
    ['DATABASE_URL', undefined],
    ['TASKFLOW_API_URL', undefined],
  ])('%s -> %s', (key, guess) => {
    expect(didYouMean(key)).toBe(guess);
  });
});

describe('predicates for validate', () => {
  it.each([
    ['0123456789abcdef0123456789abcdef', true],
    ['A-Za-z0-9._~', true],
    ['p@ss', false],
    ['a:b', false],
    ['100%', false],
    ['', false],
  ])('isUrlSafePassword(%j) is %s', (s, ok) => expect(isUrlSafePassword(s)).toBe(ok));

  it.each([
    ['', true],
    ['changeme', true],
    ['CHANGEME123', true],
    ['change-me-please', true],
    ['<your-secret>', true],
    ['your-password-here', true],
    ['password', true],
    ['${SECRET}', true],
    ['0123456789abcdef0123456789abcdef', false],
    ['Tr0ub4dor&3', false],
  ])('isPlaceholder(%j) is %s', (s, ok) => expect(isPlaceholder(s)).toBe(ok));

  it('parses ports, booleans and DNS labels strictly', () => {
    expect(['587', ' 465 ', '65535', '0', '65536', '5e2', '-1', ''].map(parsePort)).toEqual([
      587,
      465,
      65535,
      undefined,
      undefined,
      undefined,
      undefined,
      undefined,
    ]);
    expect(['true', 'On', '1', 'no', 'FALSE', '0', 'maybe'].map(parseBoolean)).toEqual([
      true,
      true,
      true,
      false,
      false,
      false,
      undefined,
    ]);
    expect(['taskflow', 'a-1', '-a', 'a-', 'A', 'a.b', ''].map((s) => isDnsLabel(s))).toEqual([
      true,
      true,
      false,
      false,
      false,
      false,
      false,
    ]);
  });
});

describe('loadSettings', () => {
  let dir: string;
  beforeEach(() => {
    dir = mkdtempSync(join(tmpdir(), 'env-test-'));
  });
  afterEach(() => rmSync(dir, { recursive: true, force: true }));

  it('reads the named file and the given environment, not process.env', () => {
    writeFileSync(join(dir, 'my.env'), 'TASKFLOW_NAMESPACE=from-file\nSMTP_HOST=mail\n');
    const { settings, envFile, problems } = loadSettings({
      envFile: join(dir, 'my.env'),
      explicitEnvFile: true,
      env: { SMTP_HOST: 'env-mail' },
    });
    expect(envFile.exists).toBe(true);
    expect(problems).toEqual([]);
    expect(settings.namespace).toBe('from-file');
    expect(settings.sso.smtp?.host).toBe('env-mail');
  });

  it('serves defaults when the default .env is missing', () => {
    const { settings, envFile } = loadSettings({ envFile: join(dir, '.env'), env: {} });
    expect(envFile.exists).toBe(false);
    expect(settings.namespace).toBe('taskflow');
  });

  it('refuses a missing file named with --env-file', () => {
    const path = join(dir, 'missing.env');
    const load = () => loadSettings({ envFile: path, explicitEnvFile: true, env: {} });
    expect(load).toThrow(UsageError);
    expect(load).toThrow(`The env file ${path} does not exist`);
  });
});

describe('secrets stay masked', () => {
  const values = ['ssoDbPw-41f3', 'apiDbPw-9c2e', 'authSecret-77aa', 'smtpPass-0b1d', 'sk-openai-5e6f'];
  const text = [
    `POSTGRES_SSO_PASSWORD=${values[0]}`,
    `POSTGRES_API_PASSWORD=${values[1]}`,
    `BETTER_AUTH_SECRET=${values[2]}`,
    `SMTP_HOST=mail`,
    `SMTP_PASS=${values[3]}`,
    `OPENAI_API_KEY=${values[4]}`,
    `SMTP_PASSWORD=${values[3]}`,
  ].join('\n');

  it('in String(), JSON, util.inspect and problem messages', () => {
    const { settings, problems } = settingsOf(text, {}, { namespace: 'Bad!' });
    const { file } = parseEnvText('.env', text);
    let message = '';
    try {
      assertNoErrors(problems, file);
    } catch (e) {
      message = String(e) + inspect(e);
    }
    expect(message).toContain('Bad!'); // an error was raised
    const outputs = [
      String(settings.sso.dbPassword),
      `${settings.api.dbPassword}`,
      JSON.stringify(settings),
      JSON.stringify([...settings.raw.values()]),
      inspect(settings, { depth: Infinity }),
      inspect(file, { depth: Infinity }),
      JSON.stringify(problems),
      message,
    ];
    for (const out of outputs) for (const v of values) expect(out).not.toContain(v);
    expect(settings.sso.dbPassword?.reveal()).toBe(values[0]);
  });

  it('when they come from the process environment', () => {
    const { settings } = settingsOf('', {
      POSTGRES_SSO_PASSWORD: values[0],
      SMTP_HOST: 'm',
      SMTP_PASS: values[3],
    });
    expect(inspect(settings, { depth: Infinity })).not.toContain(values[0]);
    expect(inspect(settings, { depth: Infinity })).not.toContain(values[3]);
  });
});
