/**
 * `codetether run [message...]`: the main job. Runs one prompt in the current
 * directory: a new session, the last one of this directory (`--continue`), or
 * a given one (`--session`, native, Claude Code or Codex), or a fork of one
 * (`--fork`, `SessionFork`); tool calls run here; the session is saved after
 * every step.
 *
 * Output: on a TTY the answer streams to stdout while a spinner and the tool
 * calls show on stderr, and the prompt's cost at the end; otherwise only the
 * final answer is printed; with `--json`, every SessionEvent as one JSON line.
 * Exit code 0 on success (also when the step limit stopped the model: a line
 * on stderr says so and how to continue), 1 on an error (one line on
 * stderr), 130 when interrupted (Ctrl-C; the completed steps are saved).
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
import * as Pricing from "../../schemas/Pricing.ts"
import * as SessionEvent from "../../schemas/SessionEvent.ts"
import * as ClaudeImport from "../../services/ClaudeImport.ts"
import * as CodetetherConfig from "../../services/CodetetherConfig.ts"
import * as CodexImport from "../../services/CodexImport.ts"
import * as Images from "../../services/Images.ts"
import * as SessionFork from "../../services/SessionFork.ts"
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
  readonly fork: Option.Option<string>
}) =>
  Effect.gen(function*() {
    if (options.continue && Option.isSome(options.session)) {
      return yield* new RunUsageError({ message: "Use either --continue or --session, not both" })
    }
    if (Option.isSome(options.fork)) {
      if (options.continue || Option.isSome(options.session)) {
        return yield* new RunUsageError({ message: "Use --fork alone, not with --continue or --session" })
      }
      const forked = yield* SessionFork.fork(options.fork.value)
      return forked.session
    }
    if (Option.isSome(options.session)) {
      // a Claude Code session with this id is imported first (persist rule), else native or Codex
      const claude = yield* (yield* ClaudeImport.ClaudeImport).importIfFound(options.session.value)
      if (Option.isSome(claude)) return claude.value
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
 * The cost line `run` prints on a TTY: `cost $0.0123 (1,234 prompt + 56
 * completion tokens in 2 steps)`; `cost ?` when a model has no price.
 *
 * @since 0.1.0
 * @category rendering
 */
export const costLine = (steps: ReadonlyArray<SessionEvent.TokenDelta>, prices: Pricing.PriceTable): string => {
  let usd: number | undefined = 0
  let prompt = 0
  let completion = 0
  const unpriced = new Set<string>()
  for (const step of steps) {
    prompt += step.promptTokens
    completion += step.completionTokens
    const cost = Pricing.costOf(prices, step.model, step)
    if (cost === undefined) unpriced.add(step.model)
    else if (usd !== undefined) usd += cost
  }
  if (unpriced.size > 0) usd = undefined
  const n = (x: number) => x.toLocaleString("en-US")
  return `cost ${Pricing.format(usd)} (${n(prompt)} prompt + ${n(completion)} completion tokens in ${steps.length} step${
    steps.length === 1 ? "" : "s"
  }${unpriced.size > 0 ? `; no price for ${[...unpriced].join(", ")}: set [pricing."<model>"] in the config` : ""})`
}

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
    Flag.withDescription("Continue this session (a codetether id, or a Claude Code or Codex CLI session id to import)"),
    Flag.optional
  ),
  fork: Flag.String("fork").pipe(
    Flag.withDescription("Prompt a fork of this session (all its messages; sessions fork --at N for fewer)"),
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
  let session = yield* sessionFor({ cwd, continue: input.continue, session: input.session, fork: input.fork })
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
    const steps: Array<SessionEvent.TokenDelta> = []
    let limit: number | undefined
    yield* Stream.runForEach(events, (event) => {
      if (event._tag === "SessionSync") sessionId = event.session.id
      if (event._tag === "TokenUsage") steps.push(event.payload)
      if (event._tag === "StepLimitReached") limit = event.steps
      return renderer.render(event)
    })
    if (limit !== undefined) process.stderr.write(`${stepLimitNote(limit)}\n`)
    process.stderr.write(`session ${sessionId} saved (codetether run -c "..." continues it)\n`)
    process.stderr.write(`${costLine(steps, (yield* CodetetherConfig.CodetetherConfig).pricing)}\n`)
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
    { command: "codetether run --fork 1b2c… \"try it without the cache\"", description: "Fork a session and prompt the fork" },
    { command: "git diff | codetether run - --model anthropic/claude-sonnet-4-20250514", description: "The message from stdin, a chosen model" },
    { command: "codetether run --json \"list the files\" > events.jsonl", description: "Every event as a JSON line" }
  ])
)
