/**
 * The event bus of sessions (4.5.7 `SessionBus`): every event a prompt emits
 * is published here, for any number of subscribers (UIs, loggers, servers).
 *
 * - Durable events ({@link SessionEvent.isDurable}) are written to the
 *   {@link DurableSink.DurableSink} **before** they are broadcast; a sink
 *   failure is logged as a warning and never fails the publisher.
 * - Broadcasting is lossy and never blocks: each subscriber has a buffer of
 *   `capacity` events; a subscriber that falls further behind loses the
 *   oldest ones (a sliding `PubSub`), so a slow UI never slows a prompt.
 * - A subscriber sees the events published after it subscribed.
 *
 * @since 0.1.0
 */
import * as Channel from "effect/Channel"
import * as Context from "effect/Context"
import * as Effect from "effect/Effect"
import * as Layer from "effect/Layer"
import * as PubSub from "effect/PubSub"
import type * as Scope from "effect/Scope"
import * as Stream from "effect/Stream"
import * as SessionEvent from "../schemas/SessionEvent.ts"
import * as DurableSink from "./DurableSink.ts"

/**
 * An event and the session it belongs to.
 *
 * @since 0.1.0
 * @category models
 */
export interface Envelope {
  readonly sessionId: string
  readonly event: SessionEvent.SessionEvent
  /**
   * For a durable event written to the durable sink: its record's position in
   * the session's durable log (`DurableRecord.seq`); absent otherwise.
   */
  readonly seq?: number | undefined
}

/**
 * @since 0.1.0
 * @category services
 */
export class SessionBus extends Context.Service<SessionBus, {
  /**
   * Publishes `event` of session `sessionId`: durable events reach the
   * durable sink first; then every event is broadcast. Never fails, never
   * waits for subscribers.
   */
  readonly publish: (sessionId: string, event: SessionEvent.SessionEvent) => Effect.Effect<void>
  /**
   * Subscribes now (the subscription lives as long as the scope) and returns
   * the stream of events published from this point on.
   */
  readonly subscribe: Effect.Effect<Stream.Stream<Envelope>, never, Scope.Scope>
  /**
   * How many subscriptions are live now (4.5.7 `subscriber_count`): each
   * `subscribe` counts until its scope closes, whether or not its stream is
   * being read.
   */
  readonly subscriberCount: Effect.Effect<number>
}>()("codetether/SessionBus") {}

/**
 * Default per-subscriber buffer, in events.
 *
 * @since 0.1.0
 * @category constants
 */
export const DEFAULT_CAPACITY = 1024

/**
 * A bus over a sliding `PubSub` of `capacity` events (at least 1), shut down
 * with the layer's scope.
 *
 * @since 0.1.0
 * @category constructors
 */
export const make = (options: { readonly capacity?: number } = {}) =>
  Effect.gen(function*() {
    const capacity = Math.max(1, Math.floor(options.capacity ?? DEFAULT_CAPACITY))
    const sink = yield* DurableSink.DurableSink
    const pubsub = yield* Effect.acquireRelease(PubSub.sliding<Envelope>(capacity), PubSub.shutdown)
    // Untraced: it runs for every streamed text delta (the durable sink's write is traced).
    const publish = (sessionId: string, event: SessionEvent.SessionEvent) =>
      SessionEvent.isDurable(event)
        ? sink.write(sessionId, event).pipe(
          Effect.map((record): Envelope => ({ sessionId, event, seq: record.seq })),
          Effect.catch((e) =>
            Effect.as(Effect.logWarning(`durable event not persisted (${event._tag}): ${e.message}`), { sessionId, event })
          ),
          Effect.flatMap((envelope) => PubSub.publish(pubsub, envelope))
        )
        : PubSub.publish(pubsub, { sessionId, event })
    let subscribers = 0
    const subscribe = Effect.gen(function*() {
      const subscription = yield* PubSub.subscribe(pubsub)
      yield* Effect.acquireRelease(
        Effect.sync(() => subscribers++),
        () => Effect.sync(() => subscribers--)
      )
      return Stream.fromChannel(Channel.fromSubscriptionArray(subscription))
    })
    return SessionBus.of({ publish, subscribe, subscriberCount: Effect.sync(() => subscribers) })
  })

/**
 * The bus, with the durable sink the environment provides.
 *
 * @since 0.1.0
 * @category layers
 */
export const layer = (options: { readonly capacity?: number } = {}): Layer.Layer<SessionBus, never, DurableSink.DurableSink> =>
  Layer.effect(SessionBus, make(options))
