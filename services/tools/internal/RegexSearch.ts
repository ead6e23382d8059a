/**
 * Line-by-line regular-expression search in a worker thread, so that a pattern
 * that backtracks catastrophically (`(a|aa)+$` on a line of 50 `a`s and a `!`)
 * can never freeze the process: the main thread keeps serving signals and
 * fibers, and the worker is terminated when the time limit is reached or the
 * search is interrupted (Ctrl-C). V8 stops a regular expression in progress
 * when its thread is terminated.
 *
 * A {@link Pool} keeps one idle worker between searches (starting a worker
 * costs tens of milliseconds); a search borrows a worker for its lifetime (a
 * scope) and gives it back when it ends normally. A worker that timed out or
 * was interrupted is terminated, never reused. Closing the pool's scope
 * terminates the idle worker; an idle worker does not keep the process alive.
 *
 * Why a worker and not a linear-time engine (RE2): patterns keep JavaScript
 * syntax and semantics (lookarounds, backreferences), which is how `grep` is
 * described to the model, and there is no native addon to build or download.
 *
 * @since 0.1.0
 */
import { Worker } from "node:worker_threads"
import * as Duration from "effect/Duration"
import * as Effect from "effect/Effect"
import type * as Scope from "effect/Scope"
import { ToolError } from "./Tool.ts"

/**
 * Default time limit of the matching work of one search (ms).
 *
 * @since 0.1.0
 * @category constants
 */
export const DEFAULT_TIMEOUT_MS = 10_000

/**
 * One matching line: its number (from 1) and its text, trimmed and cut to
 * the search's `maxLineLength` characters (followed by `…` when cut).
 *
 * @since 0.1.0
 * @category models
 */
export interface Match {
  readonly line: number
  readonly text: string
}

/**
 * The matches of one file: at most `limit` of them, and whether the file has
 * more matching lines.
 *
 * @since 0.1.0
 * @category models
 */
export interface FileMatches {
  readonly matches: ReadonlyArray<Match>
  readonly more: boolean
}

/**
 * A running search: `file(bytes, limit, shown)` matches the lines of one file
 * (UTF-8 bytes; `shown` names it in errors) and fails with a {@link ToolError}
 * when the search's time limit is used up.
 *
 * @since 0.1.0
 * @category models
 */
export interface RegexSearch {
  readonly file: (bytes: Uint8Array, limit: number, shown: string) => Effect.Effect<FileMatches, ToolError>
}

/**
 * What a search matches: a pattern with its flags (already validated by the
 * caller with `new RegExp`), how many characters of a matching line to keep,
 * and the time limit of the whole search (ms).
 *
 * @since 0.1.0
 * @category models
 */
export interface SearchOptions {
  readonly source: string
  readonly flags: string
  readonly maxLineLength: number
  readonly timeoutMs: number
}

/**
 * Workers for searches: `search(options)` starts a search on an idle worker
 * (or a new one) for the lifetime of the caller's scope.
 *
 * @since 0.1.0
 * @category models
 */
export interface Pool {
  readonly search: (options: SearchOptions) => Effect.Effect<RegexSearch, never, Scope.Scope>
}

// The worker: one request per file; the pattern is compiled once per search.
// Plain CommonJS so that it runs from the bundled binary and from sources.
const WORKER_SOURCE = `
const { parentPort } = require("node:worker_threads")
const decoder = new TextDecoder("utf-8")
let key
let regex
parentPort.on("message", (request) => {
  if (request.source + "/" + request.flags !== key) {
    key = request.source + "/" + request.flags
    regex = new RegExp(request.source, request.flags)
  }
  const lines = decoder.decode(request.bytes).split("\\n")
  const matches = []
  let more = false
  for (let i = 0; i < lines.length; i++) {
    const line = lines[i]
    if (!regex.test(line)) continue
    if (matches.length === request.limit) {
      more = true
      break
    }
    const text = line.trim()
    matches.push({ line: i + 1, text: text.length > request.maxLineLength ? text.slice(0, request.maxLineLength) + "\\u2026" : text })
  }
  parentPort.postMessage({ id: request.id, matches, more })
})
`

let live = 0

/**
 * How many search workers are running now (started and not yet exited),
 * idle ones included.
 *
 * @since 0.1.0
 * @category diagnostics
 */
export const activeWorkers = (): number => live

const start = (): Worker => {
  const worker = new Worker(WORKER_SOURCE, { eval: true, stdout: false, stderr: false })
  live++
  worker.once("exit", () => live--)
  return worker
}

const workerFailed = (message: string, cause?: unknown) =>
  new ToolError({ reason: "Io", message: `grep: the search worker failed: ${message}`, ...(cause === undefined ? {} : { cause }) })

let nextId = 0

/** One request to `worker`: the matches of one file. */
const ask = (worker: Worker, request: Omit<SearchOptions, "timeoutMs"> & { readonly bytes: Uint8Array; readonly limit: number }) =>
  Effect.callback<FileMatches, ToolError>((resume) => {
    const id = nextId++
    const detach = () => {
      worker.off("message", onMessage)
      worker.off("error", onError)
      worker.off("exit", onExit)
    }
    const onMessage = (response: { readonly id: number; readonly matches: Array<Match>; readonly more: boolean }) => {
      if (response.id !== id) return
      detach()
      resume(Effect.succeed({ matches: response.matches, more: response.more }))
    }
    const onError = (error: Error) => {
      detach()
      resume(Effect.fail(workerFailed(error.message, error)))
    }
    const onExit = (code: number) => {
      detach()
      resume(Effect.fail(workerFailed(`it exited with code ${code}`)))
    }
    worker.on("message", onMessage)
    worker.on("error", onError)
    worker.on("exit", onExit)
    worker.postMessage({ id, ...request })
    // on interruption (the time limit, Ctrl-C): stop listening; the search's scope terminates the worker
    return Effect.sync(detach)
  })

/**
 * A pool of search workers, closed (its idle worker terminated) with the
 * scope.
 *
 * @since 0.1.0
 * @category constructors
 */
export const makePool: Effect.Effect<Pool, never, Scope.Scope> = Effect.gen(function*() {
  let idle: Worker | undefined
  let closed = false
  yield* Effect.addFinalizer(() =>
    Effect.promise(async () => {
      closed = true
      const worker = idle
      idle = undefined
      if (worker !== undefined) await worker.terminate()
    })
  )

  const borrow = Effect.sync(() => {
    const worker = idle ?? start()
    idle = undefined
    worker.ref()
    return worker
  })

  /**
   * Gives a worker back after a search whose every request was answered; a
   * worker left matching (a time limit, an interruption) is terminated.
   */
  const giveBack = (worker: Worker, clean: boolean) =>
    Effect.promise(async () => {
      if (clean && !closed && idle === undefined) {
        worker.unref() // an idle worker does not keep the process alive
        idle = worker
      } else {
        await worker.terminate()
      }
    })

  const search = (options: SearchOptions): Effect.Effect<RegexSearch, never, Scope.Scope> =>
    Effect.gen(function*() {
      let clean = true // no request timed out, failed or was interrupted
      const worker = yield* Effect.acquireRelease(borrow, (worker) => giveBack(worker, clean))
      let spentMs = 0

      const file = (bytes: Uint8Array, limit: number, shown: string): Effect.Effect<FileMatches, ToolError> =>
        Effect.suspend(() => {
          const remaining = Math.max(0, options.timeoutMs - spentMs)
          const started = performance.now()
          clean = false // until the answer arrives
          return ask(worker, {
            source: options.source,
            flags: options.flags,
            maxLineLength: options.maxLineLength,
            bytes,
            limit
          }).pipe(
            Effect.tap(() => Effect.sync(() => (clean = true))),
            Effect.timeoutOrElse({
              duration: Duration.millis(remaining),
              orElse: () =>
                Effect.fail(
                  new ToolError({
                    reason: "InvalidInput",
                    message: `grep stopped: matching took longer than the ${options.timeoutMs} ms time limit ` +
                      `(while searching ${shown}). The pattern probably backtracks catastrophically: ` +
                      "avoid nested or overlapping quantifiers such as (a|aa)+ or (.*)*, narrow the search with " +
                      "path or include, or set literal to true"
                  })
                )
            }),
            Effect.ensuring(Effect.sync(() => {
              spentMs += performance.now() - started
            }))
          )
        })

      return { file }
    })

  return { search }
})
