import { main } from '../lib/cli.ts';
import { PORT_FORWARD_SPEC, portForwardCommand } from '../lib/port-forward/index.ts';

await main(PORT_FORWARD_SPEC, portForwardCommand);
