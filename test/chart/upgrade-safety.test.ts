import { describe, expect, it } from 'vitest';
import { renderChart } from '../support/chart.ts';

// A StatefulSet's volumeClaimTemplates cannot change after creation: a label carrying the chart
// or app version there would make the first upgrade to a new chart version fail on a real cluster.
describe('upgrade safety', () => {
  it('volume claim templates carry no label that changes with the chart or app version', async () => {
    const objs = await renderChart({ values: { global: { imageTag: '1.2.3' } } });
    const sets = objs.filter((o) => o.kind === 'StatefulSet');
    expect(sets.map((s) => s.metadata.name).sort()).toEqual(['api-postgres', 'sso-postgres']);
    for (const s of sets) {
      const spec = s.spec as { volumeClaimTemplates: { metadata: { labels: Record<string, string> } }[] };
      for (const t of spec.volumeClaimTemplates) {
        expect(Object.keys(t.metadata.labels).sort()).toEqual([
          'app.kubernetes.io/component',
          'app.kubernetes.io/instance',
          'app.kubernetes.io/name',
        ]);
      }
    }
  });
});
