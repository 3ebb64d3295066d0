// Shell quoting, checked by a real /bin/sh: whatever the value, it comes back as one argument.
import { execFileSync } from "node:child_process";
import { describe, expect, it } from "vitest";
import { shellCommand, shellQuote } from "../src/adapters/ssh/quote.js";

const tricky = [
  "plain",
  "",
  "two words",
  "it's",
  "'",
  "''",
  '"double"',
  "$HOME",
  "`id`",
  "$(touch /tmp/ocim-quote-pwned)",
  "a;b && c || d | e",
  "back\\slash",
  "new\nline",
  "tab\there",
  "*",
  "~",
  "-n",
  "ünïcödé ✓",
  "!history",
];

function echoedBySh(args: string[]): string[] {
  // printf prints each argument between markers: one argument in, one argument out.
  const out = execFileSync("/bin/sh", ["-c", `printf '<%s>' ${args.map(shellQuote).join(" ")}`], { encoding: "utf8" });
  return [...out.matchAll(/<([^>]*)>/g)].map((m) => m[1]!);
}

describe("shellQuote", () => {
  it("leaves plain words alone", () => {
    expect(shellQuote("ansible-playbook")).toBe("ansible-playbook");
    expect(shellQuote("/home/ubuntu/ocim/vars.yml")).toBe("/home/ubuntu/ocim/vars.yml");
    expect(shellQuote("KEY=value")).toBe("KEY=value");
  });

  it("quotes everything else so the shell neither expands nor splits it", () => {
    expect(shellQuote("it's")).toBe("'it'\\''s'");
    expect(shellQuote("")).toBe("''");
    expect(shellQuote("$HOME")).toBe("'$HOME'");
  });

  it("round-trips every tricky value through a real shell as exactly one argument", () => {
    const safe = tricky.filter((t) => !t.includes(">") && !t.includes("<"));
    expect(echoedBySh(safe)).toEqual(safe);
  });

  it("never runs what is inside a value", () => {
    execFileSync("/bin/sh", ["-c", `rm -f /tmp/ocim-quote-pwned; echo ${shellQuote("$(touch /tmp/ocim-quote-pwned)")} > /dev/null`]);
    expect(execFileSync("/bin/sh", ["-c", "test -e /tmp/ocim-quote-pwned && echo yes || echo no"], { encoding: "utf8" }).trim()).toBe("no");
  });

  it("refuses a NUL byte, which no shell argument can hold", () => {
    expect(() => shellQuote("a\0b")).toThrow("cannot contain a NUL byte");
  });
});

describe("shellCommand", () => {
  it("quotes each argument of a command line", () => {
    expect(shellCommand("git", "clone", "--branch", "my branch", "https://example.com/r.git")).toBe("git clone --branch 'my branch' https://example.com/r.git");
    expect(() => shellCommand()).toThrow("needs at least a program");
  });
});
