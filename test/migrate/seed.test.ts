import { describe, expect, it } from 'vitest';
import { afterSeedLines } from '../../lib/migrate/migrate.ts';
import { seedOutcome } from '../../lib/migrate/seed.ts';

describe("the seed's word on the default organisation", () => {
  it.each([
    [['📊 Seeding default organization...', '', '  ✅ Taskflow (creating...)'], 'created'],
    [['📊 Seeding default organization...', '  ✅ Taskflow (updating...)'], 'existed'],
    // an OAuth client created before that step says nothing of the organisation
    [
      [
        '  ✅ Taskflow SSO Public Client (creating...)',
        '📊 Seeding default organization...',
        '  ✅ Taskflow (updating...)',
      ],
      'existed',
    ],
    // the test organisation after it does not change the verdict
    [
      [
        '📊 Seeding default organization...',
        '  ✅ Taskflow (updating...)',
        '📊 Seeding test organization...',
        '  ✅ Test (creating...)',
      ],
      'existed',
    ],
    [['  ✅ Taskflow SSO Public Client (creating...)'], undefined],
    [[], undefined],
  ])('%j -> %s', (lines, outcome) => {
    expect(seedOutcome(lines)).toBe(outcome);
  });

  it.each([
    ['created', true],
    [null, true],
    ['existed', false],
  ] as const)('%s: restart advised %s', (outcome, restart) => {
    const said = afterSeedLines(outcome, 'tf');
    expect(said.restart).toBe(restart ? 'kubectl rollout restart deployment/sso-platform -n tf' : undefined);
    expect(said.line).not.toMatch(/\bif this run\b/);
  });
});
