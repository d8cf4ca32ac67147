import { main } from '../lib/cli.ts';
import { runLogs } from '../lib/logs/logs.ts';
import { LOGS_SPEC } from '../lib/logs/spec.ts';

await main(LOGS_SPEC, runLogs);
