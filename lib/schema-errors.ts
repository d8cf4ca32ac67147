import { CHART_VALUE_PATHS } from './settings-values.ts';

/**
 * helm's words for the chart's own rules, made readable. values.schema.json states a rule about a
 * secret (a database password's characters, the auth secret's length) as an if/then whose `then`
 * requires a property named after the rule ("password: must use only ..."): a pattern error would
 * print the secret itself. helm then reports it as a missing property (helm 4: `- at '/sso/database':
 * missing property 'password: must ...'`; helm 3: `- sso.database: password: must ... is required`,
 * after `- sso.database: Must validate "then" as "if" was valid`). This turns such a line into the
 * sentence the rule is: the value's path, the env key that sets it, the rule and its fix.
 */

// A property named after a rule: a name, a colon and a space, then the rule (no real property has one).
const HELM4 = /^(\s*-\s+)at '\/([^']*)': missing property '([A-Za-z]\w*): (.+)'$/;
const HELM3 = /^(\s*-\s+)([\w.-]+): ([A-Za-z]\w*): (.+) is required$/;
const HELM3_THEN = /^\s*-\s+[\w.-]+: Must validate "then" as "if" was valid$/;

/** The env key whose chart value is exactly `valuePath`, if one is. */
export function envKeyOfValue(valuePath: string): string | undefined {
  return Object.entries(CHART_VALUE_PATHS).find(([, values]) => values.includes(valuePath))?.[0];
}

/** One schema rule as a sentence: `sso.database.password (POSTGRES_SSO_PASSWORD) must ...`. */
export function ruleSentence(objectPath: string, property: string, rule: string): string {
  const valuePath = [objectPath, property].filter((p) => p !== '').join('.');
  const key = envKeyOfValue(valuePath);
  return `${valuePath}${key ? ` (${key})` : ''} ${rule}`;
}

/** helm's output with each rule-named missing property rewritten as its sentence (other lines kept). */
export function readableSchemaErrors(text: string): string {
  const lines = text.split('\n');
  const out: string[] = [];
  for (const [i, line] of lines.entries()) {
    const h4 = HELM4.exec(line);
    const h3 = h4 ? undefined : HELM3.exec(line);
    const m = h4 ?? h3;
    if (m) {
      const [, lead = '- ', where = '', property = '', rule = ''] = m;
      out.push(`${lead}${ruleSentence(h4 ? where.replace(/\//g, '.') : where, property, rule)}`);
      continue;
    }
    // helm 3's line before such a rule says only that the rule applied.
    if (HELM3_THEN.test(line) && HELM3.test(lines[i + 1] ?? '')) continue;
    out.push(line);
  }
  return out.join('\n');
}
