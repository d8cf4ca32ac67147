// The scenario entries that make the simulated cluster run the stand-ins as the applications' containers.
import { fileURLToPath } from 'node:url';
import type { Scenario } from '../kube-sim/index.ts';
import { type SimRelease, simRelease } from '../migrate/sim-release.ts';
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

/** The SSO on Better Auth, the API and Mailpit, by their images. */
const STAND_INS = {
  'taskflow/sso-platform': standIn('./sso.ts'),
  'axllent/mailpit': standIn('./mailpit.ts'),
  'taskflow/api': standIn('./api.ts'),
};

/**
 * The chart deployed by `npm run deploy` in namespace `ns` with the stand-ins (its journey walked last),
 * then Mailpit turned on with
 * `npm run addon -- mailpit`: the release a person's journey runs against. Throws when either fails.
 */
export async function journeyRelease(ns: string): Promise<SimRelease> {
  // The first deploy ends with the journey (a local cluster), Mailpit not on yet: verification off.
  const r = await simRelease({
    ns,
    scenario: { readyAfterMs: 100, images: STAND_INS },
    env: { TASKFLOW_VERIFY: 'auto' },
  });
  const on = await r.run('addon', ['mailpit', '--no-forward'], { timeoutMs: 150_000 });
  if (on.code !== 0) {
    await r.stop();
    throw new Error(`npm run addon -- mailpit failed (exit ${on.code}):\n${on.stderr}`);
  }
  return r;
}
