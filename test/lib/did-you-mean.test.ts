import { describe, expect, it } from 'vitest';
import { closest, closestMeant } from '../../lib/did-you-mean.ts';

describe('closest', () => {
  it.each([
    // a swap of neighbours is one edit, as a typist makes it (plain Levenshtein counts two)
    ['PASWSORD', ['PASSWORD', 'USER'], 'PASSWORD'],
    ['NAEMSPACE', ['NAMESPACE'], 'NAMESPACE'],
    ['ab', ['ba'], 'ba'],
    // one edit per five characters, at most three
    ['TASKFLOW_NAMESPCE', ['TASKFLOW_NAMESPACE', 'TASKFLOW_RELEASE'], 'TASKFLOW_NAMESPACE'],
    ['TASKFLOW_NAMSPCE', ['TASKFLOW_NAMESPACE'], 'TASKFLOW_NAMESPACE'],
    ['TASKFLOW_NMSPC', ['TASKFLOW_NAMESPACE'], undefined],
    ['PASWORDS', ['PASSWORD'], undefined],
    ['zzzz', ['PASSWORD'], undefined],
    // the first of equally close candidates
    ['CAT', ['CUT', 'COT'], 'CUT'],
    ['--contxt', ['--context', '--content'], '--context'],
    // a prefix of exactly one candidate, from three characters on
    ['--auto-port', ['--auto-ports', '--port'], '--auto-ports'],
    ['deplo', ['deploy-one-command', 'doctor'], 'deploy-one-command'],
    ['de', ['deploy-one-command'], undefined],
    ['--p', ['--port', '--ports-file'], undefined],
  ] as const)('%s among %j -> %s', (word, candidates, meant) => {
    expect(closest(word, candidates)).toBe(meant);
  });

  it('takes any iterable of candidates', () => {
    expect(closest('PASWSORD', new Set(['PASSWORD']))).toBe('PASSWORD');
  });
});

describe('closestMeant', () => {
  const spellings = [
    ['SMTP_PASS', 'SMTP_PASS'],
    ['SMTP_PASSWORD', 'SMTP_PASS'],
    ['SMTP_USER', 'SMTP_USER'],
    ['SMTP_USERNAME', 'SMTP_USER'],
  ] as const;
  it.each([
    // the name a near spelling stands for, not the spelling
    ['SMTP_PASWORD', 'SMTP_PASS'],
    ['SMTP_USERNAM', 'SMTP_USER'],
    ['SMTP_PAS', 'SMTP_PASS'],
    // a prefix of two spellings of one name; of two names it is no guess
    ['SMTP_USE', 'SMTP_USER'],
    ['SMTP_', undefined],
    ['SMTP_TLS', undefined],
  ] as const)('%s -> %s', (word, meant) => {
    expect(closestMeant(word, spellings)).toBe(meant);
  });
});
