#!/usr/bin/env node
'use strict';
// The smtpspec command. It runs the bundled program (smtpspec-main.cjs) through a V8 code
// cache made at build time, so a short command such as `smtpspec validate` spends its
// start-up running rather than compiling. A missing cache, or one that another Node.js
// version rejects, only costs that time: the program runs the same.
//
// Ctrl-C (SIGINT) and SIGTERM are caught from the first line on, before the program is loaded,
// and handed over to it when it starts (src/bin.ts), so that a signal during start-up ends a
// run as one during the run does: with exit code 130, and reports complete or absent.
const earlySignals = [];
let signalHandler;
function onSignal(signal) {
  if (signalHandler) return signalHandler(signal);
  earlySignals.push(signal);
  if (earlySignals.length === 1) return;
  process.stderr.write(`\nsmtpspec: ${signal} again: quitting before the program started; no report written\n`);
  process.exit(130);
}
/** Gives the signals caught so far, then every later one, to the program's handler. */
function takeSignals(handler) {
  signalHandler = handler;
  for (const signal of earlySignals.splice(0)) handler(signal);
}
if (require.main === module) {
  process.on('SIGINT', onSignal);
  process.on('SIGTERM', onSignal);
}

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

function start(script, signals) {
  const module = { exports: {} };
  script.runInThisContext()(module.exports, Module.createRequire(programFile), module, programFile, __dirname);
  module.exports.start(signals);
}

/** Runs the program with these arguments, and writes the code cache when the process exits (the build does this once). */
function writeCodeCache(args) {
  process.argv = [process.argv[0], programFile, ...args];
  const { script } = compile();
  process.on('exit', () => writeFileSync(cacheFile, script.createCachedData()));
  start(script);
}

if (require.main === module) start(compile().script, takeSignals);

module.exports = { writeCodeCache, codeCache: () => compile().cache };
