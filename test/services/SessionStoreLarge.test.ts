/**
 * Tail loads of a session file too large to be read whole (over
 * `SessionFile.WHOLE_FILE_LIMIT`): the streaming scanner reads it in chunks
 * and materialises only the kept messages. (Files beyond V8's maximum string
 * length, ~512 MiB, take the same path; `npm run bench -- --only large` runs
 * a 1 GiB session: the suite keeps its disk use small.)
 */
import { describe, expect, it } from "@effect/vitest"
import * as NodeFs from "node:fs"
import * as NodePath from "node:path"
import { Effect, Layer } from "effect"
import * as DataDir from "../../services/DataDir.ts"
import * as SessionFile from "../../services/internal/SessionFile.ts"
import * as SessionStore from "../../services/SessionStore.ts"
import * as TempDir from "../utils/TempDir.ts"

const TARGET_BYTES = SessionFile.WHOLE_FILE_LIMIT + 32 * 2 ** 20

describe("SessionStore large files", () => {
  it.live("tail-loads a session too large to be read whole, through the streaming scanner", () =>
    Effect.gen(function*() {
      const dir = yield* TempDir.make("codetether-large-")
      const free = NodeFs.statfsSync(dir)
      const available = free.bavail * free.bsize
      if (available < TARGET_BYTES * 2) {
        throw new Error(`this test needs ${(TARGET_BYTES * 2) >> 20} MiB free in ${dir}; ${available >> 20} MiB available`)
      }
      const sessions = NodePath.join(dir, "data", "sessions")
      NodeFs.mkdirSync(sessions, { recursive: true })
      const id = "1a2b3c4d-0000-4000-8000-00000000beef"
      const path = NodePath.join(sessions, `${id}.json`)
      const fd = NodeFs.openSync(path, "w")
      const header = `{"id":"${id}","title":"huge","created_at":"2026-01-01T00:00:00Z","updated_at":"2026-01-01T00:00:00.5Z","metadata":{"directory":"${dir}","shared":false},"agent":"build","messages":[`
      NodeFs.writeSync(fd, header)
      const filler = JSON.stringify({ role: "tool", content: [{ type: "tool_result", tool_call_id: "c", content: "z\"\\\n".repeat(16 << 10) }] })
      const chunk = Buffer.from(`${filler},`.repeat(64))
      let written = header.length
      let messages = 0
      while (written < TARGET_BYTES) {
        NodeFs.writeSync(fd, chunk)
        written += chunk.length
        messages += 64
      }
      const last = [1, 2, 3].map((i) => ({ role: "assistant", content: [{ type: "text", text: `tail message ${i}` }] }))
      NodeFs.writeSync(fd, last.map((m) => JSON.stringify(m)).join(","))
      messages += 3
      NodeFs.writeSync(fd, `],"tool_uses":[{"id":"t","name":"bash","input":"{}","output":"ok","success":true}],"usage":{"prompt_tokens":1,"completion_tokens":2,"total_tokens":3,"cache_read_tokens":null,"cache_write_tokens":null}}`)
      NodeFs.closeSync(fd)
      const size = NodeFs.statSync(path).size
      expect(size).toBeGreaterThan(SessionFile.WHOLE_FILE_LIMIT)

      const store = yield* SessionStore.SessionStore.pipe(
        Effect.provide(SessionStore.layerFileSystem.pipe(Layer.provide(DataDir.layerPath(NodePath.join(dir, "data")))))
      )
      const tail = yield* store.loadTail(id, 3)
      expect(tail.fileBytes).toBe(size)
      expect(tail.dropped).toBe(messages - 3)
      expect(tail.session.messages).toEqual(last.map((m) => ({ role: "assistant", content: m.content })))
      expect(tail.session.toolUses).toHaveLength(1)
      expect(tail.session.usage.totalTokens).toBe(3)
      expect(tail.session.updatedAt).toBe("2026-01-01T00:00:00.500Z")
      const resumed = yield* store.lastForDirectory(dir, { window: 1 })
      expect([resumed.session.id, resumed.dropped]).toEqual([id, messages - 1])
      NodeFs.rmSync(path)
    }), 120_000)
})
