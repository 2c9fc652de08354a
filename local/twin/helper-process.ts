/**
 * The twin's helper processes (ADR 0100): a part of the twin (the data stand-ins, the HTTP APIs and their
 * handlers) forked into a Node process of its own, so it has its own event loop and can use the second core.
 * One small protocol for all of them: the child says `ready` (with what the parent needs, e.g. its endpoints)
 * or `failed`; the parent asks `usage` (the child's meters and CPU time) and `stop`; a child whose parent goes
 * away exits, so no helper outlives its twin and holds its ports.
 */
import { fork } from 'node:child_process';

/** The environment variable local/twin/api-process.ts takes its {@link ApiProcessPayload} from. */
export const API_PROCESS_ENV = 'TWIN_API_PROCESS';

export interface ApiProcessPayload {
  readonly port: number;
}

export type HelperCommand = { readonly type: 'usage'; readonly id: number } | { readonly type: 'stop' };
export type HelperMessage<R, U> =
  | ({ readonly type: 'ready' } & R)
  | { readonly type: 'failed'; readonly error: string }
  | { readonly type: 'usage'; readonly id: number; readonly usage: U; readonly cpuMs: number };

export interface HelperProcess<R, U> {
  readonly ready: R;
  /** The child's meters and its CPU time since it started, ms. */
  usage(): Promise<{ readonly usage: U; readonly cpuMs: number }>;
  stop(): Promise<void>;
}

/** Forks `module` (a .ts file run through tsx) with `payload` as JSON in env `envName`; resolves once it is ready. */
export async function startHelperProcess<R extends object, U>(module: URL, envName: string, payload: unknown): Promise<HelperProcess<R, U>> {
  const child = fork(module, [], {
    execArgv: ['--import', 'tsx'],
    env: { ...process.env, [envName]: JSON.stringify(payload) },
    stdio: ['ignore', 'inherit', 'inherit', 'ipc'],
  });
  let nextId = 0;
  const waiting = new Map<number, { resolve(value: { usage: U; cpuMs: number }): void; reject(error: Error): void }>();
  let exited: Error | undefined;
  const ready = new Promise<R>((resolve, reject) => {
    child.on('message', (message: HelperMessage<R, U>) => {
      if (message.type === 'ready') {
        const { type: _type, ...rest } = message;
        resolve(rest as unknown as R);
      } else if (message.type === 'failed') reject(new Error(`${module.pathname.split('/').pop()} did not start: ${message.error}`));
      else if (message.type === 'usage') {
        waiting.get(message.id)?.resolve(message);
        waiting.delete(message.id);
      }
    });
    child.once('exit', (code) => {
      exited = new Error(`${module.pathname.split('/').pop()} exited (${code})`);
      reject(exited);
      for (const pending of waiting.values()) pending.reject(exited);
      waiting.clear();
    });
  });
  return {
    ready: await ready,
    usage() {
      if (exited) return Promise.reject(exited);
      const id = nextId++;
      const answer = new Promise<{ usage: U; cpuMs: number }>((resolve, reject) => waiting.set(id, { resolve, reject }));
      child.send({ type: 'usage', id } satisfies HelperCommand);
      return answer;
    },
    async stop() {
      if (exited) return;
      const gone = new Promise<void>((resolve) => child.once('exit', () => resolve()));
      child.send({ type: 'stop' } satisfies HelperCommand);
      await gone;
    },
  };
}

/**
 * The child's side: runs `start` with the payload from env `envName` when this process is a helper, answers
 * the parent's commands, and exits when the parent goes away.
 */
export async function serveHelperProcess<P, R extends object, U>(
  envName: string,
  start: (payload: P) => Promise<{ ready: R; usage(): U; stop(): Promise<void> }>,
): Promise<void> {
  const payloadText = process.env[envName];
  if (payloadText === undefined || !process.send) return;
  const send = (message: HelperMessage<R, U>, then: () => void = () => undefined) => process.send!(message, undefined, undefined, then);
  try {
    const helper = await start(JSON.parse(payloadText) as P);
    process.on('message', (command: HelperCommand) => {
      if (command.type === 'usage') {
        const cpu = process.cpuUsage();
        send({ type: 'usage', id: command.id, usage: helper.usage(), cpuMs: (cpu.user + cpu.system) / 1000 });
      } else if (command.type === 'stop') {
        void helper.stop().finally(() => process.exit(0));
      }
    });
    process.on('disconnect', () => process.exit(0));
    send({ type: 'ready', ...helper.ready });
  } catch (error) {
    send({ type: 'failed', error: (error as Error)?.message ?? String(error) }, () => process.exit(1));
  }
}
