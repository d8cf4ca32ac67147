import { createHash } from 'node:crypto';
import { readFileSync, readdirSync, statSync } from 'node:fs';
import path from 'node:path';
import { Secret } from '../secrets.ts';
import { type Values, isObject } from '../values.ts';

/**
 * What a deploy sends helm, as one digest recorded in the release it makes, so the next deploy can tell
 * that nothing changed without asking helm to render the chart again.
 *
 * A release renders from its chart, the values, the -f files, its name and namespace, the helm that
 * renders it, and what the chart's `lookup` calls find in the cluster. The digest covers the first
 * five; the lookups read the Secrets and the API Deployment this same release made (lib/deploy/
 * first-start.ts), which an unchanged release leaves as they were. The record sits in the values
 * (`deployInputs`, which no template reads) with the revision it was written for: any later upgrade
 * (`npm run addon`, a `helm upgrade --reuse-values` by hand, a rollback) makes a revision the record
 * does not name, and the next deploy compares by rendering again (lib/deploy/diff.ts).
 */

/** The values key of the record. */
export const INPUTS_KEY = 'deployInputs';

/** Bumped when what the digest covers changes: every older record then reads as "changed". */
const FORMAT = 'taskflow-deploy-inputs/1';

/** The record deploy writes into the values of the revision it makes. */
export interface InputsRecord {
  /** sha256 (hex) of the inputs */
  digest: string;
  /** the revision this upgrade makes */
  revision: number;
}

export interface DeployInputs {
  /** the chart folder (or packaged chart file) */
  chart: string;
  /** the values sent on stdin, without the record */
  values: Values;
  /** the user's -f files, in order */
  valuesFiles: readonly string[];
  release: string;
  namespace: string;
  /** the helm that renders (`4.1.4`) */
  helmVersion: string;
}

/** JSON with object keys sorted and Secrets revealed: the same values give the same text. */
function canonical(v: unknown): string {
  if (v instanceof Secret) return JSON.stringify(v.reveal());
  if (Array.isArray(v)) return `[${v.map(canonical).join(',')}]`;
  if (isObject(v)) {
    const keys = Object.keys(v)
      .filter((k) => v[k] !== undefined)
      .sort();
    return `{${keys.map((k) => `${JSON.stringify(k)}:${canonical(v[k])}`).join(',')}}`;
  }
  return JSON.stringify(v ?? null);
}

/** Every file under a chart folder (symbolic links followed, as helm loads them), sorted by path. */
function chartFiles(root: string): string[] {
  if (!statSync(root).isDirectory()) return [root];
  const out: string[] = [];
  const walk = (dir: string): void => {
    for (const name of readdirSync(dir)) {
      const p = path.join(dir, name);
      if (statSync(p).isDirectory()) walk(p);
      else out.push(p);
    }
  };
  walk(root);
  return out.sort();
}

/**
 * The digest of a deploy's inputs; undefined when a file cannot be read (the deploy then compares by
 * rendering, which reports the problem as helm sees it).
 */
export function inputsDigest(i: DeployInputs): string | undefined {
  const h = createHash('sha256');
  const part = (label: string, data: string | Buffer) => {
    h.update(`${label}\0${Buffer.byteLength(data)}\0`);
    h.update(data);
  };
  try {
    part('format', FORMAT);
    part('target', `${i.release}\0${i.namespace}`);
    part('helm', i.helmVersion);
    for (const f of chartFiles(i.chart)) part(`chart:${path.relative(i.chart, f)}`, readFileSync(f));
    part('values', canonical(withoutRecord(i.values)));
    for (const f of i.valuesFiles) part('values-file', readFileSync(f));
  } catch {
    return undefined;
  }
  return h.digest('hex');
}

/** The values without a record (the user's values never carry one; a release's stored values may). */
export function withoutRecord(values: Values): Values {
  if (!(INPUTS_KEY in values)) return values;
  const { [INPUTS_KEY]: _record, ...rest } = values;
  return rest;
}

/** The values deploy sends: its values with the record of this upgrade. */
export function withRecord(values: Values, record: InputsRecord): Values {
  return { ...withoutRecord(values), [INPUTS_KEY]: { digest: record.digest, revision: record.revision } };
}

/** The record in a release's stored values, when there is a well-formed one. */
export function recordOf(config: Values | undefined): InputsRecord | undefined {
  const r = config?.[INPUTS_KEY];
  if (!isObject(r)) return undefined;
  const { digest, revision } = r;
  if (typeof digest !== 'string' || !/^[0-9a-f]{64}$/.test(digest)) return undefined;
  if (typeof revision !== 'number' || !Number.isInteger(revision)) return undefined;
  return { digest, revision };
}

/**
 * Whether the installed release was made by a deploy with exactly these inputs and nothing upgraded it
 * since: its latest revision is deployed and is the one the record names, with the same digest.
 */
export function unchangedSince(
  installed: { revision: number; status: string; config: Values } | undefined,
  digest: string | undefined,
): boolean {
  if (!installed || digest === undefined || installed.status !== 'deployed') return false;
  const record = recordOf(installed.config);
  return record !== undefined && record.revision === installed.revision && record.digest === digest;
}
