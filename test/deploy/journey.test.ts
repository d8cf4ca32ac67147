// Whether deploy ends with a person's journey: --verify / --no-verify, else TASKFLOW_VERIFY (the
// environment over the env file), else only on a local cluster, since the journey creates an account.
import { describe, expect, it } from 'vitest';
import { journeyDecision } from '../../lib/deploy/journey.ts';
import { journeySetting, parseDeployOptions } from '../../lib/deploy/options.ts';
import { parseEnvText } from '../../lib/envfile.ts';

const file = (text: string) => parseEnvText('.env', text).file;

describe('journeySetting', () => {
  it('a flag wins over the setting; the environment over the env file; auto when neither says', () => {
    const fileSays = file('TASKFLOW_VERIFY=always\n');
    expect(journeySetting(parseDeployOptions({ 'no-verify': true }, {}), {}, fileSays)).toBe('never');
    expect(
      journeySetting(parseDeployOptions({ verify: true }, {}), { TASKFLOW_VERIFY: 'never' }, fileSays),
    ).toBe('always');
    expect(journeySetting(parseDeployOptions({}, {}), { TASKFLOW_VERIFY: 'never' }, fileSays)).toBe('never');
    expect(journeySetting(parseDeployOptions({}, {}), {}, fileSays)).toBe('always');
    expect(journeySetting(parseDeployOptions({}, {}), {}, file(''))).toBe('auto');
  });

  it('a value it does not know, and both flags, are usage errors (exit 2)', () => {
    expect(() => journeySetting(parseDeployOptions({}, {}), { TASKFLOW_VERIFY: 'yes' }, file(''))).toThrow(
      'TASKFLOW_VERIFY: "yes" is not one of auto, always, never',
    );
    expect(() => parseDeployOptions({ verify: true, 'no-verify': true }, {})).toThrow(
      '--verify and --no-verify contradict each other',
    );
  });
});

describe('journeyDecision', () => {
  it.each([
    ['auto', true, true],
    ['auto', false, false],
    ['always', false, true],
    ['never', true, false],
  ] as const)('%s on a %s local context walks: %s', (mode, local, walks) => {
    expect(journeyDecision(mode, local).walk).toBe(walks);
  });

  it('says why it does not walk, with the way to ask for it', () => {
    expect(journeyDecision('auto', false)).toEqual({
      walk: false,
      why: 'a remote context gets no throwaway account unless asked: add --verify',
    });
  });
});
