// What the README, the quick start and the shipped example env file tell a new user must be true.
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { parseSettings } from '../../lib/env.ts';
import { KNOWN_KEYS, TOOL_KEYS } from '../../lib/env-keys.ts';
import { parseEnvText } from '../../lib/envfile.ts';
import { MIN_VERSIONS } from '../../lib/tools.ts';
import { repoRoot } from '../support/tools.ts';

const read = (f: string) => readFileSync(path.join(repoRoot, f), 'utf8');
const readme = read('README.md');
const quickstart = read('KUBERNETES-QUICKSTART.md');
const pkg = JSON.parse(read('package.json')) as { engines: { node: string } };

describe('the docs agree with the code', () => {
  it('minimum versions: the ones the tools check and package.json asks for', () => {
    const node = pkg.engines.node.replace('>=', '');
    for (const doc of [readme, quickstart]) {
      expect(doc).toMatch(new RegExp(`Node(\\.js)? ${node.replace('.', '\\.')} or newer`));
      const [km, kn] = MIN_VERSIONS.kubectl;
      const [hm, hn] = MIN_VERSIONS.helm;
      expect(doc).toMatch(new RegExp(`kubectl\\W[^\\n]*${km}\\.${kn} or newer`));
      expect(doc).toMatch(new RegExp(`helm\\W[^\\n]*${hm}\\.${hn} or newer, or 4\\.x`));
      expect(doc).not.toMatch(/1\.30\+|3\.14\+|npm 10/);
    }
  });

  it('the quick start puts the first-day path first: source checkout, one deploy with --build --src, port-forward, URLs', () => {
    const first = quickstart.slice(0, quickstart.indexOf('## Day two'));
    expect(first.split('\n').length).toBeLessThan(70);
    const order = [
      'built from the TaskFlow source',
      'Node 20.19 or newer',
      'git clone https://github.com/mjunaidca/taskforce ../taskforce',
      'npm ci',
      'minikube start',
      'npm run deploy -- --build --src ../taskforce',
      'npm run port-forward',
      'http://localhost:3000',
    ].map((t) => first.indexOf(t));
    expect(order.every((i) => i >= 0)).toBe(true);
    expect([...order].sort((a, b) => a - b)).toEqual(order);
    // The day-two table comes before the reference; the real-cluster and add-on reference live apart.
    expect(quickstart.indexOf('## Day two')).toBeLessThan(quickstart.indexOf('## Reference'));
    for (const doc of ['docs/real-cluster.md', 'docs/addons.md']) {
      expect(quickstart).toContain(`(${doc})`);
      expect(read(doc).length).toBeGreaterThan(1000);
    }
    // One name for the source folder everywhere.
    for (const doc of [readme, quickstart, read('docs/real-cluster.md')])
      expect(doc).not.toMatch(/\.\.\/taskflow\b/);
  });

  it("the README's command table has every command", () => {
    for (const c of [
      'deploy',
      'validate',
      'doctor',
      'env-flow',
      'migrate',
      'reset-db-password',
      'pgadmin',
      'addon',
      'port-forward',
    ])
      expect(readme).toMatch(new RegExp(`\\| \`npm run ${c}[ \`]`));
  });
});

describe('.env.example', () => {
  const text = read('.env.example');
  // Uncommented, every line it offers must be a valid setting.
  const uncommented = text.replace(/^# ([A-Z_]+=)/gm, '$1');

  it('is kept by git (.gitignore excludes .env.* but this one)', () => {
    expect(read('.gitignore')).toMatch(/^!\.env\.example$/m);
  });

  it('names every setting the suite reads, and nothing else', () => {
    const keys = [...uncommented.matchAll(/^([A-Z_]+)=/gm)].map((m) => m[1]);
    expect(
      keys.filter(
        (k) =>
          !(KNOWN_KEYS as readonly string[]).includes(k ?? '') &&
          !(TOOL_KEYS as readonly string[]).includes(k ?? ''),
      ),
    ).toEqual([]);
    expect(KNOWN_KEYS.filter((k) => !keys.includes(k))).toEqual([]);
  });

  it('as shipped and uncommented, parses without an error or unknown key', () => {
    for (const t of [text, uncommented]) {
      const { file, problems } = parseEnvText('.env.example', t);
      expect(problems).toEqual([]);
      const parsed = parseSettings(file, {});
      expect(parsed.problems).toEqual([]);
    }
  });
});
