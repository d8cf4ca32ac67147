import type { CommandSpec } from '../cli.ts';
import { DEPLOY_OPTIONS } from './options.ts';

/** `npm run deploy`: options, help text and examples. */
export const DEPLOY_SPEC: CommandSpec = {
  name: 'deploy',
  summary:
    "Deploy TaskFlow: pre-flight (settings, tools, cluster, storage, password drift), helm upgrade --install, a fail-fast rollout watch, verification, a person's journey (on a local cluster) and a summary with URLs.",
  usage: '[options]',
  options: DEPLOY_OPTIONS,
  examples: [
    'npm run deploy',
    'npm run deploy -- --dry-run',
    'npm run deploy -- --diff                 # what would change and which pods would restart; exit 1 if anything',
    'npm run deploy -- --build --pgadmin --port-forward',
    'npm run deploy -- --addon adminer --addon mailpit',
    'npm run deploy -- -n staging --env-file .env.staging --timeout 15m',
    'npm run deploy -- --context staging --verify   # walk the sign-up/sign-in journey there too',
    'npm run deploy -- --fresh --yes          # wipe the namespace and data (backed up first)',
    'npm run -s deploy -- --json > deploy.json',
  ],
  notes: [
    'A deploy compares first (--diff shows the same comparison): with nothing to change it skips the helm upgrade (no new revision) and only checks the release. On a terminal without --yes it shows the changes and asks before an upgrade that restarts pods.',
    "On a local cluster the deploy ends with npm run verify's journey: a throwaway account signs up, gets its mail (Mailpit), signs in, signs in to the dashboard over OAuth and calls the API, then is removed; a failed step fails the deploy (exit 1). --no-verify skips it; elsewhere it runs only with --verify. TASKFLOW_VERIFY=auto|always|never sets the default.",
    'Data is never deleted without --fresh. Secrets reach helm on stdin only. When a database already holds data and the password about to be deployed is not the one it accepts, deploy stops before changing anything.',
  ],
};
