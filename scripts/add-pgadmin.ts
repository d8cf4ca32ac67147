import { main } from '../lib/cli.ts';
import { PGADMIN_SPEC, addonCommand } from '../lib/addons/index.ts';

await main(PGADMIN_SPEC, (ctx) => addonCommand(ctx, 'pgadmin'));
