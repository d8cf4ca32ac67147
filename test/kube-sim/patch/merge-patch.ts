// RFC 7386 JSON Merge Patch.
import { clone, isObject } from '../types.ts';

/** Applies a JSON Merge Patch to a copy of `target`: objects merge, null deletes, the rest replaces. */
export function applyMergePatch(target: unknown, patch: unknown): unknown {
  if (!isObject(patch)) return clone(patch);
  const out: Record<string, unknown> = isObject(target) ? clone(target) : {};
  for (const [k, v] of Object.entries(patch)) {
    if (v === null) delete out[k];
    else out[k] = applyMergePatch(out[k], v);
  }
  return out;
}
