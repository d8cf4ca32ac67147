import { CLUSTER_OPTIONS, type CommandSpec } from '../cli.ts';

/** `npm run env-flow`: options, help text and examples. */
export const ENV_FLOW_SPEC: CommandSpec = {
  name: 'env-flow',
  summary:
    'Show where each setting travels: its source (env file, process env, default, generated, existing Secret) → chart value → Secret or ConfigMap key → container env var, and with a cluster whether the live release holds the same value.',
  usage: '[VAR...] [options]',
  maxPositionals: 64,
  options: {
    ...CLUSTER_OPTIONS,
    offline: { type: 'boolean', description: 'do not contact the cluster (no live column)' },
    chart: {
      type: 'string',
      arg: 'PATH',
      description: 'chart to render (default: the bundled charts/taskflow)',
    },
  },
  examples: [
    'npm run env-flow',
    'npm run env-flow -- SMTP_HOST SMTP_PASS',
    'npm run env-flow -- DATABASE_URL        # a container variable works too',
    'npm run env-flow -- --json',
  ],
  notes: [
    'Values are never printed: the live column compares sha256 digests. ✓ arrives, ✗ broken (missing, wrong, or a secret in a ConfigMap), ~ from an object outside the release, - unused. Exit 1 when a link is broken.',
    'Live column (with a cluster): the value each running container started with (read with env inside it), else the live pod template and its Secrets. same; differs (a redeploy applies it); stale (the Secret has it, the pod started before: restart it); drifting (the pod has it, its Secret was changed since); missing; not deployed.',
  ],
};
