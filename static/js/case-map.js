/* Desk maps: the board's selection as clustered points (#board-map, data in
 * #map-points, refreshed after an htmx swap) and one case's position (#case-map, data in
 * #map-point). Popups are built from DOM nodes with textContent, never HTML strings. */
(function () {
  "use strict";
  if (!window.L) { return; }
  var cfg = JSON.parse(document.getElementById("map-config").textContent);
  var colours = { ok: "#1a7f37", warning: "#f5c211", overdue: "#b3261e" };

  function baseMap(el) {
    var map = L.map(el, { zoomSnap: 0.25, scrollWheelZoom: false, maxZoom: 19 });
    if (cfg.tileUrl) {
      var opts = { attribution: cfg.attribution || "", maxZoom: 19 };
      if (cfg.subdomains) { opts.subdomains = cfg.subdomains; }
      L.tileLayer(cfg.tileUrl, opts).addTo(map);
    } else {
      el.classList.add("no-tiles");
    }
    map.setView(cfg.center, cfg.zoom);
    return map;
  }

  function popup(p) {
    var box = document.createElement("div");
    var link = document.createElement("a");
    link.href = "/cases/" + encodeURIComponent(p.id) + "/";
    link.textContent = p.number;
    var state = document.createElement("div");
    state.textContent = p.state;
    box.appendChild(link);
    box.appendChild(state);
    return box;
  }

  var boardEl = document.getElementById("board-map");
  if (boardEl) {
    var map = baseMap(boardEl);
    var cluster = L.markerClusterGroup ? L.markerClusterGroup() : L.layerGroup();
    cluster.addTo(map);
    var draw = function () {
      var data = document.getElementById("map-points");
      var points = data ? JSON.parse(data.textContent) : [];
      cluster.clearLayers();
      var markers = points.map(function (p) {
        return L.circleMarker([p.lat, p.lng], {
          radius: 7, color: "#1a1a1a", weight: 1, fillColor: colours.overdue, fillOpacity: 0.9
        }).bindPopup(popup(p));
      });
      if (cluster.addLayers) { cluster.addLayers(markers); } else { markers.forEach(function (m) { cluster.addLayer(m); }); }
      if (markers.length) {
        map.fitBounds(L.latLngBounds(points.map(function (p) { return [p.lat, p.lng]; })), { padding: [20, 20], maxZoom: 16 });
      }
      var empty = document.getElementById("board-map-empty");
      if (empty) { empty.hidden = markers.length > 0; }
      boardEl.setAttribute("data-ready", "1");
      boardEl.setAttribute("data-points", String(markers.length));
    };
    draw();
    document.body.addEventListener("htmx:afterSwap", draw);
  }

  var caseEl = document.getElementById("case-map");
  var pointEl = document.getElementById("map-point");
  if (caseEl && pointEl) {
    var pt = JSON.parse(pointEl.textContent);
    if (pt) {
      var cmap = baseMap(caseEl);
      cmap.setView([pt.lat, pt.lng], 16);
      var tip = document.createElement("span");
      tip.textContent = pt.label;
      L.circleMarker([pt.lat, pt.lng], {
        radius: 9, color: "#1a1a1a", weight: 2, fillColor: colours.overdue, fillOpacity: 0.9
      }).bindTooltip(tip, { permanent: true, direction: "top" }).addTo(cmap);
      caseEl.setAttribute("data-ready", "1");
    }
  }
})();
