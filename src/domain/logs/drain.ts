// Bytes of a growing log file → complete lines, with the byte offset just after the last complete
// line. The provisioning job reads the playbook's log on the VM (SFTP) and the bench a local file,
// both through LogSource. Only complete lines are handed on: a partial last line is read again by
// the next drain, so a worker that resumes from a stored offset never splits or repeats a line.

export interface LogSource {
  /** At most maxBytes from offset; empty when nothing more has been written (yet). The SSH
   *  session's readFrom(path, offset, maxBytes) fits with the path bound. */
  readFrom(offset: number, maxBytes: number): Promise<{ bytes: Buffer }>;
}

export interface DrainOptions {
  /** Offset just after the last complete line already handled (0 for a new file). */
  from: number;
  /** Called for each run of complete lines with the offset just after the last of them, and the
   *  offset just after each line (ends[i] for lines[i]): the log writer stores each line with its
   *  end, so the stored offset always matches the stored lines whatever the batch boundaries. */
  onLines(lines: string[], endOffset: number, ends: number[]): Promise<void> | void;
  /** The file is complete (the playbook exited): a last line without newline is handed on too. */
  final?: boolean;
  chunkBytes?: number;
  /** A "line" longer than this is cut (possibly inside a UTF-8 character), so one endless line
   *  cannot grow memory. */
  maxLineBytes?: number;
  /** Return after this many reads even if there is more, so a caller with other duties (a status
   *  check, a deadline) gets control back while a fast writer keeps the file growing. */
  maxReads?: number;
}

export interface DrainResult {
  /** Where the next drain starts. */
  offset: number;
  lines: number;
}

const NEWLINE = 0x0a;
const EMPTY: Buffer = Buffer.alloc(0);

/** Reads until the source has nothing more, handing on complete lines as they come. */
export async function drainLog(source: LogSource, opts: DrainOptions): Promise<DrainResult> {
  const chunkBytes = opts.chunkBytes ?? 256 * 1024;
  const maxLineBytes = opts.maxLineBytes ?? 64 * 1024;
  let offset = opts.from;
  let readAt = opts.from;
  let partial: Buffer = EMPTY;
  let count = 0;
  let reads = 0;
  const emit = async (buf: Buffer, end: number) => {
    const lines = splitLines(buf);
    const ends = lineEnds(buf, offset, end);
    count += lines.length;
    offset = end;
    await opts.onLines(lines, end, ends);
  };
  while (reads++ < (opts.maxReads ?? Infinity)) {
    const { bytes } = await source.readFrom(readAt, chunkBytes);
    if (bytes.length === 0) break;
    readAt += bytes.length;
    const buf = partial.length ? Buffer.concat([partial, bytes]) : bytes;
    const cut = buf.lastIndexOf(NEWLINE) + 1;
    if (cut > 0) {
      // Copied: a view would keep the whole chunk alive for a few bytes.
      partial = Buffer.from(buf.subarray(cut));
      await emit(buf.subarray(0, cut), offset + cut);
    } else {
      partial = buf;
    }
    if (partial.length >= maxLineBytes) {
      const whole = partial;
      partial = EMPTY;
      await emit(Buffer.concat([whole, Buffer.from("\n")]), offset + whole.length);
    }
  }
  if (opts.final && partial.length) await emit(Buffer.concat([partial, Buffer.from("\n")]), offset + partial.length);
  return { offset, lines: count };
}

/** Lines of a buffer that ends with a newline (CRLF endings too). Cutting at a newline byte never
 *  splits a UTF-8 character, so each line decodes whole. */
function splitLines(buf: Buffer): string[] {
  const lines = buf.toString("utf8").split("\n");
  lines.pop();
  for (let i = 0; i < lines.length; i++) if (lines[i]!.endsWith("\r")) lines[i] = lines[i]!.slice(0, -1);
  return lines;
}

/** The file offset just after each line of buf (which starts at `start`). A newline that drainLog
 *  added itself (a cut or a final line) is not in the file: that line ends at `end`. */
function lineEnds(buf: Buffer, start: number, end: number): number[] {
  const ends: number[] = [];
  for (let at = buf.indexOf(NEWLINE); at !== -1; at = buf.indexOf(NEWLINE, at + 1)) ends.push(Math.min(start + at + 1, end));
  return ends;
}
