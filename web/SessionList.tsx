/**
 * The sessions: newest first, paged, filtered by directory, with tokens and
 * cost; or, with a search text, the messages where it was said (grouped by
 * session; a hit opens its session at that message).
 */
import { useEffect, useRef, useState } from "preact/hooks"
import * as Api from "./api.ts"
import * as Format from "./format.ts"
import type { SearchHit, SessionRow } from "./wire.ts"

const PAGE = 50

interface Props {
  readonly selected: string | undefined
  /** Changes when the list should be read again (a prompt ended). */
  readonly version: number
  readonly onOpen: (id: string, messageIndex?: number) => void
}

interface Group {
  readonly sessionId: string
  readonly title: string | null
  readonly hits: ReadonlyArray<SearchHit>
}

const groupHits = (hits: ReadonlyArray<SearchHit>): ReadonlyArray<Group> => {
  const groups: Array<{ sessionId: string; title: string | null; hits: Array<SearchHit> }> = []
  for (const hit of hits) {
    const last = groups[groups.length - 1]
    if (last !== undefined && last.sessionId === hit.session_id) last.hits.push(hit)
    else groups.push({ sessionId: hit.session_id, title: hit.title, hits: [hit] })
  }
  return groups
}

/** `snippet` with the occurrences of a plain-text query marked. */
const marked = (snippet: string, query: string) => {
  if (query === "") return snippet
  const parts = snippet.split(query)
  return parts.flatMap((part, i) => (i === 0 ? [part] : [<mark key={i}>{query}</mark>, part]))
}

export function SessionList({ onOpen, selected, version }: Props) {
  const [rows, setRows] = useState<ReadonlyArray<SessionRow> | null>(null)
  const [offset, setOffset] = useState(0)
  const [directory, setDirectory] = useState("")
  const [query, setQuery] = useState("")
  const [regex, setRegex] = useState(false)
  const [hits, setHits] = useState<ReadonlyArray<SearchHit> | null>(null)
  const [error, setError] = useState<string | null>(null)
  const [loading, setLoading] = useState(false)
  const searchTimer = useRef<number | undefined>(undefined)
  const pending = useRef<AbortController | undefined>(undefined)

  const dirParam = directory.trim() === "" ? "" : `&directory=${encodeURIComponent(directory.trim())}`

  useEffect(() => {
    const controller = new AbortController()
    setError(null)
    Api.getJson<ReadonlyArray<SessionRow>>(`/api/session?usage=true&offset=${offset}&limit=${PAGE}${dirParam}`, controller.signal)
      .then(setRows)
      .catch((e) => controller.signal.aborted || setError(e instanceof Error ? e.message : String(e)))
    return () => controller.abort()
  }, [offset, dirParam, version])

  const search = (text: string, asRegex: boolean) => {
    pending.current?.abort()
    if (text.trim() === "") {
      setHits(null)
      setLoading(false)
      return
    }
    const controller = new AbortController()
    pending.current = controller
    setLoading(true)
    setError(null)
    Api.getJson<ReadonlyArray<SearchHit>>(
      `/api/search?q=${encodeURIComponent(text)}${asRegex ? "&regex=true" : ""}&limit=200${dirParam}`,
      controller.signal
    )
      .then((found) => {
        setHits(found)
        setLoading(false)
      })
      .catch((e) => {
        if (controller.signal.aborted) return
        setLoading(false)
        setHits([])
        setError(e instanceof Error ? e.message : String(e))
      })
  }

  useEffect(() => {
    clearTimeout(searchTimer.current)
    searchTimer.current = window.setTimeout(() => search(query, regex), 300)
    return () => clearTimeout(searchTimer.current)
  }, [query, regex, dirParam])

  return (
    <aside class="sessions" aria-label="Sessions">
      <form class="filters" onSubmit={(e) => e.preventDefault()}>
        <label>
          <span class="visually-hidden">Search</span>
          <input
            type="search"
            placeholder="Search messages…"
            value={query}
            onInput={(e) => setQuery((e.currentTarget as HTMLInputElement).value)}
          />
        </label>
        <label class="check">
          <input type="checkbox" checked={regex} onChange={(e) => setRegex((e.currentTarget as HTMLInputElement).checked)} />
          regex
        </label>
        <label>
          <span class="visually-hidden">Directory</span>
          <input
            type="text"
            placeholder="Directory (all)"
            value={directory}
            onChange={(e) => {
              setDirectory((e.currentTarget as HTMLInputElement).value)
              setOffset(0)
            }}
          />
        </label>
      </form>
      {error !== null && <div class="error" role="alert">{error}</div>}
      {hits !== null
        ? (
          <div class="list" role="list" aria-label="Search results">
            {loading && <p class="empty">Searching…</p>}
            {!loading && hits.length === 0 && <p class="empty">No message mentions it.</p>}
            {groupHits(hits).map((group) => (
              <div class="hit-group" role="listitem" key={group.sessionId}>
                <button type="button" class="item-title link" onClick={() => onOpen(group.sessionId)}>
                  {group.title ?? "(untitled)"}
                </button>
                {group.hits.map((hit) => (
                  <button
                    type="button"
                    class="hit"
                    key={hit.message_index}
                    onClick={() => onOpen(hit.session_id, hit.message_index)}
                  >
                    <span class="hit-role">{`#${hit.message_index} ${hit.role}`}</span>
                    <span class="hit-snippet">{regex ? hit.snippet : marked(hit.snippet, query)}</span>
                  </button>
                ))}
              </div>
            ))}
          </div>
        )
        : (
          <>
            <ul class="list" aria-label="Session list">
              {rows === null && <li class="empty">Loading…</li>}
              {rows !== null && rows.length === 0 && <li class="empty">No sessions{directory === "" ? "" : " in this directory"}.</li>}
              {rows?.map((row) => (
                <li key={row.id}>
                  <a
                    class={`item${row.id === selected ? " selected" : ""}`}
                    href={`#/s/${encodeURIComponent(row.id)}`}
                    aria-current={row.id === selected ? "page" : undefined}
                  >
                    <span class="item-title">{row.title ?? "(untitled)"}</span>
                    <span class="item-dir" title={row.directory ?? ""}>{Format.shortPath(row.directory ?? null)}</span>
                    <span class="item-meta">
                      <time dateTime={row.updated_at} title={Format.when(row.updated_at)}>{Format.ago(row.updated_at)}</time>
                      <span>{`${row.message_count} msg`}</span>
                      {row.usage != null && <span>{`${Format.tokens(row.usage.total_tokens)} tok`}</span>}
                      <span>{Format.cost(row.cost_usd)}</span>
                    </span>
                  </a>
                </li>
              ))}
            </ul>
            <nav class="pager" aria-label="Pages">
              <button type="button" disabled={offset === 0} onClick={() => setOffset(Math.max(0, offset - PAGE))}>Newer</button>
              <span>{rows === null || rows.length === 0 ? "" : `${offset + 1}–${offset + rows.length}`}</span>
              <button type="button" disabled={rows === null || rows.length < PAGE} onClick={() => setOffset(offset + PAGE)}>Older</button>
            </nav>
          </>
        )}
    </aside>
  )
}
