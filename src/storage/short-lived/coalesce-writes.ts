// Redis commands written while the event loop handles one round of events leave in one write at the end of it.
import type { Socket } from 'node:net';

/**
 * Corks the socket at its first write and uncorks it once the round of events that wrote has been handled
 * (setImmediate), so the commands of all the requests handled in that round go out in one write and Redis wakes once
 * for them. The order of commands is unchanged; each waits at most for the rest of the round.
 */
export function coalesceWrites(socket: Socket): void {
  let corked = false;
  const flush = () => {
    corked = false;
    socket.uncork();
  };
  const write = socket.write;
  socket.write = function (this: Socket, ...args: unknown[]) {
    if (!corked) {
      corked = true;
      socket.cork();
      setImmediate(flush);
    }
    return (write as (...a: unknown[]) => boolean).apply(this, args);
  } as Socket['write'];
}
