import { describe, expect, it } from 'vitest';
import { translateHelmError } from '../../lib/helm.ts';
import { bootId, processStart } from '../../lib/processes.ts';
import {
  type HeldBy,
  type Here,
  ago,
  busyError,
  formatIdentity,
  heldLease,
  holderOf,
  judge,
  microTime,
  parseIdentity,
  releasedLease,
  waitingLine,
} from '../../lib/release-lock.ts';

const T0 = Date.parse('2026-05-01T10:00:00Z');
const me = { command: 'deploy', host: 'laptop', pid: 4242, token: 'ab12', boot: 'b1', started: 777 };

describe('release lock identity', () => {
  it.each([
    ['deploy@laptop:4242:ab12', { command: 'deploy', host: 'laptop', pid: 4242, token: 'ab12' }],
    ['db restore@ci-7:1:ff', { command: 'db restore', host: 'ci-7', pid: 1, token: 'ff' }],
    ['addon mailpit@h:12:0a', { command: 'addon mailpit', host: 'h', pid: 12, token: '0a' }],
    ['', undefined],
    ['kube-controller-manager_1234', undefined],
    ['deploy@laptop:notapid:ab', undefined],
  ])('%j parses to %j', (text, want) => {
    expect(parseIdentity(text)).toEqual(want);
    if (want) expect(formatIdentity(want)).toBe(text);
  });

  it('a held lease names its holder, its boot and process start; a released one names nobody', () => {
    const lease = heldLease('taskflow', me, T0 + 5000, undefined, T0);
    expect(lease.metadata.name).toBe('taskflow-lock-taskflow');
    expect(lease.spec).toMatchObject({
      holderIdentity: 'deploy@laptop:4242:ab12',
      leaseDurationSeconds: 30,
      acquireTime: '2026-05-01T10:00:00.000000Z',
      renewTime: '2026-05-01T10:00:05.000000Z',
      leaseTransitions: 0,
    });
    expect(holderOf(lease)).toEqual({ ...me, since: T0, renewed: T0 + 5000, durationS: 30 });
    expect(holderOf(releasedLease(lease))).toBeUndefined();
    expect(holderOf(undefined)).toBeUndefined();
  });

  it('taking over carries the resourceVersion read (optimistic concurrency) and counts a transition', () => {
    const prev = heldLease('taskflow', { ...me, token: 'cd' }, T0);
    prev.metadata.resourceVersion = '41';
    const taken = heldLease('taskflow', me, T0 + 1, prev);
    expect(taken.metadata.resourceVersion).toBe('41');
    expect(taken.spec.leaseTransitions).toBe(1);
    // a renewal by the same holder is not a transition
    expect(heldLease('taskflow', me, T0 + 2, taken).spec.leaseTransitions).toBe(1);
  });

  it('microTime has microseconds as the Lease API writes them', () => {
    expect(microTime(Date.parse('2026-05-01T10:00:00.123Z'))).toBe('2026-05-01T10:00:00.123000Z');
  });
});

describe('judging a holder', () => {
  const held = (over: Partial<HeldBy> = {}): HeldBy => ({
    ...me,
    since: T0,
    renewed: T0,
    durationS: 30,
    ...over,
  });
  const here = (process: Here['process'], over: Partial<Here> = {}): Here => ({
    host: 'laptop',
    boot: 'b1',
    process,
    ...over,
  });
  const alive = here(() => 777);
  it.each<[string, HeldBy, number, Here, false | RegExp]>([
    ['fresh, alive here', held(), T0 + 29_000, alive, false],
    ['expired, alive here', held(), T0 + 31_000, alive, /last renewed 31 s ago \(it lasts 30 s\)/],
    ['fresh, its pid gone here', held(), T0, here(() => false), /its process 4242 on this machine is gone$/],
    ['fresh, its pid reused here', held(), T0, here(() => 9), /the pid is another process's now/],
    ['fresh, start unknown here (no /proc)', held(), T0, here(() => undefined), false],
    ['fresh, another host (its pid not looked at)', held({ host: 'other' }), T0, here(() => false), false],
    ['fresh, same name, another boot', held({ boot: 'b0' }), T0, here(() => false), false],
    ['expired, another host', held({ host: 'other' }), T0 + 120_000, alive, /last renewed 2m 0s ago/],
    ['never renewed', held({ renewed: undefined }), T0, alive, /no renewal time/],
  ])('%s', (_name, h, now, where, want) => {
    const j = judge(h, now, where);
    if (want === false) expect(j).toEqual({ gone: false });
    else expect(j.gone && j.why).toMatch(want);
  });
});

describe('what the user reads', () => {
  const h: HeldBy = { ...me, since: T0, renewed: T0, durationS: 30 };
  it('the waiting line names command, host, pid and since when', () => {
    expect(waitingLine('taskflow', h, T0 + 40_000)).toBe(
      'release "taskflow" is held by npm run deploy (host laptop, pid 4242, since 2026-05-01 10:00:00 UTC, 40 s ago): waiting for it to finish (--no-wait refuses instead)',
    );
  });

  it('--no-wait refuses with exit 2 and the command to run again', () => {
    const err = busyError('taskflow', h, T0 + 200_000, 'npm run migrate -- sso');
    expect(err.exitCode).toBe(2);
    expect(err.message).toBe(
      'release "taskflow" is held by npm run deploy (host laptop, pid 4242, since 2026-05-01 10:00:00 UTC, 3m 20s ago): not waiting (--no-wait)',
    );
    expect(err.hint).toBe(
      'run it again when that one has finished (without --no-wait it waits): npm run migrate -- sso',
    );
  });

  it.each([
    [0, '0 s'],
    [59_400, '59 s'],
    [200_000, '3m 20s'],
    [7_500_000, '2h 5m'],
  ])('ago(%d) = %s', (ms, want) => expect(ago(ms)).toBe(want));

  const busy = 'Error: UPGRADE FAILED: another operation (install/upgrade/rollback) is in progress';
  const target = { release: 'taskflow', namespace: 'tf' };
  it.each<[string, string | null | undefined, RegExp, RegExp | null]>([
    [
      'another command of the suite holds it',
      'npm run deploy (host h, pid 1)',
      /being changed by another writing command: npm run deploy \(host h, pid 1\)/,
      null,
    ],
    ['not known whether one does', undefined, /locked by another helm operation/, null],
    ['checked that none does', null, /from outside this suite/, /helm rollback taskflow -n tf/],
  ])("helm's busy error when %s: a rollback advised only when checked", (_n, other, msg, rollback) => {
    const err = translateHelmError(busy, target, 'upgrade the release', other);
    expect(err.message).toMatch(msg);
    if (rollback) expect(err.hint).toMatch(rollback);
    else expect(err.hint).not.toMatch(/rollback/);
  });
});

describe('processes on this machine', () => {
  const stat = (state: string, start: number) =>
    `4242 (node (x) y) ${state} 1 4242 4242 0 -1 4194560 100 0 0 0 1 2 0 0 20 0 11 0 ${start} 1000 10`;
  const files = (map: Record<string, string>) => ({
    readFile: (p: string) => {
      if (p in map) return map[p] ?? '';
      throw new Error('ENOENT');
    },
  });
  it('reads the start time of a live process (a comm with spaces and parentheses too)', () => {
    expect(processStart(4242, files({ '/proc/4242/stat': stat('S', 98765) }))).toBe(98765);
  });
  it('a zombie or a missing pid is gone when there is /proc', () => {
    expect(processStart(4242, files({ '/proc/4242/stat': stat('Z', 1), '/proc/self/stat': 'x' }))).toBe(
      false,
    );
    expect(processStart(4242, files({ '/proc/self/stat': 'x' }))).toBe(false);
  });
  it('this process runs, on this boot', () => {
    expect(processStart(process.pid)).not.toBe(false);
    expect(bootId()).toMatch(/^[0-9a-f-]{36}$/);
  });
});
