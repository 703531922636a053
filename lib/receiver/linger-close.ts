/**
 * Lingering close for the Node receiver. Node closes a connection as soon as its answer is written
 * (`Connection: close`, or @hono/node-server giving up draining a refused body after 500 ms), even with
 * request bytes still unread or on their way. The kernel then resets the connection instead of closing it,
 * and a client still uploading — one whose event loop runs late, on a loaded machine — gets the reset on
 * its next write and never reads the 413/401 waiting in its buffer (seen as "status 0" by the hostile
 * suite). As nginx's `lingering_close`: send FIN after the answer, keep reading (the HTTP parser drops the
 * rest of a refused body) until the client closes its side or `lingerMs` pass, then close.
 *
 * A request the HTTP parser refuses (two different Content-Lengths, a bad chunk) reaches `clientError`;
 * Node's default answers 400 and destroys the socket at once, with the same reset. Here it answers as Node
 * would (400, 408, 431) and closes the same lingering way; the parser, now failed, only drops what follows.
 */
import type { Server } from 'node:http';
import type { Socket } from 'node:net';

const CLIENT_ERROR_ANSWERS: Record<string, string> = {
  HPE_HEADER_OVERFLOW: '431 Request Header Fields Too Large',
  HPE_CHUNK_EXTENSIONS_OVERFLOW: '413 Payload Too Large',
  ERR_HTTP_REQUEST_TIMEOUT: '408 Request Timeout',
};

export function lingerOnClose(server: Server, { lingerMs = 2_000 }: { lingerMs?: number } = {}): void {
  // A failed parser reports every later chunk again: one answer per connection.
  const answered = new WeakSet<Socket>();
  server.on('clientError', (err: NodeJS.ErrnoException, socket: Socket) => {
    if (answered.has(socket)) return;
    answered.add(socket);
    const inFlight = (socket as Socket & { _httpMessage?: { headersSent?: boolean } })._httpMessage;
    if (err.code === 'ECONNRESET' || !socket.writable || inFlight?.headersSent) {
      socket.destroy();
      return;
    }
    const status = CLIENT_ERROR_ANSWERS[err.code ?? ''] ?? '400 Bad Request';
    socket.write(`HTTP/1.1 ${status}\r\nContent-Length: 0\r\nConnection: close\r\n\r\n`);
    socket.destroySoon();
  });
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
