import GridAPIServer

/// The super node's live dashboard (`GET /`): its gateways with their audited heights,
/// value flags and suspensions, the pushes and escalations it answers as they come. It reads
/// `GET /v1/gateways` and `GET /v1/flags`, then follows `GET /v1/events`.
enum SuperNodeDashboard {
    static let page = DashboardPage(title: "GridLedger super node", body: body, script: script)

    private static let body = """
        <header>
        <h1>GridLedger super node <span id="root" class="mono muted"></span></h1>
        <span id="live" class="pill warn">connecting…</span>
        </header>
        <main>
        <section class="wide" id="gateways-section"><h2>Gateways</h2>
        <div class="scroll"><table id="gateways"><thead><tr><th>name</th><th>gateway</th><th class="num">audited height</th>
        <th class="num">entries</th><th>status</th><th class="num">value flags</th><th>last push</th><th>URL</th></tr></thead>
        <tbody></tbody></table></div></section>
        <section id="pushes-section"><h2>Pushes</h2>
        <div class="scroll"><table id="pushes"><thead><tr><th>time</th><th>gateway</th><th>blocks</th><th>outcome</th></tr></thead>
        <tbody></tbody></table></div><p class="note">As they are answered, since this page opened.</p></section>
        <section id="escalations-section"><h2>Escalations</h2>
        <div class="scroll"><table id="escalations"><thead><tr><th>time</th><th>consumer</th><th class="num">Wh</th><th>outcome</th>
        <th>producer</th></tr></thead><tbody></tbody></table></div><p class="note">As they are answered, since this page opened.</p></section>
        <section class="wide" id="flags-section"><h2>Value flags</h2>
        <div class="scroll"><table id="flags"><thead><tr><th>flagged</th><th>gateway</th><th class="num">block</th><th>producer</th>
        <th class="num">dispatched Wh</th><th class="num">exported Wh</th><th class="num">tolerance Wh</th></tr></thead>
        <tbody></tbody></table></div></section>
        </main>
        """

    private static let script = #"""
        const state = {gateways: [], lastPush: new Map(), pushes: [], escalations: []};
        const RECENT = 30;
        const nameOf = (id) => (state.gateways.find((g) => g.gateway === id) || {}).name || short(id);

        function renderGateways() {
          const rows = state.gateways.map((g) => {
            const status = g.revoked ? el("span", {class: "pill bad"}, "revoked")
              : g.suspended ? el("span", {class: "pill bad"}, "suspended") : el("span", {class: "pill ok"}, "certified");
            return el("tr", {"data-gateway": g.gateway},
              el("td", {}, g.name), el("td", {class: "mono", title: g.gateway}, short(g.gateway)),
              el("td", {class: "num"}, g.auditedHeight ?? "none"), el("td", {class: "num"}, g.auditedTreeSize ?? 0),
              el("td", {}, status), el("td", {class: "num"}, `${g.valueFlags} (${g.valueFlagsTotal} in all)`),
              el("td", {}, clock(state.lastPush.get(g.gateway))), el("td", {class: "mono"}, g.url || "–"));
          });
          fill($("#gateways tbody"), rows, "no gateway is certified", 8);
        }
        function renderFlags(flags) {
          const rows = flags.slice(-100).reverse().map((f) => el("tr", {},
            el("td", {}, clock(f.flaggedAt)), el("td", {}, nameOf(f.gateway)), el("td", {class: "num"}, f.height),
            el("td", {class: "mono", title: f.producer}, short(f.producer)), el("td", {class: "num"}, f.dispatchedWh),
            el("td", {class: "num"}, f.exportedWh), el("td", {class: "num"}, f.toleranceWh)));
          fill($("#flags tbody"), rows, "no value flag raised", 7);
        }
        function renderPushes() {
          const rows = state.pushes.map((p) => {
            const heights = p.answer.checkpoints.map((c) => c.height);
            const span = heights.length ? (heights.length > 1 ? `${heights[0]}…${heights[heights.length - 1]}` : `${heights[0]}`) : "–";
            const outcome = p.answer.rejected ? el("span", {class: "bad"}, `rejected: ${p.answer.rejected.reason}`)
              : el("span", {class: "ok"}, `audited${p.answer.flags.length ? `, ${p.answer.flags.length} flag(s)` : ""}`);
            return el("tr", {"data-push-gateway": p.gateway}, el("td", {}, clock(p.at)), el("td", {}, nameOf(p.gateway)), el("td", {}, span), el("td", {}, outcome));
          });
          fill($("#pushes tbody"), rows, "no push since this page opened", 4);
        }
        function renderEscalations() {
          const rows = state.escalations.map((e) => el("tr", {},
            el("td", {}, clock(e.at)), el("td", {class: "mono", title: e.consumer || ""}, short(e.consumer)),
            el("td", {class: "num"}, e.energyWh ?? "–"),
            el("td", {class: e.answer.status === "served" ? "ok" : "warn"}, e.answer.status + (e.answer.reason ? ` (${e.answer.reason})` : "")),
            el("td", {class: "mono"}, e.answer.producer ? `${short(e.answer.producer)} @ ${nameOf(e.answer.producerGateway)}` : "–")));
          fill($("#escalations tbody"), rows, "no escalation since this page opened", 5);
        }
        async function refresh() {
          const [gateways, flags] = await Promise.all([getJSON("/v1/gateways"), getJSON("/v1/flags")]);
          state.gateways = gateways.gateways;
          renderGateways(); renderFlags(flags.flags);
        }
        let refreshing = null;
        function onEvent(name, data) {
          if (name === "hello") {
            refresh().catch((e) => console.error(e));
          } else if (name === "push") {
            state.lastPush.set(data.gateway, data.at);
            state.pushes = [data, ...state.pushes].slice(0, RECENT);
            renderPushes();
            if (!refreshing) refreshing = refresh().catch((e) => console.error(e)).finally(() => { refreshing = null; });
          } else if (name === "escalation") {
            state.escalations = [data, ...state.escalations].slice(0, RECENT);
            renderEscalations();
          }
        }
        renderPushes(); renderEscalations();
        getJSON("/v1/root").then((root) => { $("#root").textContent = short(root.id); $("#root").title = root.id; })
          .catch((e) => showStreamState("error", e.message));
        new EventStream(onEvent, showStreamState).start();
        """#
}
