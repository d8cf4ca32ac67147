import { describe, expect, it } from 'vitest';
import { npmBannerNote } from '../../lib/npm-flags.ts';

describe('npmBannerNote: said only when npm put its banner on a stdout that is not a terminal', () => {
  const npm = {
    npm_lifecycle_event: 'deploy',
    npm_config_loglevel: 'notice',
    npm_config_user_agent: 'npm/11.19.1 node/v20.20.2 linux x64',
  };
  it.each([
    ['run by npm, not silent, stdout a pipe', npm, false, true],
    ['npm run -s', { ...npm, npm_config_loglevel: 'silent' }, false, false],
    ['stdout a terminal', npm, true, false],
    ["npm's own json setting (the banner goes to stderr)", { ...npm, npm_config_json: 'true' }, false, false],
    [
      'run by another package manager',
      { ...npm, npm_config_user_agent: 'yarn/1.22.22 npm/? node/v20' },
      false,
      false,
    ],
    ['not run by npm (node -- scripts/run.mjs)', {}, false, false],
    ['another npm script ran this one', { ...npm, npm_lifecycle_event: 'test' }, false, false],
  ])('%s', (_, env, tty, said) => {
    expect(npmBannerNote('deploy', env, tty, ['--json', '-n', 'my ns']) !== undefined).toBe(said);
  });

  it('names the command to run, arguments kept', () => {
    expect(npmBannerNote('deploy', npm, false, ['--json', '-n', 'my ns'])).toBe(
      `npm printed its "> deploy" banner on stdout ahead of this JSON, so stdout is not JSON alone; for JSON alone run: npm run -s deploy -- --json -n 'my ns'`,
    );
  });
});
