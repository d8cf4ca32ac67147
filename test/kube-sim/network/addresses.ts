// The simulated cluster's addresses: pod and Service IPs on loopback (Linux routes all of
// 127.0.0.0/8 to lo, so any of them can be listened on and reached without configuration). Each
// simulator claims a /16 of its own for pods (127.X.0.0/16) and the one 128 above it for Services,
// so that simulators side by side (test files run in parallel) never hand out one address twice.
// The claim is a listener on the block's first address: the kernel frees it with the process.
import net from 'node:net';

/** The claim's port on 127.X.0.1 (nothing else listens on that address). */
const CLAIM_PORT = 65535;
const FIRST_BLOCK = 16;
const LAST_BLOCK = 127;

/** The addresses of one simulated cluster. */
export class AddressBlock {
  private readonly pods = new Map<string, string>();
  /** 127.X.0.1 is the claim's */
  private nextPod = 1;
  private nextService = 0;

  constructor(
    /** X of 127.X.0.0/16 (pods); Services are in 127.(X+128).0.0/16 */
    readonly block: number,
    private readonly claim?: net.Server,
  ) {}

  /** A pod's IP: the same for the same namespace/name (a StatefulSet's pod keeps its address). */
  podIp(namespace: string, name: string): string {
    const key = `${namespace}/${name}`;
    let ip = this.pods.get(key);
    if (!ip) {
      ip = addressOf(this.block, this.nextPod++);
      this.pods.set(key, ip);
    }
    return ip;
  }

  /** A new Service cluster IP. */
  serviceIp(): string {
    return addressOf(this.block + 128, this.nextService++);
  }

  /** Whether an address is one this block hands out (a pod's or a Service's). */
  owns(ip: string): boolean {
    const [a, b] = ip.split('.').map(Number);
    return a === 127 && (b === this.block || b === this.block + 128);
  }

  /** Gives the block back. */
  release(): Promise<void> {
    return new Promise((resolve) => (this.claim ? this.claim.close(() => resolve()) : resolve()));
  }
}

/** The n-th usable address of 127.X.0.0/16 (no .0 or .255 last octet). */
function addressOf(x: number, n: number): string {
  const hi = Math.floor(n / 254);
  if (hi > 255) throw new Error(`kube-sim: the address block 127.${x}.0.0/16 is used up`);
  return `127.${x}.${hi}.${(n % 254) + 1}`;
}

/** A block nobody claims: for a cluster whose pods are never reached over the network (unit tests). */
export function unclaimedBlock(): AddressBlock {
  return new AddressBlock(FIRST_BLOCK - 1);
}

/** Claims a free block, trying them from a random one on (another simulator may hold some). */
export async function claimAddressBlock(): Promise<AddressBlock> {
  const count = LAST_BLOCK - FIRST_BLOCK + 1;
  const start = Math.floor(Math.random() * count);
  for (let i = 0; i < count; i++) {
    const x = FIRST_BLOCK + ((start + i) % count);
    const server = net.createServer((s) => s.destroy());
    const ok = await new Promise<boolean>((resolve) => {
      server.once('error', () => resolve(false));
      server.listen(CLAIM_PORT, `127.${x}.0.1`, () => resolve(true));
    });
    if (ok) {
      server.unref();
      return new AddressBlock(x, server);
    }
  }
  throw new Error('kube-sim: every loopback address block is held by another simulator');
}
