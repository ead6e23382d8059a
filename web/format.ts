/** Numbers, sizes, costs and times as the page shows them. */

/** `950`, `12.3k`, `4.5M` tokens. */
export const tokens = (n: number): string => {
  if (n < 1000) return String(n)
  if (n < 1_000_000) return `${(n / 1000).toFixed(n < 10_000 ? 1 : 0)}k`
  return `${(n / 1_000_000).toFixed(n < 10_000_000 ? 2 : 1)}M`
}

/** `$0.0123`, `$1.23`; `?` when unknown (a model without a price is never $0). */
export const cost = (usd: number | null | undefined): string => {
  if (usd === null || usd === undefined) return "?"
  if (usd === 0) return "$0"
  if (usd < 0.01) return `$${usd.toFixed(4)}`
  if (usd < 100) return `$${usd.toFixed(2)}`
  return `$${Math.round(usd).toLocaleString("en-US")}`
}

/** UTF-8 size of a text: `512 B`, `12.3 KB`, `4.5 MB`. */
export const size = (text: string): string => {
  const bytes = new TextEncoder().encode(text).length
  if (bytes < 1024) return `${bytes} B`
  if (bytes < 1024 * 1024) return `${(bytes / 1024).toFixed(1)} KB`
  return `${(bytes / 1024 / 1024).toFixed(1)} MB`
}

/** `850 ms`, `3.2 s`, `2 min 5 s`. */
export const duration = (ms: number): string => {
  if (ms < 1000) return `${ms} ms`
  if (ms < 60_000) return `${(ms / 1000).toFixed(1)} s`
  return `${Math.floor(ms / 60_000)} min ${Math.round((ms % 60_000) / 1000)} s`
}

/** `just now`, `5 min ago`, `3 h ago`, `2 days ago`, else the date. */
export const ago = (iso: string, now = Date.now()): string => {
  const at = Date.parse(iso)
  if (Number.isNaN(at)) return iso
  const s = Math.max(0, Math.round((now - at) / 1000))
  if (s < 45) return "just now"
  if (s < 3600) return `${Math.max(1, Math.round(s / 60))} min ago`
  if (s < 86_400) return `${Math.round(s / 3600)} h ago`
  if (s < 7 * 86_400) return `${Math.round(s / 86_400)} days ago`
  return new Date(at).toISOString().slice(0, 10)
}

/** The date and time of an RFC 3339 timestamp in the reader's zone. */
export const when = (iso: string): string => {
  const at = Date.parse(iso)
  return Number.isNaN(at) ? iso : new Date(at).toLocaleString()
}

/** The last `parts` components of a path, with `…/` before when cut. */
export const shortPath = (path: string | null, parts = 2): string => {
  if (path === null) return ""
  const pieces = path.split("/").filter((p) => p.length > 0)
  return pieces.length <= parts ? path : `…/${pieces.slice(-parts).join("/")}`
}
