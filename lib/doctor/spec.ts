import { CLUSTER_OPTIONS, type CommandSpec } from '../cli.ts';

/** `npm run doctor`: options, help text and examples. */
export const DOCTOR_SPEC: CommandSpec = {
  name: 'doctor',
  summary:
    'Diagnose a deployed (or half-deployed) release: release status, failing pods with their reason, logs and events, database logins with the passwords in their Secrets, secrets in ConfigMaps; each problem with the next step.',
  usage: '[options]',
  options: {
    ...CLUSTER_OPTIONS,
    watch: { type: 'boolean', short: 'w', description: 're-run until no check fails (Ctrl+C stops)' },
    interval: { type: 'string', arg: 'SECONDS', description: 'pause between --watch rounds (default 5)' },
    journey: {
      type: 'boolean',
      description:
        "also walk a person's journey (npm run verify's steps, a throwaway account removed after); its steps join the checks",
    },
  },
  examples: [
    'npm run doctor',
    'npm run doctor -- -n staging --release tf',
    'npm run doctor -- --watch',
    'npm run doctor -- --journey',
    'npm run -s doctor -- --json > doctor.json',
  ],
  notes: [
    'With --journey it also signs a throwaway account up and in (npm run verify), and removes it after.',
    'Without --journey it reads only: one batched kubectl get of the release, its Warning events, helm status, the database Secrets, then the logs of each failing container and a login inside each database pod (password on stdin).',
  ],
};
