/**
 * Starts compiled worker scripts for the mem/ tests. Workers are the files in test/workers/ built
 * to dist/test/workers/ by `npx tsc -p tsconfig.json` (Node 20 cannot load .ts workers, see
 * vitest.config.ts); every worker has a deadline so a hung one fails the test instead of hanging it.
 */
import { existsSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { Worker } from 'node:worker_threads';

/** Absolute path of the compiled worker `name` (e.g. 'mem-cas-worker.js'). */
export function workerPath(name: string): string {
  const p = fileURLToPath(new URL(`../../dist/test/workers/${name}`, import.meta.url));
  if (!existsSync(p)) throw new Error(`${p} missing: run \`npx tsc -p tsconfig.json\` before the mem tests`);
  return p;
}

/** Runs worker `name` with `data`; resolves with its one result message, rejects on error or deadline. */
export function runWorker<T>(name: string, data: unknown, deadlineMs: number): Promise<T> {
  const w = new Worker(workerPath(name), { workerData: data });
  return new Promise<T>((resolve, reject) => {
    let result: { value: T } | undefined;
    const timer = setTimeout(() => {
      void w.terminate();
      reject(new Error(`worker ${name} still running after ${deadlineMs} ms`));
    }, deadlineMs);
    w.on('message', (m: T) => {
      result = { value: m };
    });
    w.on('error', (e) => {
      clearTimeout(timer);
      reject(e);
    });
    w.on('exit', (code) => {
      clearTimeout(timer);
      if (result) resolve(result.value);
      else reject(new Error(`worker ${name} exited with code ${code} and no result`));
    });
  });
}

/** A start line: workers spin-wait on it so they begin hammering at the same moment. */
export function startLine(): { sab: SharedArrayBuffer; open(): void } {
  const sab = new SharedArrayBuffer(8);
  const w = new Int32Array(sab);
  return {
    sab,
    open() {
      Atomics.store(w, 0, 1);
      Atomics.notify(w, 0);
    },
  };
}

/** Worker side of `startLine`: blocks (at most 30 s) until the line opens. */
export function waitStart(sab: SharedArrayBuffer): void {
  const w = new Int32Array(sab);
  Atomics.add(w, 1, 1);
  while (Atomics.load(w, 0) === 0) Atomics.wait(w, 0, 0, 30_000);
}

/** Main side: waits (polling, at most `ms`) until `n` workers stand at the start line. */
export async function allReady(sab: SharedArrayBuffer, n: number, ms = 30_000): Promise<void> {
  const w = new Int32Array(sab);
  const until = Date.now() + ms;
  while (Atomics.load(w, 1) < n) {
    if (Date.now() > until) throw new Error(`only ${Atomics.load(w, 1)} of ${n} workers ready`);
    await new Promise((r) => setTimeout(r, 2));
  }
}
