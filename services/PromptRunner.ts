/**
 * The prompts a server runs: at most one per session (the store's lease,
 * plus a check of its own), at most `maxPrompts` at once, each in a fiber
 * of the runner's own scope, so a prompt outlives the request that started
 * it (a client that disconnects does not stop it) and ends only when it is
 * done, cancelled ({@link PromptRunner} `cancel`: interrupted as Ctrl-C
 * interrupts `codetether run`, the completed steps saved and an interrupted
 * tool call answered) or the runner shuts down (the same interruption, for
 * every prompt).
 *
 * `start` returns once the prompt holds the session's lease, so a caller can
 * answer "busy" before it answers anything else: the loop runs on a view of
 * the {@link SessionStore.SessionStore} that reports each lease it takes.
 *
 * @since 0.1.0
 */
import * as NodeOs from "node:os"
import * as Cause from "effect/Cause"
import * as Context from "effect/Context"
import * as Deferred from "effect/Deferred"
import * as Effect from "effect/Effect"
import * as Exit from "effect/Exit"
import * as Fiber from "effect/Fiber"
import * as Layer from "effect/Layer"
import * as Schema from "effect/Schema"
import type * as Scope from "effect/Scope"
import * as Stream from "effect/Stream"
import type * as ImageAttachment from "../schemas/ImageAttachment.ts"
import type { Session } from "../schemas/Session.ts"
import * as Timestamp from "../schemas/Timestamp.ts"
import * as CodetetherConfig from "./CodetetherConfig.ts"
import * as ProviderRegistry from "./ProviderRegistry.ts"
import * as SessionBus from "./SessionBus.ts"
import * as SessionEvents from "./SessionEvents.ts"
import * as SessionLoop from "./SessionLoop.ts"
import * as SessionStore from "./SessionStore.ts"
import * as SystemPrompt from "./SystemPrompt.ts"
import * as ToolRegistry from "./ToolRegistry.ts"

/**
 * A prompt was not started: `TooManyPrompts` (the runner already runs
 * `maxPrompts`), `ShuttingDown` (the runner is stopping).
 *
 * @since 0.1.0
 * @category errors
 */
export class PromptRunnerError extends Schema.TaggedError<PromptRunnerError>()("PromptRunnerError", {
  reason: Schema.Literals(["TooManyPrompts", "ShuttingDown"]),
  message: Schema.String
}) {}

/**
 * Why `start` failed: the runner's own refusals, the session could not be
 * loaded (`SessionStoreError`), or the prompt ended before it held the lease
 * (`SessionBusy`, `SessionConflict`, or a `SessionLoopError`).
 *
 * @since 0.1.0
 * @category errors
 */
export type StartError = PromptRunnerError | SessionStore.SessionStoreError | SessionLoop.PromptError

/**
 * What to prompt: a stored session by id, or a session value (a new one, or
 * one just loaded).
 *
 * @since 0.1.0
 * @category models
 */
export type Target = { readonly sessionId: string } | { readonly session: Session }

/**
 * Options of {@link PromptRunner} `start`.
 *
 * @since 0.1.0
 * @category models
 */
export interface StartOptions {
  readonly images?: ReadonlyArray<ImageAttachment.ImageAttachment> | undefined
  /** Step limit of this prompt (default: the configuration's). */
  readonly maxSteps?: number | undefined
  /** The session's model, saved in it (as `run --model`); `null` clears it. */
  readonly model?: string | null | undefined
  /** A last change to the session before the prompt (e.g. its provenance). */
  readonly prepare?: ((session: Session) => Session) | undefined
  /**
   * Subscribe to the session's events before the prompt starts: `Started`
   * then carries them, up to and including the prompt's `Done`.
   */
  readonly follow?: boolean | undefined
  /** A label shown by `running` (e.g. an A2A task id). */
  readonly label?: string | undefined
}

/**
 * A running prompt, as `running` lists it.
 *
 * @since 0.1.0
 * @category models
 */
export interface RunningPrompt {
  readonly sessionId: string
  /** RFC 3339. */
  readonly startedAt: string
  readonly label: string | undefined
}

/**
 * A prompt that holds its session's lease.
 *
 * @since 0.1.0
 * @category models
 */
export interface Started {
  readonly sessionId: string
  /** The prompt's outcome (waiting for it never interrupts it). */
  readonly result: Effect.Effect<SessionLoop.PromptResult, SessionLoop.PromptError>
  /** The outcome without waiting: `undefined` while it runs. */
  readonly poll: Effect.Effect<Exit.Exit<SessionLoop.PromptResult, SessionLoop.PromptError> | undefined>
  /**
   * With `follow`: the session's events from just before the prompt started,
   * ending with the prompt's `Done`; otherwise empty.
   */
  readonly events: Stream.Stream<SessionEvents.Item>
}

/**
 * @since 0.1.0
 * @category services
 */
export class PromptRunner extends Context.Service<PromptRunner, {
  /** The cap on prompts running at once. */
  readonly maxPrompts: number
  /**
   * Starts a prompt on `target` and returns once it holds the session's lease
   * (see the module docs). The subscription of `follow` lives in the
   * caller's scope; the prompt itself does not.
   */
  readonly start: (
    target: Target,
    message: string,
    options?: StartOptions
  ) => Effect.Effect<Started, StartError, Scope.Scope>
  /**
   * Interrupts the prompt running on `sessionId` and waits until it has
   * saved its completed steps and published `Error` and `Done`. `false` when
   * this runner runs no prompt on that session.
   */
  readonly cancel: (sessionId: string) => Effect.Effect<boolean>
  /** The prompts running now. */
  readonly running: Effect.Effect<ReadonlyArray<RunningPrompt>>
  /**
   * Refuses new prompts, then interrupts every running one and waits for
   * them (each saves its completed steps).
   */
  readonly shutdown: Effect.Effect<void>
}>()("codetether/PromptRunner") {}

/**
 * Default of `maxPrompts`.
 *
 * @since 0.1.0
 * @category constants
 */
export const DEFAULT_MAX_PROMPTS = 8

interface Entry {
  readonly sessionId: string
  readonly startedAt: string
  readonly label: string | undefined
  fiber: Fiber.Fiber<SessionLoop.PromptResult, SessionLoop.PromptError> | undefined
}

const idOf = (target: Target): string => ("sessionId" in target ? target.sessionId : target.session.id)

/**
 * A runner over the services of the environment (its own `SessionLoop`, on
 * the environment's store, providers, tools, bus, configuration and system
 * prompt), with prompts forked in the layer's scope.
 *
 * @since 0.1.0
 * @category constructors
 */
export const make = Effect.fn("PromptRunner.make")(function*(options: { readonly maxPrompts?: number | undefined } = {}) {
  const maxPrompts = Math.max(1, Math.floor(options.maxPrompts ?? DEFAULT_MAX_PROMPTS))
  const scope = yield* Effect.scope
  const store = yield* SessionStore.SessionStore
  const events = yield* SessionEvents.SessionEvents
  const host = NodeOs.hostname()

  // The loop runs on a view of the store that reports each lease it takes.
  const leased = new Map<string, Deferred.Deferred<void>>()
  const watched = SessionStore.SessionStore.of({
    ...store,
    lease: (session, leaseOptions) =>
      Effect.tap(store.lease(session, leaseOptions), () =>
        Effect.suspend(() => {
          const waiter = leased.get(session.id)
          return waiter === undefined ? Effect.void : Deferred.succeed(waiter, undefined)
        }))
  })
  const loop = yield* SessionLoop.make.pipe(Effect.provideService(SessionStore.SessionStore, watched))

  const entries = new Map<string, Entry>()
  let closing = false

  const busy = (entry: Entry) =>
    new SessionStore.SessionBusy({
      sessionId: entry.sessionId,
      holder: { pid: process.pid, host, startedAt: entry.startedAt, purpose: "prompt" },
      message: SessionStore.busyMessage(entry.sessionId, {
        pid: process.pid,
        host,
        startedAt: entry.startedAt,
        purpose: "prompt"
      }, host)
    })

  const start = Effect.fn("PromptRunner.start")(function*(
    target: Target,
    message: string,
    startOptions: StartOptions = {}
  ) {
    if (closing) return yield* new PromptRunnerError({ reason: "ShuttingDown", message: "the server is shutting down" })
    const sessionId = yield* SessionStore.validateId(idOf(target))
    const existing = entries.get(sessionId)
    if (existing !== undefined) return yield* busy(existing)
    if (entries.size >= maxPrompts) {
      return yield* new PromptRunnerError({
        reason: "TooManyPrompts",
        message: `${entries.size} prompts are running, the most this server runs at once (--max-prompts ${maxPrompts})`
      })
    }
    // Reserved before the first suspension: two requests for one session cannot both pass.
    const entry: Entry = { sessionId, startedAt: yield* Timestamp.now, label: startOptions.label, fiber: undefined }
    entries.set(sessionId, entry)
    const release = Effect.sync(() => {
      if (entries.get(sessionId) === entry) entries.delete(sessionId)
      leased.delete(sessionId)
    })
    return yield* Effect.gen(function*() {
      let session = "session" in target ? target.session : yield* store.load(sessionId)
      if (startOptions.model !== undefined) {
        session = { ...session, metadata: { ...session.metadata, model: startOptions.model } }
      }
      if (startOptions.prepare !== undefined) session = startOptions.prepare(session)
      const followed = startOptions.follow === true ? yield* events.follow(sessionId) : Stream.empty
      const lease = yield* Deferred.make<void>()
      leased.set(sessionId, lease)
      const fiber = yield* loop.prompt(session, message, {
        images: startOptions.images,
        maxSteps: startOptions.maxSteps
      }).pipe(
        Effect.ensuring(release),
        Effect.forkIn(scope, { startImmediately: true })
      )
      entry.fiber = fiber
      // Until the lease is held or the prompt is over (whichever comes first).
      yield* Effect.raceFirst(Deferred.await(lease), Effect.asVoid(Fiber.await(fiber)))
      const early = fiber.pollUnsafe()
      if (early !== undefined && Exit.isFailure(early) && !Deferred.isDoneUnsafe(lease)) {
        return yield* Effect.failCause(early.cause)
      }
      const done = Effect.flatMap(Fiber.await(fiber), () => Effect.sleep("2 seconds"))
      return {
        sessionId,
        result: Effect.flatten(Fiber.await(fiber)),
        poll: Effect.sync(() => fiber.pollUnsafe()),
        events: followed.pipe(
          Stream.takeUntil((item) => item.event._tag === "Done"),
          // the Done of this prompt always arrives (the bus keeps the newest
          // events); this only bounds a follower that ended otherwise
          Stream.interruptWhen(done)
        )
      } satisfies Started
      // once forked, the prompt's own `ensuring` releases the entry
    }).pipe(Effect.onError(() => Effect.suspend(() => (entry.fiber === undefined ? release : Effect.void))))
  })

  const cancel = Effect.fn("PromptRunner.cancel")(function*(sessionId: string) {
    for (;;) {
      const entry = entries.get(sessionId)
      if (entry === undefined) return false
      if (entry.fiber !== undefined) {
        yield* Fiber.interrupt(entry.fiber)
        return true
      }
      // still loading the session: wait until it is forked
      yield* Effect.sleep("10 millis")
    }
  })

  const running = Effect.sync(() =>
    [...entries.values()].map((e): RunningPrompt => ({ sessionId: e.sessionId, startedAt: e.startedAt, label: e.label }))
  )

  const shutdown = Effect.gen(function*() {
    closing = true
    const fibers = [...entries.values()].flatMap((e) => (e.fiber === undefined ? [] : [e.fiber]))
    yield* Fiber.interruptAll(fibers)
  }).pipe(Effect.withSpan("PromptRunner.shutdown"))

  yield* Effect.addFinalizer(() => shutdown)

  return PromptRunner.of({ maxPrompts, start, cancel, running, shutdown })
})

/**
 * Whether a prompt's failure cause is only its interruption (a cancel or a
 * shutdown).
 *
 * @since 0.1.0
 * @category predicates
 */
export const isInterruption = (cause: Cause.Cause<unknown>): boolean => Cause.hasInterruptsOnly(cause)

/**
 * A runner over the environment's services (see {@link make}).
 *
 * @since 0.1.0
 * @category layers
 */
export const layer = (options: { readonly maxPrompts?: number | undefined } = {}): Layer.Layer<
  PromptRunner,
  never,
  | SessionStore.SessionStore
  | SessionEvents.SessionEvents
  | ProviderRegistry.ProviderRegistry
  | ToolRegistry.ToolRegistry
  | SessionBus.SessionBus
  | CodetetherConfig.CodetetherConfig
  | SystemPrompt.SystemPrompt
> => Layer.effect(PromptRunner, make(options))
