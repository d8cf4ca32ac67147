import { describe, expect, it } from 'vitest';
import { closest } from '../../lib/did-you-mean.ts';

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
