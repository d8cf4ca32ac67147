// The scenario entries that make the simulated cluster run the stand-ins as the applications' containers.
import { fileURLToPath } from 'node:url';
import type { Scenario } from '../kube-sim/index.ts';
import { repoRoot } from '../support/tools.ts';

/** A scenario `program` running one stand-in file of this folder with tsx, from the repository. */
export function standIn(file: string): NonNullable<Scenario['images']>[string] {
  return {
    program: {
      command: [process.execPath, '--import', 'tsx', fileURLToPath(new URL(file, import.meta.url))],
      cwd: repoRoot,
    },
  };
}

/** The SSO on Better Auth and Mailpit, by their images. */
export const STAND_INS = {
  'taskflow/sso-platform': standIn('./sso.ts'),
  'axllent/mailpit': standIn('./mailpit.ts'),
};
