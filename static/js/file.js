/* Filing page (上报 and 自处), enhanced: photos compressed in the browser, position from
 * GPS or a pin on the map, grid, building and entrance from /api/v1/locate, category search with
 * pinyin, nearby open cases of the same category, and a draft kept on the phone
 * (IndexedDB, via queue.js) until the server has it. Without this script the form is a
 * plain multipart POST. Everything from the server is put into the page as text. */
(function () {
  "use strict";
  var form = document.getElementById("file-form");
  var box = window.JZTOutbox;
  if (!form || !box || !window.indexedDB || !window.fetch) { return; }
  var t = box.text;
  var kind = form.dataset.kind;
  var keyInput = form.querySelector("[name=idempotency_key]");
  var photos = {};           // field name → [{blob, name, url}]
  var MAX = 9;
  var draftKey = null;
  var categories = JSON.parse(document.getElementById("categories-data").textContent);
  var byId = {};
  categories.forEach(function (c) { byId[String(c.id)] = c; });

  document.body.classList.add("js-ready");
  Array.prototype.forEach.call(document.querySelectorAll(".js-only"), function (el) { el.hidden = false; });
  Array.prototype.forEach.call(form.querySelectorAll(".thumbs[data-field]"), function (ul) { photos[ul.dataset.field] = []; });

  function $(sel) { return form.querySelector(sel); }
  function field(name) { return form.elements.namedItem(name); }

  // -- the draft ---------------------------------------------------------------------
  function fields() {
    var out = [];
    Array.prototype.forEach.call(form.elements, function (el) {
      if (!el.name || el.type === "file" || el.disabled) { return; }
      if ((el.type === "radio" || el.type === "checkbox") && !el.checked) { return; }
      out.push([el.name, el.value]);
    });
    return out;
  }
  function files() {
    var out = [];
    Object.keys(photos).forEach(function (name) {
      photos[name].forEach(function (p) { out.push([name, p.blob, p.name]); });
    });
    return out;
  }
  function item(status, url) {
    return { key: draftKey, kind: kind, url: url || form.action, status: status,
             fields: fields(), files: files(), savedAt: Date.now() };
  }
  var saveTimer = null;
  function saveDraft() {
    clearTimeout(saveTimer);
    saveTimer = setTimeout(function () { box.put(item("draft")); }, 300);
  }
  function startDraft(key) {
    draftKey = key || box.newKey();
    keyInput.value = draftKey;
  }
  function restore(d) {
    startDraft(d.key);
    d.fields.forEach(function (f) {
      var el = field(f[0]);
      if (!el || f[0] === "csrfmiddlewaretoken" || f[0] === "idempotency_key") { return; }
      if (el instanceof RadioNodeList) { el.value = f[1]; } else { el.value = f[1]; }
    });
    d.files.forEach(function (f) { addPhoto(f[0], f[1], f[2]); });
    filterEntrances();
    if (field("lng").value && field("lat").value) {
      placeMarker(parseFloat(field("lat").value), parseFloat(field("lng").value), false);
    }
    categoryChanged(false);
  }

  // -- photos ------------------------------------------------------------------------
  var progress = document.getElementById("photo-progress");
  function addPhoto(name, blob, filename) {
    var list = photos[name];
    var p = { blob: blob, name: filename || "photo.jpg", url: URL.createObjectURL(blob) };
    list.push(p);
    var ul = form.querySelector(".thumbs[data-field='" + name + "']");
    var li = document.createElement("li");
    var img = document.createElement("img");
    img.src = p.url; img.alt = t("photo") + " " + list.length; img.width = 80; img.height = 80;
    var rm = document.createElement("button");
    rm.type = "button"; rm.className = "remove"; rm.textContent = "×";
    rm.setAttribute("aria-label", t("remove"));
    rm.addEventListener("click", function () {
      list.splice(list.indexOf(p), 1); li.remove(); URL.revokeObjectURL(p.url); saveDraft();
    });
    li.appendChild(img); li.appendChild(rm); ul.appendChild(li);
  }
  function compress(file) {
    if (!window.imageCompression) { return Promise.resolve(file); }
    return window.imageCompression(file, {
      maxSizeMB: 0.8, maxWidthOrHeight: 1600, useWebWorker: false, fileType: "image/jpeg",
      initialQuality: 0.8,
      onProgress: function (pct) { progress.value = pct; }
    })["catch"](function () { return file; });
  }
  Array.prototype.forEach.call(form.querySelectorAll("input[type=file]"), function (input) {
    input.addEventListener("change", function () {
      var name = input.name, chosen = Array.prototype.slice.call(input.files || []);
      input.value = "";
      if (photos[name].length + chosen.length > MAX) {
        showErrors([t("tooMany")]);
        chosen = chosen.slice(0, Math.max(0, MAX - photos[name].length));
      }
      progress.hidden = false;
      chosen.reduce(function (p, f) {
        return p.then(function () {
          progress.value = 0;
          return compress(f).then(function (blob) {
            addPhoto(name, blob, (f.name || "photo").replace(/\.[^.]*$/, "") + ".jpg");
          });
        });
      }, Promise.resolve()).then(function () { progress.hidden = true; saveDraft(); });
    });
  });

  // -- place -------------------------------------------------------------------------
  var status = document.getElementById("place-status");
  var mapEl = document.getElementById("pin-map");
  var map = null, marker = null;
  function initMap() {
    if (map || !window.L) { return; }
    var cfg = JSON.parse(document.getElementById("map-config").textContent);
    mapEl.hidden = false;
    map = L.map(mapEl, { scrollWheelZoom: false }).setView(cfg.center || [39.1, 117.2], cfg.zoom || 15);
    // The worker's grids and buildings, drawn as the workspace map draws them, so the pin
    // has something to be placed against even with no tile server.
    var gridData = document.getElementById("grid-map");
    if (window.JZT && gridData) {
      JZT.baseLayer(map, mapEl, cfg);
      var grids = JZT.regionLayer(JSON.parse(gridData.textContent)).addTo(map);
      if (grids.getBounds().isValid()) { map.fitBounds(grids.getBounds(), { padding: [10, 10] }); }
      mapEl.setAttribute("data-grids", String(grids.getLayers().length));
    } else if (cfg.tileUrl) {
      L.tileLayer(cfg.tileUrl, { attribution: "", maxZoom: 19 }).addTo(map);
    } else { mapEl.classList.add("no-tiles"); }
    map.on("click", function (e) { placeMarker(e.latlng.lat, e.latlng.lng, true); });
  }
  function placeMarker(lat, lng, lookup) {
    initMap();
    if (!map) { return; }
    var ll = [lat, lng];
    if (marker) { marker.setLatLng(ll); } else { marker = L.circleMarker(ll, { radius: 9, color: "#b3261e", weight: 3, fillOpacity: 0.4 }).addTo(map); }
    map.setView(ll, Math.max(map.getZoom(), 17));
    field("lng").value = lng.toFixed(7);
    field("lat").value = lat.toFixed(7);
    if (lookup) { locate(lng, lat); }
    saveDraft();
  }
  function locate(lng, lat) {
    fetch(form.dataset.locateUrl + "?lng=" + lng + "&lat=" + lat, { credentials: "same-origin", headers: { "Accept": "application/json" } })
      .then(function (r) { return r.json().then(function (d) { return { ok: r.ok, d: d }; }); })
      .then(function (res) {
        if (!res.ok) { status.textContent = res.d.error || t("outside"); return; }
        var d = res.d, text = d.grid.name;
        var grid = field("grid");
        if (grid.querySelector("option[value='" + d.grid.id + "']")) { grid.value = String(d.grid.id); }
        if (d.building) {
          var b = field("building");
          if (b.querySelector("option[value='" + d.building.id + "']")) { b.value = String(d.building.id); }
          text += " · " + d.building.name + "（" + t("metres").replace("__M__", Math.round(d.building.distance_m)) + "）";
          filterEntrances();
          var en = field("entrance");
          if (en && d.entrance && en.querySelector("option[value='" + d.entrance.id + "']")) {
            en.value = String(d.entrance.id);
            text += " " + d.entrance.name;
          }
        }
        status.textContent = text + "。" + t("pinHint");
        saveDraft();
        nearby();
      }, function () { status.textContent = t("pinHint"); });
  }
  function gps() {
    initMap();
    if (!navigator.geolocation) { status.textContent = t("noGps"); return; }
    status.textContent = t("locating");
    navigator.geolocation.getCurrentPosition(function (pos) {
      placeMarker(pos.coords.latitude, pos.coords.longitude, true);
    }, function () { status.textContent = t("noGps"); },
    { enableHighAccuracy: true, timeout: 10000, maximumAge: 60000 });
  }
  document.getElementById("locate-btn").addEventListener("click", gps);
  // Only the entrances of the chosen building are offered (all of them with no building).
  function filterEntrances() {
    var en = field("entrance"), b = field("building").value;
    if (!en) { return; }
    Array.prototype.forEach.call(en.options, function (o) {
      var other = o.value !== "" && b !== "" && o.dataset.building !== b;
      o.hidden = other; o.disabled = other;
    });
    if (en.selectedOptions.length && en.selectedOptions[0].disabled) { en.value = ""; }
  }
  field("building").addEventListener("change", filterEntrances);

  // -- category ----------------------------------------------------------------------
  var search = document.getElementById("category-search");
  var results = document.getElementById("category-results");
  var select = field("category");
  var standard = field("standard");
  search.addEventListener("input", function () {
    var q = search.value.trim().toLowerCase().replace(/\s+/g, "");
    results.textContent = "";
    if (!q) { return; }
    var hits = categories.filter(function (c) { return c.search.indexOf(q) !== -1; }).slice(0, 8);
    if (!hits.length) {
      var li = document.createElement("li"); li.className = "muted small"; li.textContent = t("noMatch");
      results.appendChild(li); return;
    }
    hits.forEach(function (c) {
      var li = document.createElement("li"), b = document.createElement("button");
      b.type = "button"; b.className = "choice"; b.textContent = c.major + " › " + c.name;
      b.addEventListener("click", function () {
        select.value = String(c.id); results.textContent = ""; search.value = c.name;
        categoryChanged(true);
      });
      li.appendChild(b); results.appendChild(li);
    });
  });
  function categoryChanged(save) {
    var c = byId[select.value];
    if (standard) {
      var keep = standard.value;
      standard.textContent = "";
      var none = document.createElement("option"); none.value = ""; none.textContent = t("defaultStandard");
      standard.appendChild(none);
      (c ? c.standards : []).forEach(function (s) {
        var o = document.createElement("option"); o.value = String(s.id); o.textContent = s.condition;
        standard.appendChild(o);
      });
      if (standard.querySelector("option[value='" + keep + "']")) { standard.value = keep; }
    }
    if (save) { saveDraft(); nearby(); }
  }
  select.addEventListener("change", function () { categoryChanged(true); });
  if (standard) {
    standard.addEventListener("change", function () {
      var c = byId[select.value], urgent = false;
      (c ? c.standards : []).forEach(function (s) { if (String(s.id) === standard.value) { urgent = s.urgent; } });
      if (urgent && field("urgency")) { field("urgency").value = "urgent"; }
    });
  }

  // -- nearby open cases of the same category ----------------------------------------
  var nearbyBox = document.getElementById("nearby");
  function nearby() {
    if (!nearbyBox || !select.value || !field("lng").value || !navigator.onLine) { return; }
    var url = form.dataset.nearbyUrl + "?category=" + select.value + "&lng=" + field("lng").value + "&lat=" + field("lat").value;
    fetch(url, { credentials: "same-origin", headers: { "Accept": "application/json" } })
      .then(function (r) { return r.ok ? r.json() : { reports: [] }; })
      .then(function (d) {
        var list = document.getElementById("nearby-list");
        list.textContent = "";
        nearbyBox.hidden = d.reports.length === 0;
        d.reports.forEach(function (r) {
          var li = document.createElement("li");
          if (r.photo) {
            var img = document.createElement("img"); img.src = r.photo; img.alt = r.number; img.width = 64; img.height = 64;
            li.appendChild(img);
          }
          var text = document.createElement("div");
          var head = document.createElement(r.url ? "a" : "strong");
          if (r.url) { head.href = r.url; }
          head.textContent = r.number;
          var p = document.createElement("p"); p.className = "small"; p.textContent = r.description;
          var meta = document.createElement("p"); meta.className = "small muted";
          meta.textContent = r.state + " · " + r.age + " · " + t("metres").replace("__M__", r.distance_m);
          var b = document.createElement("button"); b.type = "button"; b.className = "secondary same";
          b.textContent = t("same");
          b.addEventListener("click", function () { sighting(r); });
          text.appendChild(head); text.appendChild(p); text.appendChild(meta); text.appendChild(b);
          li.appendChild(text); list.appendChild(li);
        });
      }, function () {});
  }
  function sighting(r) {
    var it = item("queued", r.sighting_url);
    it.fields = [["idempotency_key", draftKey], ["note", field("description").value]];
    it.files = files().filter(function (f) { return f[0] === "photos"; });
    it.files.forEach(function (f) { f[0] = "photos"; });
    submit(it, "sighted");
  }

  // -- sending -----------------------------------------------------------------------
  var errors = document.getElementById("form-errors");
  function showErrors(list) {
    errors.textContent = "";
    var p = document.createElement("p"), strong = document.createElement("strong");
    strong.textContent = t("fix"); p.appendChild(strong); errors.appendChild(p);
    var ul = document.createElement("ul");
    list.forEach(function (m) { var li = document.createElement("li"); li.textContent = m; ul.appendChild(li); });
    errors.appendChild(ul); errors.hidden = false;
    errors.scrollIntoView({ block: "center" });
  }
  function notice(text) {
    var el = document.getElementById("queue-status");
    el.hidden = false; el.textContent = text;
  }
  var button = document.getElementById("submit-btn");
  function submit(it, done) {
    clearTimeout(saveTimer);
    button.disabled = true;
    notice(t("sending"));
    box.put(it).then(function () { return box.send(it); }).then(function (res) {
      button.disabled = false;
      if (res.ok) {
        sessionStorage.setItem("jzt-flash", t(done).replace("__NUMBER__", res.data.number));
        window.location.href = form.dataset.mineUrl;
      } else if (res.invalid) {
        var msgs = [];
        Object.keys(res.data.errors || {}).forEach(function (k) { msgs = msgs.concat(res.data.errors[k]); });
        box.status();
        showErrors(msgs);
      } else {
        // No signal: the item stays queued; start a fresh draft with a new key.
        resetForm();
        box.status().then(function () {
          var el = document.getElementById("queue-status");
          el.textContent = t("savedOffline") + " " + el.textContent;
        });
      }
    });
  }
  function resetForm() {
    form.reset();
    Object.keys(photos).forEach(function (k) { photos[k] = []; });
    Array.prototype.forEach.call(form.querySelectorAll(".thumbs[data-field]"), function (ul) { ul.textContent = ""; });
    errors.hidden = true;
    if (nearbyBox) { nearbyBox.hidden = true; }
    startDraft();
    if (marker) { placeMarker(marker.getLatLng().lat, marker.getLatLng().lng, true); }
    box.put(item("draft"));
  }
  form.addEventListener("submit", function (e) {
    e.preventDefault();
    submit(item("queued"), "sent");
  });
  form.addEventListener("input", saveDraft);
  form.addEventListener("change", saveDraft);

  // -- start: restore the unsent draft of this page, or start one ----------------------
  var hadErrors = !errors.hidden;
  box.all().then(function (items) {
    // A held item (the server could not take it, e.g. storage full) comes back as the
    // draft, with the server's reason, for the worker to send when it can be taken.
    var draft = items.filter(function (i) { return i.kind === kind && (i.status === "draft" || i.status === "held"); })
      .sort(function (a, b) { return b.savedAt - a.savedAt; })[0];
    if (draft && !hadErrors) {
      restore(draft);
      if (draft.status === "held" && draft.error) { showErrors([draft.error]); }
    } else {
      // A server re-render keeps its key (nothing was saved); a fresh page gets a new one,
      // so two drafts made from the same cached page never share a key.
      startDraft(hadErrors ? keyInput.value : null);
      categoryChanged(false);
    }
    form.dataset.ready = "1";
    if (!field("lng").value) { gps(); }
  });
}());
