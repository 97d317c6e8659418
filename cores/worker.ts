/**
 * The core worker: one simulated physical core per worker thread. piscina owns the thread (start,
 * errors, shutdown) and runs one long task per core, `coreWorker`; comlink carries the control
 * plane over the MessagePort the task brings (src/protocol.ts `CoreApi`: load, start, stats, stop).
 * Everything on the run path goes through shared memory (cores/core-runtime.ts).
 *
 * Lifecycle: `load` attaches the shared state; `start` runs the core until it is stopped and
 * resolves with its report; the task ends when the coordinator calls `shutdown`. An exception in
 * the core is reported to the coordinator (a CRASH record with core, guest, vCPU and NIA) and
 * rejects `start`; a thread that dies outright fails the piscina task instead.
 *
 * Invoked from: src/multicore.ts (through piscina, from the compiled dist/cores/worker.js).
 */
import type { MessagePort } from 'node:worker_threads';
import * as Comlink from 'comlink';
import { type CoreApi, type CoreLoad, type CoreReport, nodeEndpoint } from '../src/protocol.js';
import { CoreRuntime } from './core-runtime.js';

/** The piscina task of one core. */
export interface CoreTask {
  /** The control-plane port (transferred). */
  port: MessagePort;
}

/** What the worker exposes over comlink: the CoreApi and the end of the task. */
export interface CoreWorkerApi extends CoreApi {
  /** Ends the task (after `start` resolved): the thread goes back to piscina. */
  shutdown(): void;
}

/** The task: serves the control plane until shutdown. */
export default async function coreWorker(task: CoreTask): Promise<void> {
  let runtime: CoreRuntime | undefined;
  let finish: () => void = () => {};
  const finished = new Promise<void>((resolve) => {
    finish = resolve;
  });
  const api: CoreWorkerApi = {
    load(l: CoreLoad) {
      runtime = new CoreRuntime(l);
    },
    async start(): Promise<CoreReport> {
      if (!runtime) throw new Error('core started before load');
      try {
        return await runtime.run();
      } catch (e) {
        runtime.crashed(e);
        throw e;
      }
    },
    stats() {
      if (!runtime) throw new Error('stats before load');
      return runtime.report();
    },
    stop() {
      runtime?.stop();
    },
    shutdown() {
      finish();
    },
  };
  Comlink.expose(api, nodeEndpoint(task.port));
  await finished;
  // Let comlink post shutdown()'s own reply before the port goes.
  await new Promise<void>((resolve) => setImmediate(resolve));
  task.port.close();
}
