import { PassThrough } from 'node:stream';
import { describe, expect, it } from 'vitest';
import { Logger } from '../../lib/log.ts';
import { Redactor, registerSecrets, withRedactor } from '../../lib/redact.ts';

type Sink = PassThrough & { text(): string; isTTY: boolean; columns: number } & Record<string, unknown>;

/** A stream collecting what is written, passed off as a terminal (with a tty's cursor methods) or not. */
function sink(isTTY: boolean): Sink {
  const s = new PassThrough() as Sink;
  let text = '';
  s.on('data', (d: Buffer) => (text += d.toString()));
  s.isTTY = isTTY;
  s.columns = 80;
  for (const m of ['cursorTo', 'moveCursor', 'clearLine', 'clearScreenDown']) {
    s[m] = (...args: unknown[]) => {
      const cb = args.find((a) => typeof a === 'function') as (() => void) | undefined;
      cb?.();
      return true;
    };
  }
  s.text = () => text;
  return s;
}

describe('Logger.progress', () => {
  it('prints a plain line per change of text when not on a terminal', () => {
    const out = sink(false);
    const log = new Logger({ out, interactive: false });
    log.progress('waiting for pods');
    log.progress('waiting for pods');
    log.progress('waiting for sso-platform');
    log.done();
    expect(out.text()).toBe('… waiting for pods\n… waiting for sso-platform\n');
  });

  it('on a terminal shows the latest text in a spinner once the spinner library has loaded', async () => {
    const out = sink(true);
    const log = new Logger({ out, interactive: true, color: false });
    log.progress('first');
    log.progress('second'); // asked before the library loaded: only the latest text is kept
    await expect.poll(() => out.text(), { timeout: 5000 }).toContain('second');
    expect(out.text()).not.toContain('first');
    log.done();
  });

  it('shows nothing when done() comes before the spinner library has loaded', async () => {
    const out = sink(true);
    const log = new Logger({ out, interactive: true, color: false });
    log.progress('short wait');
    log.done();
    log.info('finished');
    await new Promise((r) => setTimeout(r, 300));
    expect(out.text()).toBe('finished\n');
  });

  it("masks its run's secrets in progress text", () => {
    const redactor = new Redactor();
    redactor.add('s3cr3t-value');
    const out = sink(false);
    const log = new Logger({ out, interactive: false, redactor });
    log.progress('connecting with s3cr3t-value');
    expect(out.text()).toBe('… connecting with ••••••\n');
  });

  it('without a redactor of its own, masks the secrets of the run it prints for, and only those', async () => {
    const out = sink(false);
    const log = new Logger({ out, interactive: false });
    const runA = new Redactor();
    await withRedactor(runA, async () => {
      registerSecrets('secret-of-run-a');
      await Promise.resolve(); // across an await, still run A
      log.info('a: secret-of-run-a');
    });
    withRedactor(new Redactor(), () => log.info('b: secret-of-run-a'));
    registerSecrets('outside-any-run'); // no run: nothing remembers it
    log.info('c: outside-any-run');
    expect(out.text()).toBe('a: ••••••\nb: secret-of-run-a\nc: outside-any-run\n');
  });
});
