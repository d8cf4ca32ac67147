import type { TaskflowError } from './errors.ts';
import { NotReadyError, OperationError } from './errors.ts';
import type { RunOptions, RunResult, Runner, Started } from './exec.ts';
import { redact } from './redact.ts';
import { Secret } from './secrets.ts';

/** Which cluster and namespace every kubectl call addresses. */
export interface KubeTarget {
  context?: string;
  namespace: string;
}

/** argv for one kubectl call: the same --context/--namespace on every call, never hand-built strings. */
export function kubectlArgs(
  bin: string,
  target: KubeTarget,
  args: readonly string[],
  namespaced = true,
): string[] {
  const out = [bin];
  if (target.context) out.push('--context', target.context);
  if (namespaced) out.push('--namespace', target.namespace);
  return [...out, ...args];
}

/** Turns kubectl's stderr into an error that says what to do next. */
export function translateKubectlError(stderr: string, target: KubeTarget, what: string): TaskflowError {
  const text = redact(stderr.trim());
  const first = text.split('\n').find((l) => l.trim()) ?? `exit status non-zero`;
  const ctx = target.context ? `context "${target.context}"` : 'the current kube context';
  if (/context "[^"]*" (does not exist|not found)|context was not found|no context exists/i.test(text)) {
    return new NotReadyError(`kube ${ctx} does not exist`, {
      hint: 'list contexts with: kubectl config get-contexts (then pass --context NAME)',
    });
  }
  if (
    /Unable to connect to the server|connection refused|no such host|i\/o timeout|dial tcp|The connection to the server .* was refused|Kubernetes cluster unreachable/i.test(
      text,
    )
  ) {
    return new NotReadyError(`cannot reach the cluster of ${ctx}: ${first}`, {
      hint: 'start your cluster (minikube: minikube start), or pick another with --context NAME',
    });
  }
  if (
    /invalid configuration: no configuration has been provided|no configuration has been provided/i.test(text)
  ) {
    return new NotReadyError('no kubeconfig found', {
      hint: 'start minikube (minikube start) or set KUBECONFIG',
    });
  }
  if (/Unauthorized|You must be logged in/i.test(text)) {
    return new NotReadyError(`the cluster rejected your credentials (${ctx})`, {
      hint: 'refresh your login for this context (e.g. re-run your cloud CLI login), then retry',
    });
  }
  if (/forbidden/i.test(text)) {
    return new OperationError(`not allowed to ${what}: ${first}`, {
      hint: `ask for RBAC rights in namespace "${target.namespace}" or use another --context`,
    });
  }
  return new OperationError(`kubectl failed to ${what}: ${first}`);
}

export interface KubectlRunOptions extends RunOptions {
  /** Omit --namespace (cluster-scoped reads such as storage classes). */
  clusterScoped?: boolean;
}

/** kubectl helpers over the runner, all addressing one target. */
export class Kubectl {
  constructor(
    readonly runner: Runner,
    readonly bin: string,
    readonly target: KubeTarget,
  ) {}

  /** argv for this target (pure). */
  args(args: readonly string[], clusterScoped = false): string[] {
    return kubectlArgs(this.bin, this.target, args, !clusterScoped);
  }

  /** Runs kubectl; the result is returned whatever the exit code. */
  run(args: readonly string[], opts: KubectlRunOptions = {}): Promise<RunResult> {
    return this.runner.run(this.args(args, opts.clusterScoped), opts);
  }

  /** Runs kubectl and returns stdout; a failure becomes a translated error. */
  async ok(args: readonly string[], what: string, opts: KubectlRunOptions = {}): Promise<string> {
    const res = await this.run(args, opts);
    if (res.exitCode !== 0) throw translateKubectlError(res.stderr, this.target, what);
    return res.stdout;
  }

  /** Runs kubectl with `-o json` and parses the document. */
  async json<T>(args: string[], what: string, opts: KubectlRunOptions = {}): Promise<T> {
    const out = await this.ok([...args, '-o', 'json'], what, opts);
    return JSON.parse(out) as T;
  }

  /** One object, or undefined when it does not exist. */
  async getOptional<T>(kind: string, name: string, opts: KubectlRunOptions = {}): Promise<T | undefined> {
    const res = await this.run(getOptionalArgs(kind, name), opts);
    if (res.exitCode !== 0) throw translateKubectlError(res.stderr, this.target, `read ${kind}/${name}`);
    return res.stdout.trim() ? (JSON.parse(res.stdout) as T) : undefined;
  }

  /** Several kinds in one call (`get pods,jobs -l sel -o json`): one process per poll, whatever the count. */
  async list<T = KubeObject>(kinds: string[], selector?: string, opts: KubectlRunOptions = {}): Promise<T[]> {
    const out = await this.ok(listArgs(kinds, selector), `list ${kinds.join(', ')}`, opts);
    const doc = JSON.parse(out) as { items?: T[] };
    return doc.items ?? [];
  }

  /**
   * The decoded value of one key of a Secret, kept a `Secret`; undefined when the Secret or key is absent.
   * The caller registers it with the run's redactor when it may meet it in output.
   */
  async secretValue(name: string, key: string): Promise<Secret | undefined> {
    const s = await this.getOptional<{ data?: Record<string, string> }>('secret', name);
    return decodeSecretData(s?.data?.[key]);
  }

  /** The data of several Secrets, by name, in one call (base64 values; a missing Secret is absent). */
  async secrets(names: readonly string[]): Promise<Map<string, Record<string, string>>> {
    return secretDataByName(await this.ok(secretsArgs(names), `read Secret ${names.join(', ')}`));
  }

  /** Runs a command in a container; stdin (a secret, say) is piped, never put in argv. */
  exec(
    pod: string,
    container: string | undefined,
    command: string[],
    opts: RunOptions = {},
  ): Promise<RunResult> {
    return this.run(execArgs(pod, container, command, opts.stdin !== undefined), opts);
  }

  /** The last lines of a container's log (the previous instance's with `previous`); empty on failure. */
  async logs(
    pod: string,
    opts: { container?: string; previous?: boolean; tail?: number } = {},
  ): Promise<string> {
    const args = ['logs', pod];
    if (opts.container) args.push('-c', opts.container);
    if (opts.previous) args.push('--previous');
    args.push(`--tail=${opts.tail ?? 30}`);
    const res = await this.run(args, { timeoutMs: 15_000 });
    return res.exitCode === 0 ? redact(res.stdout) : '';
  }

  /** Starts a long-running kubectl (port-forward, logs -f). */
  start(args: string[], opts: KubectlRunOptions = {}): Started {
    return this.runner.start(this.args(args, opts.clusterScoped), opts);
  }

  /** Throws NotReadyError (exit 3) unless the API server of the target context answers. */
  async assertReachable(): Promise<void> {
    const res = await this.run(REACHABLE_ARGS, {
      clusterScoped: true,
      timeoutMs: 15_000,
    });
    if (res.exitCode === 0) return;
    const err = translateKubectlError(
      res.stderr || 'Unable to connect to the server',
      this.target,
      'reach the cluster',
    );
    throw err instanceof NotReadyError ? err : new NotReadyError(err.message, { hint: err.hint });
  }
}

/** Whether labels satisfy an equality selector (matchLabels, a Service's selector); empty selects nothing. */
export function matchesLabels(
  selector: Record<string, string>,
  labels: Record<string, string> = {},
): boolean {
  return Object.keys(selector).length > 0 && Object.entries(selector).every(([k, v]) => labels[k] === v);
}

/** The few fields of a Kubernetes object the suite reads generically. */
export interface KubeObject {
  apiVersion?: string;
  kind: string;
  metadata: {
    name: string;
    namespace?: string;
    labels?: Record<string, string>;
    annotations?: Record<string, string>;
    ownerReferences?: { kind: string; name: string; uid?: string }[];
    creationTimestamp?: string;
    deletionTimestamp?: string;
    generation?: number;
    uid?: string;
  };
  spec?: Record<string, unknown>;
  status?: Record<string, unknown>;
}

/** The data of each Secret in kubectl's JSON answer to `get secret A B ... -o json` (one or a list), by name. */
export function secretDataByName(output: string): Map<string, Record<string, string>> {
  const map = new Map<string, Record<string, string>>();
  if (!output.trim()) return map;
  type Doc = { kind?: string; metadata?: { name?: string }; data?: Record<string, string>; items?: Doc[] };
  const doc = JSON.parse(output) as Doc;
  for (const s of doc.items ?? (doc.kind === 'Secret' ? [doc] : []))
    map.set(s.metadata?.name ?? '', s.data ?? {});
  return map;
}

/** One base64 value of a Secret's `data`, decoded into a `Secret` (undefined stays undefined). */
export function decodeSecretData(b64: string | undefined): Secret | undefined {
  return b64 === undefined ? undefined : new Secret(Buffer.from(b64, 'base64').toString('utf8'));
}

/** kubectl arguments that read several Secrets in one call, as JSON; a missing one is left out. */
export function secretsArgs(names: readonly string[]): string[] {
  return ['get', 'secret', ...names, '--ignore-not-found', '-o', 'json'];
}

/** kubectl arguments (cluster-scoped) of the reachability probe: the API server's version. */
export const REACHABLE_ARGS: readonly string[] = ['get', '--raw', '/version', '--request-timeout=8s'];

/** kubectl arguments that read one object as JSON, nothing when it does not exist. */
export function getOptionalArgs(kind: string, name: string): string[] {
  return ['get', kind, name, '-o', 'json', '--ignore-not-found'];
}

/** kubectl arguments that list several kinds in one call, as JSON. */
export function listArgs(kinds: readonly string[], selector?: string): string[] {
  return ['get', kinds.join(','), ...(selector ? ['-l', selector] : []), '-o', 'json'];
}

/** kubectl arguments of a command in a container (`-i` when something goes to its stdin). */
export function execArgs(
  pod: string,
  container: string | undefined,
  command: string[],
  stdin: boolean,
): string[] {
  return ['exec', ...(stdin ? ['-i'] : []), pod, ...(container ? ['-c', container] : []), '--', ...command];
}
