import type { WebSocket } from 'ws';
import { abortExec, discard, settle, type StartedExec } from './exec.ts';
import { ChannelWriter } from './ws-streams.ts';

/** Channel numbers of the k8s remote-command WebSocket protocol (v4/v5). */
export const Channel = { Stdin: 0, Stdout: 1, Stderr: 2, Error: 3, Resize: 4, Close: 255 } as const;

export const EXEC_WS_PROTOCOLS = ['v5.channel.k8s.io', 'v4.channel.k8s.io'] as const;

/**
 * Runs the exec protocol on an accepted WebSocket: channel 0 feeds stdin ([255,0]
 * closes it in v5), output goes out on 1/2 (both on 1 with a tty), and the exit
 * status on 3, after which the socket closes normally so kubectl sees EOF everywhere.
 */
export async function serveExecWebSocket(ws: WebSocket, exec: StartedExec): Promise<void> {
  const { params } = exec;
  let done = false;
  ws.on('message', (data: Buffer) => {
    const channel = data[0];
    if (channel === Channel.Stdin && exec.stdin && !exec.stdin.writableEnded)
      exec.stdin.write(data.subarray(1));
    else if (channel === Channel.Close && data[1] === Channel.Stdin) exec.stdin?.end();
    // Resize messages (channel 4) change nothing for commands without a terminal.
  });
  // A client that hangs up takes its command with it (no process may outlive a test).
  ws.on('close', () => {
    if (!done) abortExec(exec);
  });

  const stdout = params.stdout ? new ChannelWriter(ws, Channel.Stdout) : discard();
  const errChannel = params.tty ? Channel.Stdout : Channel.Stderr;
  const stderr = params.stderr || params.tty ? new ChannelWriter(ws, errChannel) : discard();

  const status = await settle(exec, { stdout, stderr });
  done = true;
  if (ws.readyState !== ws.OPEN) return;
  await new Promise<void>((resolve) =>
    ws.send(Buffer.concat([Buffer.of(Channel.Error), Buffer.from(JSON.stringify(status))]), () => resolve()),
  );
  ws.close(1000);
}
