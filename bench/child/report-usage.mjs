// Loaded with `node --import`: reports the process's CPU time and peak RSS on
// stderr when it exits (read by bench/harness.ts runChild).
process.on("exit", () => {
  const usage = process.resourceUsage()
  process.stderr.write(`\n__USAGE__ ${usage.userCPUTime} ${usage.systemCPUTime} ${usage.maxRSS}\n`)
})
