#!/usr/bin/env bun
// The `redbun` command of the package (bunx redbun, node_modules/.bin/redbun): main.ts's command
// line, with redis-server's arguments. (main.ts itself has no #! line: `bun run main.ts` under
// Redis's test suite starts measurably later with one.)
import { main } from "../main.ts";
main(process.argv.slice(2));
