import { existsSync, mkdtempSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { inspect } from 'node:util';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { loadSettings } from '../../lib/env.ts';
import {
  GENERATED_COMMENT,
  SECRET_LOCATIONS,
  resolveSecrets,
  type ClusterSecretReader,
} from '../../lib/secret-resolution.ts';
import { Secret } from '../../lib/secrets.ts';

let dir: string;
let envPath: string;
beforeEach(() => {
  dir = mkdtempSync(join(tmpdir(), 'secret-resolution-test-'));
  envPath = join(dir, '.env');
});
afterEach(() => rmSync(dir, { recursive: true, force: true }));

const load = (env: NodeJS.ProcessEnv = {}) => loadSettings({ envFile: envPath, env }).settings;

/** A cluster with the given Secret keys ("secret/key" -> value) that records every read. */
function fakeCluster(data: Record<string, string>): { read: ClusterSecretReader; calls: string[] } {
  const calls: string[] = [];
  return {
    calls,
    read: async (secret, key) => {
      calls.push(`${secret}/${key}`);
      const v = data[`${secret}/${key}`];
      return v === undefined ? undefined : new Secret(v);
    },
  };
}

const revealAll = (r: {
  ssoDbPassword: Secret | undefined;
  apiDbPassword: Secret | undefined;
  authSecret: Secret | undefined;
}) => [r.ssoDbPassword?.reveal(), r.apiDbPassword?.reveal(), r.authSecret?.reveal()];

describe('resolveSecrets', () => {
  it('names the Secrets of the chart contract', () => {
    expect(SECRET_LOCATIONS).toEqual({
      POSTGRES_SSO_PASSWORD: { secret: 'sso-postgres', key: 'password' },
      POSTGRES_API_PASSWORD: { secret: 'api-postgres', key: 'password' },
      BETTER_AUTH_SECRET: { secret: 'sso-platform', key: 'BETTER_AUTH_SECRET' },
    });
  });

  it('uses the env file and process env first, without asking the cluster for those', async () => {
    writeFileSync(envPath, 'POSTGRES_SSO_PASSWORD=fromfile\n');
    const cluster = fakeCluster({
      'api-postgres/password': 'incluster',
      'sso-platform/BETTER_AUTH_SECRET': 'x',
    });
    const r = await resolveSecrets(load({ BETTER_AUTH_SECRET: 'fromenv' }), {
      readCluster: cluster.read,
      envFilePath: envPath,
      writeBack: true,
    });
    expect(revealAll(r)).toEqual(['fromfile', 'incluster', 'fromenv']);
    expect(r.sources).toEqual({
      POSTGRES_SSO_PASSWORD: 'env-file',
      POSTGRES_API_PASSWORD: 'cluster',
      BETTER_AUTH_SECRET: 'process-env',
    });
    expect(cluster.calls).toEqual(['api-postgres/password']);
    expect(r.written).toEqual([]);
    expect(readFileSync(envPath, 'utf8')).toBe('POSTGRES_SSO_PASSWORD=fromfile\n'); // cluster values stay out
  });

  it('prefers the value in the cluster over generating one', async () => {
    const cluster = fakeCluster({
      'sso-postgres/password': 'a'.repeat(32),
      'api-postgres/password': 'b'.repeat(32),
      'sso-platform/BETTER_AUTH_SECRET': 'c'.repeat(32),
    });
    let generated = 0;
    const r = await resolveSecrets(load(), {
      readCluster: cluster.read,
      envFilePath: envPath,
      writeBack: true,
      generate: () => new Secret(`gen${++generated}`),
    });
    expect(revealAll(r)).toEqual(['a'.repeat(32), 'b'.repeat(32), 'c'.repeat(32)]);
    expect(Object.values(r.sources)).toEqual(['cluster', 'cluster', 'cluster']);
    expect(generated).toBe(0);
    expect(existsSync(envPath)).toBe(false);
  });

  it('generates 32 hex characters, writes them to the env file (0600) and reuses them next time', async () => {
    writeFileSync(envPath, '# my settings\nSMTP_HOST=mail\n\nPOSTGRES_API_PASSWORD=\n');
    const first = await resolveSecrets(load(), {
      readCluster: fakeCluster({}).read,
      envFilePath: envPath,
      writeBack: true,
    });
    const [sso, api, auth] = revealAll(first);
    for (const v of [sso, api, auth]) expect(v).toMatch(/^[0-9a-f]{32}$/);
    expect(new Set([sso, api, auth]).size).toBe(3);
    expect(first.sources).toEqual({
      POSTGRES_SSO_PASSWORD: 'generated',
      POSTGRES_API_PASSWORD: 'generated',
      BETTER_AUTH_SECRET: 'generated',
    });
    expect(first.written).toEqual(['POSTGRES_SSO_PASSWORD', 'POSTGRES_API_PASSWORD', 'BETTER_AUTH_SECRET']);
    expect(readFileSync(envPath, 'utf8')).toBe(
      [
        '# my settings',
        'SMTP_HOST=mail',
        '',
        `POSTGRES_API_PASSWORD=${api}`, // the empty line is filled in place
        '',
        `# ${GENERATED_COMMENT}`,
        `POSTGRES_SSO_PASSWORD=${sso}`,
        `BETTER_AUTH_SECRET=${auth}`,
        '',
      ].join('\n'),
    );
    expect(statSync(envPath).mode & 0o777).toBe(0o600);

    const second = await resolveSecrets(load(), {
      readCluster: fakeCluster({}).read,
      envFilePath: envPath,
      writeBack: true,
    });
    expect(revealAll(second)).toEqual([sso, api, auth]);
    expect(Object.values(second.sources)).toEqual(['env-file', 'env-file', 'env-file']);
    expect(second.written).toEqual([]);
  });

  it('creates the env file when it is missing', async () => {
    const r = await resolveSecrets(load(), { envFilePath: envPath, writeBack: true });
    expect(r.written).toHaveLength(3);
    expect(statSync(envPath).mode & 0o777).toBe(0o600);
    expect(revealAll(await resolveSecrets(load(), { envFilePath: envPath, writeBack: false }))).toEqual(
      revealAll(r),
    );
  });

  it('writes nothing without writeBack (dry run)', async () => {
    const r = await resolveSecrets(load(), {
      envFilePath: envPath,
      writeBack: false,
      generate: () => new Secret('f'.repeat(32)),
    });
    expect(r.written).toEqual([]);
    expect(Object.values(r.sources)).toEqual(['generated', 'generated', 'generated']);
    expect(existsSync(envPath)).toBe(false);
  });

  it('fails, generating nothing, when the cluster cannot be read', async () => {
    const failing: ClusterSecretReader = async () => {
      throw new Error('cluster unreachable');
    };
    await expect(
      resolveSecrets(load(), { readCluster: failing, envFilePath: envPath, writeBack: true }),
    ).rejects.toThrow('cluster unreachable');
    expect(existsSync(envPath)).toBe(false);
  });

  it('keeps the values masked in String(), JSON and util.inspect', async () => {
    const r = await resolveSecrets(load(), { envFilePath: envPath, writeBack: false });
    const outputs = [
      String(r.ssoDbPassword),
      `${r.authSecret}`,
      JSON.stringify(r),
      inspect(r, { depth: Infinity }),
    ];
    for (const out of outputs) for (const v of revealAll(r)) expect(out).not.toContain(v);
  });
});
