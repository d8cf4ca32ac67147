// The kubeconfig of a simulated cluster (context "kube-sim").
import { writeFileSync } from 'node:fs';

/** Writes a kubeconfig pointing at `url`, with `kube-sim` as the current context. */
export function writeKubeconfig(path: string, url: string, namespace = 'default'): void {
  const text = [
    'apiVersion: v1',
    'kind: Config',
    'clusters:',
    '- name: kube-sim',
    '  cluster:',
    `    server: ${url}`,
    'users:',
    '- name: kube-sim',
    '  user:',
    '    token: kube-sim',
    'contexts:',
    '- name: kube-sim',
    '  context:',
    '    cluster: kube-sim',
    '    user: kube-sim',
    `    namespace: ${namespace}`,
    'current-context: kube-sim',
    'preferences: {}',
    '',
  ].join('\n');
  writeFileSync(path, text, { mode: 0o600 });
}
