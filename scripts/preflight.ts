import { main } from '../lib/cli.ts';
import { VALIDATE_SPEC } from '../lib/preflight/spec.ts';
import { runValidate } from '../lib/preflight/validate.ts';

await main(VALIDATE_SPEC, runValidate);
