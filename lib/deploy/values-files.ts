import { readFileSync } from 'node:fs';
import { parse } from 'yaml';
import { UsageError } from '../errors.ts';
import { type Values } from './plan.ts';
import { deepMerge } from '../values.ts';

/**
 * The user's `-f` values files merged in order (as helm merges them), read only to learn what the
 * deploy must know before helm runs: the storage class, external databases, existing Secrets.
 */
export function readValuesFiles(
  files: string[],
  read: (p: string) => string = (p) => readFileSync(p, 'utf8'),
): Values {
  let out: Values = {};
  for (const f of files) {
    let doc: unknown;
    try {
      doc = parse(read(f));
    } catch (err) {
      const code = (err as NodeJS.ErrnoException).code;
      throw new UsageError(
        code
          ? `cannot read values file ${f} (${code})`
          : `values file ${f} is not valid YAML: ${(err as Error).message.split('\n')[0]}`,
        { hint: 'check the path given to -f/--values' },
      );
    }
    if (doc === null || doc === undefined) continue;
    if (typeof doc !== 'object' || Array.isArray(doc))
      throw new UsageError(`values file ${f} is not a YAML mapping`, {
        hint: "a values file maps keys to values, like the chart's values.yaml",
      });
    out = deepMerge(out, doc as Values);
  }
  return out;
}
