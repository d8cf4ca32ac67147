import { readFile, readdir, stat } from 'node:fs/promises';
import path from 'node:path';
import { CORE_SCHEMA, load, loadAll } from 'js-yaml';
import { type Render, helmFindings } from '../chart.ts';
import { chartfileFindings } from './lint-chartfile.ts';
import { type LintFinding, manifestFindings } from './lint-render.ts';

export type { LintFinding } from './lint-render.ts';

/** helm lint's line for a finding. */
export const findingLine = (f: LintFinding): string => `[${f.severity}] ${f.path}: ${f.message}`;

/** What the chart lint reads of the chart folder. */
export interface ChartFolder {
  /** Chart.yaml's text; `null` when Chart.yaml is a folder, undefined when missing */
  chartYaml: string | null | undefined;
  /** every file under templates/ (not ignored) by path, `templates/x.yaml`; a string when templates/ is not a folder */
  templates: ReadonlyMap<string, string> | 'missing' | 'not a directory';
  /** the chart names found in charts/ */
  subcharts: string[];
  /** the files under crds/ by path; a string when crds/ is not a folder; undefined when there is none */
  crds?: ReadonlyMap<string, string> | 'not a directory';
}

type Ignore = (rel: string, dir: boolean) => boolean;

/** The rules of a `.helmignore` (helm's subset of gitignore: globs on the base name, or on the path when they hold a `/`). */
export function helmIgnore(text: string): Ignore {
  const rules = text
    .split('\n')
    .map((l) => l.trim())
    .filter((l) => l !== '' && !l.startsWith('#') && !l.startsWith('!'))
    .map((l) => {
      const dirOnly = l.endsWith('/');
      const glob = l.replace(/\/$/, '').replace(/^\//, '');
      const source = glob
        .split('')
        .map((c) => (c === '*' ? '[^/]*' : c === '?' ? '[^/]' : /[.+^${}()|\\]/.test(c) ? `\\${c}` : c))
        .join('')
        .replace(/\[!/g, '[^');
      return { dirOnly, onPath: glob.includes('/'), re: new RegExp(`^${source}$`) };
    });
  return (rel, dir) =>
    rules.some((r) => (!r.dirOnly || dir) && r.re.test(r.onPath ? rel : path.posix.basename(rel)));
}

async function kindOf(p: string): Promise<'file' | 'dir' | undefined> {
  try {
    return (await stat(p)).isDirectory() ? 'dir' : 'file';
  } catch {
    return undefined;
  }
}

/** Every file below `rel` (a folder of the chart) that the .helmignore keeps, with its text. */
async function readTree(root: string, rel: string, ignore: Ignore): Promise<Map<string, string>> {
  const out = new Map<string, string>();
  const walk = async (dir: string): Promise<void> => {
    const entries = await readdir(path.join(root, dir), { withFileTypes: true });
    await Promise.all(
      entries.map(async (e) => {
        const p = `${dir}/${e.name}`;
        if (ignore(p, e.isDirectory())) return;
        if (e.isDirectory()) return walk(p);
        out.set(p, await readFile(path.join(root, p), 'utf8'));
      }),
    );
  };
  await walk(rel);
  return new Map([...out].sort(([a], [b]) => a.localeCompare(b)));
}

/** The name of each chart under charts/: a folder's Chart.yaml name, an archive's file name less its version. */
async function subchartNames(root: string, ignore: Ignore): Promise<string[]> {
  if ((await kindOf(path.join(root, 'charts'))) !== 'dir') return [];
  const entries = await readdir(path.join(root, 'charts'), { withFileTypes: true });
  const names = await Promise.all(
    entries
      .filter((e) => !ignore(`charts/${e.name}`, e.isDirectory()))
      .map(async (e) => {
        if (e.isDirectory()) {
          const text = await readFile(path.join(root, 'charts', e.name, 'Chart.yaml'), 'utf8').catch(
            () => '',
          );
          const doc = (text ? load(text, { schema: CORE_SCHEMA }) : undefined) as
            { name?: unknown } | undefined;
          return typeof doc?.name === 'string' ? doc.name : undefined;
        }
        return /^(.+?)-v?\d+\.\d+\.\d+.*\.(tgz|tar\.gz)$/.exec(e.name)?.[1];
      }),
  );
  return names.filter((n): n is string => n !== undefined);
}

/** Reads what the chart lint checks in a chart folder. */
export async function readChartFolder(root: string): Promise<ChartFolder> {
  const ignore = helmIgnore(await readFile(path.join(root, '.helmignore'), 'utf8').catch(() => ''));
  const chartKind = await kindOf(path.join(root, 'Chart.yaml'));
  const folder = async (name: string) => {
    const kind = await kindOf(path.join(root, name));
    if (kind === undefined) return 'missing' as const;
    return kind === 'dir' ? readTree(root, name, ignore) : ('not a directory' as const);
  };
  const [chartYaml, templates, subcharts, crds] = await Promise.all([
    chartKind === 'dir'
      ? null
      : chartKind === 'file'
        ? readFile(path.join(root, 'Chart.yaml'), 'utf8')
        : undefined,
    folder('templates'),
    subchartNames(root, ignore),
    folder('crds'),
  ]);
  return { chartYaml, templates, subcharts, ...(crds !== 'missing' && { crds }) };
}

/** helm lint's rules over the chart's files: Chart.yaml, templates/ and its file names, dependencies, crds/. */
export function folderFindings(folder: ChartFolder): LintFinding[] {
  const out = chartfileFindings(folder.chartYaml, folder.subcharts);
  const add = (severity: LintFinding['severity'], p: string, message: string) =>
    out.push({ severity, path: p, message });
  if (folder.templates === 'missing') add('WARNING', 'templates/', 'directory does not exist');
  else if (folder.templates === 'not a directory') add('ERROR', 'templates/', 'not a directory');
  else {
    for (const [file, text] of folder.templates) {
      const ext = path.posix.extname(file);
      if (!['.yaml', '.yml', '.tpl', '.txt'].includes(ext)) {
        add(
          'ERROR',
          file,
          `file extension '${ext}' not valid. Valid extensions are .yaml, .yml, .tpl, or .txt`,
        );
      }
      // Two rules of helm 3's lint, kept: what helm 2 charts did that helm 3 and 4 no longer do.
      if (/"?helm\.sh\/hook"?:\s+crd-install/.test(text)) {
        add(
          'WARNING',
          file,
          'manifest is a crd-install hook. This hook is no longer supported in v3 and all CRDs should also exist the crds/ directory at the top level of the chart',
        );
      }
      if (/\.Release\.Time/.test(text)) {
        add(
          'ERROR',
          file,
          '.Release.Time has been removed in v3, please replace with the `now` function in your templates',
        );
      }
    }
  }
  if (folder.crds === 'not a directory') add('ERROR', 'crds/', 'not a directory');
  else if (folder.crds) {
    for (const [file, text] of folder.crds) {
      if (!/\.(ya?ml|json)$/i.test(file)) continue;
      let docs: unknown[];
      try {
        docs = loadAll(text, null, { schema: CORE_SCHEMA });
      } catch (err) {
        add('ERROR', file, `unable to parse YAML: ${(err as Error).message.split('\n')[0] ?? ''}`);
        continue;
      }
      for (const d of docs) {
        if (d === null || typeof d !== 'object') continue;
        const { apiVersion, kind } = d as { apiVersion?: unknown; kind?: unknown };
        if (!String(apiVersion ?? '').startsWith('apiextensions.k8s.io'))
          add('ERROR', file, "apiVersion is not in 'apiextensions.k8s.io'");
        if (kind !== 'CustomResourceDefinition')
          add('ERROR', file, "object kind is not 'CustomResourceDefinition'");
      }
    }
  }
  return out;
}

/**
 * What helm lint reports of a render helm refused: the same error, except for `fail` and `required`
 * (lint renders in a mode where they return nothing) and the chart's kubeVersion constraint (lint does
 * not check it). undefined in those cases: the rules over the objects cannot run without them.
 */
function failedRender(render: Render): LintFinding[] | undefined {
  if (render.parseError !== undefined)
    return [{ severity: 'ERROR', path: 'templates/', message: `unable to parse YAML: ${render.parseError}` }];
  const lines = helmFindings(render.output).map((l) => l.replace(/^Error: /, ''));
  if (lines.some((l) => /^execution error at \(|^chart requires kubeVersion/.test(l))) return undefined;
  return lines.map((message) => ({ severity: 'ERROR', path: 'templates/', message }));
}

/** The chart lint's verdict: every finding, and whether the rules over the rendered objects ran. */
export interface ChartLint {
  findings: LintFinding[];
  rendered: boolean;
  /** how many rendered objects the rules looked at */
  objects: number;
}

/**
 * `helm lint --strict` without a second helm process: its rules over the chart folder (read while helm
 * renders) and over the one render of these values that validate makes anyway. Every finding fails,
 * warnings included, as under --strict. undefined without a render (helm missing).
 */
export async function lintChart(
  chart: string,
  render: Promise<Render | undefined>,
): Promise<ChartLint | undefined> {
  const [folder, r] = await Promise.all([readChartFolder(chart), render]);
  if (!r) return undefined;
  const findings = folderFindings(folder);
  if (!r.ok) return { findings: [...findings, ...(failedRender(r) ?? [])], rendered: false, objects: 0 };
  const templates = typeof folder.templates === 'string' ? new Map<string, string>() : folder.templates;
  return {
    findings: [...findings, ...manifestFindings(r.docs, templates)],
    rendered: true,
    objects: r.docs.length,
  };
}
