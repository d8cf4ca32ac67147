import { describe, expect, it } from 'vitest';
import { parseSettings } from '../../lib/env.ts';
import { parseEnvText } from '../../lib/envfile.ts';
import { unknownKeysOutcome } from '../../lib/settings-checks.ts';

const PATH = '/work/.env';
const outcome = (text: string, env: NodeJS.ProcessEnv = {}) =>
  unknownKeysOutcome(parseSettings(parseEnvText(PATH, text).file, env).problems, PATH);

describe('env.unknown: each unknown key with its guess, a hint that says what to do', () => {
  it.each([
    [
      'SMTP_PASWORD=x\n',
      'SMTP_PASWORD (/work/.env:1): ignored; did you mean SMTP_PASS?',
      'rename SMTP_PASWORD to SMTP_PASS in /work/.env',
    ],
    [
      'SMTP_HSOT=x\nBETER_AUTH_SECRET=y\n',
      'SMTP_HSOT (/work/.env:1): ignored; did you mean SMTP_HOST?\nBETER_AUTH_SECRET (/work/.env:2): ignored; did you mean BETTER_AUTH_SECRET?',
      'rename SMTP_HSOT to SMTP_HOST, BETER_AUTH_SECRET to BETTER_AUTH_SECRET in /work/.env',
    ],
    [
      'FOO_BAR=x\n',
      'FOO_BAR (/work/.env:1): ignored; no setting of the suite has this name',
      'remove FOO_BAR or use a key that `npm run env-flow` lists; other chart values go in a values file passed with -f',
    ],
    [
      'ALLOWED_ORIGIN=x\nFOO_BAR=y\n',
      'ALLOWED_ORIGIN (/work/.env:1): ignored; did you mean ALLOWED_ORIGINS?\nFOO_BAR (/work/.env:2): ignored; no setting of the suite has this name',
      'rename ALLOWED_ORIGIN to ALLOWED_ORIGINS in /work/.env; remove FOO_BAR or use a key that `npm run env-flow` lists; other chart values go in a values file passed with -f',
    ],
  ])('%j', (text, detail, hint) => {
    const o = outcome(text);
    expect(o).toMatchObject({ status: 'warn', detail, hint });
    for (const line of detail.split('\n')) expect(hint).not.toContain(line);
  });

  it('names no file for a key set in the process environment', () => {
    expect(outcome('', { TASKFLOW_NAMESPCE: 'x' })).toMatchObject({
      detail: 'TASKFLOW_NAMESPCE (process environment): ignored; did you mean TASKFLOW_NAMESPACE?',
      hint: 'rename TASKFLOW_NAMESPCE to TASKFLOW_NAMESPACE',
    });
  });

  it('passes without unknown keys', () => {
    expect(outcome('SMTP_PASS=x\n')).toMatchObject({ status: 'pass' });
  });
});
