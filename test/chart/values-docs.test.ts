import { readFileSync } from 'node:fs';
import path from 'node:path';
import { describe, expect, test } from 'vitest';
import { parse } from 'yaml';
import { chartDir } from '../support/chart.ts';

const valuesText = readFileSync(path.join(chartDir, 'values.yaml'), 'utf8');
const values = parse(valuesText) as Record<string, unknown>;
const params = [...valuesText.matchAll(/^\s*## @param (\S+) \S/gm)].map((m) => m[1]!);

interface SchemaNode {
  type?: string | string[];
  properties?: Record<string, SchemaNode>;
  additionalProperties?: boolean | SchemaNode;
  items?: SchemaNode;
  $ref?: string;
  allOf?: SchemaNode[];
}
const schema = JSON.parse(readFileSync(path.join(chartDir, 'values.schema.json'), 'utf8')) as SchemaNode & {
  definitions: Record<string, SchemaNode>;
};

/** Follows $ref and single allOf wrappers to the node that says what a value is. */
function resolve(node: SchemaNode): SchemaNode {
  if (node.$ref) return resolve(schema.definitions[node.$ref.replace('#/definitions/', '')]!);
  if (node.allOf?.length === 1) return resolve(node.allOf[0]!);
  return node;
}

/** Leaf paths of values.yaml (objects are walked, arrays and scalars are leaves). */
function leaves(v: unknown, prefix = ''): string[] {
  if (v && typeof v === 'object' && !Array.isArray(v) && Object.keys(v).length > 0) {
    return Object.entries(v).flatMap(([k, child]) => leaves(child, prefix ? `${prefix}.${k}` : k));
  }
  return [prefix];
}

function has(obj: unknown, p: string): boolean {
  let cur = obj;
  for (const key of p.split('.')) {
    if (!cur || typeof cur !== 'object' || !(key in cur)) return false;
    cur = (cur as Record<string, unknown>)[key];
  }
  return true;
}

describe('values.yaml documentation', () => {
  test('every value has a ## @param (on itself or the object it belongs to)', () => {
    const undocumented = leaves(values).filter(
      (leaf) => !params.some((p) => leaf === p || leaf.startsWith(`${p}.`)),
    );
    expect(undocumented).toEqual([]);
  });

  test('every ## @param names a real value, once', () => {
    expect(params.filter((p) => !has(values, p))).toEqual([]);
    expect(new Set(params).size).toBe(params.length);
  });

  test("the chart README's values table lists every @param", () => {
    const readme = readFileSync(path.join(chartDir, 'README.md'), 'utf8');
    expect(params.filter((p) => !readme.includes(`| \`${p}\` |`))).toEqual([]);
  });
});

describe('values.schema.json', () => {
  test('describes every value in values.yaml', () => {
    const missing = leaves(values).filter((leaf) => {
      let node: SchemaNode | undefined = schema;
      for (const key of leaf.split('.')) {
        node = node ? resolve(node).properties?.[key] : undefined;
        if (!node) return true;
      }
      return false;
    });
    expect(missing).toEqual([]);
  });

  test('rejects unknown keys in every object it describes (free-form maps excepted)', () => {
    const open: string[] = [];
    const walk = (node: SchemaNode, at: string): void => {
      const n = resolve(node);
      if (n.properties) {
        if (n.additionalProperties !== false) open.push(at);
        for (const [k, child] of Object.entries(n.properties)) walk(child, at ? `${at}.${k}` : k);
      }
      if (n.items) walk(n.items, `${at}[]`);
    };
    walk(schema, '');
    expect(open).toEqual([]);
  });
});
