import { main } from '../lib/cli.ts';
import { runEnvFlow } from '../lib/env-flow/command.ts';
import { ENV_FLOW_SPEC } from '../lib/env-flow/spec.ts';

await main(ENV_FLOW_SPEC, runEnvFlow);
