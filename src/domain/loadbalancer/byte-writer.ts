// Builds a large text into a growing Buffer, in chunks. For a 5,000-instance config this is much
// faster than one long string: a rope of 100,000 pieces stays alive until it is flattened, so every
// young-generation GC copies it again, and flattening plus encoding copy it twice more. Short
// pieces are concatenated (cheap), and each ~32 kB chunk is encoded into the Buffer and dropped.
const CHUNK = 32 * 1024;

export class ByteWriter {
  private buffer: Buffer;
  private length = 0;
  private pending = "";

  constructor(initialBytes = 64 * 1024) {
    this.buffer = Buffer.allocUnsafe(initialBytes);
  }

  write(text: string): this {
    this.pending += text;
    if (this.pending.length >= CHUNK) this.flush();
    return this;
  }

  /** The bytes written: a view, valid until the next write. */
  toBuffer(): Buffer {
    this.flush();
    return this.buffer.subarray(0, this.length);
  }

  private flush(): void {
    // A UTF-16 code unit never needs more than 3 bytes of UTF-8.
    const worst = this.length + this.pending.length * 3;
    if (worst > this.buffer.length) {
      const next = Buffer.allocUnsafe(Math.max(worst, this.buffer.length * 2));
      this.buffer.copy(next, 0, 0, this.length);
      this.buffer = next;
    }
    this.length += this.buffer.write(this.pending, this.length);
    this.pending = "";
  }
}
