/**
 * A TCP proxy on 127.0.0.1 (random port) in front of another port, whose
 * connections a test can cut: what a database connection lost mid-prompt
 * looks like to the client, without stopping the database.
 */
import * as NodeNet from "node:net"
import { Effect } from "effect"
import type * as Scope from "effect/Scope"

export interface TcpProxy {
  readonly port: number
  /** Destroys every open connection and refuses new ones until {@link restore}. */
  readonly cut: () => void
  /** Accepts (and forwards) connections again. */
  readonly restore: () => void
  /** How many connections were accepted so far. */
  readonly accepted: () => number
}

export const make = (target: { readonly host: string; readonly port: number }): Effect.Effect<TcpProxy, never, Scope.Scope> =>
  Effect.acquireRelease(
    Effect.promise(() =>
      new Promise<{ readonly proxy: TcpProxy; readonly server: NodeNet.Server; readonly sockets: Set<NodeNet.Socket> }>((resolve) => {
        const sockets = new Set<NodeNet.Socket>()
        let refusing = false
        let accepted = 0
        const server = NodeNet.createServer((client) => {
          if (refusing) {
            client.destroy()
            return
          }
          accepted++
          const upstream = NodeNet.connect(target.port, target.host)
          for (const socket of [client, upstream]) {
            sockets.add(socket)
            socket.on("close", () => sockets.delete(socket))
            socket.on("error", () => {
              client.destroy()
              upstream.destroy()
            })
          }
          client.pipe(upstream)
          upstream.pipe(client)
        })
        server.listen(0, "127.0.0.1", () => {
          const port = (server.address() as NodeNet.AddressInfo).port
          resolve({
            server,
            sockets,
            proxy: {
              port,
              cut: () => {
                refusing = true
                for (const socket of sockets) socket.destroy()
              },
              restore: () => {
                refusing = false
              },
              accepted: () => accepted
            }
          })
        })
      })
    ),
    ({ server, sockets }) =>
      Effect.promise(() =>
        new Promise<void>((resolve) => {
          for (const socket of sockets) socket.destroy()
          server.close(() => resolve())
        })
      )
  ).pipe(Effect.map(({ proxy }) => proxy))
