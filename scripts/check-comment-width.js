#!/usr/bin/env node
'use strict';
// Prettier keeps code within 120 columns but never re-wraps comments: this holds comment lines to the same limit.
// Usage: node scripts/check-comment-width.js [files...]   (default: every *.ts and *.js file Prettier formats)
const fs = require('node:fs');
const path = require('node:path');

const LIMIT = 120;
const COMMENT = /^\s*(\/\/|\/\*|\*)/;

const ROOT = path.resolve(__dirname, '..');
/** The folders .prettierignore leaves out, and hidden ones (.git, .build). */
const SKIP = new Set(['node_modules', 'dist', 'native/build', 'test/fixtures']);

function sources(dir) {
  return fs.readdirSync(dir, { withFileTypes: true }).flatMap((e) => {
    const full = path.join(dir, e.name);
    if (e.isDirectory()) {
      return e.name.startsWith('.') || SKIP.has(path.relative(ROOT, full)) ? [] : sources(full);
    }
    return e.isFile() && /\.(ts|js)$/.test(e.name) ? [path.relative(ROOT, full)] : [];
  });
}

const files = process.argv.length > 2 ? process.argv.slice(2) : sources(ROOT).map((f) => path.join(ROOT, f));
let bad = 0;
for (const file of files) {
  fs.readFileSync(file, 'utf8')
    .split('\n')
    .forEach((line, i) => {
      if (line.length > LIMIT && COMMENT.test(line)) {
        console.error(`${file}:${i + 1}: comment line of ${line.length} characters (limit ${LIMIT})`);
        bad++;
      }
    });
}
if (bad) {
  console.error(`${bad} comment line(s) over ${LIMIT} characters: wrap them`);
  process.exit(1);
}
