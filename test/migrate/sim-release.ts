import { readFileSync } from 'node:fs';
import path from 'node:path';
import { type CommandResult, type Scenario, startKubeSim } from '../kube-sim/index.ts';
import type { ToolsetName } from '../support/tools.ts';
import { type ScriptEnv, type ScriptResult, runScript, scriptEnv } from '../support/e2e.ts';

/** A simulated cluster with the release deployed by `npm run deploy`, and helpers to run and inspect. */
export interface SimRelease {
  ns: string;
  se: ScriptEnv;
  /** The deploy run that installed the release. */
  deployed: ScriptResult;
  /** Runs one of the suite's scripts like `npm run` does, in the release's env. */
  run(script: string, args: string[], opts?: { stdin?: string; timeoutMs?: number }): Promise<ScriptResult>;
  /** Runs the test kubectl against the sim in the release's namespace. */
  kubectl(args: string[], stdin?: string): Promise<CommandResult>;
  helm(args: string[]): Promise<CommandResult>;
  /** The decoded value of a Secret key. */
  secret(name: string, key: string): Promise<string>;
  /** psql in the SSO database's pod as its superuser over the local socket, tuples only; throws on an error. */
  psql(sql: string): Promise<string>;
  envFile(): string;
  /** Changes the simulated cluster's injected behaviour from now on. */
  setScenario(scenario: Scenario): Promise<void>;
  stop(): Promise<void>;
}

const SSO_PSQL = 'psql -X -tA -v ON_ERROR_STOP=1 -U "$POSTGRES_USER" -d "$POSTGRES_DB"';

/** Starts a sim, deploys the release into `ns` with the bundled chart, and fails loudly if that fails. */
export async function simRelease(opts: {
  ns: string;
  scenario?: Scenario;
  envFile?: string;
  toolset?: ToolsetName;
  /** the scripts' environment, over scriptEnv's */
  env?: NodeJS.ProcessEnv;
}): Promise<SimRelease> {
  const sim = await startKubeSim({ ...(opts.scenario && { scenario: opts.scenario }) });
  const se = scriptEnv({
    kubeconfig: sim.kubeconfigPath,
    ...(opts.toolset && { toolset: opts.toolset }),
    envFile: `TASKFLOW_NAMESPACE=${opts.ns}\n${opts.envFile ?? ''}`,
    ...(opts.env && { env: opts.env }),
  });
  const deployed = await runScript('deploy-one-command', ['--json', '--timeout', '2m'], se, {
    timeoutMs: 150_000,
  });
  const release: SimRelease = {
    ns: opts.ns,
    se,
    deployed,
    run: (script, args, o = {}) => runScript(script, args, se, { timeoutMs: 90_000, ...o }),
    // Asynchronous on purpose: the simulated API server runs in this very process.
    kubectl: (args, stdin) =>
      sim.kubectl(['-n', opts.ns, ...args], {
        ...(opts.toolset && { toolset: opts.toolset }),
        ...(stdin !== undefined && { input: stdin }),
      }),
    helm: (args) => sim.helm(['-n', opts.ns, ...args], { ...(opts.toolset && { toolset: opts.toolset }) }),
    secret: async (name, key) => {
      const r = await release.kubectl(['get', 'secret', name, '-o', `jsonpath={.data.${key}}`]);
      return Buffer.from(r.stdout, 'base64').toString('utf8');
    },
    psql: async (sql) => {
      const r = await release.kubectl(
        ['exec', '-i', 'sso-postgres-0', '-c', 'postgres', '--', 'sh', '-c', SSO_PSQL],
        sql,
      );
      if (r.code !== 0) throw new Error(`psql in sso-postgres-0 failed (exit ${r.code}): ${r.stderr}`);
      return r.stdout.trim();
    },
    envFile: () => readFileSync(path.join(se.cwd, '.env'), 'utf8'),
    setScenario: (scenario) => sim.setScenario(scenario),
    stop: async () => {
      se.cleanup();
      await sim.stop();
    },
  };
  if (deployed.code !== 0 && !onlyHealthProbes(deployed)) {
    await release.stop();
    throw new Error(`deploy failed (exit ${deployed.code}):\n${deployed.stdout}\n${deployed.stderr}`);
  }
  return release;
}

/**
 * Whether deploy stopped only at its HTTP health probes: the release is installed and rolled out,
 * which is all these tests need (the simulated cluster may not proxy to services).
 */
function onlyHealthProbes(r: ScriptResult): boolean {
  try {
    const doc = JSON.parse(r.stdout) as { revision: number | null; failures: { id: string }[] };
    return (
      doc.revision !== null && doc.failures.length > 0 && doc.failures.every((f) => f.id === 'service.health')
    );
  } catch {
    return false;
  }
}
