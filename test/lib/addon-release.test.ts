import { describe, expect, it } from 'vitest';
import {
  addonCarryNotes,
  carriedAddonValues,
  releaseOnlyDefinitions,
  storedDefinition,
} from '../../lib/addon-release.ts';

/** Release values with one definition add-on on (its whole definition stored) and one off. */
const previous = {
  pgadmin: { enabled: true },
  addons: {
    whoami: {
      enabled: true,
      title: 'Whoami',
      description: 'echo',
      image: 'traefik/whoami:v1.10.1',
      ports: [{ name: 'http', port: 8080, forward: 8090 }],
      volumes: [{ name: 'data', path: '/data', size: '64Mi', persistent: true }],
    },
    old: { enabled: false, title: 'Old', image: 'a/b:1', ports: [] },
  },
};

describe('add-ons on in a release whose definition file is gone', () => {
  it('are rebuilt from the copy the release stored, with no file', () => {
    expect(storedDefinition('whoami', previous.addons.whoami)).toEqual({
      name: 'whoami',
      title: 'Whoami',
      description: 'echo',
      image: 'traefik/whoami:v1.10.1',
      ports: [{ name: 'http', port: 8080, forward: 8090 }],
      volumes: [{ name: 'data', path: '/data', size: '64Mi', persistent: true }],
      file: '',
      builtin: false,
    });
    // A stored copy without a title still names the add-on.
    expect(storedDefinition('bare', { enabled: true })).toMatchObject({ title: 'bare', ports: [] });
  });

  it('are those on and not found: an add-on that is off, or has its file, is not one', () => {
    expect(releaseOnlyDefinitions(previous, []).map((d) => d.name)).toEqual(['whoami']);
    expect(releaseOnlyDefinitions(previous, [{ name: 'whoami' }])).toEqual([]);
    expect(releaseOnlyDefinitions(undefined, [])).toEqual([]);
  });

  it('a deploy keeps them as stored, and says so once each, naming the folder looked in', () => {
    expect(carriedAddonValues(previous, {})).toEqual({
      pgadmin: { enabled: true },
      addons: { whoami: previous.addons.whoami },
    });
    expect(addonCarryNotes(previous, {}, '/nonexistent/addons')).toEqual([
      'add-on whoami is on in the release, but no whoami.yaml was found (built-in, or in /nonexistent/addons): it is kept as the release stored it; restore the file to change it, or turn it off: npm run addon -- whoami --remove',
    ]);
    expect(addonCarryNotes(previous, { whoami: { enabled: true } }, 'addons')).toEqual([]);
  });
});
