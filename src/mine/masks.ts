/**
 * Mask kinds: what a masked token stands for, and how it is written in a template.
 *
 * Plain numbers (not a const enum) so the tokenizer's hot loop compares small
 * integers and vitest/esbuild need no cross-file enum inlining.
 */

export const LITERAL = 0;
export const NUM = 1;
export const HEX = 2;
export const IP = 3;
export const UUID = 4;
export const TS = 5;
export const EMAIL = 6;
export const URL = 7;
/** A learned variable. Not produced by masking a raw line, only read back from a template. */
export const WILD = 8;

/** Template text of each kind, indexed by kind. */
export const MASK_TEXT: readonly string[] = ['', '<NUM>', '<HEX>', '<IP>', '<UUID>', '<TS>', '<EMAIL>', '<URL>', '<*>'];

export const WILDCARD = '<*>';

/**
 * If `text` has a mask name (e.g. `<NUM>`) at `pos`, return its kind, else 0.
 * Lets a template be read back by the same tokenizer that reads lines (addTemplate).
 */
export function maskAt(text: string, pos: number, end: number): number {
  // Cheapest possible rejection first: the second character names the kind.
  if (pos + 3 > end) return 0;
  const c = text.charCodeAt(pos + 1);
  let kind = 0;
  switch (c) {
    case 42: kind = WILD; break; // *
    case 78: kind = NUM; break; // N
    case 72: kind = HEX; break; // H
    case 73: kind = IP; break; // I
    case 85: kind = text.charCodeAt(pos + 2) === 85 ? UUID : URL; break; // UUID / URL
    case 84: kind = TS; break; // T
    case 69: kind = EMAIL; break; // E
    default: return 0;
  }
  const name = MASK_TEXT[kind]!;
  if (pos + name.length > end || !text.startsWith(name, pos)) return 0;
  return kind;
}
