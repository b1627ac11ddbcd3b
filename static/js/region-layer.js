/* The map layer the workspace and the filing page share: regions as outlines (the user's
 * own in thick red, their children in blue, labelled) and buildings as yellow points.
 * Data is GeoJSON read from a json_script element; every name goes into a tooltip as
 * text (a DOM node), never as HTML. */
(function () {
  "use strict";
  var styles = {
    own: { color: "#b3261e", weight: 3, fillColor: "#b3261e", fillOpacity: 0.06 },
    child: { color: "#1a5fb4", weight: 1.5, fillColor: "#1a5fb4", fillOpacity: 0.12 },
    building: { radius: 6, color: "#1a1a1a", weight: 1, fillColor: "#f5c211", fillOpacity: 0.95 }
  };

  function label(text) {
    var span = document.createElement("span");
    span.textContent = text == null ? "" : String(text);
    return span;
  }

  function escapeHtml(text) {
    // Leaflet's attribution is HTML: configured text goes in escaped.
    return String(text == null ? "" : text)
      .replace(/&/g, "&amp;").replace(/</g, "&lt;").replace(/>/g, "&gt;")
      .replace(/"/g, "&quot;").replace(/'/g, "&#39;");
  }

  // Clicks on a shape still reach the map (Leaflet's paths bubble them), so the filing
  // page's "tap to place the pin" works inside the grid.
  function regionLayer(data) {
    return L.geoJSON(data, {
      style: function (f) { return styles[f.properties.kind] || styles.child; },
      pointToLayer: function (f, latlng) { return L.circleMarker(latlng, styles.building); },
      onEachFeature: function (f, l) {
        var permanent = f.properties.kind === "child";
        l.bindTooltip(label(f.properties.name), {
          permanent: permanent,
          direction: permanent ? "center" : "top",
          className: "region-label"
        });
      }
    });
  }

  function baseLayer(map, el, cfg) {
    if (cfg.tileUrl) {
      var opts = { attribution: escapeHtml(cfg.attribution || ""), maxZoom: 19 };
      if (cfg.subdomains) { opts.subdomains = cfg.subdomains; }
      L.tileLayer(cfg.tileUrl, opts).addTo(map);
    } else {
      el.classList.add("no-tiles");
    }
  }

  window.JZT = window.JZT || {};
  window.JZT.regionLayer = regionLayer;
  window.JZT.baseLayer = baseLayer;
  window.JZT.escapeHtml = escapeHtml;
})();
