// Loaded with `node --import`: reports the process's CPU time and peak RSS on
// stderr when it exits (read by bench/harness.ts runChild).
//
// Peak RSS comes from VmHWM in /proc/self/status (Linux): the high-water mark
// of this process's own address space. process.resourceUsage().maxRSS is not
// usable for a spawned child on Linux: ru_maxrss survives fork+exec, so it
// starts at the parent's peak. It is the fallback elsewhere.
import * as fs from "node:fs"

const peakKb = () => {
  try {
    const match = /VmHWM:\s+(\d+) kB/.exec(fs.readFileSync("/proc/self/status", "utf8"))
    if (match !== null) return Number(match[1])
  } catch {
    // not Linux
  }
  return process.resourceUsage().maxRSS
}

process.on("exit", () => {
  const usage = process.resourceUsage()
  process.stderr.write(`\n__USAGE__ ${usage.userCPUTime} ${usage.systemCPUTime} ${peakKb()}\n`)
})
