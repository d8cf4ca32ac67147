import { writeFileSync } from 'node:fs';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startKubeSim } from '../kube-sim/index.ts';
import { deployEnv, doc, envValues, type DeployEnv, type RecordedCall } from './e2e-support.ts';

type Sim = Awaited<ReturnType<typeof startKubeSim>>;

/** A kubectl or helm call that writes: a lease, a namespace, a release, anything. */
const WRITE_VERBS = [
  'create',
  'apply',
  'replace',
  'patch',
  'delete',
  'upgrade',
  'install',
  'uninstall',
  'label',
  'annotate',
];
const writes = (c: RecordedCall): boolean => c.args.some((a) => WRITE_VERBS.includes(a));

// What `openssl rand -base64` and secret managers hand out, and the rest of the URL breakers.
const SSO_PASSWORD = 'xK+3/zA9=mQ2pL1w @:%?#&';
const API_PASSWORD = 'Api/pw+with=every:odd@char%20#?&';
const AUTH_SECRET = 'auth+secret/from=their-manager-0123456789';

describe('deploy with existingSecret values: the password comes from the user’s Secret', () => {
  let sim: Sim;
  let se: DeployEnv;
  const ns = 'tf-es';
  const file = (name: string, text: string): string => {
    const p = path.join(se.cwd, name);
    writeFileSync(p, text, { mode: 0o600 });
    return p;
  };
  beforeAll(async () => {
    sim = await startKubeSim({ scenario: { readyAfterMs: 200 } });
    se = deployEnv({ kubeconfig: sim.kubeconfigPath, envFile: `TASKFLOW_NAMESPACE=${ns}\n` });
    file(
      'theirs.yaml',
      [
        'sso:',
        '  existingSecret: their-auth',
        '  database:',
        '    existingSecret: their-sso-db',
        'api:',
        '  database:',
        '    existingSecret: their-api-db',
        '    existingSecretKey: pw',
        '',
      ].join('\n'),
    );
  });
  afterAll(async () => {
    se?.cleanup();
    await sim?.stop();
  });

  it('refuses before any write while a named Secret is missing (exit 2), naming it and the command', async () => {
    const r = await se.deploy(['--json', '-f', 'theirs.yaml']);
    expect(r.code, r.stderr).toBe(2);
    expect(doc(r).failures[0]).toMatchObject({
      id: 'cluster.secrets',
      detail: expect.stringMatching(/3 Secrets the values name would not work/),
    });
    expect(r.stderr).toContain(
      `Secret their-sso-db (named by sso.database.existingSecret) does not exist in namespace ${ns}`,
    );
    expect(r.stderr).toContain(`kubectl create secret generic their-api-db -n ${ns} --from-file=pw=`);
    // Reads only: no lease, no namespace, no release; nothing generated into the env file.
    expect(se.calls().filter(writes)).toEqual([]);
    expect(se.envFile()).toBe(`TASKFLOW_NAMESPACE=${ns}\n`);
  });

  it('deploys with passwords of any character: none sent, none generated, every value masked', async () => {
    expect(se.kubectl(['create', 'namespace', ns]).code).toBe(0);
    for (const [name, key, value] of [
      ['their-sso-db', 'password', SSO_PASSWORD],
      ['their-api-db', 'pw', API_PASSWORD],
      ['their-auth', 'BETTER_AUTH_SECRET', AUTH_SECRET],
    ] as const) {
      const r = se.kubectl([
        'create',
        'secret',
        'generic',
        name,
        '-n',
        ns,
        `--from-file=${key}=${file(`${name}.txt`, value)}`,
      ]);
      expect(r.code, r.stderr).toBe(0);
    }
    // A password in the env file too: not used, and said so.
    writeFileSync(
      path.join(se.cwd, '.env'),
      `TASKFLOW_NAMESPACE=${ns}\nPOSTGRES_API_PASSWORD=0123456789abcdef0123456789abcdef\n`,
    );
    const r = await se.deploy(['--json', '-f', 'theirs.yaml']);
    expect(r.code, r.stderr).toBe(0);
    expect(doc(r)).toMatchObject({ ok: true, revision: 1 });
    expect(r.stderr).toContain(
      'POSTGRES_API_PASSWORD is set (in the env file) but not used: api.database.existingSecret names Secret their-api-db, which the release reads instead',
    );
    expect(r.stderr).toContain(
      'the release reads sso.database.password from Secret their-sso-db (key password), api.database.password from Secret their-api-db (key pw), sso.auth.secret from Secret their-auth (key BETTER_AUTH_SECRET): found, values masked',
    );
    expect(r.stderr).toContain(
      `POSTGRES_SSO_PASSWORD: Secret their-sso-db key password in namespace ${ns} (yours, named by sso.database.existingSecret)`,
    );
    // The verification logged in to both databases with the passwords of their Secrets.
    expect(r.stderr).toContain('databases accept their passwords');
    // Nothing generated for them, nothing of theirs printed or passed in argv.
    expect(Object.keys(envValues(se.envFile())).sort()).toEqual([
      'POSTGRES_API_PASSWORD',
      'TASKFLOW_NAMESPACE',
    ]);
    for (const secret of [SSO_PASSWORD, API_PASSWORD, AUTH_SECRET]) {
      expect(r.stdout + r.stderr).not.toContain(secret);
      expect(se.argvText()).not.toContain(secret);
    }
    // The release holds no password of its own for them (the chart would refuse two sources).
    const values = JSON.parse(se.helm(['get', 'values', 'taskflow', '-n', ns, '-o', 'json']).stdout) as {
      sso: { auth?: { secret?: string }; database?: { password?: string } };
      api: { database?: { password?: string } };
    };
    expect(values.sso.database?.password).toBeUndefined();
    expect(values.sso.auth?.secret).toBeUndefined();
    expect(values.api.database?.password).toBeUndefined();
    // A second deploy changes nothing.
    const again = await se.deploy(['--json', '-f', 'theirs.yaml']);
    expect(again.code, again.stderr).toBe(0);
    expect(doc(again)).toMatchObject({ revision: 1, upgraded: false });
  });

  it('verification logs in with the Secret’s password: one changed behind the database’s back fails it', async () => {
    /** Replaces the Secret's value from a file, as a user would (kubectl create --dry-run | replace). */
    const setSsoSecret = (valueFile: string): void => {
      const json = se.kubectl([
        'create',
        'secret',
        'generic',
        'their-sso-db',
        '-n',
        ns,
        `--from-file=password=${valueFile}`,
        '--dry-run=client',
        '-o',
        'json',
      ]).stdout;
      const r = se.kubectl(['replace', '-f', file('secret.json', json)]);
      expect(r.code, r.stderr).toBe(0);
    };
    setSsoSecret(file('other.txt', 'another/password+0123'));
    try {
      const r = await se.deploy(['--json', '-f', 'theirs.yaml']);
      expect(r.code).toBe(1);
      expect(doc(r).failures).toContainEqual(
        expect.objectContaining({
          id: 'db.auth',
          detail: expect.stringContaining('the sso database rejects the password in Secret their-sso-db'),
        }),
      );
      expect(r.stdout + r.stderr).not.toContain('another/password+0123');
    } finally {
      setSsoSecret(path.join(se.cwd, 'their-sso-db.txt'));
    }
  });

  it('a failing migration’s log lines are printed with the Secret’s password masked', async () => {
    const crashNs = 'tf-es-crash';
    expect(se.kubectl(['create', 'namespace', crashNs]).code).toBe(0);
    const pw = file('crash-pw.txt', SSO_PASSWORD);
    expect(
      se.kubectl(['create', 'secret', 'generic', 'their-sso-db', '-n', crashNs, `--from-file=password=${pw}`])
        .code,
    ).toBe(0);
    file('crash.yaml', ['sso:', '  database:', '    existingSecret: their-sso-db', ''].join('\n'));
    await sim.setScenario({
      readyAfterMs: 200,
      images: {
        'taskflow/sso-platform-migrations': {
          state: 'crash',
          logs: `PostgresError: password authentication failed for user "sso_user" (password ${SSO_PASSWORD})`,
        },
      },
    });
    try {
      const r = await se.deploy(['--json', '-f', 'crash.yaml', '-n', crashNs]);
      expect(r.code).toBe(1);
      const text = r.stdout + r.stderr;
      expect(text).toContain('password authentication failed for user');
      expect(text).not.toContain(SSO_PASSWORD);
      expect(text).toContain('(password ••••••)');
    } finally {
      await sim.setScenario({ readyAfterMs: 200 });
    }
  });

  it('with a Neon host, a password the SSO URL cannot carry is refused before any write, its characters named', async () => {
    file(
      'neon.yaml',
      [
        'sso:',
        '  database:',
        '    existingSecret: their-sso-db',
        '    host: ep-cool-1.eu-central-1.aws.neon.tech',
        '',
      ].join('\n'),
    );
    const before = se.calls().length;
    const r = await se.deploy(['--json', '-f', 'neon.yaml']);
    expect(r.code, r.stderr).toBe(2);
    expect(doc(r).failures[0]).toMatchObject({
      id: 'cluster.secrets',
      detail: expect.stringContaining(
        'Secret their-sso-db (named by sso.database.existingSecret) key password holds "+", "/", "=", a space, "@", ":", "%", "?", "#", "&"',
      ),
    });
    expect(r.stdout + r.stderr).not.toContain(SSO_PASSWORD);
    expect(
      se
        .calls()
        .slice(before)
        .every((c) => c.tool !== 'helm' || c.args[0] !== 'upgrade'),
    ).toBe(true);
    expect(
      se
        .calls()
        .slice(before)
        .some((c) => c.tool === 'kubectl' && ['create', 'replace', 'apply'].includes(c.args[0] ?? '')),
    ).toBe(false);
  });

  it('--fresh is refused: it would delete the user’s Secrets with the namespace', async () => {
    const r = await se.deploy(['--json', '--fresh', '--yes', '-f', 'theirs.yaml']);
    expect(r.code, r.stderr).toBe(2);
    expect(r.stderr).toContain(
      `--fresh deletes namespace ${ns}, and with it Secret their-sso-db, their-api-db, their-auth (yours`,
    );
    expect(se.kubectl(['get', 'secret', 'their-sso-db', '-n', ns]).code).toBe(0);
  });
});
