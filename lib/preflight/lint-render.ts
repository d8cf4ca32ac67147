import type { RenderedDoc } from '../chart.ts';
import { deprecationOf } from './deprecated-apis.ts';

/** A finding as helm lint prints it: `[ERROR] templates/x.yaml: message`. */
export interface LintFinding {
  severity: 'ERROR' | 'WARNING';
  path: string;
  message: string;
}

/** A naming rule of Kubernetes: a length and a pattern, and what to say when a name breaks it. */
interface NameRule {
  max: number;
  re: RegExp;
  what: string;
}

const SUBDOMAIN: NameRule = {
  max: 253,
  re: /^[a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*$/,
  what: "a lowercase RFC 1123 subdomain must consist of lower case alphanumeric characters, '-' or '.', and must start and end with an alphanumeric character",
};
const LABEL_1123: NameRule = {
  max: 63,
  re: /^[a-z0-9]([-a-z0-9]*[a-z0-9])?$/,
  what: "a lowercase RFC 1123 label must consist of lower case alphanumeric characters or '-', and must start and end with an alphanumeric character",
};
const LABEL_1035: NameRule = {
  max: 63,
  re: /^[a-z]([-a-z0-9]*[a-z0-9])?$/,
  what: "a DNS-1035 label must consist of lower case alphanumeric characters or '-', start with an alphabetic character, and end with an alphanumeric character",
};

function broken(rule: NameRule, name: string): string | undefined {
  if (name.length > rule.max) return `must be no more than ${rule.max} characters`;
  // A label that would be a valid subdomain: Kubernetes names the dots.
  if (rule === LABEL_1123 && name.includes('.') && SUBDOMAIN.re.test(name)) return 'must not contain dots';
  return rule.re.test(name) ? undefined : rule.what;
}

function pathSegment(name: string): string | undefined {
  if (name === '.' || name === '..') return `may not be '${name}'`;
  for (const c of ['/', '%']) if (name.includes(c)) return `may not contain '${c}'`;
  return undefined;
}

/** Why a name is not valid for its kind (the rules Kubernetes applies, as helm lint copies them). */
export function nameProblem(kind: string, name: string): string | undefined {
  switch (kind.toLowerCase()) {
    case 'service':
      return broken(LABEL_1035, name);
    case 'namespace':
      return broken(LABEL_1123, name);
    case 'certificatesigningrequest':
      return undefined;
    case 'role':
    case 'clusterrole':
    case 'rolebinding':
    case 'clusterrolebinding':
      return pathSegment(name);
    default:
      return broken(SUBDOMAIN, name);
  }
}

const SELECTED = new Set(['Deployment', 'ReplicaSet', 'DaemonSet', 'StatefulSet']);

/**
 * The first line a template's text puts out when its actions put out nothing, with helm's `{{-`/`-}}`
 * whitespace trimming applied; undefined when only actions write.
 */
export function firstLiteralLine(template: string): string | undefined {
  let text = '';
  let trimNext = false;
  let last = 0;
  const literal = (s: string) => {
    text += trimNext ? s.replace(/^\s+/, '') : s;
    trimNext = false;
  };
  for (const m of template.matchAll(/\{\{(-\s)?[\s\S]*?(\s-)?\}\}/g)) {
    literal(template.slice(last, m.index));
    if (m[1]) text = text.replace(/\s+$/, '');
    trimNext = m[2] !== undefined;
    last = m.index + m[0].length;
  }
  literal(template.slice(last));
  return text.split('\n').find((l) => l.trim() !== '');
}

/** A document must not start indented (helm: "may cause parsing problems"); helm's output is trimmed, so the template tells. */
function topIndent(template: string | undefined, rendered: string): LintFinding['message'] | undefined {
  if (template === undefined) return undefined;
  const line = firstLiteralLine(template);
  if (line === undefined || !/^[ \t]/.test(line)) return undefined;
  const first = rendered
    .split('\n')
    .find((l) => l.trim() !== '' && !l.startsWith('# Source:'))
    ?.trim();
  if (first !== line.trim()) return undefined;
  return `document starts with an illegal indent: "${line}", which may cause parsing problems`;
}

/**
 * helm lint's rules over the rendered objects of the chart's own templates (not its subcharts'):
 * object names, deprecated API versions, workload selectors, List annotations and the top indent.
 * `templates` holds the templates' text by path (`templates/x.yaml`).
 */
export function manifestFindings(
  docs: readonly RenderedDoc[],
  templates: ReadonlyMap<string, string> = new Map(),
): LintFinding[] {
  const bySource = new Map<string, RenderedDoc[]>();
  for (const d of docs) {
    const file = d.source.split('/').slice(1).join('/');
    if (!/^templates\/.*\.ya?ml$/i.test(file)) continue;
    bySource.set(file, [...(bySource.get(file) ?? []), d]);
  }
  const out: LintFinding[] = [];
  for (const [file, fileDocs] of bySource) {
    const add = (severity: LintFinding['severity'], message: string) =>
      out.push({ severity, path: file, message });
    const text = [...new Set(fileDocs.map((d) => d.text))].join('\n');
    const indent = topIndent(templates.get(file), fileDocs[0]?.text ?? '');
    if (indent) add('WARNING', indent);
    for (const { object: o } of fileDocs) {
      const name = typeof o.metadata?.name === 'string' ? o.metadata.name : '';
      const kind = typeof o.kind === 'string' ? o.kind : '';
      const bad = nameProblem(kind, name);
      if (bad) {
        add(
          'WARNING',
          `object name does not conform to Kubernetes naming requirements: "${name}": metadata.name: Invalid value: "${name}": ${bad}`,
        );
      }
      const deprecated = typeof o.apiVersion === 'string' ? deprecationOf(o.apiVersion, kind) : undefined;
      if (deprecated) add('WARNING', deprecated);
      if (SELECTED.has(kind) && !/matchLabels|matchExpressions/.test(text)) {
        add('ERROR', `a ${kind} must contain matchLabels or matchExpressions, and "${name}" does not`);
      }
      const items = (o as { items?: unknown }).items;
      const policy = (i: unknown) =>
        (i as { metadata?: { annotations?: Record<string, unknown> } } | null)?.metadata?.annotations?.[
          'helm.sh/resource-policy'
        ] !== undefined;
      if (kind === 'List' && Array.isArray(items) && items.some(policy)) {
        add('ERROR', "annotation 'helm.sh/resource-policy' within List objects are ignored");
      }
    }
  }
  return out;
}
