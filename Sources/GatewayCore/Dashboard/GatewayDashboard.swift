import GridAPIServer

/// The gateway's live dashboard (`GET /`): meters with their latest values and a short
/// history, blocks as they are sealed, the TNT table, fairness over time, anomalies and the
/// uplink's checkpoints. It reads the gateway's JSON routes once, then follows
/// `GET /v1/events`. Household parts (readings, anomalies) need the operator's token when the
/// gateway listens beyond loopback: the page asks for it and sends it as a header.
enum GatewayDashboard {
    static let page = DashboardPage(title: "GridLedger gateway", body: body, script: script)

    private static let body = """
        <header>
        <h1>GridLedger gateway <span id="gateway" class="mono muted"></span></h1>
        <span id="tip" class="muted"></span>
        <span id="live" class="pill warn">connecting…</span>
        <form id="token-form" autocomplete="off">
        <input id="token" type="password" placeholder="operator token" aria-label="operator token" size="14">
        <button type="submit">Use token</button>
        </form>
        </header>
        <main>
        <section class="wide" id="meters-section"><h2>Meters</h2>
        <div class="scroll"><table id="meters"><thead><tr><th>meter</th><th>role</th><th class="num">last seq</th>
        <th class="num">import kWh</th><th class="num">export kWh</th><th class="num">power W</th><th class="num">voltage V</th>
        <th>power, recent</th><th>last reading</th></tr></thead><tbody></tbody></table></div>
        <p id="household-note" class="note" hidden>Readings and anomalies are household data: this gateway listens beyond loopback, so they are shown only with the operator token (DIR/admin.token).</p>
        </section>
        <section id="blocks-section"><h2>Blocks</h2>
        <div class="scroll"><table id="blocks"><thead><tr><th class="num">height</th><th>sealed</th><th class="num">entries</th>
        <th>kinds</th><th>hash</th></tr></thead><tbody></tbody></table></div></section>
        <section id="uplink-section"><h2>Uplink to the super node</h2><dl id="uplink" class="kv"></dl></section>
        <section id="tnt-section"><h2>TNT table <span id="policy" class="muted"></span></h2>
        <div class="scroll"><table id="tnt"><thead><tr><th>producer</th><th class="num">TNT</th><th class="num">available Wh</th>
        <th class="num">served Wh</th><th>active</th></tr></thead><tbody></tbody></table></div>
        <p id="open-requests" class="note"></p></section>
        <section id="fairness-section"><h2>Fairness of dispatch</h2><dl id="fairness" class="kv"></dl>
        <div id="fairness-chart"></div>
        <p class="note"><span class="pill s-accent">Jain</span> <span class="pill s-warn">Gini</span> <span class="pill s-ok">Hoover</span> of the energy served in the last hour, from 0 to 1: one point per sealed block since this page opened.</p></section>
        <section class="wide" id="anomalies-section"><h2>Anomalies</h2>
        <div class="scroll"><table id="anomalies"><thead><tr><th>time</th><th>kind</th><th>subject</th><th>detail</th><th class="num">block</th></tr></thead>
        <tbody></tbody></table></div></section>
        </main>
        """

    private static let script = #"""
        const state = {meters: new Map(), history: new Map(), blocks: new Map(), anomalies: new Map(), fairness: [], household: null, uplinkConfigured: null};
        const HISTORY = 60, BLOCKS = 20, ANOMALIES = 50, FAIRNESS = 120;
        const kWh = (wh) => typeof wh === "number" ? (wh / 1000).toFixed(2) : "–";

        function renderMeters() {
          const rows = [...state.meters.values()].map((m) => {
            const r = m.reading ? m.reading.values : {};
            const history = (state.history.get(m.id) || []).map((point) => point.watts);
            return el("tr", {"data-meter": m.id},
              el("td", {class: "mono", title: m.id}, short(m.id)),
              el("td", {}, m.role + (m.active ? "" : " (revoked)")),
              el("td", {class: "num"}, m.lastSequence),
              el("td", {class: "num"}, kWh(r.energy_import_wh)),
              el("td", {class: "num"}, kWh(r.energy_export_wh)),
              el("td", {class: "num"}, r.active_power_w ?? "–"),
              el("td", {class: "num"}, typeof r.voltage_l1_dv === "number" ? (r.voltage_l1_dv / 10).toFixed(1) : "–"),
              el("td", {}, history.length > 1 ? chart("spark", [history]) : el("span", {class: "muted"}, "–")),
              el("td", {}, m.reading ? clock(m.reading.timestamp) : (m.lastReadingTimestamp ? clock(m.lastReadingTimestamp) : "–")));
          });
          fill($("#meters tbody"), rows, "no meter is enrolled", 9);
        }
        /** Keeps a reading as its meter's latest (when it is) and as a point of its power history, in sequence order. */
        function noteReading(stored) {
          const r = stored.reading;
          const meter = state.meters.get(r.meter);
          if (!meter) return;
          if (!meter.reading || meter.reading.sequence < r.sequence) meter.reading = r;
          if (typeof r.values.active_power_w !== "number") return;
          const history = state.history.get(r.meter) || [];
          if (history.some((point) => point.sequence === r.sequence)) return;
          history.push({sequence: r.sequence, watts: r.values.active_power_w});
          history.sort((a, b) => a.sequence - b.sequence);
          state.history.set(r.meter, history.slice(-HISTORY));
        }
        function renderBlocks() {
          const newest = [...state.blocks.values()].sort((a, b) => b.header.height - a.header.height).slice(0, BLOCKS);
          state.blocks = new Map(newest.map((b) => [b.header.height, b]));
          const rows = newest.map((b) => {
            const kinds = Object.entries(b.entryTypes || {}).map(([k, n]) => `${n} ${k}`).join(", ");
            return el("tr", {"data-height": b.header.height, class: b.fresh ? "fresh" : null},
              el("td", {class: "num"}, b.header.height), el("td", {}, clock(b.header.lastTimestamp)),
              el("td", {class: "num"}, b.header.entryCount), el("td", {}, kinds || "–"),
              el("td", {class: "mono", title: b.header.hash}, short(b.header.hash)));
          });
          fill($("#blocks tbody"), rows, "no block is sealed yet", 5);
          for (const b of newest) delete b.fresh;
          $("#tip").textContent = newest.length ? `height ${newest[0].header.height}` : "no block yet";
        }
        function renderAnomalies() {
          if (state.household === false) {
            fill($("#anomalies tbody"), [], "household data: enter the operator token to see anomalies", 5);
            return;
          }
          const list = [...state.anomalies.values()].sort((a, b) => b.index - a.index).slice(0, ANOMALIES);
          state.anomalies = new Map(list.map((a) => [a.index, a]));
          const rows = list.map((a) => el("tr", {},
            el("td", {}, clock(a.anomaly.timestamp)), el("td", {}, a.anomaly.category || a.anomaly.kind),
            el("td", {class: "mono", title: a.anomaly.subject}, short(a.anomaly.subject)),
            el("td", {}, a.anomaly.detail), el("td", {class: "num"}, a.height ?? "pending")));
          fill($("#anomalies tbody"), rows, "no anomaly recorded", 5);
        }
        function renderUplink(u) {
          state.uplinkConfigured = u.configured;
          const stateClass = {connected: "ok", off: "muted", starting: "warn", retrying: "warn", refused: "bad"}[u.state] || "";
          const items = [
            ["state", el("span", {class: "pill " + stateClass}, u.state)],
            ["super node", u.superNode || "not configured"],
            ["last checkpointed", u.lastCheckpointedHeight ?? "none"],
            ["sealed height", u.sealedHeight ?? "none"],
            ["not yet checkpointed", u.unacknowledgedBlocks],
            ["last checkpoint", u.lastCheckpointAt ? clock(u.lastCheckpointAt) : "–"],
          ];
          if (u.lastError) items.push(["last error", el("span", {class: "bad"}, `${u.lastError.reason}: ${u.lastError.message}`)]);
          $("#uplink").replaceChildren(...items.flatMap(([k, v]) => [el("dt", {}, k), el("dd", {}, v)]));
        }
        function renderTNT(t) {
          $("#policy").textContent = t.policy;
          const rows = t.producers.map((p) => el("tr", {"data-producer": p.meter},
            el("td", {class: "mono", title: p.meter}, short(p.meter)), el("td", {class: "num"}, p.tnt),
            el("td", {class: "num"}, p.availableWh), el("td", {class: "num"}, p.servedWh), el("td", {}, p.active ? "yes" : "no")));
          fill($("#tnt tbody"), rows, "no producer is enrolled", 5);
          $("#open-requests").textContent = `${t.openRequests.length} open request(s)`;
        }
        function renderFairness(f) {
          state.fairness.push({t: Date.now(), jain: f.energyJain, gini: f.energyGini, hoover: f.energyHoover});
          state.fairness = state.fairness.slice(-FAIRNESS);
          const items = [["dispatches", `${f.dispatches} (${f.served} served, ${f.unserved} unserved)`],
            ["producers", f.producerCount], ["Jain index", fixed(f.energyJain, 3)], ["Gini", fixed(f.energyGini, 3)],
            ["Hoover", fixed(f.energyHoover, 3)], ["dispatch spread", f.dispatchSpread], ["TNT spread now", f.currentTNTSpread]];
          $("#fairness").replaceChildren(...items.flatMap(([k, v]) => [el("dt", {}, k), el("dd", {}, v)]));
          const series = ["jain", "gini", "hoover"].map((k) => state.fairness.map((s) => s[k]));
          $("#fairness-chart").replaceChildren(chart("chart", series.map((s) => s.length === 1 ? [s[0], s[0]] : s), [0, 1]));
        }
        async function refreshAggregates() {
          const hour = 3600 * 1000;
          const [meters, tnt, fairness] = await Promise.all([
            getJSON("/v1/meters"), getJSON("/v1/tnt"), getJSON("/v1/fairness?from=" + (Date.now() - hour)),
          ]);
          for (const m of meters.meters) state.meters.set(m.id, Object.assign(state.meters.get(m.id) || {}, m));
          renderMeters(); renderTNT(tnt); renderFairness(fairness);
          // Without a super node no uplink event comes: the checkpoint store's heights are read again.
          if (state.uplinkConfigured === false) renderUplink(await getJSON("/v1/uplink"));
        }
        async function loadHousehold() {
          if (!state.household) return;
          const since = Date.now() - 15 * 60 * 1000;
          await Promise.all([...state.meters.keys()].map(async (id) => {
            const list = await getJSON(`/v1/meters/${id}/readings?from=${since}&limit=1000`);
            for (const stored of list.readings.slice(-HISTORY)) noteReading(stored);
          }));
          const anomalies = await getJSON("/v1/anomalies?limit=100");
          for (const a of anomalies.anomalies) state.anomalies.set(a.index, a);
          renderMeters(); renderAnomalies();
        }
        async function load() {
          const health = await getJSON("/healthz");
          $("#gateway").textContent = short(health.gateway);
          $("#gateway").title = health.gateway;
          const blocks = await getJSON("/v1/blocks?limit=" + BLOCKS);
          for (const header of blocks.blocks) if (!state.blocks.has(header.height)) state.blocks.set(header.height, {header, entryTypes: {}});
          renderBlocks();
          renderUplink(await getJSON("/v1/uplink"));
          await refreshAggregates();
        }
        let refreshing = null;
        function onEvent(name, data) {
          if (name === "hello") {
            const before = state.household;
            state.household = data.householdData !== false;
            $("#household-note").hidden = state.household;
            renderAnomalies();
            if (state.household && before !== true) loadHousehold().catch((e) => console.error(e));
          } else if (name === "block") {
            data.fresh = true;
            state.blocks.set(data.header.height, data);
            for (const stored of data.readings || []) noteReading(stored);
            for (const a of data.anomalies || []) state.anomalies.set(a.index, a);
            renderBlocks(); renderAnomalies();
            if (!refreshing) refreshing = refreshAggregates().catch((e) => console.error(e)).finally(() => { refreshing = null; });
          } else if (name === "uplink") {
            renderUplink(data);
          }
        }
        const stream = new EventStream(onEvent, showStreamState);
        $("#token").value = token.get();
        $("#token-form").addEventListener("submit", (event) => {
          event.preventDefault();
          token.set($("#token").value.trim());
          state.household = null;
          stream.restart();
        });
        load().catch((e) => showStreamState("error", e.message)).finally(() => stream.start());
        """#
}
