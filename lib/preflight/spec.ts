import { CLUSTER_OPTIONS, type CommandSpec } from '../cli.ts';

/** `npm run validate`: options, help text and examples. */
export const VALIDATE_SPEC: CommandSpec = {
  name: 'validate',
  summary:
    "Pre-flight checks: settings, secrets, auth URLs and origins, SMTP, what the applications' source requires (a mail sender, a web origin the SSO's OAuth client accepts, an SSO database its driver reaches, a chat-store sslmode the API converts), the path of every setting into its container, the chart's lint (the rules of helm lint --strict) and render, compose parity, every add-on definition (built-in and yours: addons/ or TASKFLOW_ADDONS_DIR), and (when a cluster answers) tools, storage class and database password drift.",
  usage: '[options]',
  options: {
    ...CLUSTER_OPTIONS,
    compose: {
      type: 'string',
      arg: 'FILE',
      description: 'docker-compose file to compare with (default: one found in . or TASKFLOW_SRC)',
    },
    src: {
      type: 'string',
      arg: 'PATH',
      description:
        "the platform sources: auth.redirect reads the SSO's trusted OAuth clients there (default: TASKFLOW_SRC, else the facts of charts/taskflow/app-contract.yaml)",
    },
    offline: { type: 'boolean', description: 'skip the cluster checks even when a cluster is reachable' },
    cluster: {
      type: 'boolean',
      description: 'require a reachable cluster (unreachable fails instead of skipping)',
    },
    chart: {
      type: 'string',
      arg: 'PATH',
      description: 'chart to check (default: the bundled charts/taskflow)',
    },
  },
  examples: [
    'npm run validate',
    'npm run validate -- --env-file .env.staging -n staging',
    'npm run validate -- --compose ../taskflow/compose.yaml',
    'npm run validate -- --src ../taskforce -f my-prod.yaml',
    'npm run -s validate -- --json > validate.json',
  ],
  notes: [
    'Every check is reported (pass, warn, fail or skip). Neither the env file nor the cluster is written: secrets missing from the env file are generated in memory only, as deploy would generate them. The one file written is ~/.cache/taskflow/tool-versions.json, the versions helm and kubectl reported, by binary. Without a reachable cluster the cluster checks are skipped (with --context or --cluster they fail instead).',
  ],
  exitCodes:
    'Exit codes: 0 no check failed (warnings allowed), 1 a check failed, 2 the env file is missing (when named), unreadable or not valid dotenv, 130 interrupted',
};
