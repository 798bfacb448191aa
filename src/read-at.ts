/**
 * Positioned reads that fill a buffer (Node): readSync may return fewer bytes than asked,
 * so this reads until the buffer is full or the file ends. Used by the model file scan,
 * external data and the compile cache's file hash.
 */
import { readSync } from 'node:fs';

/** Fill `out` from the file at `position`; the count read (less than its length: the file ended). */
export function readAt(fd: number, out: Uint8Array, position: number): number {
  let done = 0;
  while (done < out.length) {
    const got = readSync(fd, out, done, out.length - done, position + done);
    if (got === 0) break;
    done += got;
  }
  return done;
}
