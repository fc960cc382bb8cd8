/** Exp-Golomb bit reading over an H.264 RBSP (ITU-T H.264 §7.2, §9.1). */

/** Removes emulation-prevention bytes (00 00 03 → 00 00, §7.4.1) from `nal[start..end)`. */
export function unescapeRbsp(nal: Uint8Array, start = 0, end = nal.length): Uint8Array {
  const out = new Uint8Array(end - start);
  let n = 0;
  let zeros = 0;
  for (let i = start; i < end; i++) {
    const b = nal[i]!;
    if (zeros >= 2 && b === 3) {
      zeros = 0;
      continue;
    }
    zeros = b === 0 ? zeros + 1 : 0;
    out[n++] = b;
  }
  return out.subarray(0, n);
}

/** Reads bits MSB first; reading past the end throws RangeError (a truncated header). */
export class BitReader {
  private pos = 0;
  constructor(private readonly data: Uint8Array) {}

  get bitsLeft(): number {
    return this.data.length * 8 - this.pos;
  }

  bit(): number {
    if (this.pos >= this.data.length * 8) throw new RangeError('header ends early');
    const b = (this.data[this.pos >>> 3]! >>> (7 - (this.pos & 7))) & 1;
    this.pos++;
    return b;
  }

  flag(): boolean {
    return this.bit() === 1;
  }

  /** u(n), n ≤ 32. */
  u(n: number): number {
    let v = 0;
    for (let i = 0; i < n; i++) v = v * 2 + this.bit();
    return v;
  }

  skip(n: number): void {
    if (this.pos + n > this.data.length * 8) throw new RangeError('header ends early');
    this.pos += n;
  }

  /** ue(v): unsigned Exp-Golomb (§9.1). */
  ue(): number {
    let zeros = 0;
    while (this.bit() === 0) {
      if (++zeros > 31) throw new RangeError('Exp-Golomb code too long');
    }
    return 2 ** zeros - 1 + this.u(zeros);
  }

  /** se(v): signed Exp-Golomb (§9.1.1). */
  se(): number {
    const k = this.ue();
    return k & 1 ? (k + 1) / 2 : -(k / 2);
  }
}
