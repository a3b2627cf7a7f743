/**
 * Progress per run: a cli-progress bar on a terminal, one plain line per finished run otherwise
 * (CI logs, files), so the output stays readable either way.
 */
import cliProgress from 'cli-progress';

export interface RunProgress {
  update(done: number): void;
  /** Replace the bar by a one-line result. */
  finish(line: string): void;
}

export interface Progress {
  start(label: string, total: number): RunProgress;
  line(text: string): void;
}

export function createProgress(stream: NodeJS.WriteStream, tty: boolean): Progress {
  const line = (text: string) => {
    stream.write(`${text}\n`);
  };
  if (!tty) {
    return {
      line,
      start: (label) => ({
        update: () => undefined,
        finish: (result) => line(`${label}: ${result}`),
      }),
    };
  }
  return {
    line,
    start(label, total) {
      const bar = new cliProgress.SingleBar(
        {
          format: `${label} [{bar}] {value}/{total}`,
          stream,
          hideCursor: true,
          clearOnComplete: true,
          fps: 10,
          barsize: 30,
        },
        cliProgress.Presets.shades_classic,
      );
      bar.start(total, 0);
      return {
        update: (done) => bar.update(Math.min(done, total)),
        finish: (result) => {
          bar.stop();
          line(`${label}: ${result}`);
        },
      };
    },
  };
}
