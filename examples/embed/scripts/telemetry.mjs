/**
 * Runs src/telemetry.ts against the scripted model server
 * (scripts/run-app.mjs) and checks that the console exporter printed the
 * prompt's spans with their OpenTelemetry GenAI attributes. Exits non-zero
 * (with the reason) when one is missing.
 */
import { fail, runApp } from "./run-app.mjs"

const child = await runApp("telemetry.ts")
process.stdout.write(child.stdout)
process.stderr.write(child.stderr)
// ConsoleSpanExporter prints each ended span as an object literal (util.inspect)
const expected = [
  /name: 'invoke_agent build'/,
  /name: 'SessionLoop\.step'/,
  /name: 'chat scripted-model'/,
  /name: 'execute_tool list'/,
  /'gen_ai\.request\.model': 'scripted-model'/,
  /'gen_ai\.usage\.input_tokens': 20\b/,
  /'gen_ai\.usage\.output_tokens': 8\b/,
  /'gen_ai\.response\.finish_reasons': \[ 'tool_calls' \]/,
  /'gen_ai\.tool\.name': 'list'/
]
if (child.status !== 0) fail("telemetry", `src/telemetry.ts exited with ${child.status}`)
else {
  const missing = expected.filter((pattern) => !pattern.test(child.stdout))
  if (missing.length > 0) fail("telemetry", `the exported spans lack ${missing.map(String).join(", ")}`)
  else console.log(`telemetry: ok (${(child.stdout.match(/name: '/g) ?? []).length} spans exported)`)
}
