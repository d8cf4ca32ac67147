import type { CommandSpec } from '../cli.ts';
import { DEPLOY_OPTIONS } from './options.ts';

/** `npm run deploy`: options, help text and examples. */
export const DEPLOY_SPEC: CommandSpec = {
  name: 'deploy',
  summary:
    'Deploy TaskFlow: pre-flight (settings, tools, cluster, storage, password drift), helm upgrade --install, a fail-fast rollout watch, verification and a summary with URLs.',
  usage: '[options]',
  options: DEPLOY_OPTIONS,
  examples: [
    'npm run deploy',
    'npm run deploy -- --dry-run',
    'npm run deploy -- --diff                 # what would change and which pods would restart; exit 1 if anything',
    'npm run deploy -- --build --pgadmin --port-forward',
    'npm run deploy -- --addon adminer --addon mailpit',
    'npm run deploy -- -n staging --env-file .env.staging --timeout 15m',
    'npm run deploy -- --fresh --yes          # wipe the namespace and data (backed up first)',
    'npm run -s deploy -- --json > deploy.json',
  ],
  notes: [
    'A deploy compares first (--diff shows the same comparison): with nothing to change it skips the helm upgrade (no new revision) and only checks the release. On a terminal without --yes it shows the changes and asks before an upgrade that restarts pods.',
    'Data is never deleted without --fresh. Secrets reach helm on stdin only. When a database already holds data and the password about to be deployed is not the one it accepts, deploy stops before changing anything.',
  ],
};
