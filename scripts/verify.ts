import { main } from '../lib/cli.ts';
import { VERIFY_SPEC } from '../lib/verify/spec.ts';
import { runVerify } from '../lib/verify/verify.ts';

await main(VERIFY_SPEC, runVerify);
