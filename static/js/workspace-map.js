/* Workspace map: the user's regions (thick red), their children (blue) and, for grid
 * workers, building points (region-layer.js). Data comes from two json_script elements on
 * the page. With no tile URL configured the map has no base layer and still fits the
 * boundaries. */
(function () {
  "use strict";
  var el = document.getElementById("ws-map");
  if (!el || !window.L || !window.JZT) { return; }
  var cfg = JSON.parse(document.getElementById("map-config").textContent);
  var data = JSON.parse(document.getElementById("ws-geojson").textContent);

  var map = L.map(el, { zoomSnap: 0.25, scrollWheelZoom: false });
  JZT.baseLayer(map, el, cfg);
  var layer = JZT.regionLayer(data).addTo(map);

  var bounds = layer.getBounds();
  if (bounds.isValid()) {
    map.fitBounds(bounds, { padding: [20, 20] });
  } else {
    map.setView(cfg.center, cfg.zoom);
  }
  el.setAttribute("data-ready", "1");
})();
