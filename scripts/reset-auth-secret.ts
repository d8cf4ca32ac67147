import { main } from '../lib/cli.ts';
import { runResetAuthSecret } from '../lib/reset-auth-secret/reset.ts';
import { RESET_AUTH_SPEC } from '../lib/reset-auth-secret/spec.ts';

await main(RESET_AUTH_SPEC, runResetAuthSecret);
