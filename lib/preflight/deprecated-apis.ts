import { readFileSync } from 'node:fs';

let byKind: Map<string, string> | undefined;

/** The warnings by `apiVersion kind`, from deprecated-apis.txt (read once, when a render is linted). */
function table(): Map<string, string> {
  if (byKind) return byKind;
  byKind = new Map();
  const text = readFileSync(new URL('./deprecated-apis.txt', import.meta.url), 'utf8');
  for (const line of text.split('\n')) {
    if (line.trim() === '' || line.startsWith('#')) continue;
    const [apiVersion, kind, deprecated, removed, ...use] = line.trim().split(/\s+/);
    const warning = `${apiVersion} ${kind} is deprecated in v${deprecated}+, unavailable in v${removed}+`;
    byKind.set(`${apiVersion} ${kind}`, use.length > 0 ? `${warning}; use ${use.join(' ')}` : warning);
  }
  return byKind;
}

/**
 * helm lint's warning for an object of a built-in API version Kubernetes has deprecated (as helm 4.1
 * knows them), or undefined. The chart lint warns about the same objects.
 */
export function deprecationOf(apiVersion: string, kind: string): string | undefined {
  return table().get(`${apiVersion} ${kind}`);
}
