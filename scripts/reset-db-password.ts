import { main } from '../lib/cli.ts';
import { runResetPassword } from '../lib/reset-password/reset.ts';
import { RESET_SPEC } from '../lib/reset-password/spec.ts';

await main(RESET_SPEC, runResetPassword);
