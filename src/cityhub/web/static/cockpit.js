/* The digital cockpit: map of the districts (choropleth + device points), headline
   figures, live ticker and trends, all from /api/v1/cockpit (precomputed indicators),
   kept live by Server-Sent Events from /api/v1/cockpit/stream. Clicking a district
   drills every panel down to it. Apache ECharts, vendored. No inline script (CSP):
   the first data comes in a JSON block of the page. */
(function () {
  "use strict";
  var STATUS_COLORS = { online: "#2ee59d", offline: "#8795a8", fault: "#ff4d5e", maintenance: "#ffb020" };
  var STATUSES = ["online", "offline", "fault", "maintenance"];
  var root = document.getElementById("cockpit");
  if (!root) { return; }
  var data = JSON.parse(document.getElementById("cockpit-data").textContent);
  var L = JSON.parse(document.getElementById("cockpit-labels").textContent);
  var zh = root.dataset.lang === "zh-CN";
  var live = {};  // ticker items heard on the stream, by id
  var charts = {};
  var codeOf = {};  // district display name -> code

  // -- numbers: 万/亿 in Chinese, k/M/B in English (as cityhub.indicators.numbers) -----
  function plain(v, digits) {
    if (Number.isInteger(v)) { return v.toLocaleString("en-US"); }
    return Number(v.toFixed(digits)).toLocaleString("en-US", { maximumFractionDigits: digits });
  }
  function human(v, unit) {
    if (v === null || v === undefined) { return "—"; }
    if (unit === "%") { return v.toFixed(1) + "%"; }
    var a = Math.abs(v), text;
    if (zh) {
      text = a >= 1e8 ? plain(v / 1e8, 2) + "亿" : a >= 1e4 ? plain(v / 1e4, 2) + "万" : plain(v, 2);
      return text + (unit || "");
    }
    text = a >= 1e9 ? plain(v / 1e9, 2) + "B" : a >= 1e6 ? plain(v / 1e6, 2) + "M" :
      a >= 1e4 ? plain(v / 1e3, 1) + "k" : plain(v, 2);
    if (unit && v === 1 && /s$/.test(unit)) { unit = unit.slice(0, -1); }  // 1 alarm, 2 alarms
    return unit ? text + " " + unit : text;
  }
  function name(o) { return zh ? o.name_zh : (o.name_en || o.name_zh); }
  function el(tag, cls, text) {
    var e = document.createElement(tag);
    if (cls) { e.className = cls; }
    if (text !== undefined) { e.textContent = text; }
    return e;
  }
  function when(iso) {
    if (!iso) { return ""; }
    var d = new Date(iso), now = new Date();
    var hm = d.toLocaleTimeString(zh ? "zh-CN" : "en-GB", { hour12: false });
    return d.toDateString() === now.toDateString() ? hm : (d.getMonth() + 1) + "-" + d.getDate() + " " + hm.slice(0, 5);
  }
  function getJSON(url) {
    return fetch(url, { credentials: "same-origin", headers: { Accept: "application/json" } })
      .then(function (r) { if (!r.ok) { throw new Error(url + ": HTTP " + r.status); } return r.json(); });
  }

  // -- figures -------------------------------------------------------------------------
  function renderFigures() {
    var list = document.getElementById("ck-figures");
    list.textContent = "";
    data.figures.forEach(function (f) {
      var li = el("li", "ck-figure");
      li.dataset.code = f.code;
      var a = el("a");
      a.href = f.link;
      a.appendChild(el("span", "ck-fig-name", name(f)));
      var value = el("strong", "ck-fig-value", human(f.value, zh ? f.unit : f.unit_en));
      value.dataset.value = f.value === null ? "" : String(f.value);
      a.appendChild(value);
      var note = f.code === "ledger.signed_head" && f.note ? f.note.slice(0, 16) + "…" : f.note;
      a.appendChild(el("span", "ck-fig-note", note || ""));
      li.appendChild(a);
      list.appendChild(li);
    });
  }

  // -- ticker --------------------------------------------------------------------------
  function inScope(item) { return !data.region || !item.region || item.region === data.region.code; }
  function renderTicker(flashId) {
    var list = document.getElementById("ck-ticker");
    var seen = {}, items = [];
    data.ticker.concat(Object.keys(live).map(function (k) { return live[k]; })).forEach(function (i) {
      if (!seen[i.id] && inScope(i)) { seen[i.id] = true; items.push(i); }
    });
    items.sort(function (a, b) { return (b.at || "").localeCompare(a.at || ""); });
    list.textContent = "";
    if (!items.length) { list.appendChild(el("li", "ck-empty", L.no_events)); }
    items.slice(0, 40).forEach(function (i) {
      var li = el("li", "ck-tick kind-" + i.kind + " sev-" + i.severity + (i.id === flashId ? " fresh" : ""));
      li.dataset.id = i.id;
      li.dataset.kind = i.kind;
      var a = el("a");
      a.href = i.link;
      a.appendChild(el("span", "ck-tick-kind", L["kind." + i.kind] || i.kind));
      a.appendChild(el("span", "ck-tick-title", i.title));
      var where = i.where || "";
      if (i.kind === "delivery" && i.rows !== undefined) { where += " · " + L.rows.replace("{n}", human(i.rows, "")); }
      a.appendChild(el("span", "ck-tick-where", where));
      var t = el("time", "ck-tick-at", when(i.at));
      t.setAttribute("datetime", i.at || "");
      a.appendChild(t);
      li.appendChild(a);
      list.appendChild(li);
    });
  }

  // -- map -----------------------------------------------------------------------------
  function mapOption() {
    var values = data.districts.map(function (d) {
      return { name: name(d), value: data.choropleth[d.code], code: d.code,
        selected: !!data.region && data.region.code === d.code };
    });
    var known = values.map(function (v) { return v.value; }).filter(function (v) { return v !== undefined; });
    var max = known.length ? Math.max.apply(null, known) : 1;
    var min = known.length ? Math.min.apply(null, known) : 0;
    var chosen = data.map_indicators.filter(function (m) { return m.code === data.map_indicator; })[0];
    var points = STATUSES.map(function (status) {
      return {
        name: L["status." + status] || status, type: "scatter", coordinateSystem: "geo", geoIndex: 0,
        symbolSize: status === "online" ? 5 : 8, z: 5,
        itemStyle: { color: STATUS_COLORS[status], borderColor: "#0b1a30", borderWidth: 0.5 },
        data: data.devices.filter(function (d) { return d.status === status; })
          .map(function (d) { return { name: d.name, value: [d.lon, d.lat], code: d.code }; })
      };
    });
    return {
      tooltip: { trigger: "item", renderMode: "richText", formatter: function (p) {
        if (p.seriesType === "scatter") { return p.name + "\n" + p.data.code + " · " + p.seriesName; }
        return p.name + (chosen ? "\n" + name(chosen) + ": " + human(p.value === undefined || isNaN(p.value) ? null : p.value, "") : "");
      } },
      legend: { bottom: 0, textStyle: { color: "#b8c7dc" }, data: points.map(function (s) { return s.name; }) },
      visualMap: { min: min, max: max === min ? min + 1 : max, left: 8, bottom: 28, calculable: false,
        text: [human(max, ""), human(min, "")], textStyle: { color: "#b8c7dc" }, seriesIndex: 0,
        inRange: { color: ["#123a6b", "#1f6fb5", "#33b1ff", "#7ee0ff"] } },
      geo: { map: "ck-city", roam: true, top: 10, bottom: 40, selectedMode: "single",
        label: { show: true, color: "#e6f1ff", fontSize: 12 },
        itemStyle: { areaColor: "#0f2a4d", borderColor: "#4fb3ff", borderWidth: 1 },
        emphasis: { itemStyle: { areaColor: "#2a7fd4" }, label: { color: "#fff" } },
        select: { itemStyle: { areaColor: "#f5a623" }, label: { color: "#0b1a30" } },
        // The drilled-into district: outlined in gold (its fill stays the choropleth's).
        regions: data.region ? [{ name: name(data.region),
          itemStyle: { borderColor: "#f5a623", borderWidth: 3, shadowColor: "#f5a623", shadowBlur: 12 },
          label: { color: "#ffd36b", fontWeight: "bold", fontSize: 14 } }] : [] },
      series: [{ name: chosen ? name(chosen) : "", type: "map", geoIndex: 0, data: values }].concat(points)
    };
  }
  function initMap() {
    var box = document.getElementById("ck-map");
    var chart = echarts.init(box, null, { renderer: "canvas" });
    charts.map = chart;
    // Plain fetch, same request as the page's preload, so the preloaded answer is used.
    return fetch(root.dataset.regionsUrl, { credentials: "same-origin" }).then(function (r) {
      if (!r.ok) { throw new Error(root.dataset.regionsUrl + ": HTTP " + r.status); }
      return r.json();
    }).then(function (geo) {
      geo.features.forEach(function (f) {
        f.properties.name = zh ? f.properties.name_zh : (f.properties.name_en || f.properties.name_zh);
        codeOf[f.properties.name] = f.properties.code || f.id;
      });
      echarts.registerMap("ck-city", geo);
      chart.setOption(mapOption());
      chart.on("click", function (p) {
        if (p.seriesType === "scatter" && p.data && p.data.code) {
          window.location.href = "/sensing/devices/" + encodeURIComponent(p.data.code);
          return;
        }
        var code = codeOf[p.name];
        if (code) { drill(data.region && data.region.code === code ? "" : code); }
      });
      box.dataset.ready = String(geo.features.length);
    }).catch(function (err) { box.textContent = String(err); });
  }

  // -- trends --------------------------------------------------------------------------
  function drawTrend(id) {
    var box = document.getElementById(id), days = Number(box.dataset.days);
    var chart = charts[id] || echarts.init(box);
    charts[id] = chart;
    var series = data.trends.map(function (tr, k) {
      // "今日数据交付" / "Deliveries today" are per-day counts on a trend: drop "today".
      var label = name(tr).replace(/^今日/, "").replace(/ today$/i, "");
      return { name: label, type: days <= 7 ? "bar" : "line", smooth: true, showSymbol: false,
        yAxisIndex: tr.code === "gateway.calls_today" || tr.code === "exchange.rows_accepted_today" ? 1 : 0,
        data: tr.values.slice(-days), barMaxWidth: 14, z: 10 - k };
    });
    var labels = data.trends.length ? data.trends[0].days.slice(-days).map(function (d) { return d.slice(5); }) : [];
    chart.setOption({
      color: ["#33b1ff", "#2ee59d", "#ff4d5e", "#f5a623"],
      tooltip: { trigger: "axis", renderMode: "richText" },
      legend: { top: 0, textStyle: { color: "#b8c7dc" } },
      grid: { left: 48, right: 56, top: 30, bottom: 24 },
      xAxis: { type: "category", data: labels, axisLabel: { color: "#8fa3bf" }, axisLine: { lineStyle: { color: "#2b4266" } } },
      yAxis: [
        { type: "value", axisLabel: { color: "#8fa3bf", formatter: function (v) { return human(v, ""); } }, splitLine: { lineStyle: { color: "#1b2f4d" } } },
        { type: "value", axisLabel: { color: "#8fa3bf", formatter: function (v) { return human(v, ""); } }, splitLine: { show: false } }
      ],
      series: series
    }, true);
    box.dataset.ready = String(labels.length);
  }

  // -- drill-down and refresh ------------------------------------------------------------
  function render(flashId) {
    root.dataset.region = data.region ? data.region.code : "";
    var crumb = document.getElementById("ck-crumb-region");
    crumb.textContent = data.region ? "› " + name(data.region) : "";
    document.querySelector(".ck-crumbs a").classList.toggle("on", !data.region);
    renderFigures();
    renderTicker(flashId);
    if (charts.map && echarts.getMap("ck-city")) { charts.map.setOption(mapOption()); }
    drawTrend("ck-trend7");
    drawTrend("ck-trend30");
  }
  function load(region) {
    var sel = document.getElementById("ck-map-by");
    var url = root.dataset.api + "?map=" + encodeURIComponent(sel.value) + (region ? "&region=" + region : "");
    return getJSON(url).then(function (fresh) { data = fresh; render(); });
  }
  function drill(region) {
    load(region).then(function () {
      var q = region ? "?region=" + region : "";
      window.history.replaceState(null, "", "/cockpit" + q);
    });
  }
  var pending = null;
  function refreshSoon() {
    if (pending) { return; }
    pending = setTimeout(function () { pending = null; load(data.region ? data.region.code : ""); }, 300);
  }

  // -- live stream -----------------------------------------------------------------------
  function onItem(item) { live[item.id] = item; renderTicker(item.id); }
  function connect() {
    var badge = document.getElementById("ck-live");
    var source = new EventSource(root.dataset.stream);
    source.onopen = function () { badge.dataset.state = "live"; badge.title = L.live; };
    source.onerror = function () { badge.dataset.state = "reconnecting"; badge.title = L.reconnecting; };
    source.addEventListener("alarm", function (e) {
      var m = JSON.parse(e.data), p = m.payload;
      onItem({ kind: "alarm", id: "alarm-" + p.id, state: p.state, severity: p.severity,
        title: p.message || p.rule, where: p.device_name || p.device, region: p.region,
        at: m.topic === "sensing.alarm.raised" ? p.raised_at : m.at, link: "/sensing/alarms" });
    });
    source.addEventListener("incident", function (e) {
      var m = JSON.parse(e.data), p = m.payload;
      onItem({ kind: "incident", id: "incident-" + p.id, state: p.status, severity: p.level,
        title: p.title, where: p.system, region: null, at: m.at, link: "/ops/incidents/" + p.id });
    });
    source.addEventListener("batch", function (e) {
      var m = JSON.parse(e.data), p = m.payload;
      onItem({ kind: "delivery", id: "delivery-" + p.batch_id, state: p.status, severity: "info",
        title: p.resource_code, where: p.provider_code, rows: p.rows_accepted, region: null,
        at: m.at, link: "/exchange/batches/" + p.batch_id });
    });
    source.addEventListener("recomputed", refreshSoon);
  }

  // -- start -----------------------------------------------------------------------------
  function tick() { document.getElementById("ck-clock").textContent = new Date().toLocaleString(zh ? "zh-CN" : "en-GB", { hour12: false }); }
  document.querySelector(".ck-crumbs a").addEventListener("click", function (e) { e.preventDefault(); drill(""); });
  document.getElementById("ck-map-by").addEventListener("change", function () { load(data.region ? data.region.code : ""); });
  window.addEventListener("resize", function () { Object.keys(charts).forEach(function (k) { charts[k].resize(); }); });
  tick();
  setInterval(tick, 1000);
  initMap();  // first: its boundaries are on the way while the rest is drawn
  renderTicker();
  drawTrend("ck-trend7");
  drawTrend("ck-trend30");
  connect();
}());
