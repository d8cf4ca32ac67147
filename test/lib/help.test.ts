// Every command's --help: one exit-code line, no repeated words, only the options the command uses.
import { describe, expect, it } from 'vitest';
import { ADDON_SPEC, PGADMIN_SPEC } from '../../lib/addons/options.ts';
import { formatHelp, parseCommandLine } from '../../lib/cli.ts';
import { DEPLOY_SPEC } from '../../lib/deploy/spec.ts';
import { DOCTOR_SPEC } from '../../lib/doctor/spec.ts';
import { ENV_FLOW_SPEC } from '../../lib/env-flow/spec.ts';
import { MIGRATE_SPEC } from '../../lib/migrate/spec.ts';
import { PORT_FORWARD_SPEC } from '../../lib/port-forward/options.ts';
import { VALIDATE_SPEC } from '../../lib/preflight/spec.ts';
import { RESET_SPEC } from '../../lib/reset-password/spec.ts';

const SPECS = [
  DEPLOY_SPEC,
  MIGRATE_SPEC,
  PGADMIN_SPEC,
  ADDON_SPEC,
  RESET_SPEC,
  PORT_FORWARD_SPEC,
  VALIDATE_SPEC,
  DOCTOR_SPEC,
  ENV_FLOW_SPEC,
];
/** The commands that ask before destroying something (--fresh, --rotate, --remove). */
const ASKING = ['deploy', 'reset-db-password', 'addon', 'pgadmin'];

describe.each(SPECS.map((s) => [s.name, s] as const))('npm run %s -- --help', (name, spec) => {
  const help = formatHelp(spec);

  it('has one exit-code line and says "repeatable" once per option', () => {
    expect(help.match(/Exit codes/g)).toHaveLength(1);
    for (const line of help.split('\n'))
      expect(line.match(/repeatable/g)?.length ?? 0).toBeLessThanOrEqual(1);
  });

  it('shows --yes only where something is asked, and still accepts it elsewhere (the contract names it)', () => {
    expect(help.includes('--yes ') || help.includes('--yes\n')).toBe(ASKING.includes(name));
    expect(() => parseCommandLine(spec, ['--yes', ...(spec.maxPositionals ? ['sso'] : [])])).not.toThrow();
  });
});
