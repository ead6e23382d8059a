/**
 * `codetether run [message...]`: the main job. Runs one prompt in the current
 * directory: a new session, the last one of this directory (`--continue`), or
 * a given one (`--session`, native or Codex); tool calls run here; the
 * session is saved after every step.
 *
 * Output: on a TTY the answer streams to stdout while a spinner and the tool
 * calls show on stderr; otherwise only the final answer is printed; with
 * `--json`, every SessionEvent as one JSON line. Exit code 0 on success (also
 * when the step limit stopped the model: a line on stderr says so and how to
 * continue), 1 on an error (one line on stderr), 130 when interrupted (Ctrl-C;
 * the completed steps are saved).
 *
 * @since 0.1.0
 */
import * as NodePath from "node:path"
import * as Effect from "effect/Effect"
import * as Option from "effect/Option"
import * as Schema from "effect/Schema"
import * as Stream from "effect/Stream"
import * as Argument from "effect/cli/Argument"
import * as Command from "effect/cli/Command"
import * as Flag from "effect/cli/Flag"
import * as SessionEvent from "../../schemas/SessionEvent.ts"
import * as CodetetherConfig from "../../services/CodetetherConfig.ts"
import * as CodexImport from "../../services/CodexImport.ts"
import * as Images from "../../services/Images.ts"
import * as SessionLoop from "../../services/SessionLoop.ts"
import * as SessionStore from "../../services/SessionStore.ts"
import * as RunRender from "../render/Run.ts"
import { currentDirectory, json, printLine, switchFlag } from "./shared.ts"

/**
 * A usage problem of `run` (no message, conflicting flags).
 *
 * @since 0.1.0
 * @category errors
 */
export class RunUsageError extends Schema.TaggedError<RunUsageError>()("RunUsageError", {
  message: Schema.String
}) {}

const readStdin: Effect.Effect<string> = Effect.promise(async () => {
  const chunks: Array<Buffer> = []
  for await (const chunk of process.stdin) chunks.push(chunk as Buffer)
  return Buffer.concat(chunks).toString("utf8")
})

/** The message from the arguments, or stdin when it is `-` or absent and stdin is not a terminal. */
const messageFrom = (args: ReadonlyArray<string>) =>
  Effect.gen(function*() {
    const fromStdin = (args.length === 1 && args[0] === "-") || (args.length === 0 && process.stdin.isTTY !== true)
    const text = fromStdin ? yield* readStdin : args.join(" ")
    if (text.trim().length === 0) {
      return yield* new RunUsageError({
        message: "No message: pass it as arguments (codetether run \"fix the failing test\") or on stdin (-)"
      })
    }
    return text
  })

const sessionFor = (options: {
  readonly cwd: string
  readonly continue: boolean
  readonly session: Option.Option<string>
}) =>
  Effect.gen(function*() {
    if (options.continue && Option.isSome(options.session)) {
      return yield* new RunUsageError({ message: "Use either --continue or --session, not both" })
    }
    if (Option.isSome(options.session)) {
      const codex = yield* CodexImport.CodexImport
      return yield* codex.loadOrImport(options.session.value)
    }
    if (options.continue) {
      const store = yield* SessionStore.SessionStore
      const last = yield* store.lastForDirectory(options.cwd).pipe(
        Effect.catchIf(
          (e) => e.reason === "NotFound",
          () => Effect.fail(new RunUsageError({ message: `No session to continue in ${options.cwd}` }))
        )
      )
      return last.session
    }
    const config = yield* CodetetherConfig.CodetetherConfig
    return yield* config.newSession(options.cwd)
  })

/**
 * The line `run` writes on stderr when a prompt stopped at its step limit
 * while the model was still calling tools (the exit code stays 0: 4.5.7 does
 * not treat it as an error; with `--json` the `StepLimitReached` event says
 * it instead).
 *
 * @since 0.1.0
 * @category rendering
 */
export const stepLimitNote = (steps: number): string =>
  `codetether: stopped at the step limit: ${steps} model step${steps === 1 ? "" : "s"} ran and the model was still ` +
  `calling tools; continue with codetether run -c "<what next>" (--max-steps N, session.max_steps or ` +
  `CODETETHER_MAX_STEPS sets the limit)`

/**
 * The `run` command.
 *
 * @since 0.1.0
 * @category commands
 */
export const command = Command.make("run", {
  message: Argument.String("message").pipe(
    Argument.withDescription("What to do; '-' (or no argument with piped input) reads it from stdin"),
    Argument.variadic()
  ),
  model: Flag.String("model").pipe(
    Flag.withDescription("Model as provider/model, a model id, or a provider name (saved in the session)"),
    Flag.optional
  ),
  continue: switchFlag("continue", "Continue the last session of the current directory").pipe(Flag.withAlias("c")),
  session: Flag.String("session").pipe(
    Flag.withDescription("Continue this session (a codetether id, or a Codex CLI session id to import)"),
    Flag.optional
  ),
  json,
  maxSteps: Flag.Int("max-steps").pipe(
    Flag.withSchema(Schema.Int.check(Schema.isGreaterThan(0))),
    Flag.withDescription("Stop after N model round trips (default: config, else 250)"),
    Flag.optional
  ),
  maxTokens: Flag.Int("max-tokens").pipe(
    Flag.withSchema(Schema.Int.check(Schema.isGreaterThan(0))),
    Flag.withDescription("max_tokens of each model request (default: config, else 8192)"),
    Flag.optional
  ),
  force: switchFlag(
    "force",
    "Take the session's lease even if another prompt (another process or host) holds it; that prompt's next save fails"
  ),
  image: Flag.String("image").pipe(
    Flag.withDescription("Attach an image (PNG, JPEG, GIF or WebP, up to 20 MiB); repeatable"),
    Flag.atLeast(0)
  )
}, Effect.fn("run")(function*(input) {
  const cwd = yield* currentDirectory
  const message = yield* messageFrom(input.message)
  const reader = yield* Images.Images
  const images = yield* Effect.forEach(input.image, (path) => reader.read(NodePath.resolve(cwd, path)))
  let session = yield* sessionFor({ cwd, continue: input.continue, session: input.session })
  if (Option.isSome(input.model)) session = { ...session, metadata: { ...session.metadata, model: input.model.value } }
  const loop = yield* SessionLoop.SessionLoop
  // --max-steps and --max-tokens reach the loop through CodetetherConfig
  const options = { images, force: input.force }
  const events = loop.promptStream(session, message, options)

  if (input.json) {
    yield* Stream.runForEach(events, (event) => printLine(SessionEvent.toJsonLine(event)))
    return
  }
  if (process.stdout.isTTY === true) {
    const renderer = yield* RunRender.make({ stdout: process.stdout, stderr: process.stderr })
    let sessionId = session.id
    let limit: number | undefined
    yield* Stream.runForEach(events, (event) => {
      if (event._tag === "SessionSync") sessionId = event.session.id
      if (event._tag === "StepLimitReached") limit = event.steps
      return renderer.render(event)
    })
    if (limit !== undefined) process.stderr.write(`${stepLimitNote(limit)}\n`)
    process.stderr.write(`session ${sessionId} saved (codetether run -c "..." continues it)\n`)
    return
  }
  const outcome = yield* loop.prompt(session, message, options)
  yield* printLine(outcome.result.text)
  if (outcome.stepLimitReached) process.stderr.write(`${stepLimitNote(outcome.steps)}\n`)
}, Effect.scoped)).pipe(
  Command.withDescription("Run a prompt: the model works in this directory with tools until it answers"),
  Command.withExamples([
    { command: "codetether run \"fix the failing test\"", description: "A new session in this directory" },
    { command: "codetether run -c \"now add a test for it\"", description: "Continue the last session here" },
    { command: "git diff | codetether run - --model anthropic/claude-sonnet-4-20250514", description: "The message from stdin, a chosen model" },
    { command: "codetether run --json \"list the files\" > events.jsonl", description: "Every event as a JSON line" }
  ])
)
