// Prints the gzipped size of every JS file in dist/ so bundle growth is visible in each build log.
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { gzipSync } from 'node:zlib';

const dir = new URL('../dist/assets/', import.meta.url);
const bytes = readdirSync(dir)
  .filter((name) => name.endsWith('.js'))
  .reduce((sum, name) => sum + gzipSync(readFileSync(join(dir.pathname, name)), { level: 9 }).length, 0);

console.log(`bundle gzipped JS: ${(bytes / 1024).toFixed(1)} KB`);
