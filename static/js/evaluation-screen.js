/* The leader's screen: ECharts (map coloured by a rate, trend, top categories) and a
 * Leaflet heat map. Data comes from the "screen-data" json_script and is refreshed from
 * the JSON view every minute; every string goes into the page as text, never as HTML. */
(function () {
  "use strict";
  var REFRESH_MS = 60000;
  var data = JSON.parse(document.getElementById("screen-data").textContent);
  var url = JSON.parse(document.getElementById("screen-url").textContent);
  var cfg = JSON.parse(document.getElementById("map-config").textContent);
  var axis = { lineStyle: { color: "#2b4a7a" } };
  var text = { color: "#b9cbe6" };

  var mapChart = window.echarts ? echarts.init(document.getElementById("sc-map"), null, { renderer: "canvas" }) : null;
  var trendChart = window.echarts ? echarts.init(document.getElementById("sc-trend")) : null;
  var catChart = window.echarts ? echarts.init(document.getElementById("sc-cats")) : null;

  var heatEl = document.getElementById("sc-heat");
  var heatMap = null, heatLayer = null, outlineLayer = null;
  if (window.L && heatEl) {
    heatMap = L.map(heatEl, { zoomSnap: 0.25, scrollWheelZoom: false, attributionControl: false });
    if (cfg.tileUrl) {
      var opts = { maxZoom: 19 };
      if (cfg.subdomains) { opts.subdomains = cfg.subdomains; }
      L.tileLayer(cfg.tileUrl, opts).addTo(heatMap);
    }
    heatMap.setView(cfg.center, cfg.zoom);
  }

  function setText(id, value) {
    var el = document.getElementById(id);
    if (el) { el.textContent = value; }
  }

  function pct(v) { return v === null || v === undefined ? "—" : v.toFixed(1) + "%"; }

  // A panel with nothing to show says so (the text is in the page, shown or hidden here).
  function empty(id, isEmpty) {
    var el = document.getElementById(id + "-empty");
    if (el) { el.hidden = !isEmpty; }
  }

  function rows(tbodyId, items, keys) {
    var body = document.getElementById(tbodyId);
    if (!body) { return; }
    empty(tbodyId, !items.length);
    body.closest("table").hidden = !items.length;
    while (body.firstChild) { body.removeChild(body.firstChild); }
    items.forEach(function (item) {
      var tr = document.createElement("tr");
      keys.forEach(function (k) {
        var td = document.createElement("td");
        td.textContent = String(item[k]);
        td.title = String(item[k]);
        tr.appendChild(td);
      });
      body.appendChild(tr);
    });
  }

  function drawMap(d) {
    if (!mapChart) { return; }
    echarts.registerMap("jzt-region", d.map.geojson);
    var values = d.map.values.filter(function (v) { return v.value !== null; }).map(function (v) { return v.value; });
    var lowIsGood = ["rework_rate", "return_rate"].indexOf(d.rate.key) >= 0;
    var colors = ["#d94e5d", "#eac736", "#50a3ba"];
    mapChart.setOption({
      // richText tooltips are drawn on the canvas: names never become HTML.
      tooltip: {
        trigger: "item", renderMode: "richText",
        formatter: function (p) {
          var v = p.data && p.data.value !== null && p.data.value !== undefined ? p.data.value.toFixed(1) + "%" : "—";
          var n = p.data ? p.data.reported : 0;
          return p.name + "\n" + d.rate.label + "：" + v + "\n" + d.labels.reported + "：" + n;
        }
      },
      visualMap: {
        min: values.length ? Math.min.apply(null, values) : 0, max: 100, calculable: true,
        left: 10, bottom: 10, textStyle: text,
        inRange: { color: lowIsGood ? colors.slice().reverse() : colors }
      },
      series: [{
        type: "map", map: "jzt-region", roam: true, aspectScale: 0.85,
        label: { show: true, color: "#fff", fontSize: 12 },
        itemStyle: { borderColor: "#0b1426", areaColor: "#203a63" },
        emphasis: { label: { color: "#fff" }, itemStyle: { areaColor: "#3b6fb0" } },
        data: d.map.values.map(function (v) { return { name: v.name, value: v.value, reported: v.reported }; })
      }]
    }, true);
  }

  function drawTrend(d) {
    var none = !d.kpi.reported;
    empty("sc-trend", none);
    document.getElementById("sc-trend").hidden = none;
    if (!trendChart || none) { return; }
    trendChart.resize();
    trendChart.setOption({
      tooltip: { trigger: "axis", renderMode: "richText" },
      legend: { textStyle: text, top: 0 },
      grid: { left: 40, right: 40, top: 30, bottom: 25 },
      xAxis: { type: "category", data: d.trend.map(function (t) { return t.day.slice(5); }), axisLine: axis, axisLabel: text },
      yAxis: [
        { type: "value", axisLabel: text, splitLine: axis },
        { type: "value", max: 100, axisLabel: { color: "#b9cbe6", formatter: "{value}%" }, splitLine: { show: false } }
      ],
      series: [
        { name: d.labels.reported, type: "line", smooth: true, data: d.trend.map(function (t) { return t.reported; }) },
        { name: d.labels.closed, type: "line", smooth: true, data: d.trend.map(function (t) { return t.closed; }) },
        { name: d.labels.close_on_time_rate, type: "line", yAxisIndex: 1, connectNulls: true, data: d.trend.map(function (t) { return t.close_on_time_rate; }) }
      ]
    }, true);
  }

  function drawCategories(d) {
    var none = !d.categories.length;
    empty("sc-cats", none);
    document.getElementById("sc-cats").hidden = none;
    if (!catChart || none) { return; }
    catChart.resize();
    var cats = d.categories.slice().reverse();
    catChart.setOption({
      tooltip: { trigger: "axis", renderMode: "richText", axisPointer: { type: "shadow" } },
      grid: { left: 90, right: 20, top: 10, bottom: 20 },
      xAxis: { type: "value", axisLabel: text, splitLine: axis },
      yAxis: { type: "category", data: cats.map(function (c) { return c.name; }), axisLabel: text, axisLine: axis },
      series: [{ type: "bar", data: cats.map(function (c) { return c.reported; }), itemStyle: { color: "#5fd3ff" } }]
    }, true);
  }

  function drawHeat(d) {
    empty("sc-heat", !d.heat.length);
    if (!heatMap) { return; }
    if (outlineLayer) { heatMap.removeLayer(outlineLayer); }
    outlineLayer = L.geoJSON(d.map.geojson, { style: { color: "#5fd3ff", weight: 1, fillOpacity: 0.04 } }).addTo(heatMap);
    if (heatLayer) { heatMap.removeLayer(heatLayer); }
    if (L.heatLayer) {
      // maxZoom low: leaflet.heat scales each point down by 2^(maxZoom − zoom), which
      // would leave a street's few hundred cases a faint blue at street zoom.
      heatLayer = L.heatLayer(d.heat, {
        radius: 22, blur: 18, minOpacity: 0.4, maxZoom: 10, max: 1,
        gradient: { 0.2: "#2c7bb6", 0.45: "#00c2d1", 0.65: "#ffe45c", 0.85: "#f29e2e", 1: "#e8333a" }
      }).addTo(heatMap);
    }
    var bounds = outlineLayer.getBounds();
    if (bounds.isValid()) {
      heatMap.fitBounds(bounds, { padding: [10, 10] });
    } else if (d.heat.length) {
      heatMap.fitBounds(L.latLngBounds(d.heat), { padding: [10, 10] });
    }
  }

  function render(d) {
    setText("sc-title", d.title);
    setText("sc-period", d.period);
    setText("sc-updated", d.updated);
    ["today_new", "today_closed", "overdue_open", "reported", "closed"].forEach(function (k) {
      setText("kpi-" + k, String(d.kpi[k]));
    });
    ["close_on_time_rate", "handle_on_time_rate", "valid_rate"].forEach(function (k) {
      setText("kpi-" + k, pct(d.kpi[k]));
    });
    rows("sc-hot-body", d.hot_spots, ["name", "reported", "overdue"]);
    rows("sc-overdue-body", d.overdue, ["number", "category", "street", "department", "state"]);
    drawMap(d);
    drawTrend(d);
    drawCategories(d);
    drawHeat(d);
  }

  function refresh() {
    fetch(url, { credentials: "same-origin", headers: { Accept: "application/json" } })
      .then(function (r) { return r.ok ? r.json() : null; })
      .then(function (d) { if (d) { render(d); } })
      .catch(function () { /* keep showing the last figures; try again next time */ });
  }

  render(data);
  window.addEventListener("resize", function () {
    [mapChart, trendChart, catChart].forEach(function (c) { if (c) { c.resize(); } });
    if (heatMap) { heatMap.invalidateSize(); }
  });
  window.setInterval(refresh, REFRESH_MS);
})();
