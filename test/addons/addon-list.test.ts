// npm run addon -- list / new, and where a user's add-on definitions live (in-process, temp folders).
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import {
  BUILTIN_ADDONS_DIR,
  addonFolders,
  loadAddonDefinitions,
  reservedNames,
  userAddonsDir,
} from '../../lib/addon-defs.ts';
import { addonCommand } from '../../lib/addons/index.ts';
import type { ParsedValues } from '../../lib/cli.ts';
import { parseEnvText } from '../../lib/envfile.ts';
import { ExitCode, TaskflowError, exitCodeOf } from '../../lib/errors.ts';
import { testCtx } from '../support/command-context.ts';
import { FakeRunner, type Reply } from '../support/fake-runner.ts';

const dirs: string[] = [];
afterEach(() => dirs.splice(0).forEach((d) => rmSync(d, { recursive: true, force: true })));
function tempDir(): string {
  const d = mkdtempSync(path.join(os.tmpdir(), 'tf-addon-list-'));
  dirs.push(d);
  return d;
}

describe('userAddonsDir', () => {
  const envFile = (text: string) => parseEnvText('/w/.env', text).file;

  it.each([
    ['default: addons/ of cwd', {}, '/w/addons'],
    ['the env file', { envFile: envFile('TASKFLOW_ADDONS_DIR=team/addons\n') }, '/w/team/addons'],
    [
      'the environment wins over the env file',
      { env: { TASKFLOW_ADDONS_DIR: '/srv/addons' }, envFile: envFile('TASKFLOW_ADDONS_DIR=team\n') },
      '/srv/addons',
    ],
    [
      '--addons-dir wins over both',
      {
        flag: 'mine',
        env: { TASKFLOW_ADDONS_DIR: '/srv/addons' },
        envFile: envFile('TASKFLOW_ADDONS_DIR=x\n'),
      },
      '/w/mine',
    ],
    ['an empty setting is no setting', { env: { TASKFLOW_ADDONS_DIR: '  ' } }, '/w/addons'],
  ])('%s', (_what, opts, expected) => {
    expect(userAddonsDir({ cwd: '/w', ...opts })).toBe(expected);
  });

  it('is the folder read after the built-ins', () => {
    expect(addonFolders({ cwd: '/w', addonsDir: userAddonsDir({ cwd: '/w' }) })).toEqual([
      BUILTIN_ADDONS_DIR,
      '/w/addons',
    ]);
  });
});

describe('list and new are not add-on names', () => {
  it.each(['list', 'new'])('%s is reserved, and the loader refuses it', (name) => {
    expect(reservedNames().has(name)).toBe(true);
    const dir = tempDir();
    writeFileSync(
      path.join(dir, `${name}.yaml`),
      'title: X\ndescription: x\nimage: a:1\nports:\n  - { name: http, port: 80 }\n',
    );
    const { defs, problems } = loadAddonDefinitions([dir]);
    expect(defs).toEqual([]);
    expect(problems.map((p) => p.message)).toEqual([`name ${name} is taken by the addon command's ${name}`]);
  });
});

/** A fake helm and kubectl: `helm get values` answers with `values`, or fails with `helmError`. */
function fakeTools(opts: { values?: Record<string, unknown>; helmError?: string }) {
  return new FakeRunner((args): Reply => {
    if (args[0] === 'version') return { stdout: 'v3.18.0+g1234567' };
    if (args[0] === 'get' && args[1] === 'values') {
      return opts.helmError !== undefined
        ? { exitCode: 1, stderr: opts.helmError }
        : { stdout: JSON.stringify(opts.values ?? {}) };
    }
    if (args[0] === 'config') return { exitCode: 1, stderr: 'error: no context' };
    return { exitCode: 1, stderr: `unexpected: ${args.join(' ')}` };
  });
}

interface ListDoc {
  ok: boolean;
  namespace: string;
  addons: { name: string; title: string; source: string; on: boolean | null; ports: unknown[] }[];
  problems: { file: string; line: number; column: number; message: string; hint?: string }[];
  note?: string;
}

/** Runs `npm run addon -- <positionals>` in-process in a fresh cwd (with an empty .env). */
async function addon(
  positionals: string[],
  values: ParsedValues = {},
  opts: { cwd?: string; runner?: FakeRunner; env?: NodeJS.ProcessEnv } = {},
) {
  const cwd = opts.cwd ?? tempDir();
  const envFile = path.join(cwd, '.env');
  if (!existsSync(envFile)) writeFileSync(envFile, '');
  const runner =
    opts.runner ?? fakeTools({ helmError: 'Error: Kubernetes cluster unreachable: connection refused' });
  const { ctx, logged, stdout } = testCtx(runner, { 'env-file': envFile, ...values }, positionals);
  ctx.env = { HELM: '/bin/true', KUBECTL: '/bin/true', ...opts.env };
  try {
    const code = await addonCommand(ctx, undefined, cwd);
    return { code, logged: logged.text, stdout: stdout.text, cwd, runner };
  } catch (e) {
    if (!(e instanceof TaskflowError)) throw e;
    return { code: exitCodeOf(e), err: e, logged: logged.text, stdout: stdout.text, cwd, runner };
  }
}

describe('npm run addon -- new', () => {
  it('writes <dir>/<name>.yaml (making the folder), which loads clean, and names the next command', async () => {
    const r = await addon(['new', 'whoami'], { image: 'traefik/whoami:v1.10.1', port: '80' });
    expect(r.code, r.err?.message).toBe(ExitCode.Ok);
    const file = path.join(r.cwd, 'addons', 'whoami.yaml');
    expect(readFileSync(file, 'utf8')).toContain('image: traefik/whoami:v1.10.1\n');
    const { defs, problems } = loadAddonDefinitions([path.dirname(file)]);
    expect(problems).toEqual([]);
    expect(defs.map((d) => [d.name, d.ports])).toEqual([
      ['whoami', [{ name: 'http', port: 80, forward: 8090 }]],
    ]);
    expect(r.logged).toContain('✓ wrote addons/whoami.yaml\n');
    expect(r.logged).toContain('then check it: npm run addon -- list\n');
  });

  it('writes into --addons-dir, else TASKFLOW_ADDONS_DIR; the next command repeats --addons-dir', async () => {
    const cwd = tempDir();
    const byFlag = await addon(
      ['new', 'tool-a'],
      { image: 'a/b:1', port: '8080', 'addons-dir': 'team' },
      { cwd },
    );
    expect(byFlag.code, byFlag.err?.message).toBe(ExitCode.Ok);
    expect(existsSync(path.join(cwd, 'team', 'tool-a.yaml'))).toBe(true);
    expect(byFlag.logged).toContain('npm run addon -- list --addons-dir team');
    const bySetting = await addon(
      ['new', 'tool-b'],
      { image: 'a/b:1', port: '8080', json: true },
      { cwd, env: { TASKFLOW_ADDONS_DIR: 'shared' } },
    );
    expect(bySetting.code, bySetting.err?.message).toBe(ExitCode.Ok);
    expect(JSON.parse(bySetting.stdout)).toEqual({
      ok: true,
      name: 'tool-b',
      file: 'shared/tool-b.yaml',
      next: 'npm run addon -- list',
    });
  });

  it('refuses to overwrite a file (exit 2, with a hint) and leaves it as it was', async () => {
    const cwd = tempDir();
    mkdirSync(path.join(cwd, 'addons'));
    writeFileSync(path.join(cwd, 'addons', 'mine.yaml'), 'mine: true\n');
    const r = await addon(['new', 'mine'], { image: 'a/b:1', port: '80' }, { cwd });
    expect(r.code).toBe(ExitCode.Usage);
    expect(r.err?.message).toBe('new: addons/mine.yaml exists already: nothing was written');
    expect(r.err?.hint).toContain('npm run addon -- list');
    expect(readFileSync(path.join(cwd, 'addons', 'mine.yaml'), 'utf8')).toBe('mine: true\n');
  });

  it('a starter that does not load (an unpinned image) is not kept, and its problem is shown', async () => {
    const r = await addon(['new', 'site'], { image: 'nginx:latest', port: '80' });
    expect(r.code).toBe(ExitCode.Failed);
    expect(r.err?.message).toMatch(
      /^new: the starter definition does not load, so it was not kept:\n {2}addons\/site\.yaml:\d+:\d+: image nginx:latest is not pinned/,
    );
    expect(existsSync(path.join(r.cwd, 'addons', 'site.yaml'))).toBe(false);
  });

  it.each([
    [['new'], {}, 'new: name the add-on'],
    [
      ['new', 'Bad_Name'],
      { image: 'a:1', port: '80' },
      'new: "Bad_Name" is not a DNS label of at most 40 characters',
    ],
    [
      ['new', 'list'],
      { image: 'a:1', port: '80' },
      "new: the name list is taken by the addon command's list",
    ],
    [
      ['new', 'pgadmin'],
      { image: 'a:1', port: '80' },
      "new: the name pgadmin is taken by the chart's pgAdmin add-on",
    ],
    [['new', 'adminer'], { image: 'a:1', port: '80' }, 'new: an add-on named adminer exists already'],
    [['new', 'x'], { port: '80' }, 'new: --image is missing'],
    [['new', 'x'], { image: 'a:1' }, "new: --port (the container's port) is missing"],
    [['new', 'x'], { image: 'a:1', port: '0' }, '--port: "0" is not a port (1-65535)'],
    [['new', 'x'], { image: 'a:1', port: '80', remove: true }, '--remove does not go with new'],
    [['list'], { image: 'a:1' }, '--image does not go with list'],
    [['list', 'x'], {}, 'unexpected argument: x'],
    [['pgadmin'], { image: 'a:1' }, '--image goes with new, not with pgadmin'],
  ])('%j %j: usage error (exit 2)', async (positionals, values, message) => {
    const r = await addon(positionals, values);
    expect(r.code).toBe(ExitCode.Usage);
    expect(r.err?.message).toContain(message);
  });
});

describe('npm run addon -- list', () => {
  it('without a reachable cluster: every add-on with on unknown and a note, exit 0', async () => {
    const r = await addon(['list']);
    expect(r.code, r.logged).toBe(ExitCode.Ok);
    expect(r.logged).toMatch(
      /^› namespace taskflow \(no kube context[^\n]*\), release taskflow\nNAME +TITLE +SOURCE +ON +LOCAL PORTS\npgadmin +pgAdmin +built-in +\? +http :5050\n/,
    );
    expect(r.logged).toMatch(/\nadminer +Adminer +built-in +\? +http :8081\n/);
    expect(r.logged).toContain('your definitions: addons (none there)\n');
    expect(r.logged).toContain(
      '! on/off unknown (release taskflow in namespace taskflow): cannot reach the cluster',
    );
    const json = await addon(['list'], { json: true });
    expect(json.code).toBe(ExitCode.Ok);
    const doc = JSON.parse(json.stdout) as ListDoc;
    expect(doc).toMatchObject({ ok: true, namespace: 'taskflow', problems: [] });
    expect(doc.note).toMatch(/^on\/off unknown/);
    expect(doc.addons.map((a) => [a.name, a.source, a.on])).toEqual([
      ['pgadmin', 'built-in', null],
      ['mailpit', 'built-in', null],
      ['adminer', 'built-in', null],
      ['swagger-ui', 'built-in', null],
    ]);
  });

  it('reads the release values once: on for what they switch on, off for the rest', async () => {
    const runner = fakeTools({
      values: {
        pgadmin: { enabled: true },
        mailpit: { enabled: false },
        addons: { adminer: { enabled: true } },
      },
    });
    const r = await addon(['list'], { json: true }, { runner });
    expect(r.code).toBe(ExitCode.Ok);
    const doc = JSON.parse(r.stdout) as ListDoc;
    expect(doc.note).toBeUndefined();
    expect(Object.fromEntries(doc.addons.map((a) => [a.name, a.on]))).toEqual({
      pgadmin: true,
      mailpit: false,
      adminer: true,
      'swagger-ui': false,
    });
    expect(runner.verbs.filter((c) => c[0] === 'get')).toEqual([
      ['get', 'values', 'taskflow', '--namespace', 'taskflow', '-o', 'json', '--all'],
    ]);
  });

  it('a definition with a problem: file:line:col and hint printed, the good ones listed, exit 1; --json has both', async () => {
    const cwd = tempDir();
    const dir = path.join(cwd, 'addons');
    mkdirSync(dir);
    writeFileSync(
      path.join(dir, 'good.yaml'),
      'title: Good\ndescription: fine\nimage: a/good:1.0\nports:\n  - { name: http, port: 80, forward: 9100 }\n',
    );
    writeFileSync(
      path.join(dir, 'broken.yaml'),
      'title: Broken\ndescription: x\nimage: a/b:1\nports:\n  - name: http\n    port: 99999\n',
    );
    const r = await addon(['list'], {}, { cwd });
    expect(r.code).toBe(ExitCode.Failed);
    expect(r.logged).toMatch(/\ngood +Good +addons\/good\.yaml +\? +http :9100\n/);
    expect(r.logged).toContain('✗ addons/broken.yaml:6:11: ports[0].port must be <= 65535\n  hint: ');
    const json = await addon(['list'], { json: true }, { cwd });
    expect(json.code).toBe(ExitCode.Failed);
    const doc = JSON.parse(json.stdout) as ListDoc;
    expect(doc.ok).toBe(false);
    expect(doc.addons.find((a) => a.name === 'good')).toEqual({
      name: 'good',
      title: 'Good',
      source: 'addons/good.yaml',
      on: null,
      ports: [{ name: 'http', local: 9100 }],
    });
    expect(doc.problems).toEqual([
      {
        file: 'addons/broken.yaml',
        line: 6,
        column: 11,
        message: 'ports[0].port must be <= 65535',
        hint: expect.any(String),
      },
    ]);
  });
});
