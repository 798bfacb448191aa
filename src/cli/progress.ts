/** A one-line progress indicator on stderr, silent when stderr is not a terminal. */
export class Progress {
  private readonly tty = process.stderr.isTTY === true;
  private last = '';

  update(text: string): void {
    if (!this.tty) return;
    this.last = text;
    process.stderr.write(`\r\x1b[2K${text}`);
  }

  done(): void {
    if (this.tty && this.last) process.stderr.write('\r\x1b[2K');
    this.last = '';
  }
}
