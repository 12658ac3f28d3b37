/** A terminal for a live view: plain ANSI codes, raw keys, resizes, signals. */

/** Where the live view draws and hears keys: the terminal, or a test's stand-in. */
export interface Screen {
  readonly columns: number;
  readonly rows: number;
  write(text: string): void;
  /**
   * Hands each key pressed (Ctrl-C as `\x03`) to `onKey`, and says when the
   * size changes, until the returned function gives the terminal back.
   */
  listen(onKey: (key: string) => void, onResize: () => void): () => void;
}

export const ENTER = "\x1b[?1049h\x1b[?25l"; // the alternate screen, no cursor
export const LEAVE = "\x1b[?25h\x1b[?1049l";
export const HOME = "\x1b[H";
export const CLEAR_LINE = "\x1b[K";
export const CLEAR_BELOW = "\x1b[J";

export function terminalScreen(): Screen {
  const { stdin, stdout } = process;
  return {
    get columns() {
      return stdout.columns || 80;
    },
    get rows() {
      return stdout.rows || 24;
    },
    write: (text) => stdout.write(text),
    listen(onKey, onResize) {
      const raw = stdin.isTTY === true;
      const onData = (data: Buffer) => {
        for (const key of data.toString("utf8")) onKey(key);
      };
      const onSignal = () => onKey("\x03");
      if (raw) {
        stdin.setRawMode(true);
        stdin.on("data", onData);
        stdin.resume();
      }
      // Without a terminal to read keys from, Ctrl-C still comes as a signal; a closed SSH as SIGHUP.
      for (const signal of ["SIGINT", "SIGTERM", "SIGHUP"] as const) process.on(signal, onSignal);
      stdout.on("resize", onResize);
      return () => {
        for (const signal of ["SIGINT", "SIGTERM", "SIGHUP"] as const) {
          process.off(signal, onSignal);
        }
        stdout.off("resize", onResize);
        if (raw) {
          stdin.off("data", onData);
          stdin.setRawMode(false);
          stdin.pause();
        }
      };
    },
  };
}
