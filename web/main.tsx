/**
 * The web page of `codetether serve`. The token of a `#token=...` link is
 * taken and removed from the address before anything else runs.
 */
import { render } from "preact"
import { adoptFragmentToken } from "./api.ts"
import { App } from "./App.tsx"
import "highlight.js/styles/github.css"
import "./styles.css"

adoptFragmentToken()
render(<App />, document.getElementById("app")!)
