/// The style and the script both dashboards share: the layout (one column on a phone, a grid
/// on a wider screen), tables, the SVG charts, and the reader of the server's event stream.
package enum DashboardAssets {
    package static let style = """
        :root{--bg:#f6f7f9;--card:#fff;--fg:#1b1f24;--muted:#5d6670;--line:#dde1e6;--accent:#1f6feb;
        --ok:#1a7f37;--warn:#9a6700;--bad:#cf222e;font-family:system-ui,-apple-system,"Segoe UI",Roboto,sans-serif}
        @media (prefers-color-scheme:dark){:root{--bg:#0d1117;--card:#161b22;--fg:#e6edf3;--muted:#8d96a0;
        --line:#30363d;--accent:#58a6ff;--ok:#3fb950;--warn:#d29922;--bad:#f85149}}
        *{box-sizing:border-box}
        body{margin:0;background:var(--bg);color:var(--fg);font-size:15px;line-height:1.4}
        header{display:flex;flex-wrap:wrap;gap:.5rem 1rem;align-items:center;padding:.75rem 1rem;
        background:var(--card);border-bottom:1px solid var(--line);position:sticky;top:0;z-index:1}
        header h1{font-size:1.1rem;margin:0;flex:1 1 auto}
        header form{display:flex;gap:.4rem;flex-wrap:wrap}
        input,button{font:inherit;padding:.3rem .5rem;border:1px solid var(--line);border-radius:6px;
        background:var(--bg);color:var(--fg)}
        button{cursor:pointer}
        main{display:grid;gap:1rem;padding:1rem;grid-template-columns:repeat(auto-fit,minmax(min(100%,26rem),1fr))}
        section{background:var(--card);border:1px solid var(--line);border-radius:10px;padding:.75rem 1rem;min-width:0}
        section.wide{grid-column:1/-1}
        h2{font-size:1rem;margin:.1rem 0 .6rem}
        .scroll{overflow-x:auto}
        table{border-collapse:collapse;width:100%;font-variant-numeric:tabular-nums}
        th,td{text-align:left;padding:.3rem .5rem;border-bottom:1px solid var(--line);white-space:nowrap}
        th{color:var(--muted);font-weight:600;font-size:.85rem}
        td.num,th.num{text-align:right}
        code,.mono{font-family:ui-monospace,SFMono-Regular,Menlo,monospace;font-size:.85em}
        .muted{color:var(--muted)}.ok{color:var(--ok)}.warn{color:var(--warn)}.bad{color:var(--bad)}
        .pill{display:inline-block;padding:.05rem .5rem;border-radius:999px;border:1px solid currentColor;font-size:.8rem}
        .note{color:var(--muted);font-size:.85rem;margin:.4rem 0 0}
        .kv{display:grid;grid-template-columns:max-content 1fr;gap:.2rem .8rem}
        .kv dt{color:var(--muted)}.kv dd{margin:0;overflow-wrap:anywhere}
        svg.spark{width:8rem;height:1.6rem;vertical-align:middle}
        svg.chart{width:100%;height:9rem}
        svg polyline{fill:none;stroke-width:1.5;vector-effect:non-scaling-stroke}
        .s1{stroke:var(--accent)}.s2{stroke:var(--warn)}.s3{stroke:var(--ok)}
        .s-accent{color:var(--accent)}.s-warn{color:var(--warn)}.s-ok{color:var(--ok)}
        tr.fresh td{animation:fresh 2s ease-out}
        @keyframes fresh{from{background:color-mix(in srgb,var(--accent) 25%,transparent)}to{background:transparent}}
        @media (max-width:600px){main{padding:.5rem;gap:.5rem}section{padding:.5rem}th,td{padding:.25rem .35rem}}
        """

    package static let script = #"""
        "use strict";
        const $ = (selector, root = document) => root.querySelector(selector);
        /** An element with attributes and children (strings become text: data never becomes markup). */
        function el(tag, attributes = {}, ...children) {
          const node = document.createElement(tag);
          for (const [key, value] of Object.entries(attributes)) {
            if (value !== undefined && value !== null) node.setAttribute(key, value);
          }
          for (const child of children) {
            if (child !== undefined && child !== null) node.append(child instanceof Node ? child : String(child));
          }
          return node;
        }
        function short(hex) { return hex ? hex.slice(0, 10) + "…" : "–"; }
        function clock(ms) { return ms === undefined || ms === null ? "–" : new Date(ms).toLocaleTimeString(); }
        function fixed(value, digits) { return typeof value === "number" ? value.toFixed(digits) : "–"; }
        function fill(tbody, rows, empty, columns) {
          tbody.replaceChildren(...rows);
          if (rows.length === 0) tbody.append(el("tr", {}, el("td", {colspan: columns, class: "muted"}, empty)));
        }
        /** An SVG with one polyline per series of numbers, each scaled to the box, or all to `range` ([low, high]). */
        function chart(className, series, range = null, width = 100, height = 30) {
          const ns = "http://www.w3.org/2000/svg";
          const svg = document.createElementNS(ns, "svg");
          svg.setAttribute("class", className);
          svg.setAttribute("viewBox", `0 0 ${width} ${height}`);
          svg.setAttribute("preserveAspectRatio", "none");
          for (const [index, values] of series.entries()) {
            if (values.length === 0) continue;
            const low = range ? range[0] : Math.min(...values), high = range ? range[1] : Math.max(...values);
            const span = high - low || 1;
            const step = values.length > 1 ? width / (values.length - 1) : 0;
            const points = values.map((v, i) => `${(i * step).toFixed(2)},${(height - 1 - ((v - low) / span) * (height - 2)).toFixed(2)}`);
            const line = document.createElementNS(ns, "polyline");
            line.setAttribute("class", "s" + (index + 1));
            line.setAttribute("points", points.join(" "));
            svg.append(line);
          }
          return svg;
        }
        const token = {
          get() { return sessionStorage.getItem("gridledger.token") || ""; },
          set(value) { value ? sessionStorage.setItem("gridledger.token", value) : sessionStorage.removeItem("gridledger.token"); },
          headers() { const t = this.get(); return t ? {Authorization: "Bearer " + t} : {}; },
        };
        /** GET a JSON route of this server, with the operator token when one is set. */
        async function getJSON(path) {
          const response = await fetch(path, {headers: Object.assign({Accept: "application/json"}, token.headers()), cache: "no-store"});
          if (!response.ok) {
            let message = response.status + " " + response.statusText;
            try { const body = await response.json(); message = body.error || body.message || message; } catch (_) {}
            const error = new Error(message);
            error.status = response.status;
            throw error;
          }
          return response.json();
        }
        /**
         * Follows GET /v1/events through fetch() rather than EventSource, which cannot send the
         * Authorization header (a token never goes into a URL). Reconnects with backoff and
         * sends Last-Event-ID, so the server resumes after the last event it sent.
         */
        class EventStream {
          constructor(onEvent, onState) { this.onEvent = onEvent; this.onState = onState; this.lastID = null; this.controller = null; }
          start() { this.run(); }
          restart() { this.lastID = null; if (this.controller) this.controller.abort(); }
          async run() {
            let delay = 1000;
            for (;;) {
              this.controller = new AbortController();
              try {
                const headers = Object.assign({Accept: "text/event-stream"}, token.headers());
                if (this.lastID !== null) headers["Last-Event-ID"] = this.lastID;
                const response = await fetch("/v1/events", {headers, cache: "no-store", signal: this.controller.signal});
                if (!response.ok) {
                  let message = response.status + " " + response.statusText;
                  try { const body = await response.json(); message = body.error || body.message || message; } catch (_) {}
                  this.onState("error", message);
                } else {
                  this.onState("live");
                  delay = 1000;
                  await this.read(response.body.getReader());
                  this.onState("closed");
                }
              } catch (error) {
                this.onState(error.name === "AbortError" ? "restart" : "closed", String(error.message || error));
                if (error.name === "AbortError") { delay = 0; }
              }
              await new Promise((resolve) => setTimeout(resolve, delay));
              delay = Math.min(Math.max(delay * 2, 1000), 30000);
            }
          }
          async read(reader) {
            const decoder = new TextDecoder();
            let buffer = "";
            for (;;) {
              const {value, done} = await reader.read();
              if (done) return;
              buffer += decoder.decode(value, {stream: true}).replace(/\r\n?/g, "\n");
              let end;
              while ((end = buffer.indexOf("\n\n")) >= 0) {
                const block = buffer.slice(0, end);
                buffer = buffer.slice(end + 2);
                let name = "message", data = [], id = null;
                for (const line of block.split("\n")) {
                  if (line === "" || line.startsWith(":")) continue;
                  const colon = line.indexOf(":");
                  const field = colon < 0 ? line : line.slice(0, colon);
                  const text = colon < 0 ? "" : line.slice(colon + 1).replace(/^ /, "");
                  if (field === "event") name = text;
                  else if (field === "data") data.push(text);
                  else if (field === "id") id = text;
                }
                if (id !== null) this.lastID = id;
                if (data.length === 0) continue;
                try { this.onEvent(name, JSON.parse(data.join("\n"))); } catch (error) { console.error("event", name, error); }
              }
            }
          }
        }
        function showStreamState(state, message) {
          const badge = $("#live");
          if (!badge) return;
          const text = {live: "live", closed: "reconnecting…", restart: "reconnecting…", error: "not connected"}[state] || state;
          badge.textContent = text;
          badge.className = "pill " + (state === "live" ? "ok" : state === "error" ? "bad" : "warn");
          badge.title = message || "";
        }
        """#
}
