/**
 * Where a problem of an add-on definition file is, and what it says: ajv's schema errors turned into one
 * plain message per cause at the offending YAML node (lib/addon-defs.ts loads and checks the files).
 */
import type { ErrorObject } from 'ajv/dist/2020.js';
import { type Document, type LineCounter, type Node, isMap, isScalar, isSeq, visit } from 'yaml';
import { closest } from './did-you-mean.ts';

export type Seg = string | number;
/** A problem before it has a file: the path of the node it is about and whether to point at its key. */
export interface Found {
  at: Seg[];
  key?: boolean;
  message: string;
  hint?: string;
}

/** `ports[0].port` for ['ports', 0, 'port']. */
export function pathText(segs: Seg[]): string {
  if (segs.length === 0) return 'the definition';
  return segs.map((s, i) => (typeof s === 'number' ? `[${s}]` : i === 0 ? s : `.${s}`)).join('');
}

const SCHEMA_HINT = 'the keys and their rules: charts/taskflow/addon.schema.json';
const descriptionOf = (schema: unknown): string | undefined =>
  typeof (schema as { description?: unknown })?.description === 'string'
    ? (schema as { description: string }).description
    : undefined;
const TYPE_NAMES: Record<string, string> = {
  string: 'text',
  integer: 'a whole number',
  number: 'a number',
  boolean: 'true or false',
  array: 'a list',
  object: 'a mapping (key: value)',
};

/** ajv's errors as problems at the offending node, one per cause (a failed oneOf hides its branches). */
export function schemaFindings(errors: ErrorObject[], data: unknown): Found[] {
  const segsOf = (pointer: string): Seg[] => {
    const out: Seg[] = [];
    let node: unknown = data;
    for (const raw of pointer.split('/').slice(1)) {
      const s = raw.replace(/~1/g, '/').replace(/~0/g, '~');
      const seg: Seg = Array.isArray(node) && /^\d+$/.test(s) ? Number(s) : s;
      out.push(seg);
      node = (node as Record<string, unknown> | undefined)?.[seg as string];
    }
    return out;
  };
  const oneOfs = errors.filter((e) => e.keyword === 'oneOf').map((e) => `${e.schemaPath}/`);
  const found: Found[] = [];
  for (const e of errors) {
    if (e.keyword === 'if' || oneOfs.some((p) => e.schemaPath.startsWith(p))) continue;
    const at = segsOf(e.instancePath);
    const p = pathText(at);
    const params = e.params as Record<string, unknown>;
    const hint = descriptionOf(e.parentSchema) ? `${p}: ${descriptionOf(e.parentSchema)}` : SCHEMA_HINT;
    switch (e.keyword) {
      case 'required': {
        const prop = String(params.missingProperty);
        found.push({ at, message: `${pathText([...at, prop])} is required`, hint: SCHEMA_HINT });
        break;
      }
      case 'additionalProperties': {
        const prop = String(params.additionalProperty);
        const known = Object.keys((e.parentSchema as { properties?: object }).properties ?? {});
        const guess = closest(prop, known);
        found.push({
          at: [...at, prop],
          key: true,
          message: `${pathText([...at, prop])} is not a known key`,
          hint: `${guess ? `did you mean ${guess}? ` : ''}keys here: ${known.join(', ')}`,
        });
        break;
      }
      case 'type': {
        const want = TYPE_NAMES[String(params.type)] ?? String(params.type);
        const quote = params.type === 'string' && (typeof e.data === 'number' || typeof e.data === 'boolean');
        found.push({
          at,
          message: `${p} must be ${want}`,
          hint: quote ? `quote it: '${String(e.data)}'` : hint,
        });
        break;
      }
      case 'enum': {
        const allowed = (params.allowedValues as unknown[]).map(String);
        const guess = typeof e.data === 'string' ? closest(e.data, allowed) : undefined;
        found.push({
          at,
          message: `${p} must be one of ${allowed.join(', ')}`,
          hint: guess ? `did you mean ${guess}?` : hint,
        });
        break;
      }
      case 'pattern':
        found.push({
          at,
          message: `${p} must be ${descriptionOf(e.parentSchema) ?? `like ${String(params.pattern)}`}`,
        });
        break;
      case 'oneOf': {
        // Not a mapping at all: its type error says so.
        if (typeof e.data !== 'object' || e.data === null) break;
        const keys = ((e.parentSchema as { oneOf?: { required: string[] }[] }).oneOf ?? []).map(
          (b) => b.required[0],
        );
        const set = keys.filter((k) => k !== undefined && k in (e.data as object));
        found.push({
          at,
          message:
            set.length === 0
              ? `${p} needs one of ${keys.join(', ')}`
              : `${p} sets ${set.join(' and ')}: set exactly one of ${keys.join(', ')}`,
          hint,
        });
        break;
      }
      case 'uniqueItems': {
        const j = Number(params.j);
        found.push({
          at: [...at, j],
          message: `${p} lists ${JSON.stringify((e.data as unknown[])[j])} twice`,
        });
        break;
      }
      default:
        found.push({
          at,
          message: `${p} ${(e.message ?? 'is invalid').replace('must NOT', 'must not')}`,
          hint,
        });
    }
  }
  return found;
}

/** Line and column (from 1) of the node at `at` (its key with `key`), else of the nearest node above it. */
export function locate(
  doc: Document,
  lc: LineCounter,
  at: Seg[],
  key = false,
): { line: number; col: number } {
  let node: unknown = doc.contents;
  let offset = (doc.contents as Node | null)?.range?.[0] ?? 0;
  for (const [i, seg] of at.entries()) {
    let next: unknown;
    if (isMap(node)) {
      const pair = node.items.find((it) => isScalar(it.key) && it.key.value === seg);
      const k = pair?.key as Node | undefined;
      if (k?.range && key && i === at.length - 1) return lc.linePos(k.range[0]);
      next = pair?.value ?? undefined;
      if (next === undefined && k?.range) offset = k.range[0];
    } else if (isSeq(node) && typeof seg === 'number') next = node.items[seg];
    const range = (next as Node | undefined)?.range;
    if (!range) break;
    node = next;
    offset = range[0];
  }
  return lc.linePos(offset);
}

/** The second and later keys of a mapping that repeat an earlier key (yaml reports only the mapping). */
export function duplicateKeys(doc: Document): { key: string; offset: number }[] {
  const out: { key: string; offset: number }[] = [];
  visit(doc, {
    Map(_k, map) {
      const seen = new Set<unknown>();
      for (const pair of map.items) {
        const key = isScalar(pair.key) ? pair.key.value : pair.key;
        if (seen.has(key)) out.push({ key: String(key), offset: (pair.key as Node | null)?.range?.[0] ?? 0 });
        seen.add(key);
      }
    },
  });
  return out;
}
