// The ONE place that converts between the browser's UTF-16 string indices and the server's
// offsets, which are Unicode code points of the stored (NFC) transcript text, end exclusive.
// An astral character (emoji, U+1F332) is two UTF-16 units but one code point; a combining
// mark (U+0301) is its own code point, as on the server.

function isHigh(unit) {
  return unit >= 0xd800 && unit <= 0xdbff;
}

function isLow(unit) {
  return unit >= 0xdc00 && unit <= 0xdfff;
}

/** Number of code points in a string (Python's len()). */
export function cpLength(str) {
  let n = 0;
  for (let i = 0; i < str.length; i++) {
    if (isHigh(str.charCodeAt(i)) && i + 1 < str.length && isLow(str.charCodeAt(i + 1))) i++;
    n++;
  }
  return n;
}

/** Lookup tables over one text, both directions, built once in O(length). */
export class TextIndex {
  constructor(text) {
    this.text = text;
    const units = text.length;
    const cpToU = new Uint32Array(units + 1);
    const uToCp = new Uint32Array(units + 1);
    let cp = 0;
    for (let u = 0; u < units; u++) {
      cpToU[cp] = u;
      uToCp[u] = cp;
      if (isHigh(text.charCodeAt(u)) && u + 1 < units && isLow(text.charCodeAt(u + 1))) {
        // The low surrogate belongs to the same code point.
        u++;
        uToCp[u] = cp;
      }
      cp++;
    }
    cpToU[cp] = units;
    uToCp[units] = cp;
    this.length = cp; // in code points
    this._cpToU = cpToU;
    this._uToCp = uToCp;
  }

  /** UTF-16 index of code point offset ``cp`` (clamped to the text). */
  toUtf16(cp) {
    if (cp <= 0) return 0;
    if (cp >= this.length) return this.text.length;
    return this._cpToU[cp];
  }

  /**
   * Code point offset of UTF-16 index ``u``. An index that falls between the two halves of a
   * surrogate pair is rounded down (``roundUp`` false) or up (true), never split.
   */
  toCp(u, roundUp = false) {
    if (u <= 0) return 0;
    if (u >= this.text.length) return this.length;
    const cp = this._uToCp[u];
    if (this._cpToU[cp] !== u && roundUp) return cp + 1;
    return cp;
  }

  /** ``text[start:end]`` in code points, as Python slices it on the server. */
  slice(start, end) {
    return this.text.slice(this.toUtf16(start), this.toUtf16(end));
  }
}
