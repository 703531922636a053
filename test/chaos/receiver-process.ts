/** The receiver in a process of its own (fixtures/receiver-child.ts), for the hostile suites: its log lines go to the secret scan. */
import { fork, type ChildProcess } from 'node:child_process';
import { createInterface } from 'node:readline';
import { fileURLToPath } from 'node:url';
import type { ChildMessage } from '../fixtures/receiver-child.js';
import { captureText } from './figures.js';

export type Memory = Extract<ChildMessage, { type: 'memory' }>;

/** Starts the receiver child; `options` are startReceiver's `maxBodyBytes` and `limits`. */
export async function startChild(queueDir: string, options: object = {}) {
  const child: ChildProcess = fork(
    fileURLToPath(new URL('../fixtures/receiver-child.ts', import.meta.url)),
    [queueDir, JSON.stringify(options)],
    {
      execArgv: ['--expose-gc', '--import', 'tsx'],
      env: { ...process.env, FJORD_LOG_LEVEL: 'debug' },
      stdio: ['ignore', 'pipe', 'pipe', 'ipc'],
    },
  );
  for (const stream of [child.stdout!, child.stderr!]) createInterface({ input: stream }).on('line', captureText);
  let stopping = false;
  const exit = new Promise<{ code: number | null; signal: string | null }>((resolve) =>
    child.once('exit', (code, signal) => resolve({ code, signal })),
  );
  const unexpected = exit.then((e) => (stopping ? undefined : e));
  const next = <T extends ChildMessage['type']>(type: T) =>
    Promise.race([
      new Promise<Extract<ChildMessage, { type: T }>>((resolve) => {
        const on = (m: ChildMessage) => {
          if (m.type !== type) return;
          child.off('message', on);
          resolve(m as Extract<ChildMessage, { type: T }>);
        };
        child.on('message', on);
      }),
      unexpected.then((e) =>
        Promise.reject(new Error(`receiver process exited (${JSON.stringify(e)}) while waiting for ${type}`)),
      ),
    ]);
  const { port } = await next('ready');
  return {
    port,
    /** Set once the process ended without being asked to. */
    crash: undefined as undefined | { code: number | null; signal: string | null },
    watch() {
      void unexpected.then((e) => {
        if (e) this.crash = e;
      });
    },
    memory: (): Promise<Memory> => {
      child.send({ type: 'memory' });
      return next('memory');
    },
    async stop() {
      stopping = true;
      if (child.exitCode === null && child.signalCode === null) child.send({ type: 'stop' });
      const timer = setTimeout(() => child.kill('SIGKILL'), 10_000);
      await exit;
      clearTimeout(timer);
    },
  };
}
