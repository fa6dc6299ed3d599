/** The page's entry: mounts the app. */
import { render } from "solid-js/web"
import { App } from "./App.js"
import "./styles.css"

const root = document.getElementById("app")
if (root === null) throw new Error("index.html has no #app element")
render(() => <App />, root)
