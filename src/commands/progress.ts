/**
 * A progress bar (cli-progress) for runs longer than a second, on stderr and only when stderr is a
 * terminal: pipes and CI logs stay clean.
 */
import cliProgress from 'cli-progress';
import { type Io, processIo } from '../cli.js';

/** A bar over `total` instructions; undefined when no bar should be shown. */
export function progressBar(
  io: Io,
  total: number,
): { update: (n: number) => void; stop: () => void } | undefined {
  if (io !== processIo || !process.stderr.isTTY) return undefined;
  const started = performance.now();
  let bar: cliProgress.SingleBar | undefined;
  return {
    update: (n: number) => {
      if (!bar) {
        if (performance.now() - started < 1000) return;
        bar = new cliProgress.SingleBar(
          {
            stream: process.stderr,
            format: 'running [{bar}] {value} / {total} instructions',
            hideCursor: true,
          },
          cliProgress.Presets.shades_classic,
        );
        bar.start(total, n);
      }
      bar.update(n);
    },
    stop: () => bar?.stop(),
  };
}
