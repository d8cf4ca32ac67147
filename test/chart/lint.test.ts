import { describe, expect, test } from 'vitest';
import { chartDir, runHelm } from '../support/chart.ts';
import type { ToolsetName } from '../support/tools.ts';

const cases: { toolset: ToolsetName; files: string[] }[] = (['v35', 'v33'] as const).flatMap((toolset) => [
  { toolset, files: [] },
  { toolset, files: ['values-dev.yaml'] },
  { toolset, files: ['values-prod.yaml'] },
]);

describe('helm lint --strict', () => {
  test.concurrent.each(cases)('$toolset with [$files] passes', async ({ toolset, files }) => {
    const args = ['lint', '--strict', chartDir, ...files.flatMap((f) => ['-f', `${chartDir}/${f}`])];
    const r = await runHelm(args, { toolset });
    expect(r.stderr + r.stdout).toContain('0 chart(s) failed');
    expect(r.code).toBe(0);
  });

  test('passes with both add-ons on (helm 4)', async () => {
    const r = await runHelm(['lint', '--strict', chartDir, '-f', '-'], {
      stdin: JSON.stringify({ pgadmin: { enabled: true }, mailpit: { enabled: true } }),
    });
    expect(r.code, r.stdout + r.stderr).toBe(0);
  });
});
