import { describe, expect, it } from 'vitest';
import { Runner, tailChunks, quoteForDisplay } from '../../lib/exec.ts';
import { Secret } from '../../lib/secrets.ts';

describe('Runner', () => {
  it('passes stdin (a secret revealed only there), returns exit code and output without throwing', async () => {
    const lines: string[] = [];
    const r = new Runner({ onCommand: (l) => lines.push(l) });
    const res = await r.run(['sh', '-c', 'cat; echo oops >&2; exit 3'], {
      stdin: new Secret('s3cret-stdin-value'),
    });
    expect(res).toMatchObject({ exitCode: 3, stdout: 's3cret-stdin-value', stderr: 'oops\n' });
    expect(lines).toEqual([`sh -c 'cat; echo oops >&2; exit 3'`]);
    expect(r.calls.map((c) => c.argv[0])).toEqual(['sh']);
  });

  it('masks registered secrets in the echoed command line', async () => {
    const lines: string[] = [];
    const r = new Runner({ onCommand: (l) => lines.push(l) });
    await r.run(['echo', 'prefix'], { stdin: new Secret('registered-secret-123') });
    await r.run(['echo', 'registered-secret-123']);
    expect(lines[1]).toBe('echo ••••••');
  });

  it('runSync: output and exit code of a small tool; a missing program is 127, never a throw', () => {
    const r = new Runner();
    expect(r.runSync(['sh', '-c', 'echo out; exit 3'])).toMatchObject({ exitCode: 3, stdout: 'out\n' });
    expect(r.runSync(['no-such-program-xyz']).exitCode).toBe(127);
    expect(r.calls.map((c) => c.argv[0])).toEqual(['sh', 'no-such-program-xyz']);
  });

  it('a child that exits without reading its stdin is an exit code, not a crash (EPIPE)', async () => {
    const r = new Runner();
    for (let i = 0; i < 5; i++) {
      const res = await r.run(['sh', '-c', 'exit 4'], { stdin: 'x'.repeat(256 * 1024) });
      expect(res.exitCode).toBe(4);
    }
  });

  it('passes arguments verbatim, with no shell interpretation', async () => {
    const r = new Runner();
    const res = await r.run(['printf', '%s|', 'a b', '$(id)', "it's", '*']);
    expect(res.stdout).toBe("a b|$(id)|it's|*|");
  });

  it('kills a child that outlives its timeout and reports 124', async () => {
    const r = new Runner();
    const res = await r.run(['sleep', '10'], { timeoutMs: 200 });
    expect(res.exitCode).toBe(124);
    // Killed, not finished: well before the 10 s the command would take (no tighter clock: machines get loaded).
    expect(res.durationMs).toBeLessThan(10_000);
  });

  it('stops long-running children by pid, and stopAll leaves none behind', async () => {
    const r = new Runner();
    const a = r.start(['sleep', '30']);
    const b = r.start(['sleep', '30']);
    expect(a.pid).toBeTypeOf('number');
    expect(r.running).toBe(2);
    await a.stop();
    expect(isAlive(a.pid!)).toBe(false);
    await r.stopAll();
    expect(isAlive(b.pid!)).toBe(false);
    expect(r.running).toBe(0);
  });

  it('holds the pid of the tool itself, not of a wrapping shell', async () => {
    const r = new Runner();
    const s = r.start(['sleep', '30']);
    const { readFileSync } = await import('node:fs');
    const exe = () => readFileSync(`/proc/${s.pid}/cmdline`, 'utf8').split('\0')[0];
    // The shell needs a moment to exec; after that the same pid is the tool.
    await expect.poll(exe, { timeout: 2000, interval: 20 }).toMatch(/sleep$/);
    await s.stop();
  });
});

describe('quoteForDisplay', () => {
  it.each([
    ['plain-arg', 'plain-arg'],
    ['a b', "'a b'"],
    ["it's", `'it'\\''s'`],
    ['--set=x', '--set=x'],
  ])('%s -> %s', (input, out) => {
    expect(quoteForDisplay(input)).toBe(out);
  });
});

function isAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
}

describe('tailChunks', () => {
  it('keeps only the newest output within its budget', () => {
    const t = tailChunks(10);
    t.push('aaaa', 'bbbb');
    t.push('cccc');
    expect(t.join('')).toBe('bbbbcccc');
    expect(t.at(-1)).toBe('cccc');
  });

  it('a long-running child with a bounded store still streams all its output', async () => {
    const r = new Runner();
    const s = r.start(['sh', '-c', 'head -c 1000000 /dev/zero | tr "\\0" x; echo END']);
    let seen = 0;
    s.stdout.on('data', (d: Buffer) => (seen += d.length));
    await s.exited;
    expect(seen).toBe(1_000_004);
  });
});

describe('Runner isolation: a command started from a long-running child gets only its own options', () => {
  /** Starts a chatty long-running child and resolves with what `inside` returns, called from its first output event. */
  async function fromChildEvent<T>(
    r: Runner,
    opts: Parameters<Runner['start']>[1],
    inside: () => Promise<T>,
  ): Promise<T> {
    const child = r.start(
      [
        'node',
        '-e',
        'process.stdin.resume(); setInterval(() => console.log("Forwarding from 127.0.0.1"), 20)',
      ],
      opts,
    );
    try {
      return await new Promise<T>((resolve, reject) => {
        child.stdout.once('data', () => {
          inside().then(resolve, reject);
        });
      });
    } finally {
      await child.stop();
    }
  }

  it("returns only its own output, not the long-running child's buffers", async () => {
    const r = new Runner();
    const res = await fromChildEvent(r, {}, () =>
      r.run(['node', '-e', 'process.stdout.write(JSON.stringify({ own: true }))']),
    );
    expect(res.stdout).toBe('{"own":true}');
    expect(JSON.parse(res.stdout)).toEqual({ own: true });
  });

  it("does not get the long-running child's stdin", async () => {
    const r = new Runner();
    const res = await fromChildEvent(r, { stdin: 'input-of-the-forward' }, () =>
      r.run(
        [
          'node',
          '-e',
          'let s = ""; process.stdin.on("data", (d) => (s += d)).on("end", () => process.stdout.write(`[${s}]`))',
        ],
        {
          timeoutMs: 20_000,
        },
      ),
    );
    expect(res.stdout).toBe('[]');
  });

  it("does not get the long-running child's environment", async () => {
    const r = new Runner();
    const res = await fromChildEvent(r, { env: { TF_ONLY_THE_FORWARD: 'forward' } }, () =>
      r.run(['node', '-e', 'process.stdout.write(process.env.TF_ONLY_THE_FORWARD ?? "unset")']),
    );
    expect(res.stdout).toBe('unset');
  });
});
