import { chmodSync, copyFileSync, mkdtempSync, rmSync, utimesSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { probeTool } from '../../lib/preflight/cluster.ts';
import { binaryIdentity, cachedVersion, rememberVersion, toolCacheFile } from '../../lib/tool-cache.ts';
import { FakeRunner, versionReply } from '../support/fake-runner.ts';
import { toolset } from '../support/tools.ts';

let dirs: string[] = [];
afterEach(() => {
  for (const d of dirs) rmSync(d, { recursive: true, force: true });
  dirs = [];
});

/** A home folder and a copy of the real helm binary named `name` in it. */
function setup(name = 'helm'): { home: string; bin: string; env: NodeJS.ProcessEnv } {
  const home = mkdtempSync(path.join(os.tmpdir(), 'tf-tool-cache-'));
  dirs.push(home);
  const bin = path.join(home, name);
  copyFileSync(toolset('v35').helm, bin);
  chmodSync(bin, 0o755);
  return { home, bin, env: { HOME: home, HELM: bin, PATH: '' } };
}

const helmVersions = () => new FakeRunner((args) => versionReply(args) ?? {});

describe('tool versions remembered by binary', () => {
  it('asks a binary once: the next probe reads the version without starting it', async () => {
    const { bin, env } = setup();
    const first = helmVersions();
    expect(await probeTool('helm', first, env)).toEqual({
      info: { name: 'helm', path: bin, version: '4.1.4', major: 4, minor: 1 },
    });
    expect(first.lines()).toEqual(['version --short']);
    const second = helmVersions();
    expect((await probeTool('helm', second, env)).info?.version).toBe('4.1.4');
    expect(second.lines()).toEqual([]);
  });

  it('asks again when the file changes, and when the remembered version is too old now', async () => {
    const { bin, env } = setup();
    await probeTool('helm', helmVersions(), env);
    utimesSync(bin, new Date(), new Date(Date.now() + 5_000));
    const changed = helmVersions();
    await probeTool('helm', changed, env);
    expect(changed.lines()).toEqual(['version --short']);

    rememberVersion({ name: 'helm', path: bin, version: '3.10.0', major: 3, minor: 10 }, env);
    const old = helmVersions();
    expect((await probeTool('helm', old, env)).info?.version).toBe('4.1.4');
    expect(old.lines()).toEqual(['version --short']);
  });

  it('never remembers a script or a binary named after something else (a shim may switch versions)', () => {
    const { home, env } = setup('mise');
    const script = path.join(home, 'helm-script');
    writeFileSync(script, '#!/bin/sh\necho v4.1.4\n', { mode: 0o755 });
    expect(binaryIdentity('helm', script)).toBeUndefined();
    expect(binaryIdentity('helm', path.join(home, 'mise'))).toBeUndefined();
    rememberVersion({ name: 'helm', path: script, version: '4.1.4', major: 4, minor: 1 }, env);
    expect(cachedVersion('helm', script, env)).toBeUndefined();
  });

  it('lives in XDG_CACHE_HOME, else ~/.cache; without either, nothing is kept', async () => {
    expect(toolCacheFile({ XDG_CACHE_HOME: '/x', HOME: '/h' })).toBe('/x/taskflow/tool-versions.json');
    expect(toolCacheFile({ HOME: '/h' })).toBe('/h/.cache/taskflow/tool-versions.json');
    expect(toolCacheFile({})).toBeUndefined();
    const { bin } = setup();
    const env = { HELM: bin, PATH: '' };
    await probeTool('helm', helmVersions(), env);
    const again = helmVersions();
    await probeTool('helm', again, env);
    expect(again.lines()).toEqual(['version --short']);
  });

  it('a cache folder that cannot be made (missing parents, under /proc) only means asking again', async () => {
    const { home, bin } = setup();
    for (const base of [path.join(home, 'no', 'such', 'folder'), '/proc/no-cache']) {
      const env = { HELM: bin, PATH: '', XDG_CACHE_HOME: base };
      await probeTool('helm', helmVersions(), env);
      const again = helmVersions();
      expect((await probeTool('helm', again, env)).info?.version).toBe('4.1.4');
      expect(again.lines()).toEqual(['version --short']);
    }
  });
});
