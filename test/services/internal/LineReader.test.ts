/**
 * The capped line reader: line breaks anywhere (also across reads), lines
 * over the cap reported by number and size without being held.
 */
import { describe, expect, it } from "@effect/vitest"
import * as NodeFs from "node:fs"
import * as NodePath from "node:path"
import { Effect } from "effect"
import * as LineReader from "../../../services/internal/LineReader.ts"
import * as TempDir from "../../utils/TempDir.ts"

const readAll = (path: string, maxLineBytes: number, chunkBytes: number) =>
  Effect.promise(async () => {
    const handle = await NodeFs.promises.open(path, "r")
    try {
      const out: Array<LineReader.Line> = []
      for await (const line of LineReader.readLines(handle, { maxLineBytes, chunkBytes })) out.push(line)
      return out
    } finally {
      await handle.close()
    }
  })

describe("LineReader", () => {
  it.live("splits on LF, CRLF and CR wherever the reads end; drops a leading byte-order mark only", () =>
    Effect.gen(function*() {
      const dir = yield* TempDir.make()
      const path = NodePath.join(dir, "a.txt")
      const text = "\ufeffone\r\ntwo\rthree\n\nfive 🚀 é\r\n\ufeffsix\r"
      NodeFs.writeFileSync(path, text)
      const expected = ["one", "two", "three", "", "five 🚀 é", "\ufeffsix"]
      for (const chunkBytes of [1, 2, 3, 5, 7, 64]) {
        const lines = yield* readAll(path, 1024, chunkBytes)
        expect(lines.map((l) => (l._tag === "Line" ? l.text : "?")), `chunks of ${chunkBytes}`).toEqual(expected)
        expect(lines.map((l) => l.number)).toEqual([1, 2, 3, 4, 5, 6])
      }
      NodeFs.writeFileSync(path, "last line without a break")
      expect(yield* readAll(path, 1024, 4)).toEqual([{ _tag: "Line", number: 1, text: "last line without a break" }])
    }))

  it.live("a line over the cap is reported with its number and size; the lines around it are read", () =>
    Effect.gen(function*() {
      const dir = yield* TempDir.make()
      const path = NodePath.join(dir, "b.txt")
      NodeFs.writeFileSync(path, `short\n${"x".repeat(100)}\r\n${"y".repeat(10)}\n${"z".repeat(11)}`)
      for (const chunkBytes of [3, 16, 4096]) {
        expect(yield* readAll(path, 10, chunkBytes)).toEqual([
          { _tag: "Line", number: 1, text: "short" },
          { _tag: "TooLong", number: 2, bytes: 100 },
          { _tag: "Line", number: 3, text: "y".repeat(10) },
          { _tag: "TooLong", number: 4, bytes: 11 }
        ])
      }
    }))
})
