import { readFileSync } from 'node:fs';
import path from 'node:path';
import { parse } from 'yaml';

/** Helm values as plain objects: merging, reading and building by dotted path. */

export type Values = Record<string, unknown>;

/** A values object: a plain object (not an array, not null, not a leaf such as a Secret). */
export const isObject = (v: unknown): v is Values => {
  if (typeof v !== 'object' || v === null) return false;
  const proto: unknown = Object.getPrototypeOf(v);
  return proto === Object.prototype || proto === null;
};

/** Merges `over` into `base` (objects recursively, everything else replaced); returns a new object. */
export function deepMerge(base: Values, over: Values): Values {
  const out: Values = { ...base };
  for (const [k, v] of Object.entries(over)) {
    const b = out[k];
    out[k] = isObject(b) && isObject(v) ? deepMerge(b, v) : v;
  }
  return out;
}

/** The value at a dotted path, if any. */
export function getPath(values: Values, path: string): unknown {
  let cur: unknown = values;
  for (const p of path.split('.')) {
    if (!isObject(cur)) return undefined;
    cur = cur[p];
  }
  return cur;
}

/** An object holding `value` at a dotted path. */
export function atPath(path: string, value: unknown): Values {
  return path
    .split('.')
    .reverse()
    .reduce<unknown>((acc, key) => ({ [key]: acc }), value) as Values;
}

/**
 * The values helm would use: the chart's own values.yaml, then each layer in the order helm applies
 * them (deploy passes its generated values first on stdin, then the user's -f files, which win).
 */
export function chartValues(chartDir: string, ...layers: Values[]): Values {
  let out: Values = {};
  try {
    const doc: unknown = parse(readFileSync(path.join(chartDir, 'values.yaml'), 'utf8'));
    if (isObject(doc)) out = doc;
  } catch {
    // A chart without a readable values.yaml: the layers alone (helm itself reports the chart).
  }
  for (const l of layers) out = deepMerge(out, l);
  return out;
}
