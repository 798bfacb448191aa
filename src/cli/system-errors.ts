/**
 * File-system and network errors that are the user's to fix (a path that exists, a folder
 * without write permission, a port in use), as one line naming the path and the fix.
 * Anything else stays an internal error.
 */
export function systemError(e: unknown): string | undefined {
  const err = e as NodeJS.ErrnoException | undefined;
  const code = err?.code;
  if (typeof code !== 'string') return undefined;
  const path = err?.path ?? (err as { dest?: string } | undefined)?.dest;
  const at = path ? ` '${path}'` : '';
  switch (code) {
    case 'EEXIST': return `${at.trim() || 'the path'} already exists and is not a folder: choose another output path`;
    case 'EACCES':
    case 'EPERM': return `no permission to write${at}: choose a folder you can write to (e.g. -o ./out)`;
    case 'EROFS': return `${at.trim() || 'the path'} is on a read-only file system: choose another output folder`;
    case 'ENOTDIR': return `a part of${at} is a file, not a folder: choose another output path`;
    case 'ENOSPC': return `the disk is full while writing${at}: free space or choose another folder`;
    case 'ENAMETOOLONG': return `the path${at} is too long: choose a shorter output path`;
    case 'EISDIR': return `${at.trim() || 'the path'} is a folder: give a file name`;
    case 'ENOENT': return `${at.trim() || 'a file'} does not exist: check the path`;
    case 'EADDRINUSE': return `the port is in use: stop the other server or choose another port (--port N, or --port 0 for any free port)`;
    default: return undefined;
  }
}
