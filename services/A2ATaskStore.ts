/**
 * Where the A2A tasks of `codetether serve` are kept: every task of every
 * context (a context is a codetether session), so `GetTask` answers for
 * earlier tasks too. Tasks are never written into the session file (it keeps
 * exactly 4.5.7's fields); the session's provenance names only its latest
 * task.
 *
 * `layerFileSystem` keeps one file per task in the data dir,
 * `<data_dir>/a2a/tasks/<task id>.json` (the task's A2A JSON, written
 * atomically, mode 0600, in a 0700 directory; read back without following
 * symlinks); `layerMemory` keeps them in memory. {@link toSdkStore} adapts
 * the service to the `TaskStore` interface of `@a2a-js/sdk`.
 *
 * @since 0.1.0
 */
import * as NodeFs from "node:fs"
import * as NodePath from "node:path"
import { Task, TaskState } from "@a2a-js/sdk"
import type { TaskStore } from "@a2a-js/sdk/server"
import * as Context from "effect/Context"
import * as Effect from "effect/Effect"
import * as Layer from "effect/Layer"
import * as Schema from "effect/Schema"
import * as DataDir from "./DataDir.ts"
import { writeFileAtomic } from "./internal/AtomicWrite.ts"
import * as SafeFs from "./internal/SafeFs.ts"
import { idProblem } from "./SessionStore.ts"

/**
 * A task could not be stored or read (`InvalidId`: the task id cannot name a
 * file; `Io`: the file system failed).
 *
 * @since 0.1.0
 * @category errors
 */
export class A2ATaskStoreError extends Schema.TaggedError<A2ATaskStoreError>()("A2ATaskStoreError", {
  reason: Schema.Literals(["InvalidId", "Io"]),
  message: Schema.String,
  path: Schema.optional(Schema.String),
  cause: Schema.optional(Schema.Defect())
}) {}

/**
 * A filter of {@link A2ATaskStore} `list`.
 *
 * @since 0.1.0
 * @category models
 */
export interface ListFilter {
  readonly contextId?: string | undefined
  readonly status?: TaskState | undefined
  /** RFC 3339: only tasks whose status changed at or after it. */
  readonly statusTimestampAfter?: string | undefined
}

/**
 * @since 0.1.0
 * @category services
 */
export class A2ATaskStore extends Context.Service<A2ATaskStore, {
  /** Stores `task`, replacing the task with its id. */
  readonly save: (task: Task) => Effect.Effect<void, A2ATaskStoreError>
  /** The task with id `taskId`, or `undefined` (also for an id that cannot name a task). */
  readonly load: (taskId: string) => Effect.Effect<Task | undefined, A2ATaskStoreError>
  /** The tasks matching `filter`, newest status first. */
  readonly list: (filter?: ListFilter) => Effect.Effect<ReadonlyArray<Task>, A2ATaskStoreError>
}>()("codetether/A2ATaskStore") {}

/** Cap of one task file (bytes): a task holds its messages, images included. */
const TASK_FILE_CAP = 64 * SafeFs.MiB

const statusTime = (task: Task): string => task.status?.timestamp ?? ""

const matches = (task: Task, filter: ListFilter): boolean =>
  (filter.contextId === undefined || filter.contextId === "" || task.contextId === filter.contextId) &&
  (filter.status === undefined || filter.status === TaskState.TASK_STATE_UNSPECIFIED ||
    task.status?.state === filter.status) &&
  (filter.statusTimestampAfter === undefined || filter.statusTimestampAfter === "" ||
    Date.parse(statusTime(task)) >= Date.parse(filter.statusTimestampAfter))

const newestFirst = (a: Task, b: Task): number => statusTime(b).localeCompare(statusTime(a))

/**
 * A store of one JSON file per task in `dir`.
 *
 * @since 0.1.0
 * @category constructors
 */
export const makeFileSystem = (dir: string): A2ATaskStore["Service"] => {
  const pathOf = (taskId: string) => NodePath.join(dir, `${taskId}.json`)
  const ioError = (path: string, what: string) => (e: unknown) =>
    new A2ATaskStoreError({
      reason: "Io",
      message: `${what} ${path}: ${e instanceof SafeFs.SafeFsError ? e.detail : (e as Error)?.message ?? String(e)}`,
      path,
      cause: e
    })
  const readTask = (path: string) =>
    Effect.tryPromise({
      try: async () => {
        const bytes = await SafeFs.readFile(path, { maxBytes: TASK_FILE_CAP })
        return bytes === undefined ? undefined : Task.fromJSON(JSON.parse(bytes.toString("utf8")))
      },
      catch: ioError(path, "Cannot read the A2A task")
    })
  return A2ATaskStore.of({
    save: Effect.fn("A2ATaskStore.save")(function*(task: Task) {
      const problem = idProblem(task.id)
      if (problem !== undefined) {
        return yield* new A2ATaskStoreError({
          reason: "InvalidId",
          message: `Invalid A2A task id ${JSON.stringify(task.id)}: ${problem}`
        })
      }
      const path = pathOf(task.id)
      yield* Effect.tryPromise({ try: () => SafeFs.ensureDir(dir), catch: ioError(dir, "Cannot create") })
      yield* writeFileAtomic(path, Buffer.from(JSON.stringify(Task.toJSON(task)))).pipe(
        Effect.mapError(ioError(path, "Cannot write the A2A task"))
      )
    }),
    load: Effect.fn("A2ATaskStore.load")(function*(taskId: string) {
      if (idProblem(taskId) !== undefined) return undefined
      return yield* readTask(pathOf(taskId))
    }),
    list: Effect.fn("A2ATaskStore.list")(function*(filter: ListFilter = {}) {
      const names = yield* Effect.try({
        try: () => (NodeFs.existsSync(dir) ? NodeFs.readdirSync(dir) : []),
        catch: ioError(dir, "Cannot list")
      })
      const tasks: Array<Task> = []
      for (const name of names) {
        if (!name.endsWith(".json") || name.startsWith(".")) continue
        const task = yield* readTask(NodePath.join(dir, name)).pipe(
          Effect.catch((e) => Effect.as(Effect.logWarning(`skipping an A2A task: ${e.message}`), undefined))
        )
        if (task !== undefined && matches(task, filter)) tasks.push(task)
      }
      return tasks.sort(newestFirst)
    })
  })
}

/**
 * An in-memory store (tests, embedders).
 *
 * @since 0.1.0
 * @category constructors
 */
export const makeMemory = (): A2ATaskStore["Service"] => {
  const tasks = new Map<string, unknown>()
  return A2ATaskStore.of({
    save: (task) => Effect.sync(() => void tasks.set(task.id, Task.toJSON(task))),
    load: (taskId) => Effect.sync(() => (tasks.has(taskId) ? Task.fromJSON(tasks.get(taskId)) : undefined)),
    list: (filter = {}) =>
      Effect.sync(() => [...tasks.values()].map((t) => Task.fromJSON(t)).filter((t) => matches(t, filter)).sort(newestFirst))
  })
}

/**
 * The file store in `<data_dir>/a2a/tasks/`.
 *
 * @since 0.1.0
 * @category layers
 */
export const layerFileSystem: Layer.Layer<A2ATaskStore, never, DataDir.DataDir> = Layer.effect(
  A2ATaskStore,
  Effect.map(DataDir.DataDir, (dataDir) => makeFileSystem(NodePath.join(dataDir.path, "a2a", "tasks")))
)

/**
 * The memory store.
 *
 * @since 0.1.0
 * @category layers
 */
export const layerMemory: Layer.Layer<A2ATaskStore> = Layer.sync(A2ATaskStore, makeMemory)

/**
 * The service as the `TaskStore` of `@a2a-js/sdk` (its Promise interface),
 * running each call with `run`. Listing pages by position (`pageToken` is the
 * offset of the page as a decimal string).
 *
 * @since 0.1.0
 * @category adapters
 */
export const toSdkStore = (
  store: A2ATaskStore["Service"],
  run: <A, E>(effect: Effect.Effect<A, E>) => Promise<A>
): TaskStore => ({
  save: (task) => run(store.save(task)),
  load: (taskId) => run(store.load(taskId)),
  list: async (params) => {
    const all = await run(store.list({
      contextId: params.contextId,
      status: params.status,
      statusTimestampAfter: params.statusTimestampAfter
    }))
    const pageSize = params.pageSize ?? 50
    const offset = /^\d+$/.test(params.pageToken ?? "") ? Number(params.pageToken) : 0
    const page = all.slice(offset, offset + pageSize)
    const next = offset + pageSize < all.length ? String(offset + pageSize) : ""
    return { tasks: page.map((t) => structuredClone(t)), nextPageToken: next, pageSize, totalSize: all.length }
  }
})
