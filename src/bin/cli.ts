// `npx ocim <command>` (bin/ocim.mjs runs this file through tsx). Same settings as `npm start`:
// DATABASE_URL, or the embedded PostgreSQL under DATA_DIR — the running one when `npm start`
// is up, else started for the command and stopped after it.
// Exit codes: 0 done, 1 the command failed (message on stderr), 2 wrong usage.
import { parseArgs, type ParseArgsConfig } from "node:util";
import { pino } from "pino";
import { ConfigError, loadConfig, type Config } from "../config.js";
import { createDb, dbOptions, type Db } from "../db.js";
import { AppError } from "../errors.js";
import { createLogger } from "../logger.js";
import type { Child } from "../embedded/processes.js";
import { bootDatabase } from "./boot.js";
import { COMMANDS, type CliContext, type Command } from "./cli-commands.js";

/** Wrong usage (exit status 2); `usage` is the command's, printed after the message. */
class UsageError extends Error {
  constructor(message: string, readonly usage?: string) {
    super(message);
  }
}

const write = (stream: NodeJS.WriteStream) => (text: string) => void stream.write(text.endsWith("\n") ? text : `${text}\n`);
const stdout = write(process.stdout);
const stderr = write(process.stderr);

function generalHelp(): string {
  const width = Math.max(...Object.values(COMMANDS).map((c) => c.usage.length));
  return [
    "Usage: ocim <command> [options]",
    "",
    "Commands:",
    ...Object.values(COMMANDS).map((c) => `  ${c.usage.padEnd(width)}  ${c.summary}`),
    "",
    "Run `ocim <command> --help` for more about one command.",
    "Settings come from the environment, as for `npm start` (see .env.example): DATABASE_URL, or the",
    "embedded PostgreSQL under DATA_DIR (default .data), which must be the one `npm start` uses.",
  ].join("\n");
}

function commandHelp(command: Command): string {
  const options = Object.entries({ ...command.optionHelp, "-h, --help": "Show this help." });
  const width = Math.max(...options.map(([flag]) => flag.length));
  return [`Usage: ocim ${command.usage}`, "", `${command.summary}.`, command.details, "",
    "Options:", ...options.map(([flag, text]) => `  ${flag.padEnd(width)}  ${text}`)].join("\n");
}

/** Finds the command named by the first word(s) of argv; the rest are its arguments. */
function findCommand(argv: string[]): { name: string; command: Command; rest: string[] } {
  const [first, second] = argv;
  const group = Object.keys(COMMANDS).filter((name) => name.startsWith(`${first} `));
  if (group.length) {
    const name = `${first} ${second}`;
    const command = second ? COMMANDS[name] : undefined;
    if (!command) {
      const problem = second ? `unknown subcommand "${second}"` : "missing a subcommand";
      throw new UsageError(`ocim ${first}: ${problem}. Use one of:\n${group.map((g) => `  ocim ${COMMANDS[g]!.usage}`).join("\n")}`);
    }
    return { name, command, rest: argv.slice(2) };
  }
  const command = first ? COMMANDS[first] : undefined;
  if (!command) throw new UsageError(`ocim: unknown command "${first}". Run \`ocim --help\` for the list.`);
  return { name: first!, command, rest: argv.slice(1) };
}

/** What is wrong with the options in `args` ("unknown option --bogus"), in the words of every other usage error. */
function optionProblem(options: NonNullable<ParseArgsConfig["options"]>, args: string[]): string | undefined {
  const { tokens } = parseArgs({ args, options, allowPositionals: true, strict: false, tokens: true });
  for (const token of tokens) {
    if (token.kind !== "option") continue;
    if (!(token.name in options)) return `unknown option ${token.rawName}`;
    if (options[token.name]!.type === "string" && token.value === undefined) return `option ${token.rawName} needs a value`;
  }
  return undefined;
}

function parseCommandArgs(name: string, command: Command, rest: string[]) {
  const usage = (problem: string) => new UsageError(`ocim ${name}: ${problem}`, command.usage);
  const options = { ...command.options, help: { type: "boolean", short: "h" } } satisfies ParseArgsConfig["options"];
  let parsed: { values: Record<string, string | boolean | (string | boolean)[] | undefined>; positionals: string[] };
  try {
    parsed = parseArgs({ args: rest, options, allowPositionals: true, strict: true });
  } catch (err) {
    // Node's own text for an unknown option is a paragraph about `--`.
    throw usage(optionProblem(options, rest) ?? (err as Error).message.split("\n")[0]!);
  }
  if (parsed.values.help) return { help: true as const };
  const expected = command.positionals;
  if (parsed.positionals.length !== expected.length) {
    throw usage(parsed.positionals.length < expected.length
      ? `missing ${expected.slice(parsed.positionals.length).map((p) => `<${p}>`).join(" ")}`
      : `unexpected argument "${parsed.positionals[expected.length]}"`);
  }
  for (const [i, positional] of expected.entries()) {
    const choices = command.choices?.[positional];
    const given = parsed.positionals[i]!;
    if (choices && !choices.includes(given)) throw usage(`unknown ${positional} "${given}"; choose one of: ${choices.join(", ")}`);
  }
  // No option is declared `multiple`, so each value is a single string or boolean.
  return { help: false as const, args: parsed.positionals, options: parsed.values as Record<string, string | boolean | undefined> };
}

/** Connects on first use, so `--help` and usage errors never touch the database. */
function cliContext(config: Config): CliContext & { close(): Promise<void> } {
  // Logs go to stderr, and only warnings: stdout is the command's output (a token, a URL).
  const log = createLogger("warn", { role: "cli" }, pino.destination(2));
  let connected: { url: string; db: Db; child: Child | null } | null = null;
  return {
    config,
    print: stdout,
    note: stderr,
    async database() {
      if (!connected) {
        const server = await bootDatabase(config, log);
        connected = { ...server, db: createDb(server.url, dbOptions(config, 2, log)) };
      }
      return connected;
    },
    async close() {
      await connected?.db.$disconnect();
      await connected?.child?.stop();
    },
  };
}

async function main(argv: string[]): Promise<number> {
  if (argv.length === 0 || argv[0] === "help" || argv[0] === "--help" || argv[0] === "-h") {
    const named = argv[0] === "help" && argv.length > 1 ? findCommand(argv.slice(1)).command : null;
    (argv.length === 0 ? stderr : stdout)(named ? commandHelp(named) : generalHelp());
    return argv.length === 0 ? 2 : 0;
  }
  const { name, command, rest } = findCommand(argv);
  const parsed = parseCommandArgs(name, command, rest);
  if (parsed.help) {
    stdout(commandHelp(command));
    return 0;
  }
  const cli = cliContext(loadConfig());
  try {
    await command.run(cli, parsed.args, parsed.options);
    return 0;
  } finally {
    await cli.close();
  }
}

function failureMessage(err: unknown): string {
  if (err instanceof ConfigError || err instanceof AppError) return err.message;
  // Prisma's "table does not exist": a new data directory that nothing has migrated yet.
  if ((err as { code?: string }).code === "P2021") return "The database has no tables yet. Run `npx ocim migrate` (or `npm start` once) first.";
  return `failed: ${(err as Error).message}`;
}

main(process.argv.slice(2)).then(
  (code) => process.exit(code),
  (err: unknown) => {
    if (err instanceof UsageError) {
      stderr(err.usage ? `${err.message}\nUsage: ocim ${err.usage}` : err.message);
      process.exit(2);
    }
    stderr(`ocim: ${failureMessage(err)}`);
    process.exit(1);
  },
);
