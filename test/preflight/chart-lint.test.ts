import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { renderChart, splitManifest } from '../../lib/chart.ts';
import { Runner } from '../../lib/exec.ts';
import { deprecationOf } from '../../lib/preflight/deprecated-apis.ts';
import { chartfileFindings } from '../../lib/preflight/lint-chartfile.ts';
import { firstLiteralLine, manifestFindings, nameProblem } from '../../lib/preflight/lint-render.ts';
import { findingLine, helmIgnore, lintChart } from '../../lib/preflight/lint.ts';
import { chartDir, runHelm } from '../support/chart.ts';
import { type ToolsetName, helmHomeEnv, toolset } from '../support/tools.ts';

const CHART = 'apiVersion: v2\nname: demo\nversion: 0.1.0\n';
const CM = 'apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: cm\ndata:\n  a: b\n';
const withName = (name: string) => CM.replace('name: cm', `name: ${name}`);
const DEPLOYMENT =
  'apiVersion: apps/v1\nkind: Deployment\nmetadata:\n  name: d\nspec:\n  template:\n    metadata:\n      labels:\n        a: b\n    spec:\n      containers:\n        - name: c\n          image: busybox\n';
const SUB = 'apiVersion: v2\nname: sub\nversion: 0.1.0\n';
const DEP = '  - name: sub\n    version: 0.1.0\n    repository: https://example.com\n';

/**
 * One chart per finding class of `helm lint --strict` (files over the default Chart.yaml, values.yaml
 * and templates/cm.yaml; null removes one), with a text the chart lint must report for it.
 */
const CASES: { name: string; files: Record<string, string | null>; finding: string }[] = [
  {
    name: 'Chart.yaml a folder',
    files: { 'Chart.yaml': null, 'Chart.yaml/x': '' },
    finding: 'should be a file',
  },
  { name: 'Chart.yaml not YAML', files: { 'Chart.yaml': `${CHART}  bad: [\n` }, finding: 'unable to parse' },
  {
    name: 'Chart.yaml field of the wrong type',
    files: { 'Chart.yaml': `${CHART}keywords: abc\n` },
    finding: 'keywords',
  },
  {
    name: 'Chart.yaml unknown field',
    files: { 'Chart.yaml': `${CHART}foo: bar\n` },
    finding: 'strictly parse',
  },
  {
    name: 'Chart.yaml no name',
    files: { 'Chart.yaml': 'apiVersion: v2\nversion: 0.1.0\n' },
    finding: 'name is required',
  },
  {
    name: 'chart name a path',
    files: { 'Chart.yaml': 'apiVersion: v2\nname: a/b\nversion: 0.1.0\n' },
    finding: 'chart name "a/b" is invalid',
  },
  {
    name: 'no apiVersion',
    files: { 'Chart.yaml': 'name: demo\nversion: 0.1.0\n' },
    finding: 'apiVersion is required',
  },
  {
    name: 'apiVersion v3',
    files: { 'Chart.yaml': 'apiVersion: v3\nname: demo\nversion: 0.1.0\n' },
    finding: "apiVersion 'v3' is not valid",
  },
  {
    name: 'no version',
    files: { 'Chart.yaml': 'apiVersion: v2\nname: demo\n' },
    finding: 'version is required',
  },
  {
    name: 'version not SemVer',
    files: { 'Chart.yaml': 'apiVersion: v2\nname: demo\nversion: abc\n' },
    finding: "'abc' is not a valid SemVer",
  },
  {
    name: 'version not strict SemVer 2',
    files: { 'Chart.yaml': "apiVersion: v2\nname: demo\nversion: '1.0'\n" },
    finding: 'not a valid SemVerV2',
  },
  {
    name: 'version a number',
    files: { 'Chart.yaml': 'apiVersion: v2\nname: demo\nversion: 1.0\n' },
    finding: 'version should be of type string',
  },
  {
    name: 'appVersion a number',
    files: { 'Chart.yaml': `${CHART}appVersion: 1.0\n` },
    finding: 'appVersion should be of type string',
  },
  {
    name: 'maintainer without name',
    files: { 'Chart.yaml': `${CHART}maintainers:\n  - email: a@b.c\n` },
    finding: 'each maintainer requires a name',
  },
  {
    name: 'maintainer e-mail',
    files: { 'Chart.yaml': `${CHART}maintainers:\n  - name: x\n    email: nope\n` },
    finding: "invalid email 'nope'",
  },
  {
    name: 'maintainer url',
    files: { 'Chart.yaml': `${CHART}maintainers:\n  - name: x\n    url: nope\n` },
    finding: "invalid url 'nope'",
  },
  {
    name: 'source URL',
    files: { 'Chart.yaml': `${CHART}sources:\n  - not a url\n` },
    finding: 'invalid source URL',
  },
  { name: 'icon URL', files: { 'Chart.yaml': `${CHART}icon: not a url\n` }, finding: 'invalid icon URL' },
  {
    name: 'type in apiVersion v1',
    files: { 'Chart.yaml': 'apiVersion: v1\nname: demo\nversion: 0.1.0\ntype: application\n' },
    finding: 'chart type is not valid',
  },
  {
    name: 'dependencies in apiVersion v1',
    files: { 'Chart.yaml': `apiVersion: v1\nname: demo\nversion: 0.1.0\ndependencies:\n${DEP}` },
    finding: 'dependencies are not valid',
  },
  {
    name: 'subchart not declared',
    files: { 'charts/sub/Chart.yaml': SUB },
    finding: 'chart metadata is missing these dependencies: sub',
  },
  {
    name: 'dependency not in charts/',
    files: { 'Chart.yaml': `${CHART}dependencies:\n${DEP}` },
    finding: 'chart directory is missing these dependencies: sub',
  },
  {
    name: 'dependency twice',
    files: { 'Chart.yaml': `${CHART}dependencies:\n${DEP}${DEP}`, 'charts/sub/Chart.yaml': SUB },
    finding: 'multiple dependencies with name or alias: sub',
  },
  { name: 'values.yaml not YAML', files: { 'values.yaml': 'a: [\n' }, finding: 'values.yaml' },
  {
    name: 'values against the schema',
    files: {
      'values.schema.json': '{"type":"object","properties":{"a":{"type":"integer"}}}',
      'values.yaml': 'a: x\n',
    },
    finding: 'schema',
  },
  { name: 'no templates/', files: { 'templates/cm.yaml': null }, finding: 'directory does not exist' },
  {
    name: 'templates/ a file',
    files: { 'templates/cm.yaml': null, templates: 'x' },
    finding: 'not a directory',
  },
  {
    name: 'file extension',
    files: { 'templates/extra.json': '{}\n' },
    finding: "file extension '.json' not valid",
  },
  {
    name: 'template parse error',
    files: { 'templates/cm.yaml': `${CM}  x: {{ .Values.a | notAFunction }}\n` },
    finding: 'notAFunction',
  },
  {
    name: 'template execution error',
    files: { 'templates/cm.yaml': `${CM}  x: {{ index .Values.a 5 }}\n`, 'values.yaml': 'a: [1]\n' },
    finding: 'index out of range',
  },
  { name: 'rendered YAML invalid', files: { 'templates/cm.yaml': `${CM}  x: [\n` }, finding: 'YAML' },
  {
    name: 'indented document',
    files: { 'templates/cm.yaml': '  apiVersion: v1\n  kind: ConfigMap\n' },
    finding: 'YAML',
  },
  {
    name: 'indented one-line document',
    files: { 'templates/cm.yaml': '  {{- /* x */}}\n   kind: ConfigMap\n' },
    finding: 'illegal indent: "   kind: ConfigMap"',
  },
  {
    name: 'object name',
    files: { 'templates/cm.yaml': withName('Bad_Name') },
    finding: 'RFC 1123 subdomain',
  },
  {
    name: 'no object name',
    files: { 'templates/cm.yaml': CM.replace('name: cm', 'generateName: cm-') },
    finding: 'naming requirements: ""',
  },
  {
    name: 'Service name',
    files: { 'templates/cm.yaml': 'apiVersion: v1\nkind: Service\nmetadata:\n  name: 1svc\n' },
    finding: 'DNS-1035 label',
  },
  {
    name: 'Namespace name',
    files: { 'templates/cm.yaml': 'apiVersion: v1\nkind: Namespace\nmetadata:\n  name: a.b\n' },
    finding: 'must not contain dots',
  },
  {
    name: 'deprecated API',
    files: { 'templates/cm.yaml': 'apiVersion: batch/v1beta1\nkind: CronJob\nmetadata:\n  name: c\n' },
    finding: 'batch/v1beta1 CronJob is deprecated in v1.21+, unavailable in v1.25+; use batch/v1 CronJob',
  },
  {
    name: 'workload without selector',
    files: { 'templates/cm.yaml': DEPLOYMENT },
    finding: 'a Deployment must contain matchLabels or matchExpressions',
  },
  {
    name: 'List item keeping a resource',
    files: {
      'templates/cm.yaml':
        'apiVersion: v1\nkind: List\nmetadata:\n  name: l\nitems:\n  - apiVersion: v1\n    kind: ConfigMap\n    metadata:\n      name: x\n      annotations:\n        helm.sh/resource-policy: keep\n',
    },
    finding: "annotation 'helm.sh/resource-policy' within List objects are ignored",
  },
  {
    name: 'crds/ not a CRD',
    files: { 'crds/x.yaml': CM },
    finding: "object kind is not 'CustomResourceDefinition'",
  },
  {
    name: '.Release.Time (helm 3)',
    files: { 'templates/cm.yaml': `${CM}  t: {{ .Release.Time }}\n` },
    finding: '.Release.Time has been removed',
  },
  {
    name: 'crd-install hook (helm 3)',
    files: {
      'templates/cm.yaml': CM.replace(
        'name: cm',
        'name: cm\n  annotations:\n    "helm.sh/hook": crd-install',
      ),
    },
    finding: 'crd-install hook',
  },
];

const dirs: string[] = [];
afterAll(() => {
  for (const d of dirs) rmSync(d, { recursive: true, force: true });
});

function writeChart(files: Record<string, string | null>): string {
  const dir = mkdtempSync(path.join(os.tmpdir(), 'tf-lint-chart-'));
  dirs.push(dir);
  const all = { 'Chart.yaml': CHART, 'values.yaml': 'a: 1\n', 'templates/cm.yaml': CM, ...files };
  for (const [rel, text] of Object.entries(all)) {
    if (text === null) continue;
    mkdirSync(path.dirname(path.join(dir, rel)), { recursive: true });
    writeFileSync(path.join(dir, rel), text);
  }
  return dir;
}

const home = mkdtempSync(path.join(os.tmpdir(), 'tf-lint-home-'));
dirs.push(home);
const env = helmHomeEnv(home);
const target = { namespace: 'demo', release: 'demo' };

/** The chart lint of a chart folder, over a real `helm template` of it. */
function lint(chart: string, values: Record<string, unknown> = {}, valuesFiles: string[] = []) {
  const render = renderChart(new Runner({ env }), toolset('v35').helm, {
    values,
    chart,
    valuesFiles,
    target,
  });
  return lintChart(chart, render);
}

/** `helm lint --strict` of a chart folder, by a real helm: whether it failed, and its findings. */
async function helmLint(chart: string, ts: ToolsetName): Promise<{ failed: boolean; out: string }> {
  const r = await runHelm(['lint', '--strict', chart, '--namespace', 'demo'], { toolset: ts });
  return { failed: r.code !== 0, out: r.stdout + r.stderr };
}

describe('the chart lint reports every finding class of helm lint --strict', () => {
  it.concurrent.each(CASES)('$name', async ({ files, finding }) => {
    const chart = writeChart(files);
    const [ours, v4, v3] = await Promise.all([lint(chart), helmLint(chart, 'v35'), helmLint(chart, 'v33')]);
    // At least one of the two helms reports it; the chart lint always does.
    expect(v4.failed || v3.failed, `${v4.out}\n${v3.out}`).toBe(true);
    const lines = ours?.findings.map(findingLine) ?? [];
    expect(lines.join('\n')).toContain(finding);
  });

  it.concurrent('a clean chart passes both', async () => {
    const chart = writeChart({});
    const [ours, v4] = await Promise.all([lint(chart), helmLint(chart, 'v35')]);
    expect(v4.failed, v4.out).toBe(false);
    expect(ours).toMatchObject({ findings: [], rendered: true, objects: 1 });
  });

  it.concurrent.each([
    ['fail', `${CM}  x: {{ fail "no" }}\n`],
    ['required', `${CM}  x: {{ required "need b" .Values.b }}\n`],
  ])('a render stopped by %s (helm lint ignores it): no finding, and no objects to lint', async (_, text) => {
    const chart = writeChart({ 'templates/cm.yaml': text });
    const [ours, v4] = await Promise.all([lint(chart), helmLint(chart, 'v35')]);
    expect(v4.failed, v4.out).toBe(false);
    expect(ours).toMatchObject({ findings: [], rendered: false });
  });

  it.concurrent.each([{ files: [] }, { files: ['values-dev.yaml'] }, { files: ['values-prod.yaml'] }])(
    'the TaskFlow chart with $files lints clean',
    async ({ files }) => {
      const ours = await lint(
        chartDir,
        { pgadmin: { enabled: true } },
        files.map((f) => path.join(chartDir, f)),
      );
      expect(ours?.findings.map(findingLine)).toEqual([]);
      expect(ours?.rendered).toBe(true);
    },
  );
});

describe('lint rules', () => {
  it.each([
    ['ConfigMap', 'ok.name-1', undefined],
    ['ConfigMap', 'a'.repeat(254), 'must be no more than 253 characters'],
    ['Service', 'svc-1', undefined],
    ['Service', 'a.b', 'DNS-1035 label'],
    ['Namespace', 'ns', undefined],
    ['Namespace', 'a'.repeat(64), 'must be no more than 63 characters'],
    ['Role', 'system:reader', undefined],
    ['ClusterRoleBinding', 'a/b', "may not contain '/'"],
    ['CertificateSigningRequest', 'Any_Name', undefined],
  ])('%s %s', (kind, name, problem) => {
    if (problem === undefined) expect(nameProblem(kind, name)).toBeUndefined();
    else expect(nameProblem(kind, name)).toContain(problem);
  });

  it('names deprecated API versions as helm 4.1 does, and no current one', () => {
    expect(deprecationOf('networking.k8s.io/v1beta1', 'Ingress')).toBe(
      'networking.k8s.io/v1beta1 Ingress is deprecated in v1.19+, unavailable in v1.22+; use networking.k8s.io/v1 Ingress',
    );
    expect(deprecationOf('events.k8s.io/v1beta1', 'Event')).toBe(
      'events.k8s.io/v1beta1 Event is deprecated in v1.22+, unavailable in v1.25+',
    );
    for (const [v, k] of [
      ['apps/v1', 'Deployment'],
      ['batch/v1', 'CronJob'],
      ['v1', 'ConfigMap'],
      ['networking.k8s.io/v1', 'Ingress'],
      // deprecated only after 1.35
      ['admissionregistration.k8s.io/v1beta1', 'MutatingAdmissionPolicy'],
    ])
      expect(deprecationOf(v ?? '', k ?? '')).toBeUndefined();
  });

  it.each([
    ['apiVersion: v1\n', 'apiVersion: v1'],
    ['  {{- /* c */}}\n   a: b\n', '   a: b'],
    ['{{- if .x }}\n  a: b\n{{- end }}\n', '  a: b'],
    ['{{- if .x -}}\n  a: b\n{{- end }}\n', 'a: b'],
    ['{{ toYaml .Values.x }}\n', undefined],
  ])('the first line a template writes: %j', (text, line) => {
    expect(firstLiteralLine(text)).toBe(line);
  });

  it('reports an indent only when the render starts with that line', () => {
    const docs = splitManifest(
      '---\n# Source: demo/templates/a.yaml\nkind: ConfigMap\nmetadata:\n  name: a\n',
    );
    const indented = new Map([
      ['templates/a.yaml', '{{- if .x }}\n  other: line\n{{- end }}\nkind: ConfigMap\n'],
    ]);
    expect(manifestFindings(docs, indented)).toEqual([]);
    const first = new Map([['templates/a.yaml', '  kind: ConfigMap\n']]);
    expect(manifestFindings(docs, first).map(findingLine)).toEqual([
      '[WARNING] templates/a.yaml: document starts with an illegal indent: "  kind: ConfigMap", which may cause parsing problems',
    ]);
  });

  it("leaves subcharts' objects and non-YAML templates to them", () => {
    const docs = splitManifest(
      '---\n# Source: demo/charts/sub/templates/a.yaml\nkind: ConfigMap\nmetadata:\n  name: Bad\n---\n# Source: demo/templates/notes.txt\nkind: X\n',
    );
    expect(manifestFindings(docs)).toEqual([]);
  });

  it('.helmignore: base-name globs, path globs, folders only with a trailing slash', () => {
    const ignore = helmIgnore('# comment\n*.swp\n.git/\ntemplates/old-*.yaml\n');
    expect(ignore('templates/x.yaml.swp', false)).toBe(true);
    expect(ignore('templates/.git', true)).toBe(true);
    expect(ignore('templates/.git', false)).toBe(false);
    expect(ignore('templates/old-cm.yaml', false)).toBe(true);
    expect(ignore('templates/sub/old-cm.yaml', false)).toBe(false);
    expect(ignore('templates/cm.yaml', false)).toBe(false);
  });

  it('Chart.yaml: a clean one has no finding; field names match in any case, as in helm', () => {
    expect(chartfileFindings(`${CHART}appversion: '1'\nKubeVersion: '>=1.27.0-0'\n`, [])).toEqual([]);
    expect(chartfileFindings(undefined, []).map(findingLine)).toEqual([
      '[ERROR] Chart.yaml: file does not exist: this folder is not a chart',
    ]);
  });
});
