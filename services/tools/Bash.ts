/**
 * The `bash` tool: runs a command string with the system shell in the
 * session directory (or `cwd`), as codetether-agent 4.5.7's `bash`
 * (`command`, `cwd`, `timeout`), through `effect/process`.
 *
 * - Shell: `/bin/bash -c` when `/bin/bash` exists, else `/bin/sh -c`
 *   (`cmd.exe` on Windows). stdin is closed (`/dev/null`); the environment is
 *   the parent's plus `GIT_TERMINAL_PROMPT=0`, `GIT_PAGER=cat`, `PAGER=cat`,
 *   so nothing waits for a keyboard.
 * - Secrets stay out: the command does not inherit variables whose names end
 *   in `_API_KEY`, `_TOKEN` or `_SECRET` (any case; also the bare names), nor
 *   the names in `hiddenEnv` (the provider registry's key variables), unless
 *   they are listed in `passEnv` (the user config's `[tools.bash] pass_env`).
 *   A command such as `env` would otherwise put a key into the transcript,
 *   the session file and the next request. 4.5.7 passed the whole
 *   environment.
 * - Output: stdout and stderr combined in the order written (the script
 *   starts with `exec 2>&1`), capped at `maxOutputBytes` (default 32 KiB):
 *   the first and last halves are kept and a line in between says how many
 *   bytes were cut.
 * - Result: success when the exit code is 0; otherwise the output ends with
 *   `[exit code: N]`. `metadata.exit_code` holds the code (`null` when the
 *   process was killed by a signal or timed out).
 * - Timeout: `timeout` in **milliseconds** (4.5.7 used seconds), default
 *   120 000 (4.5.7's 120 s), at most 600 000 (larger values are lowered, with
 *   a note). On timeout the process group gets SIGTERM, then SIGKILL after
 *   `killGraceMs` (default 2 s); the result says it timed out.
 * - The command runs in its own process group, tied to the calling scope:
 *   interrupting the tool call (Ctrl-C) kills the whole group, and background
 *   processes the command started are killed when it finishes (no orphans).
 *
 * @since 0.1.0
 */
import * as Duration from "effect/Duration"
import * as Effect from "effect/Effect"
import * as Fiber from "effect/Fiber"
import * as FileSystem from "effect/FileSystem"
import * as Option from "effect/Option"
import * as Schema from "effect/Schema"
import * as Stream from "effect/Stream"
import * as ChildProcess from "effect/process/ChildProcess"
import * as ChildProcessSpawner from "effect/process/ChildProcessSpawner"
import * as OutputBuffer from "./internal/OutputBuffer.ts"
import * as Paths from "./internal/Paths.ts"
import { define, type Tool, ToolError } from "./internal/Tool.ts"

/**
 * Settings of the `bash` tool.
 *
 * @since 0.1.0
 * @category models
 */
export interface Options {
  /** Shell path (`-c` is added), or `true` for the platform default. Default: `/bin/bash` if present, else `/bin/sh`. */
  readonly shell?: string | true | undefined
  /** Timeout in ms when the call gives none (default 120 000). */
  readonly defaultTimeoutMs?: number | undefined
  /** Largest timeout in ms; larger requests are lowered to it (default 600 000). */
  readonly maxTimeoutMs?: number | undefined
  /** Bytes of output kept: the first and the last half (default 32 KiB). */
  readonly maxOutputBytes?: number | undefined
  /** Ms between SIGTERM and SIGKILL when the process group is killed (default 2000). */
  readonly killGraceMs?: number | undefined
  /** Extra environment variables for the command (always passed, whatever their names). */
  readonly env?: Readonly<Record<string, string>> | undefined
  /** Inherited variables never passed to the command, besides those {@link isSecretName} matches (exact names). */
  readonly hiddenEnv?: ReadonlyArray<string> | undefined
  /** Inherited variables passed to the command even when they look like secrets (exact names). */
  readonly passEnv?: ReadonlyArray<string> | undefined
}

/**
 * Whether an environment variable name looks like it holds a secret
 * (case-insensitive): it ends in `_API_KEY`, `_TOKEN` or `_SECRET` (the
 * issue's rule), or in `_SECRET_KEY`, `_SECRET_ACCESS_KEY`, `_PASSWORD`,
 * `_PASSWD` (AWS, databases), or is one of those words alone; or it is
 * `PGPASSWORD`, `DATABASE_URL` or `CODETETHER_DATABASE_URL` (connection URLs
 * carry the password).
 *
 * @since 0.1.0
 * @category environment
 */
export const isSecretName = (name: string): boolean =>
  /(?:^|_)(?:API_KEY|TOKEN|SECRET|SECRET_KEY|SECRET_ACCESS_KEY|PASSWORD|PASSWD)$/i.test(name) ||
  /^(?:PGPASSWORD|DATABASE_URL|CODETETHER_DATABASE_URL)$/i.test(name)

/**
 * The names among `inherited` that the command must not see: those
 * {@link isSecretName} matches and those in `hidden`, minus those in `pass`.
 *
 * @since 0.1.0
 * @category environment
 */
export const hiddenVariables = (
  inherited: Iterable<string>,
  options: { readonly hidden?: ReadonlyArray<string> | undefined; readonly pass?: ReadonlyArray<string> | undefined }
): ReadonlyArray<string> => {
  const hidden = new Set(options.hidden ?? [])
  const pass = new Set(options.pass ?? [])
  const out: Array<string> = []
  for (const name of inherited) {
    if (!pass.has(name) && (hidden.has(name) || isSecretName(name))) out.push(name)
  }
  return out
}

/**
 * Parameters of `bash`: `command` (required), `timeout` (ms), `cwd`.
 *
 * @since 0.1.0
 * @category schemas
 */
export const Parameters = Schema.Struct({
  command: Schema.String.annotate({ description: "The shell command to run (bash syntax; pipes and && allowed)" }),
  timeout: Schema.optionalKey(
    Schema.Int.check(Schema.isGreaterThanOrEqualTo(1)).annotate({
      description: "Timeout in milliseconds (default 120000, maximum 600000)"
    })
  ),
  cwd: Schema.optionalKey(
    Schema.String.annotate({ description: "Directory to run in (default: the working directory)" })
  )
})

const DESCRIPTION = `Run a shell command (bash) in the working directory and return its combined stdout and stderr.
The command is non-interactive: stdin is closed, so use flags such as -y or --no-pager and never wait for input.
Default timeout 120000 ms (maximum 600000); the process is killed when it expires.
Long output keeps only its beginning and end: redirect to a file and use grep or read for big outputs.
Background processes are stopped when the command finishes.
Prefer the read, list, glob, grep, edit and write tools over cat, ls, find, grep, sed and echo.`

/** How long to keep reading output once the process group is gone (a process that left the group may hold the pipe). */
const DRAIN_GRACE = Duration.millis(500)

/**
 * Builds the `bash` tool. Needs `ChildProcessSpawner` (e.g. from
 * `NodeServices.layer` of `@effect/platform-node`) and `FileSystem`.
 *
 * @since 0.1.0
 * @category constructors
 */
export const make = (
  options?: Options
): Effect.Effect<Tool, never, ChildProcessSpawner.ChildProcessSpawner | FileSystem.FileSystem> =>
  Effect.gen(function*() {
    const spawner = yield* ChildProcessSpawner.ChildProcessSpawner
    const fs = yield* FileSystem.FileSystem
    const windows = process.platform === "win32"
    const shell: string | true = options?.shell ??
      (windows ? true : (yield* fs.exists("/bin/bash").pipe(Effect.orElseSucceed(() => false))) ? "/bin/bash" : "/bin/sh")
    const defaultTimeoutMs = options?.defaultTimeoutMs ?? 120_000
    const maxTimeoutMs = options?.maxTimeoutMs ?? 600_000
    const maxOutputBytes = options?.maxOutputBytes ?? 32 * 1024
    const killGrace = Duration.millis(options?.killGraceMs ?? 2000)
    const extraEnv: Record<string, string> = { GIT_TERMINAL_PROMPT: "0", GIT_PAGER: "cat", PAGER: "cat", ...options?.env }
    /**
     * The child environment: the spawner copies the process environment
     * (`extendEnv`); the names to leave out are read from that same
     * environment, at each call, so what is hidden is exactly what would be
     * inherited.
     */
    const childEnv = (): Record<string, string | undefined> => {
      const env: Record<string, string | undefined> = { ...extraEnv }
      const inherited = Object.keys(globalThis.process.env).filter((name) => !Object.hasOwn(extraEnv, name))
      for (const name of hiddenVariables(inherited, { hidden: options?.hiddenEnv, pass: options?.passEnv })) {
        env[name] = undefined
      }
      return env
    }

    return define({
      name: "bash",
      description: DESCRIPTION,
      parameters: Parameters,
      handler: Effect.fnUntraced(function*(params, context) {
        if (params.command.trim() === "") {
          return yield* new ToolError({ reason: "InvalidArguments", message: "command is empty" })
        }
        const cwd = Paths.resolve(context.directory, params.cwd ?? ".")
        const shownCwd = Paths.display(context.directory, cwd)
        const cwdInfo = yield* Paths.statOrFail(fs, cwd, shownCwd, "Working directory")
        if (cwdInfo.type !== "Directory") {
          return yield* new ToolError({ reason: "InvalidInput", message: `Working directory ${shownCwd} is not a directory` })
        }
        const requested = params.timeout ?? defaultTimeoutMs
        const timeoutMs = Math.min(requested, maxTimeoutMs)

        const command = ChildProcess.make(windows ? params.command : `exec 2>&1; ${params.command}`, {
          shell,
          cwd,
          stdin: "ignore",
          env: childEnv(),
          extendEnv: true,
          killSignal: "SIGTERM",
          forceKillAfter: killGrace
        })
        const buffer = OutputBuffer.make({ headBytes: maxOutputBytes / 2, tailBytes: maxOutputBytes / 2 })

        const outcome = yield* Effect.scoped(Effect.gen(function*() {
          const handle = yield* spawner.spawn(command).pipe(
            Effect.mapError((error) =>
              new ToolError({ reason: "Io", message: `Could not start the command: ${error.message}`, cause: error })
            )
          )
          const drain = yield* handle.all.pipe(
            Stream.runForEach((chunk) => Effect.sync(() => buffer.push(chunk))),
            Effect.ignore,
            Effect.forkScoped
          )
          const exit = yield* handle.exitCode.pipe(
            Effect.map((code): Exit => ({ _tag: "Exited", code })),
            Effect.catch((error) =>
              Effect.succeed<Exit>({
                _tag: "Signaled",
                message: error.reason.cause instanceof Error ? error.reason.cause.message : error.message
              })
            ),
            Effect.timeoutOption(Duration.millis(timeoutMs))
          )
          // Timed out, or exited: either way nothing of the group may outlive the call. Killing
          // also closes pipes held open by background processes; what they wrote stays readable.
          yield* handle.kill({ killSignal: "SIGTERM", forceKillAfter: killGrace }).pipe(Effect.ignore)
          yield* Fiber.join(drain).pipe(Effect.timeoutOption(DRAIN_GRACE))
          return Option.getOrElse(exit, (): Exit => ({ _tag: "TimedOut" }))
        }))

        const notes: Array<string> = []
        if (requested > maxTimeoutMs) notes.push(`[timeout lowered to the maximum, ${maxTimeoutMs} ms]`)
        let exitCode: number | null = null
        switch (outcome._tag) {
          case "Exited":
            exitCode = outcome.code
            if (outcome.code !== 0) notes.push(`[exit code: ${outcome.code}]`)
            break
          case "Signaled": {
            const signal = /signal: '?([A-Z0-9]+)/.exec(outcome.message)?.[1]
            notes.push(signal === undefined ? `[command terminated: ${outcome.message}]` : `[command killed by ${signal}]`)
            break
          }
          case "TimedOut":
            notes.push(`[command timed out after ${timeoutMs} ms and was killed]`)
            break
        }
        const text = buffer.totalBytes() === 0 ? "(no output)" : buffer.render().replace(/\n+$/, "")
        return {
          output: notes.length === 0 ? text : `${text}\n\n${notes.join("\n")}`,
          success: exitCode === 0,
          metadata: {
            exit_code: exitCode,
            timed_out: outcome._tag === "TimedOut",
            truncated: buffer.omittedBytes() > 0,
            output_bytes: buffer.totalBytes(),
            cwd
          }
        }
      })
    })
  })

type Exit =
  | { readonly _tag: "Exited"; readonly code: number }
  | { readonly _tag: "Signaled"; readonly message: string }
  | { readonly _tag: "TimedOut" }
