/**
 * sharp, loaded on first use (Node only). Its import costs about 0.1 s (libvips' start-up
 * and its version checks), which commands that read or write no image (--help, --version,
 * layers, summary, doctor, compile, annotate, ...) should not pay.
 */
import type SharpFactory from 'sharp';

type Sharp = typeof SharpFactory;

let loading: Promise<Sharp> | undefined;

/** The sharp module's default export, imported once. */
export function loadSharp(): Promise<Sharp> {
  return (loading ??= import('sharp').then((m) => m.default));
}
