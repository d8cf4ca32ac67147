import { main } from '../lib/cli.ts';
import { runMigrate } from '../lib/migrate/migrate.ts';
import { MIGRATE_SPEC } from '../lib/migrate/spec.ts';

await main(MIGRATE_SPEC, runMigrate);
