/* Boundary editor for the region admin (see grids/widgets.py).
 *
 * The GeoJSON textarea is the source of truth: the map is drawn from it, and every
 * draw/edit/delete on the map writes a Polygon or MultiPolygon back to it. Pasting
 * GeoJSON into the textarea redraws the map. Works with no tile layer at all.
 */
(function () {
  "use strict";

  var EDIT_STYLE = { color: "#c0392b", weight: 3, fillOpacity: 0.15 };
  var CONTEXT_STYLE = {
    color: "#777", weight: 1.5, dashArray: "4 4", fillColor: "#999", fillOpacity: 0.08,
  };
  var PRECISION = 1e7; // ~1 cm, as the server stores it

  function merge(target, source) {
    Object.keys(source).forEach(function (key) {
      var value = source[key];
      if (value && typeof value === "object" && !Array.isArray(value)) {
        if (!target[key] || typeof target[key] !== "object") target[key] = {};
        merge(target[key], value);
      } else {
        target[key] = value;
      }
    });
  }

  function round(n) {
    return Math.round(n * PRECISION) / PRECISION;
  }

  function roundCoords(coords) {
    if (typeof coords[0] === "number") return [round(coords[0]), round(coords[1])];
    return coords.map(roundCoords);
  }

  /* A Polygon/MultiPolygon (or a Feature/FeatureCollection wrapping polygons) as a list
   * of polygon coordinate arrays; null when the text is not usable. */
  function polygonsOf(geojson) {
    if (!geojson || typeof geojson !== "object") return null;
    if (geojson.type === "Feature") return polygonsOf(geojson.geometry);
    if (geojson.type === "FeatureCollection" && Array.isArray(geojson.features)) {
      var all = [];
      for (var i = 0; i < geojson.features.length; i++) {
        var part = polygonsOf(geojson.features[i]);
        if (part === null) return null;
        all = all.concat(part);
      }
      return all;
    }
    if (geojson.type === "Polygon" && Array.isArray(geojson.coordinates)) {
      return [geojson.coordinates];
    }
    if (geojson.type === "MultiPolygon" && Array.isArray(geojson.coordinates)) {
      return geojson.coordinates.slice();
    }
    return null;
  }

  function geometryFrom(group) {
    var polygons = [];
    group.eachLayer(function (layer) {
      var found = polygonsOf(layer.toGeoJSON());
      if (found) polygons = polygons.concat(found);
    });
    if (polygons.length === 0) return null;
    if (polygons.length === 1) return { type: "Polygon", coordinates: roundCoords(polygons[0]) };
    return { type: "MultiPolygon", coordinates: roundCoords(polygons) };
  }

  /* Leaflet puts strings into the page as HTML (tooltips, popups, attribution): every
   * value from the server goes in as a text node or escaped, never as markup. */
  function textNode(text) {
    var span = document.createElement("span");
    span.textContent = text == null ? "" : String(text);
    return span;
  }

  function escapeHtml(text) {
    return String(text == null ? "" : text)
      .replace(/&/g, "&amp;").replace(/</g, "&lt;").replace(/>/g, "&gt;")
      .replace(/"/g, "&quot;").replace(/'/g, "&#39;");
  }

  function addTiles(map, config) {
    if (!config.tileUrl) return false;
    var options = { attribution: escapeHtml(config.attribution || ""), maxZoom: 19 };
    if (config.subdomains && config.subdomains.length) options.subdomains = config.subdomains;
    L.tileLayer(config.tileUrl, options).addTo(map);
    return true;
  }

  function addContext(map, features) {
    if (!features || !features.length) return null;
    return L.geoJSON({ type: "FeatureCollection", features: features }, {
      style: function () { return CONTEXT_STYLE; },
      onEachFeature: function (feature, layer) {
        if (feature.properties && feature.properties.name) {
          layer.bindTooltip(textNode(feature.properties.name), { sticky: true });
        }
      },
    }).addTo(map);
  }

  function init(container) {
    var configNode = document.getElementById(container.getAttribute("data-config-id"));
    if (!configNode || typeof L === "undefined") return;
    var config = JSON.parse(configNode.textContent);
    var textarea = document.getElementById(config.textareaId);
    var mapNode = container.querySelector(".boundary-map");
    var status = container.querySelector("[data-boundary-status]");
    if (!textarea || !mapNode) return;
    if (L.drawLocal && config.drawLocal) merge(L.drawLocal, config.drawLocal);

    function say(text) {
      if (status) status.textContent = text || "";
    }

    var map = L.map(mapNode, { center: config.center, zoom: config.zoom });
    if (!addTiles(map, config)) {
      mapNode.classList.add("boundary-map--no-tiles");
      map.attributionControl.addAttribution(escapeHtml(config.messages.noTiles));
    }
    var context = addContext(map, config.context);
    var drawn = new L.FeatureGroup().addTo(map);

    function loadFromTextarea() {
      var text = textarea.value.trim();
      drawn.clearLayers();
      if (!text || text === "null") return true;
      var polygons;
      try {
        polygons = polygonsOf(JSON.parse(text));
      } catch (e) {
        polygons = null;
      }
      if (polygons === null) return false;
      // One layer per polygon part, so Leaflet.draw can edit each of them.
      polygons.forEach(function (coords) {
        L.geoJSON({ type: "Polygon", coordinates: coords }, {
          style: function () { return EDIT_STYLE; },
        }).eachLayer(function (layer) { drawn.addLayer(layer); });
      });
      return true;
    }

    function fit() {
      var bounds = null;
      if (drawn.getLayers().length) bounds = drawn.getBounds();
      else if (context) bounds = context.getBounds();
      if (bounds && bounds.isValid()) map.fitBounds(bounds, { padding: [20, 20] });
    }

    function writeBack() {
      var geometry = geometryFrom(drawn);
      textarea.value = geometry ? JSON.stringify(geometry) : "";
      textarea.dispatchEvent(new Event("input", { bubbles: true }));
    }

    if (!loadFromTextarea()) say(config.messages.invalidJson);
    fit();

    map.addControl(new L.Control.Draw({
      position: "topright",
      draw: {
        // showArea is broken in Leaflet.draw 1.0.4 (ReferenceError in readableArea).
        polygon: { allowIntersection: false, showArea: false, shapeOptions: EDIT_STYLE },
        rectangle: { showArea: false, shapeOptions: EDIT_STYLE },
        polyline: false, circle: false, marker: false, circlemarker: false,
      },
      edit: { featureGroup: drawn },
    }));

    map.on(L.Draw.Event.CREATED, function (event) {
      drawn.addLayer(event.layer);
      writeBack();
    });
    map.on(L.Draw.Event.EDITED, writeBack);
    map.on(L.Draw.Event.DELETED, writeBack);

    textarea.addEventListener("change", function () {
      if (loadFromTextarea()) {
        say("");
        fit();
      } else {
        say(config.messages.invalidJson);
      }
    });

    // The map may have been laid out while its fieldset was collapsed or not yet sized.
    window.addEventListener("load", function () {
      map.invalidateSize();
      fit();
    });
  }

  function start() {
    var nodes = document.querySelectorAll("[data-boundary-editor]");
    for (var i = 0; i < nodes.length; i++) init(nodes[i]);
  }

  if (document.readyState === "loading") document.addEventListener("DOMContentLoaded", start);
  else start();
})();
