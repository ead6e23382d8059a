/**
 * A default data dir that codetether creates gets a `.gitignore` holding
 * `*`: written only when the store (or the durable sink) creates the
 * directory, never over an existing file, never for a data dir the user chose.
 */
import { describe, expect, it } from "@effect/vitest"
import * as NodeFs from "node:fs"
import * as NodePath from "node:path"
import { Effect, Layer } from "effect"
import * as SessionEvent from "../../schemas/SessionEvent.ts"
import * as DataDir from "../../services/DataDir.ts"
import * as DurableSink from "../../services/DurableSink.ts"
import * as SessionStore from "../../services/SessionStore.ts"
import * as Sessions from "../utils/Sessions.ts"
import * as TempDir from "../utils/TempDir.ts"

const storeAt = (dataDir: DataDir.DataDir["Service"]) =>
  SessionStore.SessionStore.pipe(
    Effect.provide(SessionStore.layerFileSystem.pipe(Layer.provide(Layer.succeed(DataDir.DataDir, dataDir))))
  )

describe("the data dir's .gitignore", () => {
  it.effect("the first save into <git root>/.codetether-agent creates it with a .gitignore holding *", () =>
    Effect.gen(function*() {
      const root = yield* TempDir.make()
      NodeFs.mkdirSync(NodePath.join(root, ".git"))
      const dataDir = DataDir.resolve({ env: undefined, cwd: root })
      expect(dataDir.source).toBe("git")
      expect(DataDir.isDefault(dataDir)).toBe(true)
      const store = yield* storeAt(dataDir)
      yield* store.save(Sessions.make())
      const gitignore = NodePath.join(root, ".codetether-agent", ".gitignore")
      expect(NodeFs.readFileSync(gitignore, "utf8")).toBe("*\n")
      expect(NodeFs.lstatSync(gitignore).isFile()).toBe(true)
      // the store still lists only sessions
      expect((yield* store.list).length).toBe(1)
    }))

  it.effect("the same for <cwd>/.codetether-agent, and when the durable sink creates the data dir first", () =>
    Effect.gen(function*() {
      const root = yield* TempDir.make()
      const dataDir = DataDir.resolve({ env: undefined, cwd: root, hasGit: () => false })
      expect(dataDir.source).toBe("cwd")
      const sink = yield* DurableSink.DurableSink.pipe(
        Effect.provide(DurableSink.layerJsonl.pipe(Layer.provide(Layer.succeed(DataDir.DataDir, dataDir))))
      )
      yield* sink.write("s1", SessionEvent.make.tokenUsage({ source: "root", model: "m", promptTokens: 1, completionTokens: 1, durationMs: 1 }))
      expect(NodeFs.readFileSync(NodePath.join(dataDir.path, ".gitignore"), "utf8")).toBe("*\n")
    }))

  it.effect("an existing data dir gets none; an existing .gitignore is never touched", () =>
    Effect.gen(function*() {
      const root = yield* TempDir.make()
      NodeFs.mkdirSync(NodePath.join(root, ".git"))
      const dataDir = DataDir.resolve({ env: undefined, cwd: root })
      NodeFs.mkdirSync(dataDir.path)
      const store = yield* storeAt(dataDir)
      yield* store.save(Sessions.make())
      expect(NodeFs.existsSync(NodePath.join(dataDir.path, ".gitignore"))).toBe(false)

      const other = yield* TempDir.make()
      NodeFs.mkdirSync(NodePath.join(other, ".git"))
      const second = DataDir.resolve({ env: undefined, cwd: other })
      NodeFs.mkdirSync(second.path)
      NodeFs.writeFileSync(NodePath.join(second.path, ".gitignore"), "mine\n")
      yield* (yield* storeAt(second)).save(Sessions.make())
      expect(NodeFs.readFileSync(NodePath.join(second.path, ".gitignore"), "utf8")).toBe("mine\n")
    }))

  it.effect("a data dir given by --data-dir or CODETETHER_DATA_DIR gets none", () =>
    Effect.gen(function*() {
      const root = yield* TempDir.make()
      for (const dataDir of [DataDir.make(NodePath.join(root, "explicit")), DataDir.resolve({ env: NodePath.join(root, "env"), cwd: root })]) {
        expect(DataDir.isDefault(dataDir)).toBe(false)
        yield* (yield* storeAt(dataDir)).save(Sessions.make())
        expect(NodeFs.existsSync(NodePath.join(dataDir.path, "sessions"))).toBe(true)
        expect(NodeFs.existsSync(NodePath.join(dataDir.path, ".gitignore"))).toBe(false)
      }
    }))
})
