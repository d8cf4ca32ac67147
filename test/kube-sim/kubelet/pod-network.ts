// A pod's own address for the containers that run no program: each of their container ports listens
// on the pod IP and leads to what answers for it in the simulator (the HTTP stand-in, or the real
// PostgreSQL of a postgres container), so that a program reaches any pod as on a pod network, by its
// IP or through a Service (network/proxy.ts). A program container listens on the pod IP itself.
import net from 'node:net';
import type { Duplex } from 'node:stream';
import { splice } from '../network/splice.ts';

/** The listeners of one pod. */
export class PodNetwork {
  private readonly servers: net.Server[] = [];
  private readonly sockets = new Set<net.Socket>();
  private closed = false;

  /** Listens on ip:port for each port, handing each connection to `connect(port)`. */
  open(ip: string, ports: Iterable<number>, connect: (port: number) => Promise<Duplex>): void {
    for (const port of ports) {
      const server = net.createServer((client) => {
        this.track(client);
        connect(port).then(
          (upstream) => {
            if (this.closed) return void upstream.destroy();
            if (upstream instanceof net.Socket) this.track(upstream);
            splice(client, upstream);
          },
          () => client.destroy(),
        );
      });
      // A port some other process holds on this address: the pod is then not reachable on it.
      server.once('error', () => undefined);
      server.listen(port, ip);
      this.servers.push(server);
    }
  }

  private track(s: net.Socket): void {
    this.sockets.add(s);
    s.once('close', () => this.sockets.delete(s));
  }

  close(): void {
    this.closed = true;
    for (const s of this.sockets) s.destroy();
    for (const server of this.servers) server.close();
    this.servers.length = 0;
  }
}
