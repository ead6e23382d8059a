/**
 * Loading the kept elements of a session file in batches: a session larger
 * than V8's maximum string length (a 1 GiB transcript) cannot be parsed as one
 * array, so the loader parses its elements a batch at a time. The batch size
 * is shrunk here so that a small file takes many batches.
 */
import { describe, expect, it } from "@effect/vitest"
import * as NodeFs from "node:fs"
import * as NodePath from "node:path"
import { Effect } from "effect"
import * as Message from "../../../schemas/Message.ts"
import * as SessionJson from "../../../schemas/SessionJson.ts"
import * as SessionFile from "../../../services/internal/SessionFile.ts"
import * as Sessions from "../../utils/Sessions.ts"
import * as TempDir from "../../utils/TempDir.ts"

const write = (dir: string, messages: number) => {
  const session = Sessions.make({
    messages: Array.from({ length: messages }, (_, i) =>
      Message.text(i % 2 === 0 ? "user" : "assistant", `message ${i} ${"é🚀 ".repeat(i * 7)}`)),
    toolUses: 9
  })
  const path = NodePath.join(dir, `${session.id}.json`)
  NodeFs.writeFileSync(path, SessionJson.encode(session))
  return { session, path }
}

describe("SessionFile batched element parsing", () => {
  it.live("a tail load parses its elements in batches and keeps every element in order", () =>
    Effect.gen(function*() {
      const dir = yield* TempDir.make()
      const { path, session } = write(dir, 60)
      for (const batchBytes of [1, 300, 2048, 1 << 20]) {
        const tail = yield* Effect.promise(() => SessionFile.readTail(path, 45, { batchBytes }))
        expect(tail.session.messages).toEqual(session.messages.slice(-45))
        expect(tail.session.toolUses).toEqual(session.toolUses)
        expect(tail.dropped).toBe(15)
      }
    }))

  it.live("a broken element is reported with the element numbers of its batch", () =>
    Effect.gen(function*() {
      const dir = yield* TempDir.make()
      const { path } = write(dir, 20)
      const text = NodeFs.readFileSync(path, "utf8")
      // message 17 gets a bad escape: the structure scan still passes (quotes and
      // brackets balance), the JSON of its batch does not
      const broken = text.replace("\"message 17 ", "\"message 17 \\u")
      NodeFs.writeFileSync(path, broken)
      const error = yield* Effect.flip(Effect.tryPromise(() => SessionFile.readTail(path, 10, { batchBytes: 1 })))
      expect(String((error.cause as Error).message)).toContain("\"messages\" (elements 17 to 17)")
    }))
})
