/**
 * Progress on stderr: on a terminal, one line redrawn in place with a bar, the rate and the
 * time left; when stderr is piped or logged, a plain line at most every `interval` ms, so
 * a long run is never silent and a log is not flooded.
 */
export class Progress {
  private readonly tty = process.stderr.isTTY === true;
  private readonly start = performance.now();
  private last = '';
  private lastLine = performance.now();

  constructor(private readonly interval = 10_000) {}

  /** `fraction` of the work done (0..1) and what is running; without a fraction, just the text. */
  update(text: string, fraction?: number): void {
    const line = fraction === undefined ? text : `${bar(fraction)} ${(100 * fraction).toFixed(0).padStart(3)}% ${text}${this.eta(fraction)}`;
    if (this.tty) {
      this.last = line;
      process.stderr.write(`\r\x1b[2K${line}`);
      return;
    }
    const now = performance.now();
    if (now - this.lastLine < this.interval) return;
    this.lastLine = now;
    process.stderr.write(`${line}\n`);
  }

  /** A message line above the progress line (which is redrawn after it). */
  message(text: string): void {
    if (this.tty && this.last) process.stderr.write(`\r\x1b[2K${text}\n${this.last}`);
    else process.stderr.write(`${text}\n`);
  }

  private eta(fraction: number): string {
    const elapsed = (performance.now() - this.start) / 1000;
    if (fraction <= 0 || elapsed < 1) return '';
    return `, ${duration(elapsed)} elapsed, ~${duration((elapsed * (1 - fraction)) / fraction)} left`;
  }

  done(): void {
    if (this.tty && this.last) process.stderr.write('\r\x1b[2K');
    this.last = '';
  }
}

function bar(fraction: number, width = 20): string {
  const filled = Math.round(Math.min(1, Math.max(0, fraction)) * width);
  return `[${'#'.repeat(filled)}${'.'.repeat(width - filled)}]`;
}

function duration(s: number): string {
  if (s < 60) return `${s.toFixed(0)} s`;
  if (s < 3600) return `${Math.floor(s / 60)} min ${Math.round(s % 60)} s`;
  return `${Math.floor(s / 3600)} h ${Math.round((s % 3600) / 60)} min`;
}
