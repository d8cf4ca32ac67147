/**
 * Where a command acts: the kube context in use, its API server, and whether it is a cluster on this
 * machine. Commands that write to a cluster go through `assertMayWrite` before their first write: a
 * context that is not local proceeds only when the user named it (`--context`, or TASKFLOW_CONTEXT),
 * and a destructive step there needs the name typed back (or, without a terminal, `--yes` together
 * with `--context`).
 */
import { createHash } from 'node:crypto';
import { statSync } from 'node:fs';
import { isIP } from 'node:net';
import path from 'node:path';
import { type ConfirmIo, confirm } from './confirm.ts';
import { NotReadyError, TaskflowError, UsageError } from './errors.ts';
import type { Kubectl } from './kubectl.ts';
import { translateKubectlError } from './kubectl.ts';
import { type Script, npmRun } from './suggest.ts';
import { cacheFile, readCache, remember } from './tool-cache.ts';

/** The context a command acts on, as read from the kubeconfig (no credentials: kubectl omits them). */
export interface Place {
  /** the context's name; null when none could be read (no kubeconfig, no current context) */
  context: string | null;
  namespace: string;
  cluster?: string;
  server?: string;
  /** a cluster on this machine (minikube, kind, k3d, Docker Desktop, ...) */
  local: boolean;
  /** which local product, or why the context counts as remote */
  reason: string;
  /** `--context` chose it (else the kubeconfig's current context) */
  fromFlag: boolean;
  /** why the kubeconfig could not be read */
  error?: TaskflowError;
}

/** Context (or cluster) names that local cluster tools write, with the product's name. */
const LOCAL_NAMES: ReadonlyArray<readonly [RegExp, string]> = [
  [/^minikube$/, 'minikube'],
  [/^kind-./, 'kind'],
  [/^k3d-./, 'k3d'],
  [/^docker-(desktop|for-desktop)$/, 'Docker Desktop'],
  [/^rancher-desktop$/, 'Rancher Desktop'],
  [/^orbstack$/, 'OrbStack'],
  [/^colima(-.+)?$/, 'Colima'],
  [/^microk8s$/, 'MicroK8s'],
  [/^kube-sim$/, 'the simulated cluster'],
];

/** minikube marks every context and cluster it writes (any profile name) with this provider. */
const MINIKUBE_PROVIDER = 'minikube.sigs.k8s.io';

/** Whether an API server host is on this machine or a local VM/container network. */
export function isLocalHost(host: string): boolean {
  const h = host.replace(/^\[|\]$/g, '').toLowerCase();
  if (h === 'localhost' || h.endsWith('.localhost')) return true;
  if (/\.(docker\.internal|orb\.local|local)$/.test(h)) return true;
  if (isIP(h) === 4) {
    const [a = 0, b = 0] = h.split('.').map(Number);
    return a === 127 || a === 10 || (a === 172 && b >= 16 && b <= 31) || (a === 192 && b === 168);
  }
  if (isIP(h) === 6) return h === '::1' || /^f[cd]/.test(h);
  return false;
}

interface Extension {
  extension?: { provider?: string };
}

/**
 * Local or not, and why. A local product's name is not enough: its API server must be on this machine
 * or a local VM network too, so a remote cluster that merely has a local-looking name stays remote.
 */
export function classify(
  context: string,
  cluster: string | undefined,
  server: string | undefined,
  providers: readonly string[] = [],
): { local: boolean; reason: string } {
  const product = providers.includes(MINIKUBE_PROVIDER)
    ? 'minikube'
    : LOCAL_NAMES.find(([re]) => re.test(context) || (cluster !== undefined && re.test(cluster)))?.[1];
  if (product === undefined)
    return { local: false, reason: 'not a local cluster (minikube, kind, k3d, ...)' };
  const host = server && URL.canParse(server) ? new URL(server).hostname : undefined;
  if (host === undefined) return { local: false, reason: `named like ${product}, but with no API server` };
  if (!isLocalHost(host)) {
    return {
      local: false,
      reason: `named like ${product}, but its API server ${host} is not on this machine`,
    };
  }
  return { local: true, reason: product };
}

interface MinifiedConfig {
  'current-context'?: string;
  contexts?: Array<{ name: string; context?: { cluster?: string; extensions?: Extension[] } }>;
  clusters?: Array<{ name: string; cluster?: { server?: string; extensions?: Extension[] } }>;
}

/** What the kubeconfig says of the context in use; the classification is made from it each time. */
interface ContextFacts {
  context: string;
  cluster?: string;
  server?: string;
  providers: string[];
}

/**
 * What identifies the kubeconfig kubectl reads for a context: every file of KUBECONFIG (else
 * ~/.kube/config), each by path, size, modification and change times and inode, or as absent.
 * Undefined when none of them exists.
 */
export function kubeconfigIdentity(env: NodeJS.ProcessEnv, context: string | undefined): string | undefined {
  const files = env.KUBECONFIG
    ? env.KUBECONFIG.split(path.delimiter).filter((f) => f !== '')
    : env.HOME
      ? [path.join(env.HOME, '.kube', 'config')]
      : [];
  const ids = files.map((f) => {
    try {
      const st = statSync(f);
      return `${path.resolve(f)} ${st.size} ${st.mtimeMs} ${st.ctimeMs} ${st.ino}`;
    } catch {
      return `${path.resolve(f)} absent`;
    }
  });
  // No kubeconfig at all: nothing to key on (kubectl may still find an in-cluster config).
  if (ids.every((id) => id.endsWith(' absent'))) return undefined;
  return createHash('sha256')
    .update(JSON.stringify({ context: context ?? null, ids }))
    .digest('hex');
}

/** The facts read before for the same kubeconfig files and --context, if any. */
function cachedFacts(file: string | undefined, key: string | undefined): ContextFacts | undefined {
  if (!file || !key) return undefined;
  const f = readCache(file)[key] as Partial<ContextFacts> | undefined;
  if (typeof f?.context !== 'string' || !Array.isArray(f.providers)) return undefined;
  return {
    context: f.context,
    ...(typeof f.cluster === 'string' && { cluster: f.cluster }),
    ...(typeof f.server === 'string' && { server: f.server }),
    providers: f.providers.filter((p): p is string => typeof p === 'string'),
  };
}

/**
 * Reads the context in use (`--context`, else the current one) from the kubeconfig. Never throws.
 * What `kubectl config view` said is remembered for the same kubeconfig files (lib/tool-cache.ts):
 * an edited kubeconfig (`kubectl config use-context` rewrites it) is read again.
 */
export async function resolvePlace(kubectl: Kubectl): Promise<Place> {
  const { target } = kubectl;
  // The environment kubectl runs with (KUBECONFIG, HOME); a stand-in runner may have none.
  const env = (kubectl.runner as Partial<Pick<Kubectl['runner'], 'env'>>).env ?? process.env;
  const fromFlag = target.context !== undefined;
  const cache = cacheFile(env, 'kube-contexts.json');
  const key = kubeconfigIdentity(env, target.context);
  const known = cachedFacts(cache, key);
  if (known) return placeOf(known, target.namespace, fromFlag);
  const unknown = (error: TaskflowError): Place => ({
    context: target.context ?? null,
    namespace: target.namespace,
    local: false,
    reason: error.message,
    fromFlag,
    error,
  });
  let res;
  try {
    res = await kubectl.run(['config', 'view', '--minify', '-o', 'json'], { clusterScoped: true });
  } catch (err) {
    if (err instanceof TaskflowError) return unknown(err);
    throw err;
  }
  if (res.exitCode !== 0) {
    const text = res.stderr;
    if (target.context && /cannot locate context/i.test(text)) {
      return unknown(translateKubectlError(`context "${target.context}" does not exist`, target, ''));
    }
    if (/current-context must exist/i.test(text)) {
      return unknown(
        new NotReadyError('no kube context is selected (no kubeconfig, or no current context in it)', {
          hint: 'start your cluster (minikube start), or pick one: kubectl config use-context NAME, or --context NAME',
        }),
      );
    }
    return unknown(translateKubectlError(text, target, 'read the kubeconfig'));
  }
  const doc = JSON.parse(res.stdout) as MinifiedConfig;
  const facts = contextFacts(doc, target.context);
  if (cache && key) remember(cache, key, facts);
  return placeOf(facts, target.namespace, fromFlag);
}

/** The context in use, its cluster, server and providers, from `kubectl config view --minify`. */
function contextFacts(doc: MinifiedConfig, flag: string | undefined): ContextFacts {
  const name = doc['current-context'] ?? flag ?? '';
  const ctx = doc.contexts?.find((c) => c.name === name) ?? doc.contexts?.[0];
  const clusterName = ctx?.context?.cluster;
  const cluster = doc.clusters?.find((c) => c.name === clusterName) ?? doc.clusters?.[0];
  const server = cluster?.cluster?.server;
  const providers = [...(ctx?.context?.extensions ?? []), ...(cluster?.cluster?.extensions ?? [])]
    .map((e) => e.extension?.provider)
    .filter((p): p is string => typeof p === 'string');
  return {
    context: name,
    ...(clusterName !== undefined && { cluster: clusterName }),
    ...(server !== undefined && { server }),
    providers,
  };
}

function placeOf(f: ContextFacts, namespace: string, fromFlag: boolean): Place {
  return {
    context: f.context,
    namespace,
    ...(f.cluster !== undefined && { cluster: f.cluster }),
    ...(f.server !== undefined && { server: f.server }),
    ...classify(f.context, f.cluster, f.server, f.providers),
    fromFlag,
  };
}

/** The line every cluster command starts with: where it acts. */
export function placeLine(place: Place): string {
  if (place.context === null) return `namespace ${place.namespace} (no kube context: ${place.reason})`;
  const where = place.local ? `local, ${place.reason}` : 'remote';
  return `context ${place.context} (${where}${place.server ? `, ${place.server}` : ''}), namespace ${place.namespace}`;
}

/** May the writing commands act here on their own: local, named by the user, or neither. */
export function allowance(place: Place, allowed: string | undefined): 'local' | 'named' | 'not-named' {
  if (place.local) return 'local';
  return place.context !== null && (place.fromFlag || allowed === place.context) ? 'named' : 'not-named';
}

/** What the guard needs besides the place: the user's allowance and how to ask. */
export interface WriteGuard {
  /** TASKFLOW_CONTEXT from the env file or the environment */
  allowed?: string;
  /** the command that was run (npm run <name> -- <args>), to rebuild the retry line */
  command?: { name: string; argv: readonly string[] };
  io: ConfirmIo;
}

/** A destructive step: what it destroys, shown in the question and in the refusal. */
export interface Destructive {
  what: string;
}

/** The command as typed, with more arguments: `npm run <name> -- <argv> <extra>` (lib/suggest.ts). */
export function commandLine(name: string, argv: readonly string[], extra: readonly string[] = []): string {
  return npmRun(name as Script, ...argv, ...extra);
}

/** argv without any --context option, so the retry line names the context once. */
function withoutContext(argv: readonly string[]): string[] {
  const out: string[] = [];
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i] ?? '';
    if (a === '--context') i++;
    else if (!a.startsWith('--context=')) out.push(a);
  }
  return out;
}

/**
 * Stops before any write unless the context is local or named by the user; for a destructive step on a
 * context that is not local, asks for the context's name to be typed back (without a terminal: needs
 * `--yes` and `--context`). Refusals are usage errors (exit 2) naming the context, its server and the
 * two ways to allow it. A context that cannot be read is reported as kubectl would (exit 3).
 */
export async function assertMayWrite(
  place: Place,
  guard: WriteGuard,
  destructive?: Destructive,
): Promise<void> {
  if (place.error) throw place.error;
  const name = place.context ?? '';
  if (place.local) return;
  const report = { context: name, namespace: place.namespace };
  const server = place.server ? ` (server ${place.server})` : '';
  const again = (extra: string[]) =>
    guard.command
      ? commandLine(guard.command.name, withoutContext(guard.command.argv), extra)
      : `the same command with ${extra.join(' ')}`;
  const retry = again(['--context', name]);
  if (allowance(place, guard.allowed) === 'not-named') {
    const other =
      guard.allowed !== undefined && guard.allowed !== name
        ? ` TASKFLOW_CONTEXT names "${guard.allowed}", not this one.`
        : '';
    throw new UsageError(
      `refusing to write to kube context "${name}"${server}: it is ${place.reason}, and it was not named.${other} Nothing was changed.`,
      {
        hint: `if you mean that cluster, name it: ${retry}, or put TASKFLOW_CONTEXT=${name} in your env file; otherwise switch to your local one (kubectl config get-contexts; kubectl config use-context NAME)`,
        report,
      },
    );
  }
  if (destructive === undefined) return;
  if (guard.io.yes && place.fromFlag) return;
  if (!guard.io.stdin.isTTY) {
    const extra = ['--context', name, ...(guard.io.yes ? [] : ['--yes'])];
    throw new UsageError(
      `${destructive.what} on kube context "${name}"${server}, which is not a local cluster: without a terminal this needs both --yes and --context ${name}. Nothing was changed.`,
      { hint: again(extra), report },
    );
  }
  await confirm(
    { ...guard.io, yes: false },
    `This ${destructive.what} on kube context "${name}"${server}, which is not a local cluster.`,
    destructive.what,
    retry,
    {
      prompt: 'Type the context name to go on:',
      accept: (answer) => answer === name,
      refused: 'not confirmed: nothing was changed',
    },
  );
}
