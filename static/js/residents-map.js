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
  var bounds = [], markers = [];
  points.forEach(function (p) {
    var marker = L.circleMarker([p.lat, p.lng], {
      radius: 9, color: "#222", weight: p.party ? 3 : 1, fillColor: p.color, fillOpacity: 0.95
    }).addTo(map);
    marker.bindTooltip(label(p), { direction: "top", permanent: named, className: "bld-label" });
    marker.on("click", function () {
      var target = document.getElementById("b-" + p.id);
      if (target) { target.scrollIntoView({ behavior: "smooth" }); }
    });
    marker.on("mouseover", function () {
      var node = marker.getTooltip() && marker.getTooltip().getElement();
      if (node) { node.classList.remove("bld-label-hidden"); }
    });
    marker.on("mouseout", function () { declutter(); });
    markers.push(marker);
    bounds.push([p.lat, p.lng]);
  });

  // Permanent labels never overlap: at each zoom a label that would cover one already
  // shown is left out (its name still shows on hover or tap, and once zoomed in).
  function overlaps(a, b) {
    return a.left < b.right && b.left < a.right && a.top < b.bottom && b.top < a.bottom;
  }
  function declutter() {
    if (!named) { return; }
    var shown = [];
    markers.forEach(function (marker) {
      var tip = marker.getTooltip();
      var node = tip && tip.getElement();
      if (!node) { return; }
      node.classList.remove("bld-label-hidden");
      var box = node.getBoundingClientRect();
      var hit = shown.some(function (other) { return overlaps(box, other); });
      if (hit) { node.classList.add("bld-label-hidden"); } else { shown.push(box); }
    });
    el.setAttribute("data-labels", String(shown.length));
  }
  map.on("zoomend moveend", declutter);

  if (bounds.length) {
    map.fitBounds(bounds, { padding: [60, 60], maxZoom: 18 });
  } else {
    map.setView(cfg.center, cfg.zoom);
  }
  declutter();
  el.setAttribute("data-ready", "1");
}());
