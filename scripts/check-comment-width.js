#!/usr/bin/env node
'use strict';
// Prettier keeps code within 120 columns but never re-wraps comments: this holds comment lines to the same limit.
// Usage: node scripts/check-comment-width.js [files...]   (default: every tracked *.ts and *.js file)
const { execFileSync } = require('node:child_process');
const fs = require('node:fs');

const LIMIT = 120;
const COMMENT = /^\s*(\/\/|\/\*|\*)/;

const files =
  process.argv.length > 2
    ? process.argv.slice(2)
    : execFileSync('git', ['ls-files', '*.ts', '*.js'], { encoding: 'utf8' }).split('\n').filter(Boolean);
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
