import { writeFileSync } from 'node:fs';

/**
 * Loaded into a measured process with `node --import`: when the process exits, writes its CPU time
 * (user and system, all threads, from its start) and its peak RSS as JSON to the file named by
 * BENCH_USAGE_FILE. The process measured is the whole command, start-up included.
 */

const file = process.env.BENCH_USAGE_FILE;
if (file) {
  process.on('exit', () => {
    const cpu = process.cpuUsage();
    const usage = { cpuMs: (cpu.user + cpu.system) / 1000, peakRssMb: process.resourceUsage().maxRSS / 1024 };
    writeFileSync(file, JSON.stringify(usage));
  });
}
