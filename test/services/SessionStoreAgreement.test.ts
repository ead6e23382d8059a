/**
 * Listing, resume and load agree on which files are sessions (issue 11):
 * a file whose header is fine but whose transcript 4.5.7 cannot parse (a
 * content part of unknown `type`, a message of unknown role) is skipped by
 * listing with a warning naming the file, as 4.5.7 skips files that fail to
 * parse (BEHAVIOUR §5.1), and fails to load and to resume; a legacy-layout
 * session saved through a symlinked directory is both listed and resumed.
 * (Tail loads type-check the messages they keep; the dropped ones only for
 * JSON structure.)
 */
import { describe, expect, it } from "@effect/vitest"
import * as NodeFs from "node:fs"
import * as NodePath from "node:path"
import { Effect, Exit, Layer } from "effect"
import * as SessionJson from "../../schemas/SessionJson.ts"
import * as DataDir from "../../services/DataDir.ts"
import * as SessionStore from "../../services/SessionStore.ts"
import * as Logs from "../utils/Logs.ts"
import * as Sessions from "../utils/Sessions.ts"
import * as TempDir from "../utils/TempDir.ts"

const setup = Effect.gen(function*() {
  const root = yield* TempDir.make()
  const data = NodePath.join(root, "data")
  const sessions = NodePath.join(data, "sessions")
  const workspace = NodePath.join(root, "ws")
  NodeFs.mkdirSync(workspace)
  NodeFs.mkdirSync(sessions, { recursive: true })
  const store = yield* SessionStore.SessionStore.pipe(
    Effect.provide(SessionStore.layerFileSystem.pipe(Layer.provide(DataDir.layerPath(data))))
  )
  const write = (id: string, content: string, mtimeSeconds?: number) => {
    const path = NodePath.join(sessions, `${id}.json`)
    NodeFs.writeFileSync(path, content)
    if (mtimeSeconds !== undefined) NodeFs.utimesSync(path, mtimeSeconds, mtimeSeconds)
    return path
  }
  return { root, data, sessions, workspace, store, write }
})

/** A session file (4.5.7 layout) whose message `index` has a part of type `type` (or the role `role`). */
const withBadMessage = (
  session: ReturnType<typeof Sessions.make>,
  index: number,
  change: { readonly type?: string; readonly role?: string }
): string => {
  const value = JSON.parse(SessionJson.encodeToString(session))
  if (change.type !== undefined) value.messages[index].content[0].type = change.type
  if (change.role !== undefined) value.messages[index].role = change.role
  return JSON.stringify(value)
}

const failure = <A, E>(exit: Exit.Exit<A, E>): E & { readonly message: string; readonly reason?: unknown } => {
  if (Exit.isSuccess(exit)) throw new Error("expected a failure")
  const reason = exit.cause.reasons.find((r) => r._tag === "Fail")
  if (reason === undefined || reason._tag !== "Fail") throw new Error("expected a typed failure")
  return reason.error as E & { readonly message: string }
}

describe("SessionStore: listing, resume and load agree", () => {
  it.effect("a part of unknown type or a message of unknown role: not listed (a warning names the file), not resumed, not loaded", () =>
    Effect.gen(function*() {
      const { store, workspace, write } = yield* setup
      const good = Sessions.make({ directory: workspace, title: "good", messages: 4 })
      write(good.id, SessionJson.encodeToString(good), 1000)
      const video = Sessions.make({ directory: workspace, title: "video", messages: 4 })
      const videoPath = write(video.id, withBadMessage(video, 2, { type: "video" }), 2000)
      const robot = Sessions.make({ directory: workspace, title: "robot", messages: 4 })
      const robotPath = write(robot.id, withBadMessage(robot, 1, { role: "robot" }), 3000)

      const { value: listed, logs } = yield* Logs.capture(store.list)
      expect(listed.map((s) => s.title)).toEqual(["good"])
      const videoWarning = logs.find((l) => l.message.includes(videoPath))
      expect(videoWarning?.message).toContain("unknown content part type \"video\"")
      expect(logs.find((l) => l.message.includes(robotPath))?.message).toContain("unknown message role \"robot\"")
      expect((yield* store.listForDirectory(workspace)).map((s) => s.title)).toEqual(["good"])

      for (const id of [video.id, robot.id]) {
        expect(failure(yield* Effect.exit(store.load(id))).reason).toBe("Corrupt")
        expect(failure(yield* Effect.exit(store.loadTail(id, 3))).reason).toBe("Corrupt") // the bad message is kept
      }
      expect((yield* store.lastForDirectory(workspace)).session.id).toBe(good.id)
    }))

  it.effect("the check covers files streamed in chunks: an unknown part type at a chunk boundary of a 5 MB file", () =>
    Effect.gen(function*() {
      const { store, workspace, write } = yield* setup
      const big = "y".repeat(1 << 20)
      const base = Sessions.make({ directory: workspace, messages: 0 })
      const text = (role: "user" | "assistant", t: string) => ({ role, content: [{ type: "text" as const, text: t }] })
      const session = { ...base, messages: Array.from({ length: 5 }, (_, i) => text(i % 2 === 0 ? "user" : "assistant", big)) }
      // pad the first message so that a `"type":"text"` straddles the 2 MiB chunk boundary
      const boundary = 2 << 20
      const unpadded = SessionJson.encodeToString({ ...session, messages: [text("user", ""), ...session.messages] })
      let before = -1
      for (let i = unpadded.indexOf("\"type\":\"text\""); i !== -1 && i < boundary - 3; i = unpadded.indexOf("\"type\":\"text\"", i + 1)) before = i
      const padded = { ...session, messages: [text("user", "z".repeat(boundary - 3 - before)), ...session.messages] }
      const paddedText = SessionJson.encodeToString(padded)
      const tagAt = paddedText.indexOf("\"type\":\"text\"", boundary - 50)
      expect(tagAt).toBeLessThan(boundary)
      expect(tagAt + 13).toBeGreaterThan(boundary)
      const ok = write(session.id, paddedText)
      expect((yield* store.list).map((s) => s.id)).toEqual([session.id])
      NodeFs.writeFileSync(ok, `${paddedText.slice(0, tagAt)}"type":"vide"${paddedText.slice(tagAt + 13)}`)
      const { value, logs } = yield* Logs.capture(store.list)
      expect(value).toEqual([])
      expect(logs.map((l) => l.message).join("\n")).toContain(`unknown content part type "vide" (expected one of`)
      expect(logs.map((l) => l.message).join("\n")).toContain(`at byte ${tagAt}`)
    }))

  it.effect("a legacy-layout session saved through a symlinked directory is listed and resumed", () =>
    Effect.gen(function*() {
      const { store, workspace, write, root } = yield* setup
      const link = NodePath.join(root, "link")
      NodeFs.symlinkSync(workspace, link)
      const long = Array.from({ length: 400 }, (_, i) => ({ role: "user", content: [{ type: "text", text: `line ${i} `.repeat(20) }] }))
      const legacy = (id: string, directory: string) => JSON.stringify({
        id,
        title: "legacy",
        created_at: "2026-01-01T00:00:00Z",
        updated_at: "2026-01-01T00:00:00Z",
        messages: long,
        tool_uses: [],
        usage: { prompt_tokens: 0, completion_tokens: 0, total_tokens: 0 },
        agent: "build",
        metadata: { directory, model: null, shared: false, share_url: null }
      }, null, 2)
      write("legacy-via-link", legacy("legacy-via-link", link), 1000)
      write("legacy-elsewhere", legacy("legacy-elsewhere", "/somewhere/else"), 2000)
      expect((yield* store.listForDirectory(workspace)).map((s) => s.id)).toEqual(["legacy-via-link"])
      const resumed = yield* store.lastForDirectory(workspace, { window: 2 })
      expect([resumed.session.id, resumed.session.messages.length]).toEqual(["legacy-via-link", 2])
      expect((yield* store.lastForDirectory(link)).session.id).toBe("legacy-via-link")
    }))
})
