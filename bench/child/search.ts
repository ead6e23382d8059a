// bench child: search the sessions directory for a text and print the elapsed milliseconds and hits.
// argv: <sessions dir> <text>
import { Effect, Stream } from "effect"
import * as SessionSearch from "../../services/SessionSearch.ts"

const [dir, text] = process.argv.slice(2) as [string, string]
const start = performance.now()
const hits = await Effect.runPromise(Stream.runCollect(SessionSearch.makeFileSystem(dir).search({ query: text }).pipe(Stream.take(50))))
console.log(JSON.stringify({ ms: performance.now() - start, hits: Array.from(hits).length }))
