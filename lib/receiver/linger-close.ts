/**
 * Lingering close for the Node receiver. Node closes a connection as soon as its answer is written
 * (`Connection: close`, or @hono/node-server giving up draining a refused body after 500 ms), even with
 * request bytes still unread or on their way. The kernel then resets the connection instead of closing it,
 * and a client still uploading — one whose event loop runs late, on a loaded machine — gets the reset on
 * its next write and never reads the 413/401 waiting in its buffer (seen as "status 0" by the hostile
 * suite). As nginx's `lingering_close`: send FIN after the answer, keep reading (the HTTP parser drops the
 * rest of a refused body) until the client closes its side or `lingerMs` pass, then close.
 */
import type { Server } from 'node:http';
import type { Socket } from 'node:net';

export function lingerOnClose(server: Server, { lingerMs = 2_000 }: { lingerMs?: number } = {}): void {
  server.on('connection', (socket: Socket) => {
    // Node's http server and @hono/node-server both end a connection through destroySoon().
    socket.destroySoon = function lingeringClose(this: Socket) {
      if (this.destroyed) return;
      if (this.writable) this.end();
      const timer = setTimeout(() => this.destroy(), lingerMs);
      timer.unref();
      const close = () => {
        clearTimeout(timer);
        this.destroy();
      };
      if (this.readableEnded) close();
      else this.once('end', close);
      this.once('close', () => clearTimeout(timer));
      this.resume();
    };
  });
}
