// The import graph of src/ keeps its layers (STYLE "Layout"): the domain does not reach into the
// worker or the web layer, and adapters (ports to the outside world) know neither the domain nor
// the composition root that wires them. Read from the source text: every `from "…"` and
// `import("…")` of every .ts file, type-only imports included.
import { readFileSync, readdirSync } from "node:fs";
import path from "node:path";
import { describe, expect, it } from "vitest";

const root = path.resolve(import.meta.dirname, "..");
const src = path.join(root, "src");

function tsFiles(dir: string): string[] {
  return readdirSync(dir, { withFileTypes: true }).flatMap((entry) => {
    const full = path.join(dir, entry.name);
    if (entry.isDirectory()) return entry.name === "generated" ? [] : tsFiles(full);
    return entry.name.endsWith(".ts") ? [full] : [];
  });
}

const IMPORT_RE = /(?:\bfrom\s*|\bimport\s*\(\s*|^\s*import\s+)["']([^"']+)["']/gm;

/** "src/a/b.ts → src/c/d.ts" for every relative import, paths from the repository root. */
function importEdges(): { from: string; to: string }[] {
  return tsFiles(src).flatMap((file) => {
    const text = readFileSync(file, "utf8");
    return [...text.matchAll(IMPORT_RE)]
      .map((m) => m[1]!)
      .filter((spec) => spec.startsWith("."))
      .map((spec) => ({
        from: path.relative(root, file),
        to: path.relative(root, path.resolve(path.dirname(file), spec)).replace(/\.js$/, ".ts"),
      }));
  });
}

const RULES: { layer: string; mayNotImport: string[] }[] = [
  { layer: "src/domain/", mayNotImport: ["src/jobs/", "src/web/"] },
  { layer: "src/adapters/", mayNotImport: ["src/domain/", "src/deps.ts", "src/bin/"] },
];

function violations(): string[] {
  return importEdges()
    .filter(({ from, to }) => RULES.some((r) => from.startsWith(r.layer) && r.mayNotImport.some((p) => to.startsWith(p))))
    .map(({ from, to }) => `${from} → ${to}`);
}

describe("the import graph", () => {
  it("finds the imports it checks (the reader works)", () => {
    const edges = importEdges();
    expect(edges).toContainEqual({ from: "src/deps.ts", to: "src/config.ts" });
    expect(edges).toContainEqual({ from: "src/jobs/registry.ts", to: "src/jobs/names.ts" });
    expect(edges.length).toBeGreaterThan(300);
  });

  it("keeps the domain out of jobs/ and web/, and adapters out of the domain and the composition root", () => {
    expect(violations()).toEqual([]);
  });

  it("stores log lines through one writer: only log-writer.ts inserts them", () => {
    const inserters = importEdges().filter((e) => e.to === "src/domain/logs/insert-log-batch.ts").map((e) => e.from);
    expect(inserters).toEqual(["src/domain/logs/log-writer.ts"]);
  });
});
