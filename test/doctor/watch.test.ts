import { PassThrough } from 'node:stream';
import { describe, expect, it } from 'vitest';
import type { DoctorSnapshot } from '../../lib/doctor/collect.ts';
import { doctorLoop, watchInterval } from '../../lib/doctor/doctor.ts';
import { InterruptedError, UsageError } from '../../lib/errors.ts';
import { Logger } from '../../lib/log.ts';
import { podFailures } from '../../lib/pod-status.ts';
import * as P from '../fixtures/pods.ts';

const target = { namespace: 'taskflow', release: 'taskflow' };
const healthy: DoctorSnapshot = {
  release: { name: 'taskflow', namespace: 'taskflow', version: 1, info: { status: 'deployed' } },
  objects: [],
  events: [],
  failures: [],
  dbAuth: [],
  rawUrlPasswords: [],
  authDecrypt: [],
  secretTexts: [],
  now: 0,
};
const crashing: DoctorSnapshot = {
  ...healthy,
  failures: podFailures(P.CRASHING_API).map((f) => ({ ...f, logs: '', events: [], minikube: false })),
};

function io() {
  const out = new PassThrough();
  let text = '';
  out.on('data', (d: Buffer) => (text += d.toString()));
  return { out, text: () => text };
}

describe('doctor --watch', () => {
  it('re-runs until no check fails, pausing between rounds', async () => {
    const snaps = [crashing, crashing, healthy];
    const waits: number[] = [];
    const o = io();
    const code = await doctorLoop({
      read: async () => snaps.shift() ?? healthy,
      target,
      log: new Logger({ out: o.out, color: false, interactive: false }),
      stdout: o.out,
      json: false,
      watch: true,
      intervalMs: 2000,
      signal: new AbortController().signal,
      wait: async (ms) => void waits.push(ms),
    });
    expect(code).toBe(0);
    expect(waits).toEqual([2000, 2000]);
    expect(o.text()).toContain(
      '! round 1: 12 passed, 1 failed, 1 skipped; checking again in 2s (Ctrl+C to stop)',
    );
    expect(o.text()).toContain('! round 2: 12 passed, 1 failed, 1 skipped');
    expect(o.text().trimEnd().split('\n').at(-1)).toBe('✓ 13 passed, 1 skipped');
  });

  it('stops with the interrupt when Ctrl+C aborts the pause', async () => {
    const ac = new AbortController();
    const run = doctorLoop({
      read: async () => crashing,
      target,
      log: new Logger({ out: new PassThrough().resume(), interactive: false }),
      stdout: new PassThrough().resume(),
      json: true,
      watch: true,
      intervalMs: 60_000,
      signal: ac.signal,
    });
    setTimeout(() => ac.abort(new InterruptedError('interrupted (SIGINT)')), 20);
    await expect(run).rejects.toBeInstanceOf(InterruptedError);
  });

  it('reports once without --watch, exit 1 when a check fails, one JSON document', async () => {
    const o = io();
    const code = await doctorLoop({
      read: async () => crashing,
      target,
      log: new Logger({ out: new PassThrough().resume(), json: true }),
      stdout: o.out,
      json: true,
      watch: false,
      intervalMs: 1000,
      signal: new AbortController().signal,
    });
    expect(code).toBe(1);
    const doc = JSON.parse(o.text()) as { ok: boolean; checks: { id: string; status: string }[] };
    expect(doc.ok).toBe(false);
    expect(doc.checks.find((c) => c.id === 'pods.crashloop')?.status).toBe('fail');
  });

  it('validates --interval', () => {
    expect(watchInterval(undefined)).toBe(5000);
    expect(watchInterval('10')).toBe(10_000);
    expect(() => watchInterval('0')).toThrow(UsageError);
    expect(() => watchInterval('soon')).toThrow('--interval soon is not a number of seconds from 1 to 3600');
  });
});
