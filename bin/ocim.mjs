#!/usr/bin/env node
// `npx ocim …`: runs the TypeScript CLI (src/bin/cli.ts) through tsx, from this package whatever
// the current directory. It runs in the package root, as `npm start` does, so a relative DATA_DIR
// (default .data) names the same embedded database.
import path from "node:path";
import { fileURLToPath, pathToFileURL } from "node:url";
import { register } from "tsx/esm/api";

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), "..");
// File arguments (`ocim import fleet.yml`) are the caller's: relative to where it was typed.
process.env.OCIM_CALLER_CWD ??= process.cwd();
process.chdir(root);
register();
await import(pathToFileURL(path.join(root, "src", "bin", "cli.ts")).href);
