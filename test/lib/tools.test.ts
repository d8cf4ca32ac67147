import { chmodSync, mkdtempSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { NotReadyError } from '../../lib/errors.ts';
import { Runner } from '../../lib/exec.ts';
import { detectTool, findTool, isSupported, parseVersion } from '../../lib/tools.ts';
import { toolset } from '../support/tools.ts';

function fakeBin(name: string, script: string): string {
  const dir = mkdtempSync(path.join(os.tmpdir(), 'tf-bin-'));
  const p = path.join(dir, name);
  writeFileSync(p, `#!/bin/sh\n${script}\n`);
  chmodSync(p, 0o755);
  return dir;
}

describe('tools', () => {
  it.each([
    ['v1.35.2', { version: '1.35.2', major: 1, minor: 35 }],
    ['v4.1.4+g05fa379', { version: '4.1.4', major: 4, minor: 1 }],
    ['v3.18.0+gcc58e3f', { version: '3.18.0', major: 3, minor: 18 }],
    ['garbage', undefined],
  ])('parseVersion(%s)', (text, v) => expect(parseVersion(text)).toEqual(v));

  it.each([
    ['helm', 3, 12, false],
    ['helm', 3, 13, true],
    ['helm', 4, 0, true],
    ['kubectl', 1, 26, false],
    ['kubectl', 1, 33, true],
  ] as const)('isSupported(%s %i.%i) = %s', (n, M, m, ok) => expect(isSupported(n, M, m)).toBe(ok));

  it('finds a tool on PATH, and prefers KUBECTL/HELM when set', () => {
    const dir = fakeBin('kubectl', 'exit 0');
    expect(findTool('kubectl', { PATH: `/nonexistent:${dir}` })).toBe(path.join(dir, 'kubectl'));
    expect(findTool('kubectl', { PATH: dir, KUBECTL: '/no/such/kubectl' })).toBeUndefined();
    expect(findTool('helm', { PATH: dir })).toBeUndefined();
  });

  it('reads the real binaries versions', async () => {
    const t = toolset('v35');
    const r = new Runner();
    const k = await detectTool('kubectl', r, { KUBECTL: t.kubectl, PATH: '' });
    const h = await detectTool('helm', r, { HELM: t.helm, PATH: '' });
    expect(k).toMatchObject({ major: 1, minor: 35 });
    expect(h).toMatchObject({ major: 4, minor: 1 });
    const h3 = await detectTool('helm', r, { HELM: toolset('v33').helm, PATH: '' });
    expect(h3).toMatchObject({ major: 3, minor: 18 });
  });

  it('a tool that hangs, fails or prints no version: NotReady, saying which', async () => {
    const dir = fakeBin('kubectl', 'exit 0');
    const answering = (exitCode: number, stderr = '') =>
      ({
        run: async (argv: string[]) => ({ argv, exitCode, stdout: '', stderr, durationMs: 1 }),
      }) as unknown as Runner;
    const env = { KUBECTL: path.join(dir, 'kubectl'), PATH: '' };
    await expect(detectTool('kubectl', answering(124), env)).rejects.toMatchObject({
      message: expect.stringMatching(/did not answer `kubectl version` within 60 s/),
      exitCode: 3,
    });
    await expect(detectTool('kubectl', answering(2, '\nerror: bad flag\n'), env)).rejects.toMatchObject({
      message: `kubectl at ${env.KUBECTL} exited with code 2 when asked its version: error: bad flag`,
    });
    await expect(detectTool('kubectl', answering(0), env)).rejects.toMatchObject({
      message: `kubectl at ${env.KUBECTL} did not report its version`,
    });
  });

  it('a missing or too old tool is NotReady (exit 3) with an install hint', async () => {
    const r = new Runner();
    await expect(detectTool('helm', r, { PATH: '/nonexistent' })).rejects.toThrow(NotReadyError);
    await expect(detectTool('helm', r, { PATH: '/nonexistent' })).rejects.toMatchObject({
      message: 'helm not found: helm is not on PATH',
      hint: expect.stringMatching(/install helm/),
    });
    const old = fakeBin('helm', 'echo v3.10.0+gabc');
    await expect(detectTool('helm', r, { PATH: old })).rejects.toMatchObject({
      message: 'helm 3.10.0 is too old (need 3.13 or newer)',
    });
  });
});
