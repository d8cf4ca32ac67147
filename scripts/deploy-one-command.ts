import { main } from '../lib/cli.ts';
import { runDeploy } from '../lib/deploy/deploy.ts';
import { DEPLOY_SPEC } from '../lib/deploy/spec.ts';

await main(DEPLOY_SPEC, runDeploy);
