import { describe, expect, it } from 'vitest';
import { type ForwardStatus, SupervisedForward } from '../../lib/forward-supervisor.ts';
import { sleepUntil } from '../../lib/forward-supervisor.ts';
import { FakeChild } from '../support/fake-runner.ts';

const FORWARDING = 'Forwarding from 127.0.0.1:3000 -> 3000';

/** One forward over fake kubectl children, a fake clock and a scripted probe. */
function harness(script: (child: FakeChild, n: number) => void, probe: (n: number) => boolean = () => true) {
  let now = 1_000_000;
  let probes = 0;
  const children: FakeChild[] = [];
  const changes: string[] = [];
  const statuses: ForwardStatus[] = [];
  const abort = new AbortController();
  const forward = new SupervisedForward(
    { name: 'web', service: 'web-dashboard', localPort: 3000, remotePort: 3000 },
    {
      start: (args) => {
        const c = new FakeChild(['kubectl', ...args], 500 + children.length);
        children.push(c);
        queueMicrotask(() => script(c, children.length));
        return c;
      },
      probe: async () => probe(++probes),
      now: () => now,
      sleep: (ms, signal) => {
        now += ms;
        return sleepUntil(1, signal);
      },
      onChange: (s) => {
        statuses.push(s);
        changes.push(`${s.state}${s.detail ? `: ${s.detail}` : ''}`);
      },
      probeMs: { starting: 10, ready: 10 },
    },
  );
  const done = forward.run(abort.signal);
  return { forward, children, changes, statuses, abort, done };
}

describe('a supervised forward', () => {
  it('is ready once kubectl forwards and the port answers; restarts after a lost connection; stops on abort', async () => {
    const h = harness((c) => c.out(FORWARDING));
    await expect.poll(() => h.changes).toEqual(['starting', 'ready']);
    expect(h.children[0]?.argv).toEqual([
      'kubectl',
      'port-forward',
      'svc/web-dashboard',
      '3000:3000',
      '--address',
      '127.0.0.1',
    ]);
    h.children[0]?.err(
      'E0101 10:00:00.000000    42 portforward.go:413] "Unhandled Error" err="error forwarding port 3000 to pod web-1, uid : lost connection to pod"',
    );
    await expect.poll(() => h.changes.length).toBe(4);
    expect(h.children[0]?.stopped).toBe(true);
    expect(h.changes.slice(2)).toEqual([
      'reconnecting: error forwarding port 3000 to pod web-1, uid : lost connection to pod; restarting in 250 ms',
      'ready',
    ]);
    expect(h.forward.status.restarts).toBe(1);
    h.abort.abort();
    const last = await h.done;
    expect(last.state).toBe('stopped');
    expect(h.children.map((c) => c.stopped)).toEqual([true, true]);
  });

  it('backs off 250 ms, 500 ms, 1 s while kubectl keeps exiting, and says why', async () => {
    const h = harness((c, n) => {
      if (n <= 3) {
        c.err('error: timed out waiting for the condition');
        c.exit(1);
      } else c.out(FORWARDING);
    });
    await expect.poll(() => h.changes.at(-1)).toBe('ready');
    expect(h.changes).toEqual([
      'starting',
      'reconnecting: timed out waiting for the condition; restarting in 250 ms',
      'reconnecting: timed out waiting for the condition; restarting in 500 ms',
      'reconnecting: timed out waiting for the condition; restarting in 1 s',
      'ready',
    ]);
    h.abort.abort();
    await h.done;
  });

  it('reports an exit without a message with its code', async () => {
    const h = harness((c, n) => (n === 1 ? c.exit(1) : c.out(FORWARDING)));
    await expect.poll(() => h.changes.at(-1)).toBe('ready');
    expect(h.changes[1]).toBe('reconnecting: kubectl exited (code 1); restarting in 250 ms');
    h.abort.abort();
    await h.done;
  });

  it('fails for good (no restart) when the local port is taken', async () => {
    const h = harness((c) => {
      c.err('error: unable to listen on any of the requested ports: [{3000 3000}]');
      c.exit(1);
    });
    const last = await h.done;
    expect(last.state).toBe('failed');
    expect(last.detail).toBe(
      'local port is taken: unable to listen on any of the requested ports: [{3000 3000}]',
    );
    expect(h.children).toHaveLength(1);
    expect(h.changes).toEqual(['starting', `failed: ${last.detail}`]);
  });

  it('restarts a ready forward whose port stops answering (two failed probes)', async () => {
    const h = harness(
      (c) => c.out(FORWARDING),
      (n) => n === 1 || n > 3,
    );
    await expect.poll(() => h.changes.length).toBe(4);
    expect(h.changes).toEqual([
      'starting',
      'ready',
      'reconnecting: the local port stopped answering; restarting in 250 ms',
      'ready',
    ]);
    expect(h.children[0]?.stopped).toBe(true);
    h.abort.abort();
    await h.done;
  });

  it('a failed connection before the first answer is the app starting: no restart; once ready it restarts', async () => {
    const refused =
      'E0101 10:00:00.000000    42 portforward.go:424] "Unhandled Error" err="an error occurred forwarding 3000 -> 3000: error forwarding port 3000 to pod web-1, uid : connection refused"';
    let up = false;
    const h = harness(
      (c, n) => {
        c.out(FORWARDING);
        if (n === 1) c.err(refused);
      },
      () => up,
    );
    await expect.poll(() => h.changes.length).toBe(2);
    expect(h.changes[1]).toBe(
      'starting: an error occurred forwarding 3000 -> 3000: error forwarding port 3000 to pod web-1, uid : connection refused',
    );
    up = true;
    await expect.poll(() => h.changes.at(-1)).toBe('ready');
    expect(h.children).toHaveLength(1);
    h.children[0]?.err(refused);
    await expect.poll(() => h.children.length).toBe(2);
    expect(h.changes.at(-2)).toMatch(/^reconnecting: an error occurred forwarding .*; restarting in 250 ms$/);
    h.abort.abort();
    await h.done;
  });

  it('stays starting while kubectl forwards but nothing answers yet', async () => {
    const h = harness(
      (c) => c.out(FORWARDING),
      (n) => n > 5,
    );
    await expect.poll(() => h.changes).toEqual(['starting', 'ready']);
    expect(h.children).toHaveLength(1);
    h.abort.abort();
    await h.done;
  });
});
