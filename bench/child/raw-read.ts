// bench child: read files raw and print the elapsed milliseconds.
// argv: <mode: readFile | stream> <file...>
import * as NodeFs from "node:fs"

const [mode, ...files] = process.argv.slice(2) as [string, ...Array<string>]
const start = performance.now()
let bytes = 0
for (const file of files) {
  if (mode === "readFile") {
    bytes += (await NodeFs.promises.readFile(file)).length
  } else {
    const handle = await NodeFs.promises.open(file, "r")
    const chunk = Buffer.allocUnsafe(2 << 20)
    for (;;) {
      const { bytesRead } = await handle.read(chunk, 0, chunk.length, null)
      if (bytesRead === 0) break
      bytes += bytesRead
    }
    await handle.close()
  }
}
console.log(JSON.stringify({ ms: performance.now() - start, bytes }))
