#!/usr/bin/env node
// The one entry point of every Fieldcast program. The TypeScript is built to dist/ by `npm run build`.
// A closed pipe (fieldcast ... | head) ends the program quietly.
process.stdout.on('error', (err) => {
  if (err.code === 'EPIPE') process.exit(0);
  throw err;
});

import { main } from '../dist/cli/main.js';

main(process.argv.slice(2)).then(
  (code) => {
    process.exitCode = code;
  },
  (err) => {
    process.stderr.write(`fieldcast: ${err?.stack ?? err}\n`);
    process.exitCode = 1;
  },
);
