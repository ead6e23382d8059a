/**
 * Runs src/main.ts against the scripted model server (scripts/run-app.mjs)
 * and checks what it printed and saved. Exits non-zero (with the reason)
 * when anything differs.
 */
import { fail, runApp } from "./run-app.mjs"

const child = await runApp("main.ts")
process.stdout.write(child.stdout)
process.stderr.write(child.stderr)
if (child.status !== 0) fail("e2e", `src/main.ts exited with ${child.status}`)
else if (child.stdout.trim() !== "There are 4 entries here.") fail("e2e", `unexpected answer: ${JSON.stringify(child.stdout)}`)
else if (child.requests !== 2) fail("e2e", `expected 2 model requests, got ${child.requests}`)
else if (child.sessions.length !== 1) fail("e2e", `expected one saved session, found ${child.sessions.length}`)
else console.log(`e2e: ok (2 model requests, session ${child.sessions[0]} saved)`)
