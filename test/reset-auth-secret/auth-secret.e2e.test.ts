import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { symmetricEncrypt } from 'better-auth/crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type SimRelease, simRelease } from '../migrate/sim-release.ts';
import { envValues } from '../deploy/e2e-support.ts';

const NEW_SECRET = 'f'.repeat(40) + '-the-second-machine';

/** A private key as the SSO's jwt plugin stores it: better-auth 1.4.4's symmetricEncrypt, as a JSON string. */
async function storedKey(secret: string): Promise<string> {
  return JSON.stringify(await symmetricEncrypt({ key: secret, data: '{"kty":"RSA","d":"private half"}' }));
}

describe('a changed BETTER_AUTH_SECRET over signing keys (simulated cluster, real PostgreSQL)', () => {
  let r: SimRelease;
  /** psql in the SSO database's pod, as its superuser over the local socket. */
  const psql = (sql: string): Promise<string> => r.psql(sql);

  const setEnvSecret = (value: string): void => {
    const v = envValues(r.envFile());
    v.BETTER_AUTH_SECRET = value;
    writeFileSync(
      path.join(r.se.cwd, '.env'),
      Object.entries(v)
        .map(([k, x]) => `${k}=${x}\n`)
        .join(''),
    );
  };
  const revision = async (): Promise<number> =>
    (JSON.parse((await r.helm(['history', 'taskflow', '-o', 'json'])).stdout) as { revision: number }[]).at(
      -1,
    )!.revision;

  beforeAll(async () => {
    r = await simRelease({ ns: 'tf-auth', scenario: { readyAfterMs: 150 } });
    expect(r.deployed.code, r.deployed.stderr).toBe(0);
    // What the SSO leaves after its first token and sign-in (the tables of its schema, auth-schema.ts):
    // a signing key encrypted with the release's secret.
    const key = await storedKey(envValues(r.envFile()).BETTER_AUTH_SECRET!);
    await psql(
      [
        'create table jwks (id text primary key, public_key text not null, private_key text not null, created_at timestamp not null, expires_at timestamp);',
        `insert into jwks values ('k1', '{}', '${key}', now(), now() + interval '90 days');`,
        'create table session (id text primary key, token text not null, user_id text not null);',
        "insert into session values ('s1', 't1', 'u1');",
      ].join('\n'),
    );
  }, 180_000);
  afterAll(async () => r?.stop());

  it('deploy refuses (exit 2) before any write, naming the secret, what breaks and the two ways out', async () => {
    const released = envValues(r.envFile()).BETTER_AUTH_SECRET!;
    setEnvSecret(NEW_SECRET);
    const before = await revision();
    const res = await r.run('deploy-one-command', ['--json']);
    expect(res.code, res.stderr).toBe(2);
    const doc = JSON.parse(res.stdout) as { failures: { id: string; detail: string }[] };
    expect(doc.failures[0]?.id).toBe('auth.secret');
    expect(doc.failures[0]?.detail).toContain(
      "BETTER_AUTH_SECRET (.env) is not the one release taskflow runs with (Secret sso-platform), and the SSO database holds 1 signing key encrypted with the release's",
    );
    expect(doc.failures[0]?.detail).toContain('Failed to decrypt private key');
    expect(res.stderr).toContain('npm run reset-auth-secret -- --keep -n tf-auth');
    expect(res.stderr).toContain('npm run reset-auth-secret -- --rotate -n tf-auth');
    for (const v of [released, NEW_SECRET]) expect(res.stdout + res.stderr).not.toContain(v);
    expect(await revision()).toBe(before);
    // The check says the same, exit 1.
    const check = await r.run('reset-auth-secret', []);
    expect(check.code).toBe(1);
    expect(check.stdout + check.stderr).toContain('holds 1 signing key');
    // Way out 1: keep the release's.
    const keep = await r.run('reset-auth-secret', ['--keep']);
    expect(keep.code, keep.stderr).toBe(0);
    expect(envValues(r.envFile()).BETTER_AUTH_SECRET).toBe(released);
    const again = await r.run('deploy-one-command', ['--json']);
    expect(again.code, again.stderr).toBe(0);
  });

  let released = '';
  it('--rotate asks, backs up, sets the new secret everywhere, removes the keys and sessions, restarts the SSO', async () => {
    released = envValues(r.envFile()).BETTER_AUTH_SECRET!;
    setEnvSecret(NEW_SECRET);
    const refused = await r.run('reset-auth-secret', ['--rotate']);
    expect(refused.code).toBe(2);
    expect(refused.stdout + refused.stderr).toContain('add --yes to confirm without a terminal');
    expect(await psql('select count(*) from jwks')).toBe('1');

    const res = await r.run('reset-auth-secret', ['--rotate', '--yes', '--json']);
    expect(res.code, res.stderr).toBe(0);
    const doc = JSON.parse(res.stdout) as { backup: string; envFile: string };
    expect(existsSync(path.join(r.se.cwd, doc.backup))).toBe(true);
    expect(await r.secret('sso-platform', 'BETTER_AUTH_SECRET')).toBe(NEW_SECRET);
    expect(envValues(r.envFile()).BETTER_AUTH_SECRET).toBe(NEW_SECRET);
    expect(await psql("select (select count(*) from jwks) || ',' || (select count(*) from session)")).toBe(
      '0,0',
    );
    expect(res.stderr).toContain('every user signs in again, and every token issued before stops verifying');
    expect(res.stdout + res.stderr).not.toContain(NEW_SECRET);
    // The next deploy has nothing to refuse.
    const deploy = await r.run('deploy-one-command', ['--json']);
    expect(deploy.code, deploy.stderr).toBe(0);

    // The backup of before records a fingerprint of the secret it was made under, never the secret.
    const meta = JSON.parse(readFileSync(path.join(r.se.cwd, `${doc.backup}.json`), 'utf8')) as {
      authSecret?: string;
    };
    expect(meta.authSecret).toMatch(/^hmac-sha256:[0-9a-f]{32}$/);
    expect(JSON.stringify(meta)).not.toContain(released);
    // Restoring it under the new secret says so before anything stops, and names the ways out.
    const restore = await r.run('db', ['restore', 'sso', doc.backup, '--yes']);
    expect(restore.code, restore.stderr).toBe(0);
    const said = restore.stdout + restore.stderr;
    expect(
      said.indexOf('was made under another BETTER_AUTH_SECRET than release taskflow runs with'),
    ).toBeGreaterThan(-1);
    expect(said.indexOf('was made under another BETTER_AUTH_SECRET')).toBeLessThan(
      said.indexOf('backing up the current content of the sso database first'),
    );
    expect(said).toContain('npm run reset-auth-secret -- --rotate -n tf-auth');
    expect(said).toContain('deploy the secret it was made under');

    // Now the release runs the new secret over the old one's key: deploy refuses, though .env and the
    // release agree, and doctor sees it before the SSO has logged anything.
    const refusedDeploy = await r.run('deploy-one-command', ['--json']);
    expect(refusedDeploy.code, refusedDeploy.stderr).toBe(2);
    const failure = (JSON.parse(refusedDeploy.stdout) as { failures: { id: string; detail: string }[] })
      .failures[0];
    expect(failure?.id).toBe('auth.secret');
    expect(failure?.detail).toContain(
      'the signing key the SSO signs with (the newest of 1 in the SSO database) was not encrypted with the BETTER_AUTH_SECRET release taskflow runs with',
    );
    const doctor = await r.run('doctor', ['--json']);
    const authCheck = (
      JSON.parse(doctor.stdout) as { checks: { id: string; status: string; detail: string }[] }
    ).checks.find((c) => c.id === 'auth.secret');
    expect(authCheck?.status).toBe('fail');
    expect(authCheck?.detail).toContain(
      'does not decrypt with the BETTER_AUTH_SECRET its Deployment gives it',
    );

    // Way out: deploy the secret the restored keys were made under; the keys stay and keep signing.
    setEnvSecret(released);
    const adopt = await r.run('deploy-one-command', ['--json']);
    expect(adopt.code, adopt.stderr).toBe(0);
    expect(adopt.stderr).toContain("changes to the one the SSO database's signing key was made under");
    expect(await r.secret('sso-platform', 'BETTER_AUTH_SECRET')).toBe(released);
    expect(await psql('select count(*) from jwks')).toBe('1');
    const check = await r.run('reset-auth-secret', ['--json']);
    expect(check.code, check.stderr).toBe(0);
    expect(JSON.parse(check.stdout)).toMatchObject({
      status: 'same',
      signingKeys: 1,
      currentKeyDecrypts: { release: true, envFile: true },
    });
  });

  it('doctor recognises the SSO’s decrypt failure in its log, names the cause and the repair', async () => {
    await r.setScenario({
      readyAfterMs: 150,
      images: {
        'taskflow/sso-platform': {
          logs: '# SERVER_ERROR:  [BetterAuthError: Failed to decrypt private key. Make sure the secret currently in use is the same as the one used to encrypt the private key.]',
        },
      },
    });
    const restart = await r.kubectl(['rollout', 'restart', 'deployment/sso-platform']);
    expect(restart.code, restart.stderr).toBe(0);
    const status = await r.kubectl(['rollout', 'status', 'deployment/sso-platform', '--timeout=60s']);
    expect(status.code, status.stderr).toBe(0);
    const res = await r.run('doctor', ['--json']);
    expect(res.code).toBe(1);
    const doc = JSON.parse(res.stdout) as {
      checks: { id: string; status: string; detail: string; hint?: string }[];
    };
    const check = doc.checks.find((c) => c.id === 'auth.secret');
    expect(check).toMatchObject({ status: 'fail' });
    expect(check?.detail).toContain('logged "Failed to decrypt private key" 1 time');
    expect(check?.hint).toContain('npm run reset-auth-secret -- --rotate -n tf-auth');
  });
});
