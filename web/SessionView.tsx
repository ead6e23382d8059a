/**
 * One session: its header, usage, transcript, live prompt and the prompt
 * box. Opening it follows `/events` (from the `last_seq` of its usage, so no
 * durable event between the two is missed); a prompt sent from here runs as
 * `POST …/prompt` with its events streamed back; Stop is `POST …/cancel`.
 */
import { useEffect, useMemo, useRef, useState } from "preact/hooks"
import * as Api from "./api.ts"
import { follow, type FollowState } from "./follow.ts"
import * as Format from "./format.ts"
import * as Model from "./model.ts"
import { Transcript } from "./Transcript.tsx"
import { UsageChart } from "./UsageChart.tsx"
import type { LiveEvent, Session, SessionLease, SessionUsage, UsageStep } from "./wire.ts"

interface Props {
  readonly id: string
  readonly focusMessage: number | undefined
  readonly onFocus: (messageIndex: number) => void
  readonly onChanged: () => void
}

interface Live {
  readonly items: ReadonlyArray<Model.LiveItem>
  /** A prompt is running (ours or anyone's this page sees). */
  readonly running: boolean
  /** The running prompt was sent from this page. */
  readonly own: boolean
  readonly status: string
  /** Index in `items` of the text of the current step, or -1. */
  readonly stepText: number
}

const IDLE: Live = { items: [], running: false, own: false, status: "", stepText: -1 }

/** Messages of a session's first paint: its end, read fast (`?tail=`); the whole session follows. */
const FIRST_PAINT_MESSAGES = 150

/** How often the holder of the lease is asked while nothing runs here (ms). */
const LEASE_POLL_MS = 4000

const str = (v: unknown): string => (typeof v === "string" ? v : "")
const num = (v: unknown): number => (typeof v === "number" ? v : 0)

/** The state after one event of a prompt. */
const applyLive = (live: Live, event: LiveEvent): Live => {
  const d = event.data
  const payload = (d.payload ?? {}) as Record<string, unknown>
  switch (event.type) {
    case "Thinking":
      // a prompt starts (set-up) or a step does
      return live.running
        ? { ...live, status: "Thinking…", stepText: -1 }
        : { items: [], running: true, own: false, status: "Thinking…", stepText: -1 }
    case "TextChunk":
    case "TextComplete": {
      const done = event.type === "TextComplete"
      const items = [...live.items]
      if (live.stepText >= 0 && items[live.stepText]?.kind === "text") {
        items[live.stepText] = { kind: "text", text: str(d.text), done }
        return { ...live, items, status: done ? live.status : "Writing…" }
      }
      items.push({ kind: "text", text: str(d.text), done })
      return { ...live, items, stepText: items.length - 1, status: done ? live.status : "Writing…" }
    }
    case "ThinkingComplete":
      return { ...live, items: [...live.items, { kind: "thinking", text: str(d.text) }] }
    case "ToolCallStart":
      return {
        ...live,
        running: true,
        status: `Running ${str(d.name)}…`,
        stepText: -1,
        items: [...live.items, {
          kind: "tool",
          card: { id: `live-${live.items.length}`, name: str(d.name), arguments: str(d.arguments), result: undefined, success: undefined, durationMs: undefined, running: true }
        }]
      }
    case "ToolCallComplete": {
      const items = [...live.items]
      for (let i = items.length - 1; i >= 0; i--) {
        const item = items[i]!
        if (item.kind === "tool" && item.card.running === true && item.card.name === str(d.name)) {
          items[i] = { kind: "tool", card: { ...item.card, running: false, result: str(d.output), success: d.success === true, durationMs: num(d.duration_ms) } }
          break
        }
      }
      return { ...live, items, status: `${str(d.name)} ${d.success === true ? "finished" : "failed"} in ${Format.duration(num(d.duration_ms))}` }
    }
    case "UsageReport":
      return { ...live, status: `step: ${Format.tokens(num(d.prompt_tokens))} prompt + ${Format.tokens(num(d.completion_tokens))} completion tokens` }
    case "TokenEstimate": {
      const budget = num(payload.budget)
      return budget > 0 ? { ...live, status: `context: ${Math.round((num(payload.request_tokens) / budget) * 100)}% of the budget` } : live
    }
    case "CompactionStarted":
      return { ...live, status: "Compacting the context…" }
    case "CompactionCompleted":
      return { ...live, status: "Context compacted" }
    case "CompactionFailed":
      return { ...live, status: "Compaction failed" }
    case "ContextTruncated":
      return { ...live, status: "Context truncated" }
    case "RlmProgress":
      return { ...live, status: "Summarising…" }
    case "Error":
      return { ...live, items: [...live.items, { kind: "error", text: str(d.message) }], status: `Error: ${str(d.message)}` }
    case "SessionSync":
      // the transcript now holds what the live rows showed; errors stay visible
      return { ...live, items: live.items.filter((i) => i.kind === "error"), stepText: -1 }
    case "Done":
      return { ...live, running: false, own: false, stepText: -1, status: live.status.startsWith("Error") ? live.status : "Done" }
    default:
      return live
  }
}

const stepOf = (event: LiveEvent): UsageStep | undefined => {
  const p = event.data.payload as Record<string, unknown> | undefined
  if (p === undefined || event.seq === undefined) return undefined
  return {
    seq: event.seq,
    ts: new Date().toISOString(),
    source: str(p.source),
    model: str(p.model),
    prompt_tokens: num(p.prompt_tokens),
    completion_tokens: num(p.completion_tokens),
    cache_read_tokens: typeof p.cache_read_tokens === "number" ? p.cache_read_tokens : null,
    cache_write_tokens: typeof p.cache_write_tokens === "number" ? p.cache_write_tokens : null,
    message_index: typeof p.message_index === "number" ? p.message_index : null,
    duration_ms: num(p.duration_ms),
    cost_usd: null
  }
}

export function SessionView({ focusMessage, id, onChanged, onFocus }: Props) {
  const [session, setSession] = useState<Session | null>(null)
  /** `session` holds only the last messages (the whole one is on its way). */
  const [partial, setPartial] = useState(false)
  const [usage, setUsage] = useState<SessionUsage | null>(null)
  const [steps, setSteps] = useState<ReadonlyArray<UsageStep>>([])
  const [lease, setLease] = useState<SessionLease | null>(null)
  const [live, setLive] = useState<Live>(IDLE)
  const [connection, setConnection] = useState<FollowState>("connecting")
  const [error, setError] = useState<string | null>(null)
  const [message, setMessage] = useState("")
  const [showUsage, setShowUsage] = useState(true)
  const liveRef = useRef(live)
  liveRef.current = live
  const leaseRef = useRef(lease)
  leaseRef.current = lease
  /** The highest durable seq applied (from either stream). */
  const appliedSeq = useRef(0)
  /** Our own prompt's request is open. */
  const ownRunning = useRef(false)
  /** The follower has not yet brought its copy of our prompt's Done. */
  const awaitingFollowerDone = useRef(false)
  const opened = useRef(0)
  /** A SessionSync arrived since the last prompt started (else the transcript is read again when it ends). */
  const synced = useRef(true)
  /** SessionSyncs applied: a read that started before one is older than it. */
  const syncs = useRef(0)

  const base = `/api/session/${Api.segment(id)}`

  const loadSession = async () => {
    const before = syncs.current
    performance.mark(`codetether:fetch:${id}`)
    const loaded = await Api.getJson<Session>(base)
    performance.measure(`codetether:fetch-session:${id}`, `codetether:fetch:${id}`)
    if (syncs.current !== before) return
    setSession(loaded)
    setPartial(false)
  }
  /** The whole session was read since the view opened (a first paint from the end must not replace it). */
  const wholeLoaded = useRef(false)
  /**
   * A fast first paint: the session's last messages (`?tail=`), read while
   * the view starts following; the whole session, read once following,
   * replaces it. A search hit needs the whole session's indices: no tail then.
   */
  const paintEnd = async (generation: number) => {
    const end = await Api.getJson<Session>(`${base}?tail=${FIRST_PAINT_MESSAGES}`)
    if (generation !== opened.current || wholeLoaded.current) return
    setSession(end)
    setPartial(end.messages.length >= FIRST_PAINT_MESSAGES || end.tool_uses.length >= FIRST_PAINT_MESSAGES)
  }
  const loadWhole = async (generation: number) => {
    await loadSession()
    if (generation !== opened.current) return
    wholeLoaded.current = true
    performance.measure(`codetether:open-to-whole:${id}`, `codetether:open:${id}`)
  }
  const loadUsage = async () => {
    const u = await Api.getJson<SessionUsage>(`${base}/usage`)
    setUsage(u)
    setSteps((current) => {
      // keep steps that arrived live after this answer was made
      const known = new Set(u.steps.map((s) => s.seq))
      return [...u.steps, ...current.filter((s) => !known.has(s.seq) && s.seq > u.last_seq)]
    })
  }
  const loadLease = async () => {
    try {
      setLease(await Api.getJson<SessionLease>(`${base}/lease`))
    } catch {
      // shown again at the next poll
    }
  }

  const refreshAfterPrompt = useRef<number | undefined>(undefined)
  const scheduleRefresh = () => {
    clearTimeout(refreshAfterPrompt.current)
    refreshAfterPrompt.current = window.setTimeout(() => {
      void loadUsage().catch(() => undefined)
      void loadLease()
      if (!synced.current) {
        // an interrupted or failed prompt sends no SessionSync: read what it saved
        synced.current = true
        void loadSession()
          .then(() => setLive((current) => current.running ? current : { ...current, items: current.items.filter((i) => i.kind === "error") }))
          .catch(() => undefined)
      }
      onChanged()
    }, 150)
  }

  /** One event from either stream. */
  const apply = (event: LiveEvent, from: "own" | "follower") => {
    if (event.seq !== undefined) {
      if (event.seq <= appliedSeq.current) return
      appliedSeq.current = event.seq
      if (event.type === "TokenUsage") {
        const step = stepOf(event)
        if (step !== undefined) setSteps((current) => (current.some((s) => s.seq === step.seq) ? current : [...current, step]))
      }
    }
    // our own prompt's events come on its own stream; the follower's copies of them are dropped
    if (from === "follower" && (ownRunning.current || awaitingFollowerDone.current)) {
      if (event.type === "Done") awaitingFollowerDone.current = false
      return
    }
    if (event.type === "SessionSync") {
      const copy = event.data.session as Session | undefined
      if (copy !== undefined && copy.id === id) {
        synced.current = true
        syncs.current++
        setSession(copy)
        setPartial(false)
      }
    }
    if (event.type === "Thinking" && !liveRef.current.running) synced.current = false
    // someone else's prompt: who holds the session (its first Thinking comes before it takes the lease, the next ones after)
    if (from === "follower" && (event.type === "Thinking" || event.type === "ToolCallStart") && leaseRef.current?.holder == null) void loadLease()
    if (event.type === "Done") {
      // the prompt let go of the session; the server confirms in a moment
      setLease((current) => (current === null ? current : { ...current, holder: null, message: null, here: false }))
      scheduleRefresh()
    }
    setLive((current) => applyLive(current, event))
  }

  // open: the end of the transcript at once; usage (its last_seq) → follow from there → the whole transcript once following
  useEffect(() => {
    const generation = ++opened.current
    setSession(null)
    setPartial(false)
    setUsage(null)
    setSteps([])
    setLease(null)
    setLive(IDLE)
    setError(null)
    appliedSeq.current = 0
    ownRunning.current = false
    awaitingFollowerDone.current = false
    wholeLoaded.current = false
    performance.mark(`codetether:open:${id}`)
    if (focusMessage === undefined) void paintEnd(generation).catch(() => undefined)
    let stop: (() => void) | undefined
    void (async () => {
      let after = 0
      try {
        const u = await Api.getJson<SessionUsage>(`${base}/usage`)
        if (generation !== opened.current) return
        setUsage(u)
        setSteps(u.steps)
        after = u.last_seq
        appliedSeq.current = after
      } catch (e) {
        if (generation === opened.current) setError(e instanceof Error ? e.message : String(e))
        return
      }
      stop = follow({
        sessionId: id,
        after,
        onEvent: (event) => generation === opened.current && apply(event, "follower"),
        onState: (state, detail) => {
          if (generation !== opened.current) return
          setConnection(state)
          if (state === "stopped" && detail !== undefined) setError(detail)
        },
        onOpen: (reconnected) => {
          if (generation !== opened.current) return
          // the transcript as of now; after a reconnection it may have missed a SessionSync
          void (reconnected ? loadSession() : loadWhole(generation)).catch((e) => setError(e instanceof Error ? e.message : String(e)))
          void loadLease()
          if (reconnected) {
            if (!liveRef.current.own) setLive((current) => ({ ...current, items: current.items.filter((i) => i.kind === "error") }))
            onChanged()
          }
        }
      })
    })()
    const poll = window.setInterval(() => {
      if (!liveRef.current.own) void loadLease()
    }, LEASE_POLL_MS)
    return () => {
      opened.current++
      stop?.()
      clearInterval(poll)
      clearTimeout(refreshAfterPrompt.current)
    }
  }, [id])

  const transcript = useMemo(() => {
    if (session === null) return null
    const start = performance.now()
    const built = Model.build(session, partial)
    performance.measure(`codetether:build-rows:${id}`, { start, end: performance.now() })
    return built
  }, [session, partial])

  const send = async () => {
    const text = message.trim()
    if (text.length === 0 || ownRunning.current) return
    setMessage("")
    ownRunning.current = true
    awaitingFollowerDone.current = true
    synced.current = false
    setLive({ items: [{ kind: "user", text }], running: true, own: true, status: "Sending…", stepText: -1 })
    try {
      const response = await Api.postJson(`${base}/prompt`, { message: text }, { headers: { accept: "text/event-stream" } })
      await Api.readEvents(response, (event) => apply(event, "own"))
    } catch (e) {
      const text = e instanceof Error ? e.message : String(e)
      setLive((current) => ({ ...current, items: [...current.items, { kind: "error", text }], status: `Error: ${text}` }))
      // refused before it started: the follower has no copy of it to wait for
      if (e instanceof Api.ApiError) awaitingFollowerDone.current = false
    } finally {
      ownRunning.current = false
      setLive((current) => ({ ...current, running: false, own: false }))
      // the follower's copy of this prompt ends with its Done; stop waiting for it after a while
      window.setTimeout(() => {
        if (!ownRunning.current) awaitingFollowerDone.current = false
      }, 3000)
      scheduleRefresh()
    }
  }

  const stop = async () => {
    try {
      await Api.postJson(`${base}/cancel`, {})
      setLive((current) => ({ ...current, status: "Stopping…" }))
    } catch (e) {
      setError(e instanceof Error ? e.message : String(e))
    }
  }

  const onKeyDown = (e: KeyboardEvent) => {
    if (e.key === "Enter" && !e.shiftKey && !e.isComposing) {
      e.preventDefault()
      void send()
    }
  }

  const busyElsewhere = lease?.holder !== null && lease?.holder !== undefined && !live.own
  // the server's totals, plus the steps that arrived live since it answered
  const u = usage === null ? undefined : (() => {
    const total = { ...usage.usage }
    for (const step of steps) {
      if (step.seq <= usage.last_seq) continue
      total.prompt_tokens += step.prompt_tokens
      total.completion_tokens += step.completion_tokens
      total.total_tokens += step.prompt_tokens + step.completion_tokens
      if (step.cache_read_tokens !== null) total.cache_read_tokens = (total.cache_read_tokens ?? 0) + step.cache_read_tokens
    }
    return total
  })()
  const painted = () => {
    performance.mark(`codetether:painted:${id}`)
    performance.measure(`codetether:open-to-paint:${id}`, `codetether:open:${id}`, `codetether:painted:${id}`)
    document.documentElement.dataset.transcriptPainted = id
  }

  return (
    <section class="session" aria-label="Session" data-session={id} data-connection={connection}>
      <header class="session-head">
        <div class="session-title">
          <h2>{session?.title ?? (session === null ? "Loading…" : "(untitled)")}</h2>
          <span class={`conn conn-${connection}`} title="Live events">{connection === "live" ? "live" : connection}</span>
        </div>
        <div class="session-meta">
          <code title="Session id">{id}</code>
          {session !== null && <span title={session.metadata.directory ?? ""}>{Format.shortPath(session.metadata.directory ?? null, 3)}</span>}
          {session?.metadata.model != null && <span>{session.metadata.model}</span>}
          {session !== null && <span>{partial ? "loading all messages…" : `${session.messages.length} messages`}</span>}
          {u !== undefined && <span>{`${Format.tokens(u.total_tokens)} tokens`}</span>}
          {usage !== null && <span title={usage.from_steps ? "sum of the steps" : `total priced at ${usage.model ?? "an unknown model"}`}>{Format.cost(usage.cost_usd)}</span>}
        </div>
        {busyElsewhere && lease?.message != null && (
          <div class="busy" role="status">
            <span>{`Busy: ${lease.message}`}</span>
            {lease.here && <button type="button" class="stop" onClick={() => void stop()}>Stop</button>}
          </div>
        )}
        {error !== null && <div class="error" role="alert">{error}</div>}
      </header>

      <details class="usage" open={showUsage} onToggle={(e) => setShowUsage((e.currentTarget as HTMLDetailsElement).open)}>
        <summary>
          {`Usage: ${steps.length} ${steps.length === 1 ? "step" : "steps"}`}
          {u !== undefined && ` · ${Format.tokens(u.prompt_tokens)} prompt · ${Format.tokens(u.completion_tokens)} completion`}
          {u?.cache_read_tokens != null && ` · ${Format.tokens(u.cache_read_tokens)} cache read`}
          {usage !== null && ` · ${Format.cost(usage.cost_usd)}`}
        </summary>
        <UsageChart steps={steps} onSelect={onFocus} />
      </details>

      {transcript === null
        ? <div class="transcript loading">{error === null ? "Loading the transcript…" : ""}</div>
        : <Transcript model={transcript} live={live.items} focusMessage={focusMessage} onPainted={painted} />}

      <div class={`status-line${live.status === "" && !live.running ? " idle" : ""}`} aria-live="polite">
        {live.running && <span class="spinner" aria-hidden="true" />}
        <span>{live.status}</span>
      </div>
      <form
        class="prompt"
        onSubmit={(e) => {
          e.preventDefault()
          void send()
        }}
      >
        <label for="message" class="visually-hidden">Message</label>
        <textarea
          id="message"
          name="message"
          rows={2}
          placeholder={busyElsewhere ? "The session is busy; you can send when it is free" : "Message (Enter sends, Shift+Enter starts a new line)"}
          value={message}
          onInput={(e) => setMessage((e.currentTarget as HTMLTextAreaElement).value)}
          onKeyDown={onKeyDown}
        />
        {live.own
          ? <button type="button" class="stop" onClick={() => void stop()}>Stop</button>
          : <button type="submit" class="send" disabled={message.trim().length === 0 || live.own}>Send</button>}
      </form>
    </section>
  )
}
