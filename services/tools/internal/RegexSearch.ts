/**
 * Line-by-line regular-expression search in a worker thread, so that a pattern
 * that backtracks catastrophically (`(a|aa)+$` on a line of 50 `a`s and a `!`)
 * can never freeze the process: the main thread keeps serving signals and
 * fibers, and the worker is terminated when the time limit is reached or the
 * search is interrupted (Ctrl-C). V8 stops a regular expression in progress
 * when its thread is terminated.
 *
 * A search owns one worker for its whole lifetime (a scope): every file of a
 * `grep` call is matched by the same worker, and closing the scope terminates
 * it and waits for its thread to exit.
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

// The worker: compiles the pattern once, then answers one request per file.
// Plain CommonJS so that it runs from the bundled binary and from sources.
const WORKER_SOURCE = `
const { parentPort, workerData } = require("node:worker_threads")
const regex = new RegExp(workerData.source, workerData.flags)
const maxLineLength = workerData.maxLineLength
const decoder = new TextDecoder("utf-8")
parentPort.on("message", (request) => {
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
    matches.push({ line: i + 1, text: text.length > maxLineLength ? text.slice(0, maxLineLength) + "\\u2026" : text })
  }
  parentPort.postMessage({ id: request.id, matches, more })
})
`

let live = 0

/**
 * How many search workers are running now (started and not yet exited).
 *
 * @since 0.1.0
 * @category diagnostics
 */
export const activeWorkers = (): number => live

const workerFailed = (message: string, cause?: unknown) =>
  new ToolError({ reason: "Io", message: `grep: the search worker failed: ${message}`, ...(cause === undefined ? {} : { cause }) })

/**
 * Starts a search for `source` with `flags` (already validated by the
 * caller with `new RegExp`). `timeoutMs` bounds the time spent waiting for
 * matches over the whole search; when it is used up the current file fails
 * with an `InvalidInput` {@link ToolError} naming the limit and the file.
 * The worker is terminated when the scope closes.
 *
 * @since 0.1.0
 * @category constructors
 */
export const make = (options: {
  readonly source: string
  readonly flags: string
  readonly maxLineLength: number
  readonly timeoutMs: number
}): Effect.Effect<RegexSearch, never, Scope.Scope> =>
  Effect.gen(function*() {
    const worker = yield* Effect.acquireRelease(
      Effect.sync(() => {
        const worker = new Worker(WORKER_SOURCE, {
          eval: true,
          workerData: { source: options.source, flags: options.flags, maxLineLength: options.maxLineLength },
          stdout: false,
          stderr: false
        })
        live++
        worker.once("exit", () => live--)
        return worker
      }),
      (worker) => Effect.promise(() => worker.terminate())
    )
    let spentMs = 0
    let nextId = 0

    const ask = (bytes: Uint8Array, limit: number) =>
      Effect.callback<FileMatches, ToolError>((resume) => {
        const id = nextId++
        const onMessage = (response: { readonly id: number; readonly matches: Array<Match>; readonly more: boolean }) => {
          if (response.id !== id) return
          resume(Effect.succeed({ matches: response.matches, more: response.more }))
        }
        const onError = (error: Error) => resume(Effect.fail(workerFailed(error.message, error)))
        const onExit = (code: number) => resume(Effect.fail(workerFailed(`it exited with code ${code}`)))
        worker.on("message", onMessage)
        worker.on("error", onError)
        worker.on("exit", onExit)
        worker.postMessage({ id, bytes, limit })
        return Effect.sync(() => {
          worker.off("message", onMessage)
          worker.off("error", onError)
          worker.off("exit", onExit)
        })
      })

    const file = (bytes: Uint8Array, limit: number, shown: string): Effect.Effect<FileMatches, ToolError> =>
      Effect.suspend(() => {
        const remaining = Math.max(0, options.timeoutMs - spentMs)
        const started = performance.now()
        return ask(bytes, limit).pipe(
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
