import { main } from '../lib/cli.ts';
import { ADDON_SPEC, addonCommand } from '../lib/addons/index.ts';

await main(ADDON_SPEC, (ctx) => addonCommand(ctx));
