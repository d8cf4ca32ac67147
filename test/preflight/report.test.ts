import { PassThrough } from 'node:stream';
import { describe, expect, it } from 'vitest';
import {
  type Check,
  fail,
  pass,
  reportChecks,
  runChecks,
  skip,
  summarize,
  warn,
  worst,
} from '../../lib/checks.ts';
import { TaskflowError } from '../../lib/errors.ts';
import { Logger } from '../../lib/log.ts';
import { Redactor, registerSecrets, withRedactor } from '../../lib/redact.ts';

const capture = () => {
  const s = new PassThrough();
  let text = '';
  s.on('data', (d: Buffer) => (text += d.toString()));
  return { s, text: () => text };
};

describe('runChecks', () => {
  it('runs every check, keeps the list order, and turns a throw into a failed check', async () => {
    const order: string[] = [];
    const checks: Check<null>[] = [
      {
        id: 'a',
        title: 'A',
        run: async () => (await new Promise((r) => setTimeout(r, 20)), order.push('a'), pass('fine')),
      },
      {
        id: 'b',
        title: 'B',
        run: () => {
          throw new TaskflowError('boom', { hint: 'do this' });
        },
      },
      { id: 'c', title: 'C', run: () => (order.push('c'), warn('hmm', 'look')) },
    ];
    const rs = await runChecks(checks, null);
    expect(rs).toEqual([
      { id: 'a', title: 'A', status: 'pass', detail: 'fine' },
      { id: 'b', title: 'B', status: 'fail', detail: 'the check could not run: boom', hint: 'do this' },
      { id: 'c', title: 'C', status: 'warn', detail: 'hmm', hint: 'look' },
    ]);
    expect(order).toEqual(['c', 'a']); // concurrently, reported in list order
  });

  it('masks registered secrets in every field', async () => {
    const rs = await withRedactor(new Redactor(), () => {
      registerSecrets('s3cr3t-value-xyz');
      return runChecks(
        [{ id: 'x', title: 'X', run: () => fail('has s3cr3t-value-xyz', 'not s3cr3t-value-xyz') }],
        null,
      );
    });
    expect(JSON.stringify(rs)).not.toContain('s3cr3t-value-xyz');
  });
});

describe('worst', () => {
  it('keeps the worst status, its details line by line and its first hint', () => {
    expect(worst([pass('p'), fail('f1'), warn('w', 'hw'), fail('f2', 'h2')], pass('none'))).toEqual({
      status: 'fail',
      detail: 'f1\nf2',
      hint: 'h2',
    });
    expect(worst([], skip('none'))).toEqual({ status: 'skip', detail: 'none' });
  });
});

describe('reportChecks', () => {
  const results = [
    { id: 'env.file', title: 'Env file', status: 'pass' as const, detail: '.env: 3 setting(s)' },
    {
      id: 'auth.url',
      title: 'BETTER_AUTH_URL',
      status: 'fail' as const,
      detail: 'bad\nsecond line',
      hint: 'fix it',
    },
    { id: 'cluster.reachable', title: 'Cluster', status: 'skip' as const, detail: 'no cluster' },
  ];

  it('prints one line per check with ✓ ✗ - marks, extra lines and hints, then a summary; exit 1 on a failure', () => {
    const out = capture();
    const code = reportChecks(results, {
      log: new Logger({ out: out.s, color: false, interactive: false }),
      stdout: out.s,
      json: false,
    });
    expect(out.text()).toBe(
      [
        '✓ Env file: .env: 3 setting(s) [env.file]',
        '✗ BETTER_AUTH_URL: bad [auth.url]',
        '    second line',
        '  hint: fix it',
        '- Cluster: no cluster [cluster.reachable]',
        '',
        '✗ 1 passed, 1 failed, 1 skipped',
        '',
      ].join('\n'),
    );
    expect(code).toBe(1);
  });

  it('prints only the JSON document on stdout with --json', () => {
    const out = capture();
    const err = capture();
    const code = reportChecks(
      results.filter((r) => r.status !== 'fail'),
      {
        log: new Logger({ out: err.s, json: true }),
        stdout: out.s,
        json: true,
      },
    );
    expect(JSON.parse(out.text())).toEqual({ ok: true, checks: results.filter((r) => r.status !== 'fail') });
    expect(err.text()).toBe('');
    expect(code).toBe(0);
  });

  it('summarizes counts', () => {
    expect(summarize([...results, { ...results[1]!, status: 'warn' }])).toBe(
      '1 passed, 1 warning, 1 failed, 1 skipped',
    );
  });
});
