// RFC 6902 JSON Patch.
import { KubeSimError } from '../runtime.ts';
import { clone, isObject } from '../types.ts';

interface Operation {
  op: string;
  path: string;
  from?: string;
  value?: unknown;
}

function pointer(p: string): string[] {
  if (p === '') return [];
  if (!p.startsWith('/')) throw new KubeSimError(422, `invalid JSON pointer "${p}"`);
  return p
    .slice(1)
    .split('/')
    .map((s) => s.replace(/~1/g, '/').replace(/~0/g, '~'));
}

function parentOf(doc: unknown, tokens: string[], p: string): { parent: unknown; last: string } {
  let cur = doc;
  for (const t of tokens.slice(0, -1)) {
    if (Array.isArray(cur)) cur = cur[Number(t)];
    else if (isObject(cur)) cur = cur[t];
    else cur = undefined;
    if (cur === undefined)
      throw new KubeSimError(
        422,
        `the server rejected our request due to an error in our request: doc is missing path: "${p}"`,
      );
  }
  return { parent: cur, last: tokens[tokens.length - 1] ?? '' };
}

function read(doc: unknown, p: string): unknown {
  const tokens = pointer(p);
  if (!tokens.length) return doc;
  const { parent, last } = parentOf(doc, tokens, p);
  const v = Array.isArray(parent) ? parent[Number(last)] : isObject(parent) ? parent[last] : undefined;
  if (v === undefined) throw new KubeSimError(422, `doc is missing path: "${p}"`);
  return v;
}

function remove(doc: unknown, p: string): unknown {
  const { parent, last } = parentOf(doc, pointer(p), p);
  if (Array.isArray(parent)) {
    const i = Number(last);
    if (!(i >= 0 && i < parent.length)) throw new KubeSimError(422, `doc is missing path: "${p}"`);
    return parent.splice(i, 1)[0];
  }
  if (!isObject(parent) || !(last in parent))
    throw new KubeSimError(422, `doc is missing path: "${p}": missing value`);
  const v = parent[last];
  delete parent[last];
  return v;
}

function add(doc: unknown, p: string, value: unknown, replace: boolean): unknown {
  const tokens = pointer(p);
  if (!tokens.length) return value;
  const { parent, last } = parentOf(doc, tokens, p);
  if (Array.isArray(parent)) {
    const i = last === '-' ? parent.length : Number(last);
    if (!(i >= 0 && i <= parent.length))
      throw new KubeSimError(422, `add operation does not apply: doc is missing path: "${p}"`);
    if (replace) parent[i] = value;
    else parent.splice(i, 0, value);
  } else if (isObject(parent)) {
    if (replace && !(last in parent))
      throw new KubeSimError(
        422,
        `replace operation does not apply: doc is missing key: ${p}: missing value`,
      );
    parent[last] = value;
  } else throw new KubeSimError(422, `doc is missing path: "${p}"`);
  return doc;
}

/** Applies a JSON Patch document to a copy of `doc`. */
export function applyJsonPatch(doc: unknown, ops: unknown): unknown {
  if (!Array.isArray(ops)) throw new KubeSimError(400, 'json patch must be a list of operations');
  let out = clone(doc);
  for (const raw of ops) {
    if (!isObject(raw)) throw new KubeSimError(400, 'invalid json patch operation');
    const op = raw as unknown as Operation;
    switch (op.op) {
      case 'add':
        out = add(out, op.path, clone(op.value), false);
        break;
      case 'replace':
        out = add(out, op.path, clone(op.value), true);
        break;
      case 'remove':
        remove(out, op.path);
        break;
      case 'move': {
        const v = remove(out, op.from ?? '');
        out = add(out, op.path, v, false);
        break;
      }
      case 'copy':
        out = add(out, op.path, clone(read(out, op.from ?? '')), false);
        break;
      case 'test':
        if (JSON.stringify(read(out, op.path)) !== JSON.stringify(op.value)) {
          throw new KubeSimError(422, `testing value ${op.path} failed: test failed`);
        }
        break;
      default:
        throw new KubeSimError(400, `unexpected json patch operation "${String(op.op)}"`);
    }
  }
  return out;
}
