import type { ClusterSession } from '../context.ts';
import { ADDON_CATALOG, type AddonInfo } from '../addon-catalog.ts';
import { type AddonDefinition, definitionInfo, definitionValues } from '../addon-defs.ts';
import { atPath } from '../values.ts';
import { mailpitOffNote } from '../addon-release.ts';
import {
  type LoginInfo,
  type LoginInput,
  definitionLogin,
  pgadminLogin,
  mailpitLogin,
  mailpitValues,
} from './login.ts';

export type { LoginInfo, LoginInput } from './login.ts';

export type { AddonPort } from '../addon-catalog.ts';

/** An add-on with what the addon command alone needs: its extra values and its login printer. */
export interface Addon extends AddonInfo {
  /** Extra values for the upgrade that turns the add-on on (true) or off (false). */
  extraValues?: (on: boolean, session: ClusterSession) => Record<string, unknown>;
  login: (input: LoginInput) => Promise<LoginInfo>;
  /** What is true once it is off, as the session's settings make it (printed after `--remove`). */
  offNoteFor?: (session: ClusterSession) => string;
  /** The definition it comes from (absent for the chart's own add-ons). */
  definition?: AddonDefinition;
}

const HOOKS: Record<string, Pick<Addon, 'extraValues' | 'login' | 'offNoteFor'>> = {
  pgadmin: { login: pgadminLogin },
  mailpit: {
    extraValues: mailpitValues,
    login: mailpitLogin,
    offNoteFor: (session) => mailpitOffNote(session.settings, session.envFile.path),
  },
};

/** Every add-on of the catalog, with its hooks. */
export const ADDONS: readonly Addon[] = ADDON_CATALOG.map((info) => {
  const hooks = HOOKS[info.name];
  if (!hooks) throw new Error(`add-on ${info.name} has no login printer`);
  return { ...info, ...hooks };
});

/** Valid add-on names, for messages. */
export const ADDON_NAMES = ADDONS.map((a) => a.name);

/** The add-on of that name, or undefined. */
export function findAddon(name: string | undefined): Addon | undefined {
  return ADDONS.find((a) => a.name === name);
}

/**
 * A definition as an add-on: turning it on writes its whole `addons.<name>` values, so an edited definition reaches the cluster the next time it is turned on; its login
 * is the definition's note.
 */
export function definitionAddon(def: AddonDefinition): Addon {
  const info = definitionInfo(def);
  return {
    ...info,
    definition: def,
    extraValues: (on) => (on ? atPath(info.valuesKey, definitionValues(def)) : {}),
    login: (input) => definitionLogin(def, input),
  };
}
