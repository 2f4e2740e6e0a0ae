/** Character classes for the single-pass tokenizer (ASCII table; anything above 127 is a letter). */

export const C_DIGIT = 1;
export const C_HEXLETTER = 2; // a-f A-F
export const C_LETTER = 4; // any letter, including a-f
export const C_NONHEX = 8; // a letter that is not a hex digit
export const C_ALNUM = C_DIGIT | C_LETTER;

export const CLASS = new Uint8Array(65536);
for (let c = 48; c <= 57; c++) CLASS[c] = C_DIGIT;
for (let c = 65; c <= 90; c++) CLASS[c] = C_LETTER | C_NONHEX;
for (let c = 97; c <= 122; c++) CLASS[c] = C_LETTER | C_NONHEX;
for (const c of 'abcdefABCDEF') CLASS[c.charCodeAt(0)] = C_LETTER | C_HEXLETTER;
// Non-ASCII letters (accents, CJK, …) behave as letters: part of words, never masked.
// A full 64K table (64 KB, once) so the hot loop needs no `c < 128` branch.
for (let c = 128; c < 65536; c++) CLASS[c] = C_LETTER | C_NONHEX;

/** Characters stripped around a token before whole-token checks (URL, e-mail, IPv6). */
export function isOpenWrap(c: number): boolean {
  return c === 40 || c === 91 || c === 123 || c === 60 || c === 34 || c === 39; // ( [ { < " '
}
export function isCloseWrap(c: number): boolean {
  // ) ] } > " ' , ; . : ! ?
  return c === 41 || c === 93 || c === 125 || c === 62 || c === 34 || c === 39 || c === 44 || c === 59 || c === 46 || c === 58 || c === 33 || c === 63;
}
