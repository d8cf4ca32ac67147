import { describe, expect, it } from 'vitest';
import { FLOW } from '../../lib/flow-map.ts';
import type { LinkResult } from '../../lib/flow-prove.ts';
import { targetLabel } from '../../lib/flow-prove.ts';
import { settingBlock } from '../../lib/env-flow/table.ts';
import type { LiveStatus } from '../../lib/env-flow/live.ts';

const row = FLOW.find((r) => r.key === 'POSTGRES_SSO_PASSWORD')!;
const links: LinkResult[] = row.targets.map((target) => ({
  setting: row,
  target,
  status: 'ok',
  via: 'Secret sso-postgres key password',
  where: targetLabel(target),
  detail: '',
}));

describe('settingBlock live column', () => {
  it("says a differing database password is the reset tool's job, not a redeploy's", () => {
    const live = new Map<LinkResult, LiveStatus>(links.map((l, i) => [l, i < 2 ? 'differs' : 'same']));
    const lines = settingBlock(row, '.env:1', links, live).join('\n');
    expect(lines).toContain('differs (the database keeps its password: npm run reset-db-password -- sso)');
    // The app's DATABASE_URL is rebuilt by a redeploy.
    expect(lines).toMatch(/container sso-platform env DATABASE_URL\s+differs \(redeploy applies it\)/);
  });
});

describe('settingBlock on a narrow terminal', () => {
  it('fits the width as a table when it can, else lists each link without wrapping mid-header', () => {
    const wide = settingBlock(row, '.env:1', links, undefined, 400);
    expect(wide).toEqual(settingBlock(row, '.env:1', links, undefined));
    expect(wide[1]).toMatch(/Secret\/ConfigMap key\s+container env/);

    const narrow = settingBlock(row, '.env:1', links, undefined, 80);
    expect(narrow.slice(0, 3)).toEqual([
      'POSTGRES_SSO_PASSWORD (secret)',
      '  source: .env:1',
      '  chart value: sso.database.password',
    ]);
    expect(narrow).toContain('      -> StatefulSet sso-postgres container postgres env POSTGRES_PASSWORD');
    expect(narrow.join('\n')).not.toContain('Secret/ConfigMap key');
    expect(Math.max(...narrow.map((l) => l.length))).toBeLessThanOrEqual(80);
  });
});
