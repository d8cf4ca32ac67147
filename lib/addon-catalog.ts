/**
 * The chart's own add-ons (pgAdmin, Mailpit): built-in definitions (charts/taskflow/addons/<name>.yaml)
 * switched by a values section of their own (`pgadmin.enabled`, the chart's contract), with a hook in the
 * chart for what data cannot say. Their data is read from the definition file; what only the commands say
 * about them (what `--remove` loses) is here. Shared by every command that meets them (port-forward
 * forwards them, deploy lists their URLs); the addon command adds their login printers in lib/addons/.
 */
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { parse } from 'yaml';

/** A port of an add-on's Service that is forwarded to localhost. */
export interface AddonPort {
  /** Port name (for --port and the status table). */
  name: string;
  /** Service port. */
  remote: number;
  /** Default local port. */
  local: number;
}

/** One dev-tool add-on as the commands meet it in a release. */
export interface AddonInfo {
  name: string;
  /** Human name, e.g. pgAdmin. */
  title: string;
  /** Values key holding `enabled`: `pgadmin` for the chart's own, `addons.<name>` for the others. */
  valuesKey: string;
  /** Service and Deployment names (chart contract). */
  service: string;
  deployment: string;
  ports: AddonPort[];
  /** Other Deployments the switch rolls (their config depends on it), awaited after the upgrade. */
  alsoRolls: string[];
  /** What `--remove` loses, for the confirmation question. */
  removeNote: string;
  /** `--remove` loses data (on a remote context it then needs the context's name typed back). */
  losesData: boolean;
  /** What is true again once it is off (printed after `--remove`). */
  offNote?: string;
  /** PersistentVolumeClaims the chart keeps when it goes off (a definition's persistent volumes). */
  claims?: string[];
}

/** What the commands say about the chart's own add-ons beyond their definition. */
const CHART_ADDONS: Record<string, Pick<AddonInfo, 'removeNote' | 'losesData' | 'offNote'>> = {
  pgadmin: {
    removeNote: 'its saved queries and settings are lost; the databases are not touched',
    losesData: true,
  },
  mailpit: {
    removeNote: 'caught mail is lost and the SSO goes back to the SMTP settings of the env file',
    losesData: true,
    // What the SSO gets afterwards depends on the env file: lib/addons/registry.ts offNoteFor says it.
  },
};

/**
 * The SMTP the chart gives the SSO while Mailpit is on (templates/_secrets.tpl, taskflow.sso.smtp; a chart
 * test keeps the two equal). Mailpit accepts any login, so its user and password are fixed words in the
 * chart for anyone to read: the password lands in Secret sso-platform as SMTP_PASS, yet it is no secret,
 * and the scans that look for secret values elsewhere must not take the add-on's own name for one.
 */
export const MAILPIT_SMTP = { host: 'mailpit', port: 1025, user: 'taskflow', password: 'mailpit' } as const;

/** The names of the chart's own add-ons (their definitions are switched by `<name>.enabled`). */
export const CHART_ADDON_NAMES: readonly string[] = Object.keys(CHART_ADDONS);

const BUILTINS = path.resolve(
  path.dirname(fileURLToPath(import.meta.url)),
  '..',
  'charts',
  'taskflow',
  'addons',
);

/** The fields of a definition file the catalog reads (the suite's tests check the file against the schema). */
interface DefinitionData {
  title: string;
  ports: { name: string; port: number; service?: number; forward?: number }[];
  rolls?: string[];
}

function chartAddon(name: string): AddonInfo {
  const def = parse(readFileSync(path.join(BUILTINS, `${name}.yaml`), 'utf8')) as DefinitionData;
  return {
    name,
    title: def.title,
    valuesKey: name,
    service: name,
    deployment: name,
    ports: def.ports.flatMap((p) =>
      p.forward === undefined ? [] : [{ name: p.name, remote: p.service ?? p.port, local: p.forward }],
    ),
    alsoRolls: [...(def.rolls ?? [])],
    ...CHART_ADDONS[name]!,
  };
}

/** The chart's own add-ons, from their definitions. */
export const ADDON_CATALOG: readonly AddonInfo[] = CHART_ADDON_NAMES.map(chartAddon);

/** The add-on of that name, or undefined. */
export function findAddonInfo(name: string | undefined): AddonInfo | undefined {
  return ADDON_CATALOG.find((a) => a.name === name);
}
