import { main } from '../lib/cli.ts';
import { runDb } from '../lib/database/index.ts';
import { DB_SPEC } from '../lib/database/spec.ts';

await main(DB_SPEC, runDb);
