import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { ExitCode, OperationError } from '../../lib/errors.ts';
import { STATE_ENV } from '../../lib/forward-background.ts';
import { planForwards } from '../../lib/forward-targets.ts';
import { FORWARD_TARGETS } from '../../lib/forward-targets.ts';
import { superviseForwards } from '../../lib/forward-supervisor.ts';
import { testCtx, testSession } from '../support/command-context.ts';
import { FakeRunner, type FakeChild, type Reply } from '../support/fake-runner.ts';

const label = (component: string) => ({
  'app.kubernetes.io/instance': 'taskflow',
  'app.kubernetes.io/component': component,
});
const svc = (name: string, component: string) => ({
  kind: 'Service',
  metadata: { name, labels: label(component) },
  spec: { selector: label(component) },
});
const pod = (name: string, component: string, deleting = false) => ({
  kind: 'Pod',
  metadata: {
    name,
    labels: label(component),
    ...(deleting && { deletionTimestamp: '2024-01-01T00:00:00Z' }),
  },
});
const APPS = [
  ['web-dashboard', 'web'],
  ['sso-platform', 'sso'],
  ['taskflow-api', 'api'],
  ['mcp-server', 'mcp'],
] as const;

function cluster(opts: { installed?: boolean; extra?: object[]; skipPod?: string } = {}) {
  const items = [
    ...APPS.flatMap(([n, c]) => [svc(n, c), ...(opts.skipPod === n ? [] : [pod(`${n}-abc-1`, c)])]),
    ...(opts.extra ?? []),
  ];
  return new FakeRunner((args): Reply => {
    if (args[0] === 'status') {
      return opts.installed === false
        ? { exitCode: 1, stderr: 'Error: release: not found' }
        : {
            stdout: JSON.stringify({
              name: 'taskflow',
              namespace: 'tf',
              version: 1,
              info: { status: 'deployed' },
            }),
          };
    }
    if (args[0] === 'get' && args[1] === 'services,pods') return { stdout: JSON.stringify({ items }) };
    return { exitCode: 1, stderr: `unexpected ${args.join(' ')}` };
  });
}

const cleanups: (() => void)[] = [];
afterEach(() => cleanups.splice(0).forEach((c) => c()));
function session(runner: FakeRunner) {
  const s = testSession(runner);
  cleanups.push(s.cleanup);
  return s.session;
}
const free = { isFree: async () => true, holderOf: () => undefined };
const base = { ports: new Map<string, number>(), autoPorts: false, portCheck: free };

describe('planForwards', () => {
  it('forwards every app, and an add-on only when it is on; one helm and one kubectl call', async () => {
    const runner = cluster({ extra: [svc('pgadmin', 'pgadmin'), pod('pgadmin-x-1', 'pgadmin')] });
    const plan = await planForwards(session(runner), base);
    expect(plan.map((a) => `${a.target.name}:${a.localPort}`)).toEqual([
      'web:3000',
      'sso:3001',
      'api:8000',
      'mcp:8001',
      'pgadmin:5050',
    ]);
    expect(runner.verbs.map((v) => v.slice(0, 2).join(' '))).toEqual([
      'status taskflow',
      'get services,pods',
    ]);
  });

  it.each([
    [
      'release missing',
      { installed: false },
      undefined,
      'release "taskflow" is not installed in namespace "tf"',
      'run npm run deploy first (or pass -n NAMESPACE / --release NAME for another one)',
    ],
    [
      'add-on off',
      {},
      ['pgadmin'],
      'pgAdmin is not enabled in release "taskflow"',
      'turn it on: npm run addon -- pgadmin -n tf',
    ],
    [
      'pod not found',
      { skipPod: 'taskflow-api', extra: [pod('taskflow-api-old-1', 'api', true)] },
      undefined,
      'pod not found behind service taskflow-api',
      'see why: npm run doctor -- -n tf',
    ],
  ])('%s: one line with the next step, exit 1', async (_name, state, only, message, hint) => {
    const err = await planForwards(session(cluster(state)), { ...base, only }).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(OperationError);
    const e = err as OperationError;
    expect([e.message, e.hint, e.exitCode]).toEqual([message, hint, ExitCode.Failed]);
  });

  it('forwards a data add-on that is on from its Service alone: the label names it, the annotation its ports', async () => {
    const addonSvc = (name: string, ports: [string, number][], forward: string) => ({
      kind: 'Service',
      metadata: {
        name,
        labels: { ...label(name), 'taskflow.dev/addon': name },
        annotations: { 'taskflow.dev/forward': forward },
      },
      spec: { selector: label(name), ports: ports.map(([n, port]) => ({ name: n, port })) },
    });
    const runner = cluster({
      extra: [
        addonSvc('adminer', [['http', 8080]], 'http=8081'),
        pod('adminer-x-1', 'adminer'),
        addonSvc(
          'mailer',
          [
            ['smtp', 1025],
            ['web', 8025],
          ],
          'smtp=1125,web=8125',
        ),
        pod('mailer-x-1', 'mailer'),
      ],
    });
    const plan = await planForwards(session(runner), { ...base, ports: new Map([['mailer-web', 8200]]) });
    expect(
      plan.map((a) => `${a.target.name}:${a.target.service}:${a.localPort}->${a.target.remotePort}`),
    ).toEqual([
      'web:web-dashboard:3000->3000',
      'sso:sso-platform:3001->3001',
      'api:taskflow-api:8000->8000',
      'mcp:mcp-server:8001->8001',
      'adminer:adminer:8081->8080',
      'mailer-smtp:mailer:1125->1025',
      'mailer-web:mailer:8200->8025',
    ]);
    const only = await planForwards(session(runner), { ...base, only: ['adminer'] });
    expect(only.map((a) => a.target.name)).toEqual(['adminer']);
  });

  it.each([
    [{ only: ['db'] }, 'unknown target "db" in --only'],
    [{ ports: new Map([['db', 1]]) }, 'unknown target "db" in --ports'],
  ])(
    "a name that is neither the chart's nor an add-on that is on: exit 2 once the Services are read (%#)",
    async (opts, message) => {
      const err = (await planForwards(session(cluster()), { ...base, ...opts }).catch(
        (e: unknown) => e,
      )) as OperationError;
      expect([err.message, err.hint, err.exitCode]).toEqual([
        message,
        'valid targets: web, sso, api, mcp, pgadmin, mailpit (a data add-on is one while it is on: npm run addon -- list)',
        ExitCode.Usage,
      ]);
    },
  );

  it('moves a taken port with auto-ports', async () => {
    const plan = await planForwards(session(cluster()), {
      ...base,
      only: ['web'],
      autoPorts: true,
      portCheck: { isFree: async (p) => p !== 3000, holderOf: () => ({ pid: 9, command: 'vite' }) },
    });
    expect(plan).toEqual([
      { target: FORWARD_TARGETS[0], localPort: 3002, moved: { from: 3000, holder: 'pid 9 (vite)' } },
    ]);
  });
});

describe('superviseForwards', () => {
  const assignments = FORWARD_TARGETS.slice(0, 2).map((target) => ({ target, localPort: target.localPort }));

  it('prints one JSON document once every forward is ready, writes the state file, and returns 130 on Ctrl+C', async () => {
    const dir = mkdtempSync(path.join(os.tmpdir(), 'tf-sup-'));
    cleanups.push(() => rmSync(dir, { recursive: true, force: true }));
    const stateFile = path.join(dir, 'state.json');
    const runner = new FakeRunner(undefined, (c) => c.out('Forwarding from 127.0.0.1:1 -> 1'));
    const { ctx, stdout, abort } = testCtx(runner, { json: true });
    ctx.env[STATE_ENV] = stateFile;
    const s = session(runner);
    const done = superviseForwards(s.kubectl, assignments, ctx, {
      json: true,
      deps: { probe: async () => true },
    });
    await expect.poll(() => stdout.text).not.toBe('');
    expect(JSON.parse(stdout.text)).toMatchObject({
      ok: true,
      forwards: [
        { name: 'web', url: 'http://localhost:3000', state: 'ready', service: 'web-dashboard' },
        { name: 'sso', url: 'http://localhost:3001', state: 'ready', service: 'sso-platform' },
      ],
    });
    const state = JSON.parse(readFileSync(stateFile, 'utf8')) as { forwards: { state: string }[] };
    expect(state.forwards.map((f) => f.state)).toEqual(['ready', 'ready']);
    expect(runner.children.map((c) => c.argv.slice(-5).join(' '))).toEqual([
      'port-forward svc/web-dashboard 3000:3000 --address 127.0.0.1',
      'port-forward svc/sso-platform 3001:3001 --address 127.0.0.1',
    ]);
    abort.abort();
    expect(await done).toBe(ExitCode.Interrupted);
    expect(runner.children.every((c: FakeChild) => c.stopped)).toBe(true);
    expect(existsSync(stateFile)).toBe(false);
  });

  it('fails (exit 1) with the reason when every forward fails', async () => {
    const runner = new FakeRunner(undefined, (c) => {
      c.err('error: unable to listen on any of the requested ports: [{3000 3000}]');
      c.exit(1);
    });
    const { ctx, logged } = testCtx(runner);
    const err = await superviseForwards(session(runner).kubectl, assignments.slice(0, 1), ctx, {
      json: false,
    }).catch((e: unknown) => e);
    expect((err as OperationError).message).toBe(
      'web: local port is taken: unable to listen on any of the requested ports: [{3000 3000}]',
    );
    expect(logged.text).toMatch(/web http:\/\/localhost:3000 failed: local port is taken/);
  });
});
