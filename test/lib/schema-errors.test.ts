import { describe, expect, it } from 'vitest';
import { envKeyOfValue, readableSchemaErrors } from '../../lib/schema-errors.ts';

const RULE =
  'must use only the characters A-Z a-z 0-9 . _ ~ - (others break the database URL): use a hex password (openssl rand -hex 16), or remove it to have deploy generate one; the value is not shown here';

describe('a rule-named missing property becomes the rule as a sentence', () => {
  it.each([
    // helm 4
    [
      `- at '/sso/database': missing property 'password: ${RULE}'`,
      `- sso.database.password (POSTGRES_SSO_PASSWORD) ${RULE}`,
    ],
    [
      `- at '/api/database': missing property 'password: ${RULE}'`,
      `- api.database.password (POSTGRES_API_PASSWORD) ${RULE}`,
    ],
    // helm 3: the "then" line before it goes
    [
      `- sso.database: Must validate "then" as "if" was valid\n- sso.database: password: ${RULE} is required`,
      `- sso.database.password (POSTGRES_SSO_PASSWORD) ${RULE}`,
    ],
    // a value no env key sets: the path alone
    [`- at '/pgadmin': missing property 'password: must be set'`, '- pgadmin.password must be set'],
    [`  - x.y: token: must be set is required`, '  - x.y.token must be set'],
    // helm's other findings stay as they are
    [
      `- at '/sso/database': missing property 'password'`,
      `- at '/sso/database': missing property 'password'`,
    ],
    [`- sso.database: password is required`, `- sso.database: password is required`],
    [`- sso.x: Must validate "then" as "if" was valid`, `- sso.x: Must validate "then" as "if" was valid`],
    [
      "- at '/sso/smtp/port': maximum: got 70,000, want 65,535",
      "- at '/sso/smtp/port': maximum: got 70,000, want 65,535",
    ],
  ])('%s', (helm, said) => {
    expect(readableSchemaErrors(helm)).toBe(said);
  });

  it('keeps the lines around it', () => {
    const text = `Error: values don't meet the specifications of the schema(s) in the following chart(s):\ntaskflow:\n- at '/sso/database': missing property 'password: ${RULE}'`;
    expect(readableSchemaErrors(text).split('\n')).toEqual([
      "Error: values don't meet the specifications of the schema(s) in the following chart(s):",
      'taskflow:',
      `- sso.database.password (POSTGRES_SSO_PASSWORD) ${RULE}`,
    ]);
  });

  it.each([
    ['sso.auth.secret', 'BETTER_AUTH_SECRET'],
    ['api.allowedOrigins', 'ALLOWED_ORIGINS'],
    ['sso.database', undefined],
  ])('%s is set by %s', (value, key) => {
    expect(envKeyOfValue(value)).toBe(key);
  });
});
