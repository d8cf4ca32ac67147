import { PassThrough } from 'node:stream';
import { afterAll, describe, expect, it } from 'vitest';
import { runCommand } from '../../lib/cli.ts';
import { runMigrate } from '../../lib/migrate/migrate.ts';
import { MIGRATE_SPEC } from '../../lib/migrate/spec.ts';
import { runResetPassword } from '../../lib/reset-password/reset.ts';
import { RESET_SPEC } from '../../lib/reset-password/spec.ts';
import { runScript, scriptEnv } from '../support/e2e.ts';

/** Runs a command in-process as its script would, with no cluster configured. */
async function cli(which: 'migrate' | 'reset', argv: string[], env: NodeJS.ProcessEnv = {}) {
  let out = '';
  let err = '';
  const stdout = new PassThrough().on('data', (d: Buffer) => (out += d.toString()));
  const stderr = new PassThrough().on('data', (d: Buffer) => (err += d.toString()));
  const stdin = Object.assign(new PassThrough(), { isTTY: false });
  const world = {
    argv,
    env: { PATH: process.env.PATH, CI: 'true', ...env },
    stdout,
    stderr,
    stdin,
    exit: () => undefined,
  };
  const code =
    which === 'migrate'
      ? await runCommand(MIGRATE_SPEC, runMigrate, world)
      : await runCommand(RESET_SPEC, runResetPassword, world);
  return { code, out, err };
}

describe('bad input: one line, the next step, the contract exit code', () => {
  const se = scriptEnv();
  afterAll(() => se.cleanup());

  it('npm run migrate -- ssoo: exit 2 with the valid targets (as a real child process)', async () => {
    const r = await runScript('run-migrations', ['ssoo'], se);
    expect(r.code).toBe(2);
    expect(r.stdout).toBe(
      '✗ unknown migration target "ssoo" (valid targets: sso, api, all)\n  hint: npm run migrate -- sso\n',
    );
  });

  it('npm run reset-db-password -- api --rotate without a terminal: exit 2 before touching anything', async () => {
    const r = await runScript('reset-db-password', ['api', '--rotate'], se);
    expect(r.code).toBe(2);
    expect(r.stdout).toBe(
      '✗ --rotate changes the api database password and restarts taskflow-api: add --yes to confirm without a terminal\n' +
        '  hint: npm run reset-db-password -- api --rotate --yes\n',
    );
  });

  it.each([
    ['migrate', ['all', '--timeout', 'forever'], 2, '✗ --timeout: "forever" is not a duration'],
    ['migrate', ['sso', '--bogus'], 2, "✗ Unknown option '--bogus'"],
    ['migrate', ['sso', 'api'], 2, '✗ unexpected argument: api'],
    ['reset', ['ssoo'], 2, '✗ unknown database "ssoo" (valid: sso, api)'],
    ['reset', ['sso', '--check', '--rotate'], 2, '✗ --check and --rotate exclude each other'],
  ] as const)('%s %j: exit %i', async (which, argv, code, line) => {
    const r = await cli(which, [...argv]);
    expect(r.code).toBe(code);
    expect(r.out.split('\n')[0]).toBe(line);
  });

  it('no cluster reachable: exit 3 with how to get one', async () => {
    const r = await cli('migrate', ['sso'], {
      KUBECTL: se.env.KUBECTL,
      HELM: se.env.HELM,
      KUBECONFIG: '/nonexistent',
      HOME: se.cwd,
    });
    expect(r.code).toBe(3);
    expect(r.out).toMatch(
      /^✗ (no kubeconfig found|cannot reach the cluster|kube the current kube context does not exist)/m,
    );
    expect(r.out).toMatch(/hint: /);
  });

  it('--json failures are one JSON document on stdout', async () => {
    const r = await cli('reset', ['nope', '--json']);
    expect(r.code).toBe(2);
    expect(JSON.parse(r.out)).toEqual({
      ok: false,
      error: {
        message: 'unknown database "nope" (valid: sso, api)',
        hint: 'e.g. npm run reset-db-password -- sso',
        exitCode: 2,
      },
    });
  });
});
