/**
 * Base64 of bytes, in Node (its Buffer: a report embeds megabytes of images, and btoa is
 * about 20x slower there) and in a browser or Web Worker (btoa).
 */
type BufferLike = { from(b: ArrayBufferLike, offset: number, length: number): { toString(encoding: 'base64'): string } };
const NodeBuffer = (globalThis as { Buffer?: BufferLike }).Buffer;

export function bytesToBase64(bytes: Uint8Array): string {
  if (NodeBuffer) return NodeBuffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength).toString('base64');
  let text = '';
  for (let i = 0; i < bytes.length; i += 0x8000) text += String.fromCharCode(...bytes.subarray(i, i + 0x8000));
  return btoa(text);
}
