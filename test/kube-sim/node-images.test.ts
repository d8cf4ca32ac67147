// The node's status.images: the scenario's nodeImages, plus every image a pod pulled (as kubelet
// reports them, under docker.io/ names with a digest name); never an image that failed to pull.
// Without nodeImages the node reports no list at all.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startKubeSim, type KubeSim } from './index.ts';
import { json, waitFor } from './test-helpers.ts';

let sim: KubeSim;
const ns = 'imgs';
const k = (args: string[]) => sim.kubectl(args);

interface NodeList {
  items: { metadata: { name: string }; status: { images?: { names: string[]; sizeBytes: number }[] } }[];
}
const nodeImages = async () =>
  json<NodeList>(await k(['get', 'nodes', '-o', 'json'])).items[0]?.status.images?.map((i) => i.names);
const tagged = async () => (await nodeImages())?.map((names) => names.find((n) => !n.includes('@')));
const waiting = async (pod: string) =>
  json<{ status: { containerStatuses?: { state: { waiting?: { reason: string } } }[] } }>(
    await k(['get', 'pod', pod, '-n', ns, '-o', 'json']),
  ).status.containerStatuses?.[0]?.state.waiting?.reason;

beforeAll(async () => {
  sim = await startKubeSim({
    scenario: {
      readyAfterMs: 50,
      nodeImages: ['postgres:16-alpine', 'ghcr.io/me/tool:2'],
      images: { 'taskflow/web-dashboard': { state: 'pull-error' } },
    },
  });
  await k(['create', 'namespace', ns]);
});
afterAll(async () => {
  await sim?.stop();
});

describe("the node's image list", () => {
  it('lists the preloaded images as a node does: docker.io names, a digest name each', async () => {
    const lists = await nodeImages();
    expect(lists).toEqual([
      [
        expect.stringMatching(/^docker\.io\/library\/postgres@sha256:[0-9a-f]{64}$/),
        'docker.io/library/postgres:16-alpine',
      ],
      [expect.stringMatching(/^ghcr\.io\/me\/tool@sha256:[0-9a-f]{64}$/), 'ghcr.io/me/tool:2'],
    ]);
  });

  it('adds an image a pod pulled, never one whose pull failed', async () => {
    await k(['run', 'api', '--image=taskflow/api:1.4.2', '-n', ns]);
    await k(['run', 'web', '--image=taskflow/web-dashboard:1.4.2', '-n', ns]);
    await waitFor(
      async () => (await tagged())?.includes('docker.io/taskflow/api:1.4.2'),
      30_000,
      'api pulled',
    );
    await waitFor(async () => (await waiting('web')) === 'ImagePullBackOff', 30_000, 'web back-off');
    expect(await tagged()).toEqual([
      'docker.io/library/postgres:16-alpine',
      'ghcr.io/me/tool:2',
      'docker.io/taskflow/api:1.4.2',
    ]);
  });

  it('reports no list at all when the scenario sets no nodeImages (a client cannot tell)', async () => {
    await sim.setScenario({ readyAfterMs: 50 });
    const doc = json<NodeList>(await k(['get', 'nodes', '-o', 'json']));
    expect(doc.items[0]?.status).not.toHaveProperty('images');
    // Set again: the preloaded images and those pulled meanwhile.
    await sim.setScenario({ nodeImages: [] });
    expect(await tagged()).toEqual(['docker.io/taskflow/api:1.4.2']);
  });
});
