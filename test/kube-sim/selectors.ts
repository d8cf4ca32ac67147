// Label and field selectors, in their query-string form and as LabelSelector objects.
import { KubeSimError } from './runtime.ts';
import { getPath, isObject, type KObject } from './types.ts';

type Requirement =
  { key: string; op: 'in' | 'notin'; values: string[] } | { key: string; op: 'exists' | '!exists' };

/** A parsed selector: every requirement must hold. */
export type Selector = Requirement[];

function splitTopLevel(s: string): string[] {
  const parts: string[] = [];
  let depth = 0;
  let cur = '';
  for (const ch of s) {
    if (ch === '(') depth++;
    if (ch === ')') depth--;
    if (ch === ',' && depth === 0) {
      parts.push(cur);
      cur = '';
    } else cur += ch;
  }
  if (cur.trim()) parts.push(cur);
  return parts.map((p) => p.trim()).filter(Boolean);
}

/** Parses a label selector string such as `app=web,tier in (a,b),!legacy`. */
export function parseLabelSelector(s: string | null | undefined): Selector {
  if (!s) return [];
  return splitTopLevel(s).map((term): Requirement => {
    const set = /^([\w./-]+)\s+(in|notin)\s+\(([^)]*)\)$/.exec(term);
    if (set) {
      const values = (set[3] ?? '').split(',').map((v) => v.trim());
      return { key: set[1] ?? '', op: set[2] === 'in' ? 'in' : 'notin', values };
    }
    const eq = /^([\w./-]+)\s*(==|=|!=)\s*([\w.-]*)$/.exec(term);
    if (eq) return { key: eq[1] ?? '', op: eq[2] === '!=' ? 'notin' : 'in', values: [eq[3] ?? ''] };
    const not = /^!([\w./-]+)$/.exec(term);
    if (not) return { key: not[1] ?? '', op: '!exists' };
    if (/^[\w./-]+$/.test(term)) return { key: term, op: 'exists' };
    throw new KubeSimError(400, `unable to parse requirement: found '${term}', expected: identifier`);
  });
}

/** Does a label set satisfy the selector? */
export function matchesLabels(sel: Selector, labels: Record<string, string> | undefined): boolean {
  const l = labels ?? {};
  return sel.every((r) => {
    const has = Object.hasOwn(l, r.key);
    switch (r.op) {
      case 'exists':
        return has;
      case '!exists':
        return !has;
      case 'in':
        return has && r.values.includes(l[r.key] ?? '');
      case 'notin':
        return !has || !r.values.includes(l[r.key] ?? '');
    }
  });
}

/** A LabelSelector object (matchLabels/matchExpressions) as a Selector; an empty one matches all. */
export function fromLabelSelector(obj: unknown): Selector {
  if (!isObject(obj)) return [];
  const sel: Selector = [];
  const ml = obj.matchLabels;
  if (isObject(ml))
    for (const [k, v] of Object.entries(ml)) sel.push({ key: k, op: 'in', values: [String(v)] });
  const me = obj.matchExpressions;
  if (Array.isArray(me)) {
    for (const e of me) {
      if (!isObject(e)) continue;
      const key = String(e.key);
      const values = Array.isArray(e.values) ? e.values.map(String) : [];
      switch (e.operator) {
        case 'In':
          sel.push({ key, op: 'in', values });
          break;
        case 'NotIn':
          sel.push({ key, op: 'notin', values });
          break;
        case 'Exists':
          sel.push({ key, op: 'exists' });
          break;
        case 'DoesNotExist':
          sel.push({ key, op: '!exists' });
          break;
      }
    }
  }
  return sel;
}

/** A selector from a Service-style map (`spec.selector`); an empty map selects nothing. */
export function fromMap(m: unknown): Selector | undefined {
  if (!isObject(m) || Object.keys(m).length === 0) return undefined;
  return Object.entries(m).map(([k, v]) => ({ key: k, op: 'in', values: [String(v)] }));
}

interface FieldRequirement {
  path: string[];
  value: string;
  negate: boolean;
}

/** A parsed field selector such as `metadata.name=x,status.phase!=Running`. */
export type FieldSelector = FieldRequirement[];

/** Parses a field selector string. */
export function parseFieldSelector(s: string | null | undefined): FieldSelector {
  if (!s) return [];
  return s
    .split(',')
    .filter(Boolean)
    .map((term) => {
      const m = /^([\w.]+)\s*(==|=|!=)\s*(.*)$/.exec(term.trim());
      if (!m) throw new KubeSimError(400, `invalid field selector: '${term}'`);
      return { path: (m[1] ?? '').split('.'), value: m[3] ?? '', negate: m[2] === '!=' };
    });
}

/** Does an object satisfy the field selector? (Fields compare as strings; a missing field is "".) */
export function matchesFields(sel: FieldSelector, obj: KObject): boolean {
  return sel.every((r) => {
    const v = getPath(obj, r.path);
    const s = v === undefined || v === null ? '' : String(v);
    return r.negate ? s !== r.value : s === r.value;
  });
}
