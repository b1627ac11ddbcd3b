/* Workspace map: the user's regions (thick red), their children (blue) and, for grid
 * workers, building points. Data comes from two json_script elements on the page.
 * With no tile URL configured the map has no base layer and still fits the boundaries. */
(function () {
  "use strict";
  var el = document.getElementById("ws-map");
  if (!el || !window.L) { return; }
  var cfg = JSON.parse(document.getElementById("map-config").textContent);
  var data = JSON.parse(document.getElementById("ws-geojson").textContent);

  function escapeHtml(text) {
    // Leaflet's attribution is HTML: configured text goes in escaped.
    return String(text == null ? "" : text)
      .replace(/&/g, "&amp;").replace(/</g, "&lt;").replace(/>/g, "&gt;")
      .replace(/"/g, "&quot;").replace(/'/g, "&#39;");
  }

  var map = L.map(el, { zoomSnap: 0.25, scrollWheelZoom: false });
  if (cfg.tileUrl) {
    var opts = { attribution: escapeHtml(cfg.attribution || ""), maxZoom: 19 };
    if (cfg.subdomains) { opts.subdomains = cfg.subdomains; }
    L.tileLayer(cfg.tileUrl, opts).addTo(map);
  } else {
    el.classList.add("no-tiles");
  }

  var styles = {
    own: { color: "#b3261e", weight: 3, fillColor: "#b3261e", fillOpacity: 0.06 },
    child: { color: "#1a5fb4", weight: 1.5, fillColor: "#1a5fb4", fillOpacity: 0.12 },
    building: { radius: 6, color: "#1a1a1a", weight: 1, fillColor: "#f5c211", fillOpacity: 0.95 }
  };

  function label(text) {
    // Names come from the database: set as text, never as HTML.
    var span = document.createElement("span");
    span.textContent = text;
    return span;
  }

  var layer = L.geoJSON(data, {
    style: function (f) { return styles[f.properties.kind] || styles.child; },
    pointToLayer: function (f, latlng) {
      return L.circleMarker(latlng, styles.building);
    },
    onEachFeature: function (f, l) {
      var permanent = f.properties.kind === "child";
      l.bindTooltip(label(f.properties.name), {
        permanent: permanent,
        direction: permanent ? "center" : "top",
        className: "region-label"
      });
    }
  }).addTo(map);

  var bounds = layer.getBounds();
  if (bounds.isValid()) {
    map.fitBounds(bounds, { padding: [20, 20] });
  } else {
    map.setView(cfg.center, cfg.zoom);
  }
  el.setAttribute("data-ready", "1");
})();
