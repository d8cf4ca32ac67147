// Every command's --help: one exit-code line, no repeated words, only the options the command uses.
import { ALL_SPECS } from '../support/specs.ts';
import { describe, expect, it } from 'vitest';
import { formatHelp, parseCommandLine } from '../../lib/cli.ts';

const SPECS = ALL_SPECS;
/** The commands that ask before destroying something (--fresh, --rotate, --remove). */
const ASKING = ['deploy', 'migrate', 'reset-db-password', 'reset-auth-secret', 'addon', 'pgadmin', 'db'];

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
