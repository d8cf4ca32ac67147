import { describe, expect, it } from 'vitest';
import { APPS, DATABASES } from '../../lib/components.ts';
import { readDbSecrets, verifyAll } from '../../lib/deploy/verify.ts';
import { Kubectl } from '../../lib/kubectl.ts';
import type { Runner } from '../../lib/exec.ts';

/** A runner answering kubectl: the Secrets (or a failure to read them), logins, health requests. */
function runner(opts: { secrets: 'ok' | 'fail' | 'no-key' }): Runner & { lines: string[] } {
  const lines: string[] = [];
  const b64 = (s: string) => Buffer.from(s).toString('base64');
  const secret = (name: string, data: Record<string, string>) => ({
    kind: 'Secret',
    metadata: { name },
    data,
  });
  return {
    lines,
    run: async (argv: string[]) => {
      const line = argv.slice(1).join(' ');
      lines.push(line);
      const ok = (stdout: string) => ({ argv, exitCode: 0, stdout, stderr: '', durationMs: 1 });
      if (line.includes('get secret')) {
        if (opts.secrets === 'fail')
          return {
            argv,
            exitCode: 1,
            stdout: '',
            stderr: 'Error from server (Forbidden): secrets is forbidden',
            durationMs: 1,
          };
        const items =
          opts.secrets === 'no-key'
            ? [secret('sso-postgres', {}), secret('api-postgres', { password: b64('api-pw') })]
            : [
                secret('sso-postgres', { password: b64('sso-pw') }),
                secret('api-postgres', { password: b64('api-pw') }),
              ];
        return ok(JSON.stringify({ kind: 'List', items }));
      }
      if (line.includes(' exec ')) return ok('verifier:\n1\n');
      return ok('ok');
    },
  } as unknown as Runner & { lines: string[] };
}

const dbs = [DATABASES.sso, DATABASES.api];

describe('the verification after a deploy', () => {
  it('reads both databases’ Secrets in one kubectl call, then logs in to each once', async () => {
    const r = runner({ secrets: 'ok' });
    const k = new Kubectl(r, 'kubectl', { namespace: 'taskflow' });
    expect(await verifyAll(k, dbs, APPS, { attempts: 1 })).toEqual([]);
    expect(r.lines.filter((l) => l.includes('get secret'))).toEqual([
      '--namespace taskflow get secret sso-postgres api-postgres --ignore-not-found -o json',
    ]);
    expect(r.lines.filter((l) => l.includes(' exec '))).toHaveLength(2);
    expect(r.lines.filter((l) => l.includes('/proxy'))).toHaveLength(APPS.length);
  });

  it('uses Secrets already being read (read alongside the rollout watch)', async () => {
    const r = runner({ secrets: 'ok' });
    const k = new Kubectl(r, 'kubectl', { namespace: 'taskflow' });
    const secrets = readDbSecrets(k, dbs);
    expect(await verifyAll(k, dbs, [], { attempts: 1, secrets })).toEqual([]);
    expect(r.lines.filter((l) => l.includes('get secret'))).toHaveLength(1);
  });

  it('Secrets that cannot be read: a db.auth failure per database naming the reason; the apps are still checked', async () => {
    const r = runner({ secrets: 'fail' });
    const k = new Kubectl(r, 'kubectl', { namespace: 'taskflow' });
    const failures = await verifyAll(k, dbs, APPS, { attempts: 1 });
    expect(failures.map((f) => [f.id, f.object, f.reason])).toEqual([
      ['db.auth', 'secret/sso-postgres', 'SecretUnreadable'],
      ['db.auth', 'secret/api-postgres', 'SecretUnreadable'],
    ]);
    expect(failures[0]?.message).toMatch(/^could not read Secret sso-postgres: .*forbidden/i);
    expect(r.lines.filter((l) => l.includes(' exec '))).toHaveLength(0);
    expect(r.lines.filter((l) => l.includes('/proxy'))).toHaveLength(APPS.length);
  });

  it('a Secret without its key: SecretMissing for that database only', async () => {
    const r = runner({ secrets: 'no-key' });
    const k = new Kubectl(r, 'kubectl', { namespace: 'taskflow' });
    const failures = await verifyAll(k, dbs, [], { attempts: 1 });
    expect(failures.map((f) => [f.object, f.reason])).toEqual([['secret/sso-postgres', 'SecretMissing']]);
  });

  it('no database: no Secret read at all', async () => {
    const r = runner({ secrets: 'ok' });
    const k = new Kubectl(r, 'kubectl', { namespace: 'taskflow' });
    expect(await readDbSecrets(k, [])).toEqual(new Map());
    expect(r.lines).toEqual([]);
  });
});
