// `npm run sim -- [--port N] [--scenario FILE] [--kubeconfig PATH]`: a standalone simulated
// Kubernetes cluster for trying the suite's commands without a real one. Serves until
// interrupted, with a kubeconfig whose context is `kube-sim`.
import { startKubeSim } from './index.ts';

const USAGE = `Usage: npm run sim -- [--port N] [--scenario FILE] [--kubeconfig PATH]

Starts a simulated Kubernetes API server (real kubectl and helm accept it) and writes a
kubeconfig for it (context "kube-sim"). Stops on Ctrl+C.

The scenario file is read again whenever it changes, so faults can be turned on and off
while commands run (its "api" section: errors, resets, latency, watches closed early,
410 Gone). SIGUSR1 prints what was injected so far; SIGUSR2 takes the API server down
for 3 s (a control-plane restart: connections dropped, objects and pods kept).

Options:
  --port N           listen on 127.0.0.1:N (default: a free port)
  --scenario FILE    failure injection scenario (JSON, see test/kube-sim/README.md)
  --kubeconfig PATH  where to write the kubeconfig (default: ./.kube-sim/kubeconfig)
  --debug            log every API request to stderr
  -h, --help         show this help

Example:
  npm run sim -- --port 6443 --kubeconfig /tmp/kube-sim.yaml &
  KUBECONFIG=/tmp/kube-sim.yaml kubectl get nodes`;

interface Args {
  port?: number;
  scenario?: string;
  kubeconfig: string;
  debug: boolean;
}

function parse(argv: string[]): Args {
  const args: Args = { kubeconfig: '.kube-sim/kubeconfig', debug: false };
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i] ?? '';
    const value = (): string => {
      const v = argv[++i];
      if (v === undefined) throw new UsageError(`${a} needs a value`);
      return v;
    };
    if (a === '-h' || a === '--help') {
      console.log(USAGE);
      process.exit(0);
    } else if (a === '--port') {
      const n = Number(value());
      if (!Number.isInteger(n) || n < 0 || n > 65535) throw new UsageError('--port must be a port number');
      args.port = n;
    } else if (a === '--scenario') args.scenario = value();
    else if (a === '--kubeconfig') args.kubeconfig = value();
    else if (a === '--debug') args.debug = true;
    else throw new UsageError(`unknown option: ${a}`);
  }
  return args;
}

class UsageError extends Error {}

async function main(): Promise<void> {
  let args: Args;
  try {
    args = parse(process.argv.slice(2));
  } catch (err) {
    if (!(err instanceof UsageError)) throw err;
    console.error(`sim: ${err.message}\n\n${USAGE}`);
    process.exit(2);
  }
  const { mkdirSync } = await import('node:fs');
  const path = await import('node:path');
  const kubeconfigPath = path.resolve(args.kubeconfig);
  mkdirSync(path.dirname(kubeconfigPath), { recursive: true });
  let sim;
  try {
    sim = await startKubeSim({
      ...(args.port !== undefined && { port: args.port }),
      ...(args.scenario !== undefined && { scenario: args.scenario }),
      kubeconfigPath,
      debug: args.debug,
      // This process is the cluster: no need for a thread of its own.
      inProcess: true,
    });
  } catch (err) {
    console.error(`sim: cannot start: ${err instanceof Error ? err.message : String(err)}`);
    process.exit(err instanceof SyntaxError || /scenario/.test(String(err)) ? 2 : 3);
  }
  console.log(`kube-sim serving on ${sim.url}`);
  console.log(`kubeconfig: ${kubeconfigPath} (context kube-sim)`);
  console.log(`try: KUBECONFIG=${kubeconfigPath} kubectl get nodes`);
  let stopping = false;
  const stop = (code: number) => () => {
    if (stopping) return;
    stopping = true;
    void sim.stop().then(() => process.exit(code));
  };
  process.on('SIGINT', stop(130));
  process.on('SIGTERM', stop(0));
  const counts = (): void => {
    void sim.faultCounts().then((c) => console.log(`faults: ${JSON.stringify(c)}`));
  };
  process.on('SIGUSR1', counts);
  process.on('SIGUSR2', () => {
    console.log('API server down for 3 s');
    void sim.restartApiServer(3_000).then(() => console.log('API server serving again'));
  });
  const file = args.scenario;
  if (file !== undefined) {
    const { watchFile } = await import('node:fs');
    watchFile(file, { interval: 500 }, () => {
      sim.setScenario(file).then(
        () => console.log(`scenario ${file} read again`),
        (err: unknown) =>
          console.error(
            `sim: scenario ${file} not taken: ${err instanceof Error ? err.message : String(err)}`,
          ),
      );
    });
  }
}

void main();
