/* 七彩民情图: building points coloured by their most demanding household. Data comes from
 * json_script elements; names are put in the page as text, never as HTML. */
(function () {
  "use strict";
  var el = document.getElementById("res-map");
  if (!el || !window.L) { return; }
  var cfg = JSON.parse(document.getElementById("map-config").textContent);
  var points = JSON.parse(document.getElementById("res-points").textContent);
  var map = L.map(el, { zoomSnap: 0.25, scrollWheelZoom: false });
  if (cfg.tileUrl) {
    var opts = { attribution: cfg.attribution || "", maxZoom: 19 };
    if (cfg.subdomains) { opts.subdomains = cfg.subdomains; }
    L.tileLayer(cfg.tileUrl, opts).addTo(map);
  }
  var named = points.length <= 40;
  function label(p) {
    // Few buildings: a short permanent label; many: the details on hover/tap.
    var span = document.createElement("span");
    span.textContent = named ? p.name : p.summary;
    return span;
  }
  var bounds = [];
  points.forEach(function (p) {
    var marker = L.circleMarker([p.lat, p.lng], {
      radius: 9, color: "#222", weight: p.party ? 3 : 1, fillColor: p.color, fillOpacity: 0.95
    }).addTo(map);
    marker.bindTooltip(label(p), { direction: "top", permanent: named, className: "bld-label" });
    marker.on("click", function () {
      var target = document.getElementById("b-" + p.id);
      if (target) { target.scrollIntoView({ behavior: "smooth" }); }
    });
    bounds.push([p.lat, p.lng]);
  });
  if (bounds.length) {
    map.fitBounds(bounds, { padding: [60, 60], maxZoom: 18 });
  } else {
    map.setView(cfg.center, cfg.zoom);
  }
  el.setAttribute("data-ready", "1");
}());
