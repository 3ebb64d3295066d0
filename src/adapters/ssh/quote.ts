// POSIX shell quoting for arguments of commands run over SSH: whatever the value, it stays one
// argument and can never end the quote or start another command.

const PLAIN = /^[A-Za-z0-9_@%+=:,./-]+$/;

/** One shell word for value: plain values as they are, anything else single-quoted. */
export function shellQuote(value: string): string {
  if (value.includes("\0")) throw new TypeError("A shell argument cannot contain a NUL byte.");
  if (PLAIN.test(value)) return value;
  // Inside single quotes nothing is special except the closing quote: end it, add an escaped quote, reopen.
  return `'${value.replaceAll("'", `'\\''`)}'`;
}

/** A command line from a program and its arguments, each quoted. */
export function shellCommand(...args: string[]): string {
  if (args.length === 0) throw new TypeError("A command needs at least a program.");
  return args.map(shellQuote).join(" ");
}
