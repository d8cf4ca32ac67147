import {
  chmodSync,
  mkdtempSync,
  readFileSync,
  readdirSync,
  rmSync,
  statSync,
  symlinkSync,
  writeFileSync,
} from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parse } from 'dotenv';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { UsageError } from '../../lib/errors.ts';
import {
  formatAssignment,
  parseEnvText,
  readEnvFile,
  textOf,
  upsertEnvFile,
  type EnvFile,
} from '../../lib/envfile.ts';
import { Secret } from '../../lib/secrets.ts';

let dir: string;
beforeEach(() => {
  dir = mkdtempSync(join(tmpdir(), 'envfile-test-'));
});
afterEach(() => {
  rmSync(dir, { recursive: true, force: true });
});

const plain = (file: EnvFile): Record<string, [string, number | undefined]> =>
  Object.fromEntries([...file.entries].map(([k, e]) => [k, [textOf(e.value), e.line]]));

describe('parseEnvText', () => {
  it('reads what dotenv reads, with the line of each key', () => {
    const text = [
      '# TaskFlow settings', // 1
      '', // 2
      'export TASKFLOW_NAMESPACE=dev # inline comment', // 3
      "BETTER_AUTH_URL='http://localhost:3001'", // 4
      'ALLOWED_ORIGINS="http://a, http://b"', // 5
      'EMAIL_FROM=TaskFlow <noreply@example.com>', // 6
      'SMTP_PORT = 587', // 7
      'MULTI="one', // 8
      'two"', // 9
      'EMPTY=', // 10
    ].join('\n');
    const { file, problems } = parseEnvText('.env', text);
    expect(problems).toEqual([]);
    expect(plain(file)).toEqual({
      TASKFLOW_NAMESPACE: ['dev', 3],
      BETTER_AUTH_URL: ['http://localhost:3001', 4],
      ALLOWED_ORIGINS: ['http://a, http://b', 5],
      EMAIL_FROM: ['TaskFlow <noreply@example.com>', 6],
      SMTP_PORT: ['587', 7],
      MULTI: ['one\ntwo', 8],
      EMPTY: ['', 10],
    });
    // The same values as dotenv itself.
    expect(Object.fromEntries(Object.entries(plain(file)).map(([k, [v]]) => [k, v]))).toEqual(parse(text));
  });

  it('counts lines the same in CRLF files', () => {
    const { file } = parseEnvText('.env', '# c\r\n\r\nSMTP_HOST=mail\r\n');
    expect(plain(file)).toEqual({ SMTP_HOST: ['mail', 3] });
  });

  it('wraps secret-looking keys in Secret and leaves the others as text', () => {
    const { file } = parseEnvText(
      '.env',
      'SMTP_PASS=p4ss\nSMTP_PASSWORD=typo\nOPENAI_API_KEY=sk\nSMTP_USER=me\n',
    );
    expect(file.entries.get('SMTP_PASS')?.value).toBeInstanceOf(Secret);
    expect(file.entries.get('SMTP_PASSWORD')?.value).toBeInstanceOf(Secret);
    expect(file.entries.get('OPENAI_API_KEY')?.value).toBeInstanceOf(Secret);
    expect(file.entries.get('SMTP_USER')?.value).toBe('me');
  });

  it('keeps the last of repeated keys, as dotenv does, and records every line', () => {
    const { file } = parseEnvText('.env', 'A=1\nB=2\nA=3\n');
    expect(plain(file).A).toEqual(['3', 3]);
    expect(file.duplicates).toEqual(new Map([['A', [1, 3]]]));
  });

  it.each([
    ['a line without "="', 'just words here', 'not a KEY=value line', ''],
    ['a key with a space', 'SMTP HOST=mail', '"SMTP HOST" is not a valid key', 'SMTP HOST'],
    ['an unclosed quote', 'NODE_ENV="production', 'opens a " quote that does not close', 'NODE_ENV'],
    ['an unclosed single quote', "EMAIL_FROM='me", "opens a ' quote", 'EMAIL_FROM'],
    ['text after a closing quote', 'BETTER_AUTH_URL="http://x"y', 'opens a " quote', 'BETTER_AUTH_URL'],
  ])('rejects %s, naming its line', (_name, bad, message, key) => {
    const { problems } = parseEnvText('.env', `# first\nSMTP_PORT=25\n${bad}\n`);
    expect(problems).toHaveLength(1);
    expect(problems[0]).toMatchObject({ line: 3, key, severity: 'error', source: 'env-file' });
    expect(problems[0]?.message).toContain(message);
    expect(problems[0]?.hint).not.toBe('');
  });

  it('reports every invalid line at once, without echoing their text', () => {
    const { problems } = parseEnvText('.env', 'A=1\nhunter2-secret\nB=2\nanother secret line\n');
    expect(problems.map((p) => p.line)).toEqual([2, 4]);
    expect(JSON.stringify(problems)).not.toContain('hunter2');
    expect(JSON.stringify(problems)).not.toContain('another');
  });

  it('reports a # glued to an unquoted value (dotenv cuts it there), but not a comment or a quoted #', () => {
    const text = 'PASS=abc123#def456\nA=b # a comment\nB="x#y"\nC=\'x#y\'\nD=plain\n';
    const { file, problems } = parseEnvText('.env', text);
    expect(problems.map((p) => `${p.line} ${p.key}`)).toEqual(['1 PASS']);
    expect(problems[0]?.hint).toBe(
      'quote the whole value (PASS="...#..."), or put a space before # if it is a comment',
    );
    expect(JSON.stringify(problems)).not.toContain('abc123');
    expect(textOf(file.entries.get('A')?.value ?? '')).toBe('b');
    expect(textOf(file.entries.get('B')?.value ?? '')).toBe('x#y');
  });
});

describe('readEnvFile', () => {
  it('treats a missing file as empty', () => {
    const file = readEnvFile(join(dir, 'nope.env'));
    expect(file).toMatchObject({ exists: false, path: join(dir, 'nope.env') });
    expect(file.entries.size).toBe(0);
  });

  it('reads a file from disk', () => {
    writeFileSync(join(dir, '.env'), 'SMTP_HOST=mail\n');
    expect(plain(readEnvFile(join(dir, '.env')))).toEqual({ SMTP_HOST: ['mail', 1] });
  });

  it('throws a usage error (exit 2) for an unreadable file', () => {
    const err = catchError(() => readEnvFile(dir)); // a directory: EISDIR
    expect(err).toBeInstanceOf(UsageError);
    expect(err.exitCode).toBe(2);
    expect(err.message).toBe(`Cannot read the env file ${dir} (EISDIR)`);
    const denied = catchError(() =>
      readEnvFile('.env', {
        readFile: () => {
          throw Object.assign(new Error('denied'), { code: 'EACCES' });
        },
      }),
    );
    expect(denied.message).toBe('Cannot read the env file .env (EACCES)');
    expect(denied.hint).toContain('--env-file');
  });

  it('throws one usage error listing every invalid line', () => {
    const err = catchError(() => readEnvFile('.env', { readFile: () => 'A=1\nbad line\nC=3\nD="open\n' }));
    expect(err.exitCode).toBe(2);
    expect(err.message).toBe(
      [
        'Invalid env file .env: 2 errors',
        '  .env:2: not a KEY=value line',
        '      hint: write one KEY=value per line, quote values that contain spaces or #, start comments with #',
        '  .env:4: D: the value opens a " quote that does not close at its end',
        '      hint: close the quote, e.g. D="...", or remove it',
      ].join('\n'),
    );
  });
});

describe('formatAssignment', () => {
  it.each([
    ['abc123', 'K=abc123'],
    ['', 'K='],
    ['http://localhost:3000,http://localhost:3001', 'K=http://localhost:3000,http://localhost:3001'],
    ['has space', "K='has space'"],
    ['a#b', "K='a#b'"],
    ["it's", `K="it's"`],
    ['line\nbreak', 'K="line\\nbreak"'],
    [`both ' and "`, 'K=`both \' and "`'],
  ])('writes %j so that dotenv reads it back', (value, line) => {
    expect(formatAssignment('K', value)).toBe(line);
    expect(parse(line).K).toBe(value);
  });

  it('refuses a value no quoting can carry', () => {
    expect(() => formatAssignment('K', `' " \` \n`)).toThrow(UsageError);
  });
});

describe('upsertEnvFile', () => {
  const mode = (p: string) => statSync(p).mode & 0o777;

  it('replaces keys in place and appends new ones, keeping comments, blank lines and order', () => {
    const path = join(dir, '.env');
    writeFileSync(
      path,
      [
        '# Database',
        'POSTGRES_SSO_PASSWORD= # fill me',
        '',
        'export BETTER_AUTH_SECRET=old',
        'A=first',
        'A=second',
        '# tail comment',
      ].join('\n'),
      { mode: 0o644 },
    );
    upsertEnvFile(
      path,
      { POSTGRES_SSO_PASSWORD: 'aa11', BETTER_AUTH_SECRET: 'bb22', A: 'third', NEW_KEY: 'new value' },
      { comment: 'Generated: keep these' },
    );
    expect(readFileSync(path, 'utf8')).toBe(
      [
        '# Database',
        'POSTGRES_SSO_PASSWORD=aa11 # fill me',
        '',
        'export BETTER_AUTH_SECRET=bb22',
        'A=first',
        'A=third',
        '# tail comment',
        '',
        '# Generated: keep these',
        "NEW_KEY='new value'",
        '',
      ].join('\n'),
    );
    expect(mode(path)).toBe(0o600);
    expect(parse(readFileSync(path))).toMatchObject({ A: 'third', NEW_KEY: 'new value' });
  });

  it('creates a missing file with mode 0600', () => {
    const path = join(dir, 'sub.env');
    upsertEnvFile(path, { K: 'v' }, { comment: 'c' });
    expect(readFileSync(path, 'utf8')).toBe('# c\nK=v\n');
    expect(mode(path)).toBe(0o600);
  });

  it('replaces a whole multi-line value', () => {
    const path = join(dir, '.env');
    writeFileSync(path, 'X="one\ntwo"\nY=1\n');
    upsertEnvFile(path, { X: 'flat' });
    expect(readFileSync(path, 'utf8')).toBe('X=flat\nY=1\n');
  });

  it('keeps CRLF line endings', () => {
    const path = join(dir, '.env');
    writeFileSync(path, '# c\r\nK=old\r\n');
    upsertEnvFile(path, { K: 'new', L: 'x' });
    expect(readFileSync(path, 'utf8')).toBe('# c\r\nK=new\r\n\r\nL=x\r\n');
  });

  it('writes through a symlink and leaves no temporary file behind', () => {
    const real = join(dir, 'real.env');
    writeFileSync(real, 'K=old\n');
    symlinkSync(real, join(dir, '.env'));
    upsertEnvFile(join(dir, '.env'), { K: 'new' });
    expect(readFileSync(real, 'utf8')).toBe('K=new\n');
    expect(statSync(join(dir, '.env')).isFile()).toBe(true);
    expect(readdirSync(dir).sort()).toEqual(['.env', 'real.env']);
  });

  // root may write anywhere, so the failure can only be provoked as another user
  it.skipIf(process.getuid?.() === 0)('fails with a usage error when the folder is not writable', () => {
    chmodSync(dir, 0o500);
    try {
      expect(() => upsertEnvFile(join(dir, 'new.env'), { K: 'v' })).toThrow(UsageError);
    } finally {
      chmodSync(dir, 0o700);
    }
  });

  it('fails with a usage error when the target is not a file', () => {
    expect(() => upsertEnvFile(dir, { K: 'v' })).toThrow(/Cannot update the env file/);
  });
});

function catchError(fn: () => unknown): UsageError {
  try {
    fn();
  } catch (err) {
    if (err instanceof UsageError) return err;
    throw err;
  }
  throw new Error('expected a UsageError');
}
