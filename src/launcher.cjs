#!/usr/bin/env node
'use strict';
// The smtpspec command. It runs the bundled program (smtpspec-main.cjs) through a V8 code
// cache made at build time, so a short command such as `smtpspec validate` spends its
// start-up running rather than compiling. A missing cache, or one that another Node.js
// version rejects, only costs that time: the program runs the same.
const { readFileSync, writeFileSync } = require('node:fs');
const { join } = require('node:path');
const Module = require('node:module');
const vm = require('node:vm');

const programFile = join(__dirname, 'smtpspec-main.cjs');
const cacheFile = `${programFile}.cache`;

/** The compiled program, and whether the code cache was 'used', 'rejected' (another V8) or 'none'. */
function compile() {
  let cachedData;
  try {
    cachedData = readFileSync(cacheFile);
  } catch {
    cachedData = undefined;
  }
  const source = readFileSync(programFile, 'utf8').replace(/^#!.*/, '');
  const script = new vm.Script(Module.wrap(source), { filename: programFile, cachedData });
  const cache = cachedData === undefined ? 'none' : script.cachedDataRejected ? 'rejected' : 'used';
  return { script, cache };
}

function start(script) {
  const module = { exports: {} };
  script.runInThisContext()(module.exports, Module.createRequire(programFile), module, programFile, __dirname);
}

/** Runs the program with these arguments, and writes the code cache when the process exits (the build does this once). */
function writeCodeCache(args) {
  process.argv = [process.argv[0], programFile, ...args];
  const { script } = compile();
  process.on('exit', () => writeFileSync(cacheFile, script.createCachedData()));
  start(script);
}

if (require.main === module) start(compile().script);

module.exports = { writeCodeCache, codeCache: () => compile().cache };
