#!/usr/bin/env node
// The `fjord` command. Runs the compiled CLI from dist/ when `npm run build` has made it,
// else the TypeScript sources through tsx, so `npx fjord` works straight after `npm install`.
import { existsSync } from 'node:fs';
import { fileURLToPath } from 'node:url';

const built = new URL('../dist/functions/cli.js', import.meta.url);
if (existsSync(fileURLToPath(built)) && !process.env.FJORD_FROM_SOURCE) {
  await import(built.href);
} else {
  const { register } = await import('tsx/esm/api');
  register();
  await import(new URL('./cli.ts', import.meta.url).href);
}
