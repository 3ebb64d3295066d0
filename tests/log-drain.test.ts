import { describe, expect, it } from "vitest";
import { drainLog, type LogSource } from "../src/domain/logs/drain.js";

/** A log file that grows while it is read, as the playbook's does on the VM. */
class GrowingFile implements LogSource {
  private content = Buffer.alloc(0);
  readonly reads: [number, number][] = [];

  append(text: string | Buffer): void {
    this.content = Buffer.concat([this.content, typeof text === "string" ? Buffer.from(text) : text]);
  }

  async readFrom(offset: number, maxBytes: number) {
    this.reads.push([offset, maxBytes]);
    return { bytes: this.content.subarray(offset, offset + maxBytes) };
  }
}

async function drain(file: LogSource, from: number, opts: { chunkBytes?: number; final?: boolean; maxLineBytes?: number } = {}) {
  const lines: string[] = [];
  const offsets: number[] = [];
  const result = await drainLog(file, {
    from,
    ...opts,
    onLines: (batch, end) => {
      lines.push(...batch);
      offsets.push(end);
    },
  });
  return { lines, offsets, offset: result.offset, count: result.lines };
}

describe("drainLog", () => {
  it("gives the file offset just after each line, for CRLF, multi-byte and cut lines too", async () => {
    const file = new GrowingFile();
    const text = "PLAY [all]\r\nété ✓\n" + "x".repeat(30) + "\nlast";
    file.append(text);
    const ends: number[] = [];
    const lines: string[] = [];
    await drainLog(file, { from: 0, chunkBytes: 7, maxLineBytes: 20, final: true, onLines: (batch, _end, e) => void (lines.push(...batch), ends.push(...e)) });
    expect(lines).toEqual(["PLAY [all]", "été ✓", "x".repeat(20), "x".repeat(10), "last"]);
    const bytes = (s: string) => Buffer.byteLength(s);
    const expected = [12, 12 + bytes("été ✓\n"), 12 + bytes("été ✓\n") + 20, 12 + bytes("été ✓\n") + 31, bytes(text)];
    expect(ends).toEqual(expected);
  });

  it("hands on complete lines only and stops at the end of the last one", async () => {
    const file = new GrowingFile();
    file.append("PLAY [all]\nTASK [one]\nok: [local");
    const first = await drain(file, 0);
    expect(first.lines).toEqual(["PLAY [all]", "TASK [one]"]);
    expect(first.offset).toBe("PLAY [all]\nTASK [one]\n".length);

    file.append("host]\nTASK [two]\n");
    const second = await drain(file, first.offset);
    expect(second.lines).toEqual(["ok: [localhost]", "TASK [two]"]);
    expect(second.offset).toBe("PLAY [all]\nTASK [one]\nok: [localhost]\nTASK [two]\n".length);
    expect((await drain(file, second.offset)).lines).toEqual([]);
  });

  it("resumes from a stored offset without repeating or losing a line, whatever the chunk size", async () => {
    const text = Array.from({ length: 50 }, (_, i) => `line ${i} ${"é€😀".repeat(i % 4)}`).join("\n") + "\n";
    for (const chunkBytes of [1, 3, 7, 64, 100_000]) {
      const file = new GrowingFile();
      const seen: string[] = [];
      let offset = 0;
      // The file grows in uneven pieces (cutting through multi-byte characters); a "new worker" drains each time.
      const bytes = Buffer.from(text);
      for (let at = 0; at < bytes.length; at += 37) {
        file.append(bytes.subarray(at, at + 37));
        const run = await drain(file, offset, { chunkBytes });
        seen.push(...run.lines);
        offset = run.offset;
      }
      expect(seen).toEqual(text.split("\n").slice(0, -1));
      expect(offset).toBe(bytes.length);
    }
  });

  it("reports, with each run of lines, the offset just after the last of them", async () => {
    const file = new GrowingFile();
    file.append("a\nbb\nccc\n");
    const run = await drain(file, 0, { chunkBytes: 4 });
    expect(run.lines).toEqual(["a", "bb", "ccc"]);
    expect(run.offsets).toEqual([2, 5, 9]);
  });

  it("strips CRLF endings and hands on a last line without newline once the file is final", async () => {
    const file = new GrowingFile();
    file.append("one\r\ntwo\r\nexit code follows");
    expect((await drain(file, 0)).lines).toEqual(["one", "two"]);
    const last = await drain(file, 0, { final: true });
    expect(last.lines).toEqual(["one", "two", "exit code follows"]);
    expect(last.offset).toBe(Buffer.byteLength("one\r\ntwo\r\nexit code follows"));
  });

  it("cuts an endless line so it cannot grow memory", async () => {
    const file = new GrowingFile();
    file.append("x".repeat(250) + "\nafter\n");
    const run = await drain(file, 0, { chunkBytes: 64, maxLineBytes: 100 });
    // 128 bytes were buffered without a newline when the limit was passed: they become a line.
    expect(run.lines).toEqual(["x".repeat(128), "x".repeat(122), "after"]);
    expect(run.offset).toBe(257);
  });

  it("reads nothing from a file that does not exist yet", async () => {
    const missing: LogSource = { readFrom: async () => ({ bytes: Buffer.alloc(0) }) };
    expect(await drain(missing, 0)).toMatchObject({ lines: [], offset: 0 });
  });
});
