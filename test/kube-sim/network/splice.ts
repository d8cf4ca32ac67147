// Two byte streams joined both ways, as a TCP hop forwards them: an error or the close of either end
// ends the other (the kube-proxy and a pod's stand-in listeners both hand connections on this way).
import type { Duplex } from 'node:stream';

export function splice(a: Duplex, b: Duplex): void {
  a.pipe(b).pipe(a);
  const cut = (): void => {
    a.destroy();
    b.destroy();
  };
  a.once('error', cut);
  b.once('error', cut);
  a.once('close', () => b.destroy());
  b.once('close', () => a.destroy());
}
