/**
 * The page: asks for the server's token once (kept in sessionStorage for
 * this tab), then shows the sessions and the one opened (`#/s/<id>`, or
 * `#/s/<id>/m/<message index>` for a search hit).
 */
import { useEffect, useState } from "preact/hooks"
import * as Api from "./api.ts"
import { SessionList } from "./SessionList.tsx"
import { SessionView } from "./SessionView.tsx"
import type { ServerInfo } from "./wire.ts"

interface Route {
  readonly id: string | undefined
  readonly message: number | undefined
}

const parseRoute = (hash: string): Route => {
  const match = /^#\/s\/([^/]+)(?:\/m\/(\d+))?$/.exec(hash)
  if (match === null) return { id: undefined, message: undefined }
  let id: string
  try {
    id = decodeURIComponent(match[1]!)
  } catch {
    return { id: undefined, message: undefined }
  }
  return { id, message: match[2] === undefined ? undefined : Number(match[2]) }
}

const href = (id: string, message?: number) =>
  `#/s/${encodeURIComponent(id)}${message === undefined ? "" : `/m/${message}`}`

function TokenForm({ onToken, problem }: { readonly onToken: (token: string) => void; readonly problem: string | null }) {
  const [value, setValue] = useState("")
  return (
    <main class="gate">
      <form
        class="token-form"
        onSubmit={(e) => {
          e.preventDefault()
          if (value.trim() !== "") onToken(value.trim())
        }}
      >
        <h1>codetether</h1>
        <p>
          This server needs its token. It is in <code>.codetether-agent/server-token</code> (or{" "}
          <code>$CODETETHER_SERVER_TOKEN</code>), and in the link <code>codetether serve</code> prints on a terminal.
          The page keeps it for this tab only.
        </p>
        <label for="token">Token</label>
        <input id="token" type="password" autocomplete="off" value={value} onInput={(e) => setValue((e.currentTarget as HTMLInputElement).value)} />
        {problem !== null && <p class="error" role="alert">{problem}</p>}
        <button type="submit" disabled={value.trim() === ""}>Open</button>
      </form>
    </main>
  )
}

export function App() {
  const [authorized, setAuthorized] = useState<boolean | null>(null)
  const [problem, setProblem] = useState<string | null>(null)
  const [info, setInfo] = useState<ServerInfo | null>(null)
  const [route, setRoute] = useState<Route>(() => parseRoute(window.location.hash))
  const [version, setVersion] = useState(0)

  const check = async () => {
    if (Api.token() === null) {
      setAuthorized(false)
      return
    }
    try {
      setInfo(await Api.getJson<ServerInfo>("/api/server"))
      setAuthorized(true)
      setProblem(null)
    } catch (e) {
      setAuthorized(false)
      if (e instanceof Api.ApiError && e.status === 401) {
        Api.forgetToken()
        setProblem("The server refused this token.")
      } else {
        setProblem(e instanceof Error ? e.message : String(e))
      }
    }
  }

  useEffect(() => {
    void check()
    const off = Api.onUnauthorized(() => {
      Api.forgetToken()
      setProblem("The server refused the token (it may have changed). Enter it again.")
      setAuthorized(false)
    })
    const onHash = () => setRoute(parseRoute(window.location.hash))
    window.addEventListener("hashchange", onHash)
    return () => {
      off()
      window.removeEventListener("hashchange", onHash)
    }
  }, [])

  if (authorized === null) return <main class="gate"><p>Connecting…</p></main>
  if (!authorized) {
    return (
      <TokenForm
        problem={problem}
        onToken={(token) => {
          Api.setToken(token)
          void check()
        }}
      />
    )
  }

  return (
    <div class="app">
      <header class="bar">
        <a class="brand" href="#/">codetether</a>
        {info !== null && (
          <>
            <span class="bar-dir" title={info.directory}>{info.directory}</span>
            <span class="bar-meta">{`v${info.version} · ${info.prompts.running}/${info.prompts.max} prompts running`}</span>
          </>
        )}
        <button
          type="button"
          class="link bar-forget"
          onClick={() => {
            Api.forgetToken()
            setProblem(null)
            setAuthorized(false)
          }}
        >
          Forget token
        </button>
      </header>
      <div class="layout">
        <SessionList
          selected={route.id}
          version={version}
          onOpen={(id, message) => {
            window.location.hash = href(id, message)
          }}
        />
        {route.id === undefined
          ? <section class="session placeholder"><p class="empty">Open a session from the list.</p></section>
          : (
            <SessionView
              key={route.id}
              id={route.id}
              focusMessage={route.message}
              onFocus={(message) => {
                window.location.hash = href(route.id!, message)
              }}
              onChanged={() => {
                setVersion((v) => v + 1)
                void Api.getJson<ServerInfo>("/api/server").then(setInfo).catch(() => undefined)
              }}
            />
          )}
      </div>
    </div>
  )
}
