// The pure parts of `npm run logs`: options, component names, prefixes, colours, NDJSON, masking, the
// watch's JSON splitting, and the follower bookkeeping (one kubectl per container run) with a fake kubectl.
import { PassThrough } from 'node:stream';
import { describe, expect, it } from 'vitest';
import { parseCommandLine } from '../../lib/cli.ts';
import type { Started } from '../../lib/exec.ts';
import type { Kubectl } from '../../lib/kubectl.ts';
import { LineFormatter, colourOf, splitTimestamp, useColour } from '../../lib/logs/format.ts';
import { batchedWriter } from '../../lib/logs/logs.ts';
import { linePrefix, podSuffix, podView } from '../../lib/logs/pods.ts';
import { secretArgs, secretsOf } from '../../lib/logs/secrets.ts';
import { selectComponents } from '../../lib/logs/select.ts';
import { LOGS_SPEC, parseLogsOptions } from '../../lib/logs/spec.ts';
import {
  LogStream,
  type StreamOutput,
  logArgs,
  readableContainers,
  toRecord,
} from '../../lib/logs/stream.ts';
import { JsonSplitter, type PodEvent } from '../../lib/logs/watch.ts';
import type { Pod } from '../../lib/pod-status.ts';
import { Redactor } from '../../lib/redact.ts';
import { UsageError } from '../../lib/errors.ts';

const options = (argv: string[], tty = false) => {
  const p = parseCommandLine(LOGS_SPEC, argv);
  return parseLogsOptions(p.values, p.positionals, tty);
};

describe('options', () => {
  it('follows by default on a terminal only; --previous and --no-follow turn it off', () => {
    expect(options([]).follow).toBe(false);
    expect(options([], true).follow).toBe(true);
    expect(options(['--no-follow'], true).follow).toBe(false);
    expect(options(['--previous'], true).follow).toBe(false);
    expect(options(['--follow']).follow).toBe(true);
  });

  it.each([
    [['--follow', '--no-follow'], '--follow and --no-follow contradict each other'],
    [['--follow', '--previous'], '--previous shows instances that have ended: it cannot be followed'],
    [['--since', 'yesterday'], '--since: "yesterday" is not a duration'],
    [['--tail=-3'], '--tail: "-3" is not a number of lines'],
    [['--tail', 'ten'], '--tail: "ten" is not a number of lines'],
    [['--grep', '(unclosed'], '--grep: Invalid regular expression: /(unclosed/i: Unterminated group'],
  ])('%j is a usage error', (argv, message) => {
    expect(() => options(argv)).toThrow(UsageError);
    expect(() => options(argv)).toThrow(message);
  });

  it('reads --since as whole seconds for kubectl, --tail, --grep, --json and the component names', () => {
    const o = options(['api', 'sso-p', '--since', '10m', '--tail', '20', '--grep', 'err|warn', '--json']);
    expect(o).toMatchObject({ components: ['api', 'sso-p'], since: '600s', tail: 20, json: true });
    expect(o.grep?.test('an error')).toBe(true);
    expect(options(['--since', '1500ms']).since).toBe('2s');
  });

  it('rejects unknown options (exit 2)', () => {
    expect(() => parseCommandLine(LOGS_SPEC, ['--folow'])).toThrow(/Unknown option '--folow'/);
  });
});

describe('component names', () => {
  it('every component, or the named ones by exact name or unique prefix', () => {
    expect(selectComponents([], [])).toBeUndefined();
    expect([...selectComponents(['api', 'sso-p', 'sso-m', 'we'], [])!]).toEqual([
      'api',
      'sso-postgres',
      'sso-migrate',
      'web',
    ]);
    expect([...selectComponents(['pga', 'whoami'], ['whoami'])!]).toEqual(['pgadmin', 'whoami']);
  });

  it('an ambiguous prefix or an unknown name is exit 2 with the valid names', () => {
    const err = (names: string[]) => {
      try {
        selectComponents(names, ['whoami']);
      } catch (e) {
        return e as UsageError;
      }
      throw new Error('no error');
    };
    const amb = err(['sso-']);
    expect(amb.exitCode).toBe(2);
    expect(amb.message).toBe('"sso-" could be any of: sso-migrate, sso-postgres');
    expect(amb.hint).toContain('(components: api, api-migrate, api-postgres, mailpit, mcp, pgadmin, sso, ');
    const unknown = err(['apii']);
    expect(unknown.message).toBe('unknown component "apii"');
    expect(unknown.hint).toMatch(
      /^did you mean api\? npm run logs -- api \(components: .*\bapi-migrate\b.*\bwhoami\b\)$/,
    );
    expect(err(['zzz']).hint).toMatch(/^\(components: /);
    expect(amb.hint).toMatch(/^name one of them, e.g. npm run logs -- sso-migrate \(/);
  });
});

function pod(over: {
  name: string;
  labels?: Record<string, string>;
  owner?: { kind: string; name: string };
  inits?: { name: string; restartPolicy?: string }[];
  containers?: string[];
  statuses?: Record<string, { running?: boolean; terminated?: boolean; id?: string; restarts?: number }>;
  uid?: string;
  deleting?: boolean;
}): Pod {
  const status = (name: string) => {
    const s = over.statuses?.[name];
    if (!s) return { name, state: { waiting: { reason: 'PodInitializing' } } };
    return {
      name,
      restartCount: s.restarts ?? 0,
      ...(s.id && { containerID: s.id }),
      state: s.running ? { running: {} } : s.terminated ? { terminated: { exitCode: 0 } } : { waiting: {} },
      lastState: s.restarts ? { terminated: { exitCode: 1 } } : {},
    };
  };
  const containers = over.containers ?? ['main'];
  return {
    kind: 'Pod',
    metadata: {
      name: over.name,
      uid: over.uid ?? over.name,
      labels: over.labels ?? {},
      ...(over.owner && { ownerReferences: [over.owner] }),
      ...(over.deleting && { deletionTimestamp: '2026-01-01T00:00:00Z' }),
    },
    spec: { initContainers: over.inits ?? [], containers: containers.map((name) => ({ name })) },
    status: {
      initContainerStatuses: (over.inits ?? []).map((c) => status(c.name)),
      containerStatuses: containers.map(status),
    },
  } as unknown as Pod;
}

const SSO = pod({
  name: 'sso-platform-7c9d8f-x2k4q',
  labels: { 'app.kubernetes.io/component': 'sso', 'pod-template-hash': '7c9d8f' },
  owner: { kind: 'ReplicaSet', name: 'sso-platform-7c9d8f' },
  inits: [{ name: 'wait-for-db' }, { name: 'proxy', restartPolicy: 'Always' }],
  containers: ['sso-platform', 'metrics'],
  statuses: {
    'wait-for-db': { terminated: true, id: 'c://1' },
    proxy: { running: true, id: 'c://2' },
    'sso-platform': { running: true, id: 'c://3', restarts: 2 },
  },
});

describe('pods and prefixes', () => {
  it('component/pod-suffix, plus :container for init containers, sidecars and any but the first', () => {
    const v = podView(SSO);
    expect(v.component).toBe('sso');
    expect(v.containers.map((c) => [linePrefix(v, c), c.kind, c.state, c.runId, c.hasPrevious])).toEqual([
      ['sso/7c9d8f-x2k4q:wait-for-db', 'init', 'terminated', 'c://1', false],
      ['sso/7c9d8f-x2k4q:proxy', 'sidecar', 'running', 'c://2', false],
      ['sso/7c9d8f-x2k4q', 'main', 'running', 'c://3', true],
      ['sso/7c9d8f-x2k4q:metrics', 'main', 'waiting', undefined, false],
    ]);
  });

  it('what a read covers: containers that run or ran; with --previous, those that restarted', () => {
    const v = podView(SSO);
    expect(readableContainers(v, false).map((c) => c.name)).toEqual(['wait-for-db', 'proxy', 'sso-platform']);
    expect(readableContainers(v, true).map((c) => c.name)).toEqual(['sso-platform']);
  });

  it.each([
    ['sso-postgres-0', { kind: 'StatefulSet', name: 'sso-postgres' }, {}, '0'],
    ['sso-migrate-manual-1a2b-zz9x8', { kind: 'Job', name: 'sso-migrate-manual-1a2b' }, {}, 'zz9x8'],
    ['taskflow-test', undefined, {}, 'taskflow-test'],
    // a ReplicaSet whose name does not end in the hash: the ReplicaSet is the workload
    ['odd-rs-abc12', { kind: 'ReplicaSet', name: 'odd-rs' }, { 'pod-template-hash': 'zzz' }, 'abc12'],
  ])('the suffix of %s', (name, owner, labels, suffix) => {
    expect(podSuffix(pod({ name, labels, ...(owner && { owner }) }))).toBe(suffix);
  });

  it('an add-on is named by its add-on label', () => {
    const p = pod({
      name: 'whoami-5f-abcde',
      labels: { 'app.kubernetes.io/component': 'whoami-x', 'taskflow.dev/addon': 'whoami' },
    });
    expect(podView(p).component).toBe('whoami');
  });
});

describe('lines', () => {
  it('splits kubectl timestamps off the line', () => {
    expect(splitTimestamp('2026-12-03T15:06:45.033000000Z  ✓ Ready')).toEqual({
      time: '2026-12-03T15:06:45.033000000Z',
      line: ' ✓ Ready',
    });
    expect(splitTimestamp('2026-12-03T15:06:45+02:00 x')).toEqual({
      time: '2026-12-03T15:06:45+02:00',
      line: 'x',
    });
    expect(splitTimestamp('no time here')).toEqual({ time: '', line: 'no time here' });
  });

  it('colours are stable per component and differ between the apps', () => {
    expect(colourOf('sso')).toBe(colourOf('sso'));
    const own = ['sso', 'api', 'mcp', 'web', 'sso-postgres', 'api-postgres', 'sso-migrate', 'api-migrate'];
    expect(new Set(own.map(colourOf)).size).toBe(own.length);
    expect(colourOf('whoami')).toBe(colourOf('whoami'));
  });

  it('colour only on a terminal without NO_COLOR', () => {
    const tty = { isTTY: true } as unknown as NodeJS.WritableStream;
    const pipe = {} as NodeJS.WritableStream;
    expect(useColour(tty, {})).toBe(true);
    expect(useColour(tty, { NO_COLOR: '1' })).toBe(false);
    expect(useColour(pipe, {})).toBe(false);
  });

  const rec = {
    time: '2026-12-03T15:06:45.033000000Z',
    component: 'sso',
    pod: 'p',
    container: 'c',
    line: 'hi',
  };
  it('text: padded prefix, " | ", the line; ANSI colour only when asked', () => {
    const f = new LineFormatter({ json: false, colour: false });
    f.reserve('sso/abc:wait-for-db');
    expect(f.line('sso/abc', rec)).toBe('sso/abc             | hi\n');
    expect(f.note('sso/abc', 'sso', 'pod p is gone')).toBe('sso/abc             | -- pod p is gone\n');
    const c = new LineFormatter({ json: false, colour: true }).line('sso/abc', rec);
    // sso is cyan: ESC[36m ... ESC[39m around the prefix only.
    expect(c).toBe('\u001b[36msso/abc\u001b[39m | hi\n');
  });

  it('--json: one object a line with time, component, pod, container, line', () => {
    const out = new LineFormatter({ json: true, colour: true }).line('sso/abc', rec);
    expect(out.endsWith('\n')).toBe(true);
    expect(out.split('\n')).toHaveLength(2);
    expect(JSON.parse(out)).toEqual(rec);
  });

  it('masks registered secrets in each line, and --grep sees only the masked line', () => {
    const redactor = new Redactor();
    redactor.add('s3cr3t-password-value');
    const v = podView(SSO);
    const c = v.containers[2]!;
    const raw = '2026-12-03T15:06:45.033000000Z connecting as postgresql://u:s3cr3t-password-value@db';
    expect(toRecord(raw, v, c, { redactor, grep: undefined })).toEqual({
      time: '2026-12-03T15:06:45.033000000Z',
      component: 'sso',
      pod: 'sso-platform-7c9d8f-x2k4q',
      container: 'sso-platform',
      line: 'connecting as postgresql://u:••••••@db',
    });
    expect(toRecord(raw, v, c, { redactor, grep: /s3cr3t/ })).toBeUndefined();
    expect(toRecord(raw, v, c, { redactor, grep: /connecting/ })?.line).toContain('••••••');
  });

  it('kubectl arguments of a read and of a follow', () => {
    expect(logArgs('p', 'c', { tail: 5, since: '60s' }, true)).toEqual([
      'logs',
      'p',
      '-c',
      'c',
      '--timestamps',
      '-f',
      '--tail=5',
      '--since=60s',
    ]);
    expect(logArgs('p', 'c', { previous: true }, false)).toEqual([
      'logs',
      'p',
      '-c',
      'c',
      '--timestamps',
      '--previous',
    ]);
  });
});

describe('secrets of the release', () => {
  const b64 = (s: string) => Buffer.from(s).toString('base64');
  it('reads the password and key Secrets in one call and decodes their values (not Mailpit’s public one)', () => {
    expect(secretArgs()).toEqual([
      'get',
      'secret',
      'sso-postgres',
      'api-postgres',
      'sso-platform',
      'taskflow-api',
      'pgadmin',
      '--ignore-not-found',
      '-o',
      'json',
    ]);
    const doc = {
      kind: 'List',
      items: [
        { kind: 'Secret', metadata: { name: 'sso-postgres' }, data: { password: b64('ssopass-123456') } },
        {
          kind: 'Secret',
          metadata: { name: 'sso-platform' },
          data: {
            BETTER_AUTH_SECRET: b64('auth-secret-xyz'),
            SMTP_PASS: b64('mailpit'),
            DATABASE_URL: b64('x'),
          },
        },
      ],
    };
    expect(secretsOf(JSON.stringify(doc)).map((s) => s.reveal())).toEqual([
      'ssopass-123456',
      'auth-secret-xyz',
    ]);
    expect(secretsOf('')).toEqual([]);
  });
});

describe('the watch stream', () => {
  it('cuts concatenated JSON documents, whatever the chunks and however indented', () => {
    const docs = [
      { type: 'ADDED', object: { s: 'a } { "b' } },
      { type: 'DELETED', object: { n: [1, { x: '\\"}' }] } },
    ];
    const text = `${JSON.stringify(docs[0])}\n${JSON.stringify(docs[1], null, 2)}\n`;
    for (const size of [1, 3, 7, text.length]) {
      const s = new JsonSplitter();
      const got: unknown[] = [];
      for (let i = 0; i < text.length; i += size)
        got.push(...s.push(text.slice(i, i + size)).map((d) => JSON.parse(d)));
      expect(got, `chunks of ${size}`).toEqual(docs);
    }
  });
});

/** A fake kubectl whose `start` records each follower and hands back streams the test writes to. */
function fakeKubectl() {
  const started: { args: string[]; out: PassThrough; stopped: boolean; exit: (code: number) => void }[] = [];
  const kubectl = {
    start(args: string[]): Started {
      const out = new PassThrough();
      const err = new PassThrough();
      let exit!: (code: number | null) => void;
      const exited = new Promise<number | null>((r) => (exit = r));
      const rec = {
        args,
        out,
        stopped: false,
        exit: (code: number) => {
          out.end();
          err.end();
          exit(code);
        },
      };
      started.push(rec);
      return {
        argv: args,
        pid: started.length,
        stdout: out,
        stderr: err,
        exited,
        stop: async () => {
          rec.stopped = true;
          rec.exit(143);
          await exited;
        },
      };
    },
  } as unknown as Kubectl;
  return { kubectl, started };
}

function output() {
  let text = '';
  const notes: string[] = [];
  const out: StreamOutput = {
    formatter: new LineFormatter({ json: false, colour: false }),
    redactor: new Redactor(),
    write: (t) => (text += t),
    note: (t) => notes.push(t),
    debug: () => undefined,
    grep: undefined,
    json: false,
  };
  return { out, text: () => text, notes };
}

const api = (id: string | undefined, running = true, uid = 'u1') =>
  pod({
    name: `taskflow-api-5d-${uid}`,
    uid,
    labels: { 'app.kubernetes.io/component': 'api', 'pod-template-hash': '5d' },
    owner: { kind: 'ReplicaSet', name: 'taskflow-api-5d' },
    containers: ['taskflow-api'],
    statuses: id ? { 'taskflow-api': { running, terminated: !running, id } } : {},
  });
const event = (type: PodEvent['type'], object: Pod): PodEvent => ({ type, object });

describe('following', () => {
  it('one follower per container run: repeated events start none, a restart starts one, --tail only at first', async () => {
    const { kubectl, started } = fakeKubectl();
    const o = output();
    const s = new LogStream(kubectl, o.out, { selected: (c) => c === 'api', initial: { tail: 10 } });
    s.begin([
      api('c://1'),
      pod({
        name: 'web-1',
        labels: { 'app.kubernetes.io/component': 'web' },
        statuses: { main: { running: true, id: 'w' } },
      }),
    ]);
    expect(started.map((x) => x.args)).toEqual([
      ['logs', 'taskflow-api-5d-u1', '-c', 'taskflow-api', '--timestamps', '-f', '--tail=10'],
    ]);
    s.onEvent(event('ADDED', api('c://1')));
    s.onEvent(event('MODIFIED', api('c://1')));
    expect(started).toHaveLength(1);
    started[0]!.out.write('2026-12-03T15:06:45.033000000Z first run\n');
    // The container restarts: its follower ends, the watch shows the new run.
    started[0]!.exit(0);
    s.onEvent(event('MODIFIED', api('c://2')));
    await expect.poll(() => started.length).toBe(2);
    expect(started[1]!.args).toEqual([
      'logs',
      'taskflow-api-5d-u1',
      '-c',
      'taskflow-api',
      '--timestamps',
      '-f',
    ]);
    s.onEvent(event('MODIFIED', api('c://2')));
    expect(started).toHaveLength(2);
    expect(s.followers).toBe(1);
    started[1]!.out.write('2026-12-03T15:06:46.000000000Z second run\n');
    await expect.poll(() => o.text()).toBe('api/5d-u1 | first run\napi/5d-u1 | second run\n');
    await s.stop();
    expect(started[1]!.stopped).toBe(true);
  });

  it('a pod that joins later is followed from its first line; one that goes away leaves with a note', async () => {
    const { kubectl, started } = fakeKubectl();
    const o = output();
    const s = new LogStream(kubectl, o.out, { selected: () => true, initial: {}, leaveGraceMs: 50 });
    s.begin([api('c://1')]);
    s.onEvent(event('ADDED', api(undefined, true, 'u2')));
    expect(started).toHaveLength(1); // not started yet: nothing to read
    s.onEvent(event('MODIFIED', api('c://9', true, 'u2')));
    expect(started.map((x) => x.args[1])).toEqual(['taskflow-api-5d-u1', 'taskflow-api-5d-u2']);
    started[1]!.out.write('2026-12-03T15:06:47.000000000Z hello\n');
    s.onEvent(event('DELETED', api('c://1')));
    await expect.poll(() => o.text()).toContain('-- pod taskflow-api-5d-u1 is gone');
    expect(started[0]!.stopped).toBe(true);
    expect(o.text()).toBe('api/5d-u2 | hello\napi/5d-u1 | -- pod taskflow-api-5d-u1 is gone\n');
    // Events of a pod that left start nothing again.
    s.onEvent(event('MODIFIED', api('c://1')));
    expect(started).toHaveLength(2);
    await s.stop();
  });

  it('a follower kubectl could not start (no line, exit 1) is retried on the next event', async () => {
    const { kubectl, started } = fakeKubectl();
    const o = output();
    const s = new LogStream(kubectl, o.out, { selected: () => true, initial: {} });
    s.begin([api('c://1')]);
    started[0]!.exit(1);
    await expect.poll(() => s.followers).toBe(0);
    s.onEvent(event('MODIFIED', api('c://1')));
    expect(started).toHaveLength(2);
    await s.stop();
  });
});

describe('output', () => {
  it('what is written in one turn of the event loop goes out in one write; flush sends the rest at once', async () => {
    const writes: string[] = [];
    const b = batchedWriter({ write: (t: string) => writes.push(t) } as unknown as NodeJS.WritableStream);
    b.write('a\n');
    b.write('b\n');
    expect(writes).toEqual([]);
    await expect.poll(() => writes).toEqual(['a\nb\n']);
    b.write('c\n');
    b.flush();
    expect(writes).toEqual(['a\nb\n', 'c\n']);
    await new Promise((r) => setImmediate(r));
    expect(writes).toEqual(['a\nb\n', 'c\n']);
  });
});

describe('--grep is smart case', () => {
  it.each([
    ['error', 'ERROR: boom', true],
    ['error', 'Error: boom', true],
    ['Error', 'ERROR: boom', false],
    ['Error', 'Error: boom', true],
    // the letters of escapes are not the text's
    ['\\Sfail', 'xFAIL', true],
  ])('--grep %s on "%s": %s', (pattern, line, matches) => {
    expect(options(['--grep', pattern]).grep?.test(line)).toBe(matches);
  });
});
