// Service names for the programs the simulated kubelet runs: one hosts file per namespace, in the
// form cluster DNS answers (`svc`, `svc.ns`, `svc.ns.svc`, `svc.ns.svc.cluster.local`; the short
// name only inside its namespace). A ClusterIP Service names its cluster IP; a headless one names the
// IPs of the pods it selects (pod IPs are stable per pod name, so a StatefulSet's entry stays put).
// A program sees its namespace's file as /etc/hosts (kubelet/program.ts), and the file is rewritten
// in place, only when its content changes, so a program started early resolves Services created later.
import { writeFileSync } from 'node:fs';
import path from 'node:path';
import type { Cluster } from '../cluster.ts';
import { typeByKind } from '../resources.ts';
import { fromMap, matchesLabels } from '../selectors.ts';
import type { StoreEvent } from '../store.ts';
import type { JsonObject, KObject } from '../types.ts';

const SVC = typeByKind('Service');
const POD = typeByKind('Pod');
const DOMAIN = 'svc.cluster.local';

/** The hosts file lines of the cluster as seen from `namespace`. */
export function hostsFor(cluster: Cluster, namespace: string): string {
  const lines = ['127.0.0.1\tlocalhost', '::1\tlocalhost ip6-localhost ip6-loopback'];
  const services = [...cluster.store.list(SVC)].sort((a, b) =>
    `${a.metadata.namespace}/${a.metadata.name}`.localeCompare(`${b.metadata.namespace}/${b.metadata.name}`),
  );
  for (const svc of services) {
    const ns = svc.metadata.namespace ?? 'default';
    const name = svc.metadata.name;
    const names = [
      ...(ns === namespace ? [name] : []),
      `${name}.${ns}`,
      `${name}.${ns}.svc`,
      `${name}.${ns}.${DOMAIN}`,
    ].join(' ');
    const ip = (svc.spec as JsonObject | undefined)?.clusterIP;
    if (typeof ip === 'string' && ip !== '' && ip !== 'None') {
      lines.push(`${ip}\t${names}`);
      continue;
    }
    for (const pod of selectedPods(cluster, svc)) {
      const podIp = (pod.status as JsonObject | undefined)?.podIP;
      if (typeof podIp !== 'string' || podIp === '') continue;
      lines.push(`${podIp}\t${names}`);
      // A StatefulSet pod's own name under its governing Service (`sso-postgres-0.sso-postgres.ns...`).
      lines.push(`${podIp}\t${pod.metadata.name}.${name}.${ns}.${DOMAIN} ${pod.metadata.name}.${name}.${ns}`);
    }
  }
  return `${lines.join('\n')}\n`;
}

function selectedPods(cluster: Cluster, svc: KObject): KObject[] {
  const sel = fromMap((svc.spec as JsonObject | undefined)?.selector);
  if (!sel) return [];
  return cluster.store
    .list(POD, { namespace: svc.metadata.namespace ?? '' })
    .filter((p) => matchesLabels(sel, p.metadata.labels) && !p.metadata.deletionTimestamp)
    .sort((a, b) => a.metadata.name.localeCompare(b.metadata.name));
}

/** Keeps one hosts file per namespace that has asked for one. */
export class ClusterDns {
  private readonly written = new Map<string, string>();
  private timer: NodeJS.Timeout | undefined;

  constructor(
    private readonly cluster: Cluster,
    private readonly dir: string,
  ) {}

  /** The hosts file of a namespace, written now. */
  hostsFile(namespace: string): string {
    const file = path.join(this.dir, `hosts.${namespace}`);
    this.write(namespace, file);
    return file;
  }

  /** Services and pods change what the files say (pod IPs appear once pods run). */
  onEvent(e: StoreEvent): void {
    if (e.rt !== SVC && e.rt !== POD) return;
    if (this.written.size === 0 || this.timer) return;
    this.timer = setTimeout(() => {
      this.timer = undefined;
      for (const ns of this.written.keys()) this.write(ns, path.join(this.dir, `hosts.${ns}`));
    }, 10);
  }

  private write(namespace: string, file: string): void {
    const text = hostsFor(this.cluster, namespace);
    if (this.written.get(namespace) === text) return;
    // In place (the same inode): a program's bind mount of it sees the new content.
    writeFileSync(file, text);
    this.written.set(namespace, text);
  }

  stop(): void {
    if (this.timer) clearTimeout(this.timer);
    this.timer = undefined;
  }
}
