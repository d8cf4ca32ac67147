import { mkdirSync, readdirSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { BUILTIN_ADDONS_DIR } from '../../lib/addon-defs.ts';
import type { CheckResult } from '../../lib/checks.ts';
import { CHART_PATH } from '../../lib/context.ts';
import { parseSettings } from '../../lib/env.ts';
import { parseEnvText } from '../../lib/envfile.ts';
import { ADDON_CHECKS, settingsLocalPorts } from '../../lib/preflight/checks-addons.ts';
import { check, checkTestFrame, options } from './support.ts';

const BUILTINS = readdirSync(BUILTIN_ADDONS_DIR)
  .filter((f) => f.endsWith('.yaml'))
  .sort()
  .map((f) => f.replace(/\.yaml$/, ''));

/** A valid definition of the user's (its forward clear of the built-ins' and the platform's ports). */
const def = (extra = '', forward = 8093) =>
  [
    'title: Tool',
    'description: A tool.',
    'image: example/tool:1.2.3',
    'ports:',
    '  - name: http',
    '    port: 8080',
    `    forward: ${forward}`,
    extra,
  ].join('\n');

const frame = checkTestFrame();

/**
 * Runs the check in a fresh folder (cwd) holding `files` (relative paths), with an env file text and
 * process environment; helm renders the bundled chart unless `helm: false`.
 */
async function run(
  files: Record<string, string>,
  opts: { env?: string; processEnv?: NodeJS.ProcessEnv; helm?: boolean; values?: string } = {},
): Promise<CheckResult> {
  const t = frame.temp(opts.env ?? '');
  for (const [f, text] of Object.entries(files)) {
    mkdirSync(path.dirname(path.join(t.dir, f)), { recursive: true });
    writeFileSync(path.join(t.dir, f), text);
  }
  const valuesFiles = opts.values === undefined ? [] : [path.join(t.dir, 'values.yaml')];
  if (opts.values !== undefined) writeFileSync(path.join(t.dir, 'values.yaml'), opts.values);
  const [r] = await check(
    ADDON_CHECKS,
    options(t.dir, {
      env: { PATH: '', ...(opts.helm !== false && { HELM: frame.helm() }), ...opts.processEnv },
      chart: CHART_PATH,
      valuesFiles,
    }),
  );
  if (!r) throw new Error('no result');
  return r;
}

describe('addons.definitions', () => {
  it('a clean run passes and names the built-ins', async () => {
    const r = await run({});
    expect(r).toEqual({
      id: 'addons.definitions',
      status: 'pass',
      title: 'Add-on definitions',
      detail: `${BUILTINS.length} definitions (${BUILTINS.join(', ')}) are valid`,
    });
    expect(BUILTINS).toEqual(expect.arrayContaining(['adminer', 'swagger-ui']));
  });

  it("names the user's definitions after the built-ins", async () => {
    const r = await run({ 'addons/tool.yaml': def() });
    expect(r.status).toBe('pass');
    expect(r.detail).toBe(
      `${BUILTINS.length + 1} definitions (${[...BUILTINS, 'tool'].join(', ')}) are valid`,
    );
  });

  it('says when the references could not be checked (no helm)', async () => {
    const r = await run({}, { helm: false });
    expect(r.status).toBe('pass');
    expect(r.detail.split('\n')).toEqual([
      `${BUILTINS.length} definitions (${BUILTINS.join(', ')}) are valid`,
      'their Secret and ConfigMap references were not checked: helm is not available',
    ]);
  });

  it('a bad definition in the user folder fails with its file:line:col, one line each', async () => {
    const r = await run(
      {
        'addons/bad.yaml': def().replace('port: 8080', 'port: 70000').replace('1.2.3', 'latest'),
        'addons/also.yaml': 'title: [\n',
      },
      { helm: false },
    );
    expect(r.status).toBe('fail');
    const lines = r.detail.split('\n');
    expect(lines).toHaveLength(2);
    expect(lines[0]).toMatch(/^addons\/also\.yaml:\d+:\d+: not valid YAML/);
    expect(lines[1]).toMatch(/^addons\/bad\.yaml:6:11: ports\[0\]\.port /);
    expect(r.hint).toMatch(/addon\.schema\.json/);
  });

  it("a rule of the loader's (an unpinned image) fails with its own hint", async () => {
    const r = await run({ 'addons/tool.yaml': def().replace('1.2.3', 'latest') }, { helm: false });
    expect(r.status).toBe('fail');
    expect(r.detail).toBe(
      'addons/tool.yaml:3:8: image example/tool:latest is not pinned: latest changes under you',
    );
    expect(r.hint).toMatch(/^pin a version: example\/tool:<version>/);
  });

  it('a key the chart does not render in its Secret fails at the key', async () => {
    const r = await run({
      'addons/tool.yaml': def('env:\n  - name: PW\n    secret: { name: sso-postgres, key: passwd }'),
    });
    expect(r.status).toBe('fail');
    expect(r.detail).toBe(
      'addons/tool.yaml:10:40: env PW: Secret sso-postgres has no key passwd (its keys: password)',
    );
    expect(r.hint).toBe('refer to a key the chart renders in Secret sso-postgres');
  });

  it('a key the chart renders passes; ConfigMap and file references too', async () => {
    const r = await run({
      'addons/tool.yaml': def(
        [
          'env:',
          '  - { name: PW, secret: { name: sso-postgres, key: password } }',
          '  - { name: AUTH_URL, configMap: { name: sso-platform, key: BETTER_AUTH_URL } }',
          'files:',
          '  - { path: /run/secrets/pw, secret: { name: api-postgres, key: password } }',
        ].join('\n'),
      ),
    });
    expect([r.status, r.detail]).toEqual(['pass', expect.stringMatching(/ are valid$/)]);
  });

  it('a ConfigMap key the chart does not render fails', async () => {
    const r = await run({
      'addons/tool.yaml': def('env:\n  - { name: U, configMap: { name: sso-platform, key: NOPE } }'),
    });
    expect(r.status).toBe('fail');
    expect(r.detail).toMatch(
      /^addons\/tool\.yaml:9:\d+: env U: ConfigMap sso-platform has no key NOPE \(its keys: .*BETTER_AUTH_URL/,
    );
  });

  it('a file from a ConfigMap key the chart does not render fails too', async () => {
    const r = await run({
      'addons/tool.yaml': def('files:\n  - { path: /x, configMap: { name: sso-platform, key: NOPE } }'),
    });
    expect(r.status).toBe('fail');
    expect(r.detail).toMatch(/^addons\/tool\.yaml:9:\d+: file \/x: ConfigMap sso-platform has no key NOPE/);
  });

  it('a Secret of the chart not rendered with these settings fails (pgAdmin off)', async () => {
    const r = await run({
      'addons/tool.yaml': def('files:\n  - { path: /x, secret: { name: pgadmin, key: password } }'),
    });
    expect(r.status).toBe('fail');
    expect(r.detail).toBe(
      'addons/tool.yaml:9:33: file /x: the chart renders no Secret pgadmin with these settings',
    );
  });

  it('a ConfigMap named like a Secret of the chart fails, saying so', async () => {
    const r = await run({
      'addons/tool.yaml': def('env:\n  - { name: PW, configMap: { name: sso-postgres, key: password } }'),
    });
    expect(r.status).toBe('fail');
    expect(r.detail).toMatch(
      /env PW: the chart renders no ConfigMap sso-postgres with these settings \(it renders a Secret of that name\)$/,
    );
  });

  it("a database Secret replaced by an existingSecret fails, naming the user's Secret", async () => {
    const r = await run(
      { 'addons/tool.yaml': def('env:\n  - { name: PW, secret: { name: api-postgres, key: password } }') },
      {
        values:
          'api:\n  database:\n    password: ""\n    existingSecret: my-api-db\n    existingSecretKey: pw\n',
      },
    );
    expect(r.status).toBe('fail');
    expect(r.detail).toMatch(/env PW: the chart renders no Secret api-postgres with these settings$/);
    expect(r.hint).toBe('api.database.existingSecret is set: the password is in Secret my-api-db, key pw');
  });

  it('a Secret clearly outside the chart warns: not rendered by the chart', async () => {
    const r = await run({
      'addons/tool.yaml': def('env:\n  - { name: TOKEN, secret: { name: my-tokens, key: github } }'),
    });
    expect(r.status).toBe('warn');
    expect(r.detail).toBe('addons/tool.yaml:9:36: env TOKEN: Secret my-tokens is not rendered by the chart');
    expect(r.hint).toBe(
      'create Secret my-tokens with key github in namespace taskflow before the add-on starts (it will not start without it)',
    );
  });

  it('a forward port on the local port the settings give the SSO warns', async () => {
    const r = await run(
      { 'addons/tool.yaml': def('', 4001) },
      {
        env: 'BETTER_AUTH_URL=http://localhost:4001\nALLOWED_ORIGINS=http://localhost:3000,http://localhost:4001\n',
      },
    );
    expect(r.status).toBe('warn');
    expect(r.detail).toBe(
      "addons/tool.yaml:7:14: ports[0].forward 4001 is the SSO's local port (BETTER_AUTH_URL=http://localhost:4001)",
    );
  });

  describe('TASKFLOW_ADDONS_DIR points the check at another folder', () => {
    const bad = { 'elsewhere/bad.yaml': def().replace('1.2.3', 'latest'), 'addons/tool.yaml': def() };

    it('from the environment (relative to cwd); addons/ is then not read', async () => {
      const r = await run(bad, { processEnv: { TASKFLOW_ADDONS_DIR: 'elsewhere' }, helm: false });
      expect(r.status).toBe('fail');
      expect(r.detail).toMatch(/^elsewhere\/bad\.yaml:3:8: image example\/tool:latest is not pinned/);
    });

    it('from the env file, the environment winning', async () => {
      const fromFile = await run(bad, { env: 'TASKFLOW_ADDONS_DIR=elsewhere\n', helm: false });
      expect(fromFile.detail).toMatch(/^elsewhere\/bad\.yaml:3:8:/);
      const both = await run(bad, {
        env: 'TASKFLOW_ADDONS_DIR=elsewhere\n',
        processEnv: { TASKFLOW_ADDONS_DIR: 'addons' },
        helm: false,
      });
      expect(both.status).toBe('pass');
      expect(both.detail).toMatch(/, tool\) are valid/);
    });

    it('a folder that does not exist warns', async () => {
      const r = await run({}, { processEnv: { TASKFLOW_ADDONS_DIR: 'nope' } });
      expect(r.status).toBe('warn');
      expect(r.detail).toMatch(
        /^TASKFLOW_ADDONS_DIR names \/.*\/nope, which is not a folder: no definition of yours is read$/,
      );
    });
  });
});

describe('settingsLocalPorts', () => {
  const ports = (env: string) => {
    const { file } = parseEnvText('.env', env);
    return Object.fromEntries(settingsLocalPorts(parseSettings(file, {}).settings));
  };

  it.each([
    ['the defaults', '', {}],
    ['ingress mode', 'TASKFLOW_ACCESS=ingress\nBETTER_AUTH_URL=https://sso.example.com\n', {}],
    [
      'the SSO moved',
      'BETTER_AUTH_URL=http://localhost:4001\nALLOWED_ORIGINS=http://localhost:3000,http://localhost:4001\n',
      { 4001: "the SSO's local port (BETTER_AUTH_URL=http://localhost:4001)" },
    ],
    [
      'the dashboard moved',
      'ALLOWED_ORIGINS=http://localhost:4000,http://localhost:3001\n',
      { 4000: "the web dashboard's local port (ALLOWED_ORIGINS lists http://localhost:4000)" },
    ],
    [
      "an add-on's own origin beside the dashboard's default",
      'ALLOWED_ORIGINS=http://localhost:8082,http://localhost:3000,http://localhost:3001\n',
      {},
    ],
  ])('%s', (_name, env, expected) => {
    expect(ports(env)).toEqual(expected);
  });
});
