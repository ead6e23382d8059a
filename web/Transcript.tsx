/**
 * The transcript: a virtualised list of rows (messages rendered as Markdown,
 * thinking collapsed, tool calls as cards, compaction summaries marked),
 * followed by the live rows of a running prompt. Stays at the end while the
 * reader is there and new rows arrive.
 */
import { useEffect, useMemo, useRef, useState } from "preact/hooks"
import * as Format from "./format.ts"
import * as Markdown from "./markdown.ts"
import { callSummary, prettyArguments, type LiveItem, type Row, type ToolCard, type Transcript as Model } from "./model.ts"
import { useVirtualList } from "./virtual.ts"
import type { ContentPart, Message } from "./wire.ts"

/** Lines of a tool result shown while its card is collapsed. */
const PREVIEW_LINES = 6
/** Characters of a tool output shown expanded before "Show all". */
const EXPANDED_CHARS = 200_000

interface Props {
  readonly model: Model
  readonly live: ReadonlyArray<LiveItem>
  /** Scroll to the row of this message (a search hit) when set. */
  readonly focusMessage: number | undefined
  /** Called once the first rows are on screen. */
  readonly onPainted: () => void
}

const estimate = (row: Row): number => {
  switch (row.kind) {
    case "message": {
      let chars = 0
      for (const part of row.message.content) if (part.type === "text" || part.type === "thinking") chars += part.text.length
      return Math.min(56 + Math.ceil(chars / 90) * 22 + row.tools.length * 96, 900)
    }
    case "results":
      return 96
    case "compaction":
      return 72
    case "live":
      return 80
  }
}

export function Transcript({ focusMessage, live, model, onPainted }: Props) {
  const scrollRef = useRef<HTMLDivElement>(null)
  const html = useRef(new Map<string, string>())
  const [expanded, setExpanded] = useState<ReadonlySet<string>>(new Set())
  const [showAll, setShowAll] = useState<ReadonlySet<string>>(new Set())
  const painted = useRef(false)
  const [highlighted, setHighlighted] = useState<number | undefined>(undefined)

  // a new transcript: drop the rendered HTML of the previous one
  useMemo(() => html.current.clear(), [model])

  const rows: ReadonlyArray<Row> = useMemo(
    () => (live.length === 0 ? model.rows : [...model.rows, ...live.map((item, i): Row => ({ kind: "live", key: `live${i}`, item }))]),
    [model, live]
  )

  const list = useVirtualList({
    count: rows.length,
    getScrollElement: () => scrollRef.current,
    estimateSize: (i) => estimate(rows[i]!),
    getItemKey: (i) => rows[i]!.key,
    overscan: 6,
    anchorTo: "end",
    followOnAppend: true,
    paddingStart: 12,
    paddingEnd: 24
  })

  // open at the end (the latest messages), or at the message a search hit (or a usage bar) names;
  // a newer copy of the transcript (a prompt ended) leaves the reader where they are
  const positioned = useRef<{ readonly model: Model; readonly focus: number | undefined } | undefined>(undefined)
  useEffect(() => {
    if (model.rows.length === 0) return
    const before = positioned.current
    positioned.current = { model, focus: focusMessage }
    const first = before === undefined
    if (!first && before.model.partial && !model.partial && focusMessage === undefined) {
      // the whole session replaced its last messages: the reader stays on the same message (counted from the end)
      const top = list.getVirtualItems().find((v) => v.end > (list.scrollOffset ?? 0))
      const atEnd = list.isAtEnd(48)
      const fromEnd = top === undefined ? 0 : before.model.rows.length - top.index
      if (atEnd || top === undefined) list.scrollToIndex(rows.length - 1, { align: "end" })
      else list.scrollToIndex(Math.max(0, rows.length - fromEnd), { align: "start" })
      return
    }
    if (!first && before.focus === focusMessage) return
    const target = focusMessage === undefined ? -1 : model.rowOfMessage[focusMessage] ?? -1
    if (target >= 0) {
      list.scrollToIndex(target, { align: "center" })
      setHighlighted(target)
    } else if (first) {
      list.scrollToIndex(rows.length - 1, { align: "end" })
    }
  }, [model, focusMessage])

  // the first frame with the transcript on screen (its rows, or "No messages yet")
  useEffect(() => {
    if (painted.current) return
    painted.current = true
    requestAnimationFrame(() => onPainted())
  })

  const markdown = (key: string, text: string, cache = true, breaks = false): string => {
    if (!cache) return Markdown.render(text, breaks)
    let out = html.current.get(key)
    if (out === undefined) html.current.set(key, out = Markdown.render(text, breaks))
    return out
  }

  const toggle = (set: ReadonlySet<string>, update: (next: ReadonlySet<string>) => void, key: string) => {
    const next = new Set(set)
    if (!next.delete(key)) next.add(key)
    update(next)
  }

  const renderTool = (card: ToolCard, key: string) => {
    const open = expanded.has(key)
    const status = card.running === true ? "running" : card.success === false ? "failed" : card.success === true ? "ok" : card.result === undefined ? "pending" : "done"
    const lines = card.result === undefined ? [] : card.result.split("\n")
    const meta = [
      card.durationMs === undefined ? undefined : Format.duration(card.durationMs),
      card.result === undefined ? undefined : `${lines.length} ${lines.length === 1 ? "line" : "lines"}`,
      card.result === undefined ? undefined : Format.size(card.result)
    ].filter((m) => m !== undefined).join(" · ")
    const full = showAll.has(key)
    const output = card.result === undefined ? "" : full || card.result.length <= EXPANDED_CHARS ? card.result : card.result.slice(0, EXPANDED_CHARS)
    return (
      <div class={`tool tool-${status}`} data-tool={card.name} key={key}>
        <button
          type="button"
          class="tool-head"
          aria-expanded={open}
          onClick={() => toggle(expanded, setExpanded, key)}
        >
          <span class="tool-chevron" aria-hidden="true">{open ? "▾" : "▸"}</span>
          <span class="tool-name">{card.name}</span>
          <code class="tool-summary">{callSummary(card.arguments)}</code>
          <span class={`badge badge-${status}`}>
            {status === "running" ? "running…" : status === "failed" ? "failed" : status === "ok" ? "ok" : status === "pending" ? "no result" : "done"}
          </span>
          {meta.length > 0 && <span class="tool-meta">{meta}</span>}
        </button>
        {!open && card.result !== undefined && card.result.length > 0 && (
          <pre class="tool-preview">
            {lines.slice(0, PREVIEW_LINES).map((l) => (l.length > 300 ? `${l.slice(0, 300)}…` : l)).join("\n")}
            {lines.length > PREVIEW_LINES && <span class="more">{`\n… ${lines.length - PREVIEW_LINES} more lines`}</span>}
          </pre>
        )}
        {open && (
          <div class="tool-body">
            <div class="tool-label">Arguments</div>
            <pre class="code hljs" dangerouslySetInnerHTML={{ __html: Markdown.highlight(prettyArguments(card.arguments), "json") }} />
            {card.result !== undefined && (
              <>
                <div class="tool-label">Output</div>
                <pre class="tool-output">{output}</pre>
                {output.length < card.result.length && (
                  <button type="button" class="link" onClick={() => toggle(showAll, setShowAll, key)}>
                    {`Show all ${Format.size(card.result)}`}
                  </button>
                )}
              </>
            )}
          </div>
        )}
      </div>
    )
  }

  const renderPart = (part: ContentPart, key: string, tools: ReadonlyArray<ToolCard>, user: boolean) => {
    switch (part.type) {
      case "text":
        // what a person typed keeps its line breaks
        return <div class="md" key={key} dangerouslySetInnerHTML={{ __html: markdown(key, part.text, true, user) }} />
      case "thinking":
        return (
          <details class="thinking" key={key}>
            <summary>Thinking</summary>
            <div class="md" dangerouslySetInnerHTML={{ __html: markdown(key, part.text) }} />
          </details>
        )
      case "image":
        return part.url.startsWith("data:image/")
          ? <img class="attachment" key={key} src={part.url} alt="attached image" />
          : <div class="file" key={key}>{`image ${part.url}`}</div>
      case "file":
        return <div class="file" key={key}>{`file ${part.path}`}</div>
      case "tool_call": {
        const card = tools.find((t) => t.id === part.id)
        return card === undefined ? null : renderTool(card, `call:${part.id}`)
      }
      case "tool_result":
        return <pre class="tool-output" key={key}>{part.content}</pre>
    }
  }

  const roleLabel = (message: Message) =>
    message.role === "user" ? "You" : message.role === "assistant" ? "Assistant" : message.role === "system" ? "System" : "Tool"

  const renderRow = (row: Row) => {
    switch (row.kind) {
      case "message":
        return (
          <article class={`msg msg-${row.message.role}`} data-message={model.partial ? undefined : row.index}>
            <header class="msg-head">
              <span class="role">{roleLabel(row.message)}</span>
              {!model.partial && <span class="index">{`#${row.index}`}</span>}
            </header>
            {row.message.content.map((part, i) => renderPart(part, `${row.key}:${i}`, row.tools, row.message.role === "user"))}
          </article>
        )
      case "results":
        return (
          <article class="msg msg-tool" data-message={model.partial ? undefined : row.index}>
            <header class="msg-head">
              <span class="role">Tool result</span>
              {!model.partial && <span class="index">{`#${row.index}`}</span>}
            </header>
            {row.results.map((r, i) => renderTool({ id: r.callId, name: "result", arguments: "{}", result: r.content, success: undefined, durationMs: undefined }, `${row.key}:${i}`))}
          </article>
        )
      case "compaction":
        return (
          <article class="msg msg-compaction" data-message={model.partial ? undefined : row.index}>
            <header class="msg-head">
              <span class="badge badge-compaction">{row.marker === "compression" ? "Context compacted" : "Context truncated"}</span>
              {!model.partial && <span class="index">{`#${row.index}`}</span>}
            </header>
            <details>
              <summary>{row.marker === "compression" ? "Summary of the earlier conversation" : "Older messages were dropped"}</summary>
              <div class="md" dangerouslySetInnerHTML={{ __html: markdown(row.key, row.text) }} />
            </details>
          </article>
        )
      case "live":
        return renderLive(row.item, row.key)
    }
  }

  const renderLive = (item: LiveItem, key: string) => {
    switch (item.kind) {
      case "user":
        return (
          <article class="msg msg-user live">
            <header class="msg-head"><span class="role">You</span></header>
            <div class="md" dangerouslySetInnerHTML={{ __html: markdown(key, item.text, false, true) }} />
          </article>
        )
      case "text":
        return (
          <article class={`msg msg-assistant live${item.done ? "" : " streaming"}`}>
            <header class="msg-head"><span class="role">Assistant</span></header>
            <div class="md answer" dangerouslySetInnerHTML={{ __html: markdown(key, item.text, false) }} />
          </article>
        )
      case "thinking":
        return (
          <article class="msg msg-assistant live">
            <details class="thinking">
              <summary>Thinking</summary>
              <div class="md" dangerouslySetInnerHTML={{ __html: markdown(key, item.text, false) }} />
            </details>
          </article>
        )
      case "tool":
        return <article class="msg msg-assistant live">{renderTool(item.card, `live:${key}`)}</article>
      case "error":
        return <div class="msg msg-error live" role="alert">{item.text}</div>
    }
  }

  const items = list.getVirtualItems()
  return (
    <div class="transcript" ref={scrollRef} data-rows={rows.length}>
      {rows.length === 0 && <p class="empty">No messages yet.</p>}
      <div class="transcript-inner" style={{ height: `${list.getTotalSize()}px` }}>
        {items.map((v) => {
          const row = rows[v.index]!
          return (
            <div
              key={v.key}
              class={`row${highlighted === v.index ? " focused" : ""}`}
              data-index={v.index}
              ref={(el) => list.measureElement(el)}
              style={{ transform: `translateY(${v.start}px)` }}
            >
              {renderRow(row)}
            </div>
          )
        })}
      </div>
    </div>
  )
}
