// What a fresh cluster holds: the system namespaces, the node, the storage classes of the
// scenario, and the `kubernetes` Service.
import type { Cluster } from './cluster.ts';
import { SERVER_VERSION } from './discovery.ts';
import { HOST_IP, NODE_NAME } from './kubelet/node.ts';
import { typeByKind } from './resources.ts';
import { nodeImageNames } from './scenario.ts';
import { type JsonObject, makeObject, nowTimestamp } from './types.ts';

/** Creates the objects every cluster starts with. */
export function bootstrap(cluster: Cluster): void {
  for (const ns of ['default', 'kube-system', 'kube-public', 'kube-node-lease']) {
    cluster.create(typeByKind('Namespace'), makeObject('v1', 'Namespace', { name: ns }));
  }
  const now = nowTimestamp();
  const node = cluster.create(
    typeByKind('Node'),
    makeObject(
      'v1',
      'Node',
      {
        name: NODE_NAME,
        labels: {
          'kubernetes.io/hostname': NODE_NAME,
          'kubernetes.io/os': 'linux',
          'kubernetes.io/arch': 'amd64',
          'node-role.kubernetes.io/control-plane': '',
        },
      },
      { spec: { podCIDR: '10.244.0.0/24' } },
    ),
  );
  cluster.store.update(
    typeByKind('Node'),
    {
      ...node,
      status: {
        capacity: { cpu: '4', memory: '8Gi', pods: '110', 'ephemeral-storage': '100Gi' },
        allocatable: { cpu: '4', memory: '8Gi', pods: '110', 'ephemeral-storage': '100Gi' },
        conditions: [
          {
            type: 'MemoryPressure',
            status: 'False',
            reason: 'KubeletHasSufficientMemory',
            message: 'kubelet has sufficient memory available',
            lastHeartbeatTime: now,
            lastTransitionTime: now,
          },
          {
            type: 'DiskPressure',
            status: 'False',
            reason: 'KubeletHasNoDiskPressure',
            message: 'kubelet has no disk pressure',
            lastHeartbeatTime: now,
            lastTransitionTime: now,
          },
          {
            type: 'PIDPressure',
            status: 'False',
            reason: 'KubeletHasSufficientPID',
            message: 'kubelet has sufficient PID available',
            lastHeartbeatTime: now,
            lastTransitionTime: now,
          },
          {
            type: 'Ready',
            status: 'True',
            reason: 'KubeletReady',
            message: 'kubelet is posting ready status',
            lastHeartbeatTime: now,
            lastTransitionTime: now,
          },
        ],
        addresses: [
          { type: 'InternalIP', address: HOST_IP },
          { type: 'Hostname', address: NODE_NAME },
        ],
        nodeInfo: {
          kubeletVersion: SERVER_VERSION.gitVersion,
          kubeProxyVersion: SERVER_VERSION.gitVersion,
          containerRuntimeVersion: 'kube-sim://1.0',
          operatingSystem: 'linux',
          architecture: 'amd64',
          osImage: 'kube-sim',
          kernelVersion: 'kube-sim',
        },
      },
    },
    { internal: true },
  );
  syncStorageClasses(cluster);
  syncNodeImages(cluster);
  cluster.create(
    typeByKind('Service'),
    makeObject(
      'v1',
      'Service',
      {
        name: 'kubernetes',
        namespace: 'default',
        labels: { component: 'apiserver', provider: 'kubernetes' },
      },
      {
        spec: {
          clusterIP: '10.96.0.1',
          ports: [{ name: 'https', port: 443, protocol: 'TCP', targetPort: 6443 }],
        },
      },
    ),
  );
}

/**
 * Makes the node's status.images match the scenario's nodeImages and the images pods pulled (the
 * largest first, as kubelet sorts them; here all one size, so in the order they came). Without
 * nodeImages the node reports no list.
 */
export function syncNodeImages(cluster: Cluster): void {
  const rt = typeByKind('Node');
  const node = cluster.store.get(rt, undefined, NODE_NAME);
  if (!node) return;
  const preloaded = cluster.scenario.nodeImages;
  const images =
    preloaded === undefined
      ? undefined
      : [...new Set([...preloaded, ...cluster.pulledImages])].map((i) => ({
          names: nodeImageNames(i),
          sizeBytes: 48213456,
        }));
  const status = { ...(node.status as JsonObject) };
  if (JSON.stringify(status.images) === JSON.stringify(images)) return;
  if (images === undefined) delete status.images;
  else status.images = images;
  cluster.store.update(rt, { ...node, status }, { internal: true });
}

/** Makes the StorageClasses match the scenario: the first listed is the default. */
export function syncStorageClasses(cluster: Cluster): void {
  const rt = typeByKind('StorageClass');
  const want = cluster.scenario.storageClasses ?? ['standard'];
  for (const sc of cluster.store.list(rt))
    if (!want.includes(sc.metadata.name)) cluster.store.remove(rt, undefined, sc.metadata.name);
  want.forEach((name, i) => {
    const annotations = { 'storageclass.kubernetes.io/is-default-class': i === 0 ? 'true' : 'false' };
    const cur = cluster.store.get(rt, undefined, name);
    if (cur) {
      if (
        cur.metadata.annotations?.['storageclass.kubernetes.io/is-default-class'] !==
        annotations['storageclass.kubernetes.io/is-default-class']
      ) {
        cluster.store.update(rt, { ...cur, metadata: { ...cur.metadata, annotations } });
      }
      return;
    }
    cluster.create(
      rt,
      makeObject(
        'storage.k8s.io/v1',
        'StorageClass',
        { name, annotations },
        {
          provisioner: 'rancher.io/local-path',
          reclaimPolicy: 'Delete',
          volumeBindingMode: 'Immediate',
          allowVolumeExpansion: true,
        },
      ),
    );
  });
}
