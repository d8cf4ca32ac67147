import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { PassThrough, Writable } from 'node:stream';
import type { CommandContext, ParsedValues } from '../../lib/cli.ts';
import type { ClusterSession } from '../../lib/context.ts';
import { loadSettings } from '../../lib/env.ts';
import type { Runner } from '../../lib/exec.ts';
import { Helm } from '../../lib/helm.ts';
import { Kubectl } from '../../lib/kubectl.ts';
import { Logger } from '../../lib/log.ts';
import { Redactor } from '../../lib/redact.ts';

/** Collects what is written to a stream. */
export class Capture extends Writable {
  text = '';
  override _write(chunk: Buffer, _enc: string, cb: () => void): void {
    this.text += chunk.toString();
    cb();
  }
}

/** A Logger-compatible sink capturing every line. */
export function captureOut(): { stream: PassThrough; text: () => string } {
  const stream = new PassThrough();
  let buf = '';
  stream.on('data', (d: Buffer) => (buf += d.toString()));
  return { stream, text: () => buf };
}

/** A command context with captured stdout and log, no TTY, and an abort controller. */
export function testCtx(
  runner: Runner,
  values: ParsedValues = {},
  positionals: string[] = [],
): { ctx: CommandContext; stdout: Capture; logged: Capture; abort: AbortController } {
  const stdout = new Capture();
  const logged = new Capture();
  const abort = new AbortController();
  const stdin = Object.assign(new PassThrough(), { isTTY: false });
  const redactor = new Redactor();
  const ctx: CommandContext = {
    args: { values, positionals },
    log: new Logger({ out: logged, interactive: false, color: false, json: values.json === true, redactor }),
    runner,
    env: {},
    stdout,
    stdin,
    signal: abort.signal,
    redactor,
  };
  return { ctx, stdout, logged, abort };
}

/** A cluster session over a runner, with settings from an env file's text. */
export function testSession(
  runner: Runner,
  envText = '',
  target = { namespace: 'tf', release: 'taskflow' },
): { session: ClusterSession; cleanup(): void } {
  const dir = mkdtempSync(path.join(os.tmpdir(), 'tf-pf-'));
  const envPath = path.join(dir, '.env');
  writeFileSync(envPath, envText);
  const { settings, envFile } = loadSettings({ envFile: envPath, env: {}, ...target });
  const tool = (name: 'kubectl' | 'helm', major: number) => ({
    name,
    path: name,
    version: `${major}.0.0`,
    major,
    minor: 0,
  });
  const session: ClusterSession = {
    settings,
    envFile,
    warnings: [],
    target,
    valuesFiles: [],
    tools: { kubectl: tool('kubectl', 1), helm: tool('helm', 4) },
    kubectl: new Kubectl(runner, 'kubectl', target),
    helm: new Helm(runner, 'helm', 4, target),
    place: {
      context: 'kube-sim',
      namespace: target.namespace,
      server: 'http://127.0.0.1:6443',
      local: true,
      reason: 'the simulated cluster',
      fromFlag: false,
    },
  };
  return { session, cleanup: () => rmSync(dir, { recursive: true, force: true }) };
}
