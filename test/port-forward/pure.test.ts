import { describe, expect, it } from 'vitest';
import { ExitCode, TaskflowError } from '../../lib/errors.ts';
import { Backoff } from '../../lib/forward-supervisor.ts';
import { classifyStderr, cleanMessage, formatMs, portForwardArgs } from '../../lib/forward-supervisor.ts';
import { parsePortForwardOptions } from '../../lib/port-forward/options.ts';
import { changeLine, renderTable, StatusView } from '../../lib/forward-supervisor.ts';
import { FORWARD_TARGETS, parseOnly, parsePorts, withPorts } from '../../lib/forward-targets.ts';
import type { ForwardStatus } from '../../lib/forward-supervisor.ts';

const fail = (fn: () => unknown): TaskflowError => {
  try {
    fn();
  } catch (e) {
    if (e instanceof TaskflowError) return e;
    throw e;
  }
  throw new Error('did not throw');
};

describe('back-off', () => {
  it('doubles from 250 ms to a 10 s ceiling', () => {
    const b = new Backoff();
    const delays = Array.from({ length: 9 }, (_, i) => b.failed(i));
    expect(delays).toEqual([250, 500, 1000, 2000, 4000, 8000, 10_000, 10_000, 10_000]);
  });

  it('starts again from 250 ms after a healthy minute, not before', () => {
    const b = new Backoff();
    b.failed(0);
    b.failed(1);
    b.healthy(1000);
    expect(b.failed(1000 + 59_999)).toBe(1000);
    b.healthy(100_000);
    b.healthy(130_000); // still healthy: the first instant counts
    expect(b.failed(160_000)).toBe(250);
  });
});

describe('targets and options', () => {
  it('has the platform defaults: web 3000, sso 3001, api 8000, mcp 8001, pgadmin 5050, mailpit 8025', () => {
    expect(FORWARD_TARGETS.map((t) => `${t.name}:${t.service}:${t.localPort}->${t.remotePort}`)).toEqual([
      'web:web-dashboard:3000->3000',
      'sso:sso-platform:3001->3001',
      'api:taskflow-api:8000->8000',
      'mcp:mcp-server:8001->8001',
      'pgadmin:pgadmin:5050->80',
      'mailpit:mailpit:8025->8025',
    ]);
  });

  it('parses --ports and --only (short or Service names, comma lists, repeatable)', () => {
    expect([...parsePorts(['web=3100, sso-platform=3101', 'api=8100'])]).toEqual([
      ['web', 3100],
      ['sso', 3101],
      ['api', 8100],
    ]);
    expect(parseOnly(['web,taskflow-api', 'web'])).toEqual(['web', 'api']);
    expect(parseOnly([])).toBeUndefined();
    // A name that can be a data add-on's waits for the release's Services (planForwards checks it).
    expect(parseOnly(['web,adminer'])).toEqual(['web', 'adminer']);
  });

  it.each([
    [
      () => parseOnly(['web,DB']),
      'unknown target "DB" in --only',
      'valid targets: web, sso, api, mcp, pgadmin, mailpit',
    ],
    [
      () => parsePorts(['web:3000']),
      'bad --ports item "web:3000": expected NAME=PORT',
      'e.g. --ports web=3100,sso=3101',
    ],
    [
      () => parsePorts(['web=70000']),
      'bad --ports item "web=70000": port must be 1-65535',
      'e.g. --ports web=3100',
    ],
    [
      () => parsePorts(['my_db=1']),
      'unknown target "my_db" in --ports',
      'valid targets: web, sso, api, mcp, pgadmin, mailpit',
    ],
    [
      () => withPorts(FORWARD_TARGETS, new Map([['web', 3001]])),
      'web and sso both want local port 3001',
      'give one another port, e.g. --ports sso=3101',
    ],
    [
      () => parsePortForwardOptions({ detach: true, stop: true }),
      '--detach and --stop exclude each other',
      'stop with: npm run port-forward -- --stop',
    ],
  ])('bad input %# is a usage error (exit 2) with a hint', (fn, message, hint) => {
    const e = fail(fn);
    expect([e.message, e.hint, e.exitCode]).toEqual([message, hint, ExitCode.Usage]);
  });
});

describe('kubectl output', () => {
  it('forwards a Service on loopback only', () => {
    expect(portForwardArgs('web-dashboard', 3000, 3000)).toEqual([
      'port-forward',
      'svc/web-dashboard',
      '3000:3000',
      '--address',
      '127.0.0.1',
    ]);
  });

  it.each([
    [
      'E0101 10:00:00.123456   4242 portforward.go:413] "Unhandled Error" err="an error occurred forwarding 3000 -> 3000: error forwarding port 3000 to pod web-1, uid : lost connection to pod"',
      'lost',
    ],
    ['error: lost connection to pod', 'lost'],
    [
      'E0101 10:00:00.123456   4242 portforward.go:424] "Unhandled Error" err="an error occurred forwarding 3000 -> 3000: error forwarding port 3000 to pod web-1, uid : failed to connect to localhost:3000 inside namespace: connection refused"',
      'connection',
    ],
    [
      'Unable to listen on port 3000: Listeners failed to create with the following errors: [unable to create listener: Error listen tcp4 127.0.0.1:3000: bind: address already in use]',
      'fatal',
    ],
    ['error: unable to listen on any of the requested ports: [{3000 3000}]', 'fatal'],
    ['Error from server (NotFound): services "pgadmin" not found', 'fatal'],
    ['Handling connection for 3000', undefined],
  ])('%s -> %s', (line, kind) => {
    expect(classifyStderr(line)?.kind).toBe(kind);
  });

  it('names the missing service and strips klog prefixes', () => {
    expect(classifyStderr('Error from server (NotFound): services "pgadmin" not found')?.detail).toBe(
      'service pgadmin not found: Error from server (NotFound): services "pgadmin" not found',
    );
    expect(cleanMessage('E0101 10:00:00.123456   4242 portforward.go:413] lost connection to pod')).toBe(
      'lost connection to pod',
    );
    expect([formatMs(250), formatMs(1500), formatMs(10_000)]).toEqual(['250 ms', '1.5 s', '10 s']);
  });
});

const row = (over: Partial<ForwardStatus>): ForwardStatus => ({
  name: 'web',
  service: 'web-dashboard',
  localPort: 3000,
  remotePort: 3000,
  url: 'http://localhost:3000',
  state: 'ready',
  detail: '',
  restarts: 0,
  since: 0,
  ...over,
});

describe('status table', () => {
  it('renders aligned columns with state marks', () => {
    expect(
      renderTable([
        row({}),
        row({
          name: 'pgadmin',
          service: 'pgadmin',
          localPort: 5051,
          remotePort: 80,
          url: 'http://localhost:5051',
          state: 'reconnecting',
          restarts: 2,
          detail: 'lost connection to pod; restarting in 500 ms',
        }),
      ]),
    ).toEqual([
      'NAME     URL                    TARGET                  STATE           RESTARTS  DETAIL',
      'web      http://localhost:3000  svc/web-dashboard:3000  ✓ ready',
      'pgadmin  http://localhost:5051  svc/pgadmin:80          ↻ reconnecting  2         lost connection to pod; restarting in 500 ms',
    ]);
  });

  it('without a terminal writes one line per change, and nothing when nothing changed', () => {
    const out: string[] = [];
    const at = new Date(2024, 0, 1, 9, 5, 7);
    const view = new StatusView({ write: (t) => out.push(t), interactive: false, now: () => at });
    view.update(row({ state: 'starting' }));
    view.update(row({ state: 'starting' }));
    view.update(row({ state: 'ready' }));
    expect(out).toEqual([
      '09:05:07 web http://localhost:3000 starting\n',
      '09:05:07 web http://localhost:3000 ready\n',
    ]);
    expect(changeLine(row({ state: 'failed', detail: 'local port is taken' }), at)).toBe(
      '09:05:07 web http://localhost:3000 failed: local port is taken',
    );
  });

  it('on a terminal redraws the table in place', () => {
    const out: string[] = [];
    const view = new StatusView({ write: (t) => out.push(t), interactive: true });
    view.update(row({ state: 'starting' }));
    view.update(row({ name: 'sso', state: 'starting' }));
    expect(out[0]?.startsWith('NAME')).toBe(true);
    expect(out[1]?.startsWith('\u001b[2A\u001b[0JNAME')).toBe(true);
    expect(out[1]?.split('\n')).toHaveLength(4);
    view.note('Forwarding.');
    expect(out[2]?.startsWith('\u001b[3A\u001b[0JNAME')).toBe(true);
    view.update(row({ state: 'ready' }));
    // The note is part of what is redrawn: four lines up.
    expect(out[3]?.startsWith('\u001b[4A\u001b[0JNAME')).toBe(true);
    expect(out[3]?.trimEnd().endsWith('Forwarding.')).toBe(true);
  });
});
