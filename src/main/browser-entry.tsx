/** The page's entry: mounts the app with the browser room's services. */
import { render } from "solid-js/web"
import { App } from "../web/App.js"
import { Services } from "../web/services.js"
import "../web/styles.css"
import { browserServices } from "./browser.js"

const root = document.getElementById("app")
if (root === null) throw new Error("index.html has no #app element")
render(
  () => (
    <Services.Provider value={browserServices}>
      <App />
    </Services.Provider>
  ),
  root
)
