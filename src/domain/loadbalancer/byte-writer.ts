// Builds a large text into a growing Buffer. For a 5,000-instance config (bench/lb-config) most of
// the cost is garbage: concatenating pieces makes a cons string per `+` (32 bytes each, ~9 MB
// per render) and young-generation GCs then copy the render's input again and again. Here the
// pieces go into one reused array, and every PIECES of them are joined (one flat string, no cons)
// and encoded into the Buffer; the array's slots are overwritten, never reallocated.
const PIECES = 2048;

export class ByteWriter {
  private buffer: Buffer;
  private length = 0;
  private readonly pieces: string[] = new Array<string>(PIECES).fill("");
  private count = 0;

  constructor(initialBytes = 64 * 1024) {
    this.buffer = Buffer.allocUnsafe(initialBytes);
  }

  /** Appends a piece of text; callers pass pieces as they are rather than concatenating them. */
  write(text: string): this {
    this.pieces[this.count++] = text;
    if (this.count === PIECES) this.flush();
    return this;
  }

  /** The bytes written: a view, valid until the next write. */
  toBuffer(): Buffer {
    this.pieces.fill("", this.count);
    this.flush();
    return this.buffer.subarray(0, this.length);
  }

  private flush(): void {
    const text = this.pieces.join("");
    this.count = 0;
    // A UTF-16 code unit never needs more than 3 bytes of UTF-8.
    const worst = this.length + text.length * 3;
    if (worst > this.buffer.length) {
      const next = Buffer.allocUnsafe(Math.max(worst, this.buffer.length * 2));
      this.buffer.copy(next, 0, 0, this.length);
      this.buffer = next;
    }
    this.length += this.buffer.write(text, this.length);
  }
}
