/** `node dist/bench/mine-cli.js FILE …`: the `keytally mine` command without the rest of the CLI (for timing the whole process). */
import { runMine } from '../src/cli/mine.js';

process.exitCode = await runMine(process.argv.slice(2));
