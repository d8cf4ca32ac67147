import { cpSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import {
  type DeployInputs,
  INPUTS_KEY,
  inputsDigest,
  recordOf,
  unchangedSince,
  withRecord,
  withoutRecord,
} from '../../lib/deploy/inputs.ts';
import { Secret } from '../../lib/secrets.ts';
import { repoRoot } from '../support/tools.ts';

const dir = mkdtempSync(path.join(os.tmpdir(), 'tf-inputs-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

/** A copy of the chart to edit, and a -f file. */
const chart = path.join(dir, 'chart');
cpSync(path.join(repoRoot, 'charts', 'taskflow'), chart, { recursive: true });
const extra = path.join(dir, 'extra.yaml');
writeFileSync(extra, 'web:\n  replicaCount: 1\n');

const base = (): DeployInputs => ({
  chart,
  values: { sso: { replicaCount: 1, auth: { secret: new Secret('a'.repeat(64)) } }, api: { enabled: true } },
  valuesFiles: [extra],
  release: 'taskflow',
  namespace: 'taskflow',
  helmVersion: '4.1.4',
});

describe('the digest of what a deploy sends', () => {
  it('is a sha256, the same for the same inputs, whatever the order of the keys', () => {
    const d = inputsDigest(base());
    expect(d).toMatch(/^[0-9a-f]{64}$/);
    const reordered = { ...base(), values: { api: { enabled: true }, sso: base().values.sso } };
    expect(inputsDigest(reordered)).toBe(d);
  });

  it('changes with a value, a secret, a chart file, a -f file, the helm version or the target', () => {
    const d = inputsDigest(base());
    const changed: DeployInputs[] = [
      { ...base(), values: { ...base().values, api: { enabled: false } } },
      {
        ...base(),
        values: { ...base().values, sso: { replicaCount: 1, auth: { secret: new Secret('b'.repeat(64)) } } },
      },
      { ...base(), helmVersion: '4.1.5' },
      { ...base(), namespace: 'other' },
      { ...base(), release: 'other' },
      { ...base(), valuesFiles: [] },
    ];
    for (const c of changed) expect(inputsDigest(c)).not.toBe(d);

    writeFileSync(extra, 'web:\n  replicaCount: 2\n');
    expect(inputsDigest(base())).not.toBe(d);
    writeFileSync(extra, 'web:\n  replicaCount: 1\n');
    expect(inputsDigest(base())).toBe(d);

    const notes = path.join(chart, 'templates', 'NOTES.txt');
    writeFileSync(notes, 'edited\n', { flag: 'a' });
    expect(inputsDigest(base())).not.toBe(d);
  });

  it('leaves a record in the values out, and is undefined when a file cannot be read', () => {
    const d = inputsDigest(base());
    const recorded = withRecord(base().values, { digest: 'f'.repeat(64), revision: 3 });
    expect(recorded[INPUTS_KEY]).toEqual({ digest: 'f'.repeat(64), revision: 3 });
    expect(inputsDigest({ ...base(), values: recorded })).toBe(d);
    expect(withoutRecord(recorded)).toEqual(base().values);
    expect(inputsDigest({ ...base(), valuesFiles: [path.join(dir, 'missing.yaml')] })).toBeUndefined();
    expect(inputsDigest({ ...base(), chart: path.join(dir, 'no-chart') })).toBeUndefined();
  });
});

describe('whether the installed release was made with these inputs', () => {
  const digest = 'a'.repeat(64);
  const config = { [INPUTS_KEY]: { digest, revision: 4 } };

  it('only when its latest revision is deployed, is the one the record names, with the same digest', () => {
    expect(unchangedSince({ revision: 4, status: 'deployed', config }, digest)).toBe(true);
    // an upgrade since (npm run addon, helm upgrade --reuse-values, a rollback) carries the record over
    expect(unchangedSince({ revision: 5, status: 'deployed', config }, digest)).toBe(false);
    expect(unchangedSince({ revision: 4, status: 'failed', config }, digest)).toBe(false);
    expect(unchangedSince({ revision: 4, status: 'deployed', config }, 'b'.repeat(64))).toBe(false);
    expect(unchangedSince({ revision: 4, status: 'deployed', config }, undefined)).toBe(false);
    expect(unchangedSince({ revision: 4, status: 'deployed', config: {} }, digest)).toBe(false);
    expect(unchangedSince(undefined, digest)).toBe(false);
  });

  it('reads only a well-formed record', () => {
    expect(recordOf(config)).toEqual({ digest, revision: 4 });
    expect(recordOf({ [INPUTS_KEY]: { digest: 'xyz', revision: 4 } })).toBeUndefined();
    expect(recordOf({ [INPUTS_KEY]: { digest, revision: '4' } })).toBeUndefined();
    expect(recordOf({ [INPUTS_KEY]: 'a' })).toBeUndefined();
    expect(recordOf(undefined)).toBeUndefined();
  });
});
