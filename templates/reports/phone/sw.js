{% autoescape off %}
/* Service worker: keeps the filing page and its assets so they open with no signal.
 * Static assets: cache first. Phone pages and the category list: network first, the
 * cached copy when offline. Posts are never touched (the page's outbox retries them). */
"use strict";
var CACHE = "jzt-phone-{{ version }}";
var ASSETS = {{ assets_json }};
var PAGES = {{ pages_json }};

self.addEventListener("install", function (event) {
  event.waitUntil(caches.open(CACHE).then(function (cache) {
    return cache.addAll(ASSETS).then(function () {
      return Promise.all(PAGES.map(function (url) {
        return fetch(url, { credentials: "same-origin" }).then(function (resp) {
          if (resp.ok && !resp.redirected) { return cache.put(url, resp); }
        })["catch"](function () {});
      }));
    });
  }).then(function () { return self.skipWaiting(); }));
});

self.addEventListener("activate", function (event) {
  event.waitUntil(caches.keys().then(function (keys) {
    return Promise.all(keys.filter(function (k) { return k.indexOf("jzt-phone-") === 0 && k !== CACHE; })
      .map(function (k) { return caches["delete"](k); }));
  }).then(function () { return self.clients.claim(); }));
});

self.addEventListener("fetch", function (event) {
  var req = event.request;
  if (req.method !== "GET") { return; }
  var url = new URL(req.url);
  if (url.origin !== self.location.origin) { return; }
  if (ASSETS.indexOf(url.pathname) !== -1) {
    event.respondWith(caches.match(url.pathname).then(function (hit) { return hit || fetch(req); }));
  } else if (PAGES.indexOf(url.pathname) !== -1) {
    event.respondWith(fetch(req).then(function (resp) {
      if (resp.ok && !resp.redirected) {
        var copy = resp.clone();
        caches.open(CACHE).then(function (cache) { cache.put(url.pathname, copy); });
      }
      return resp;
    })["catch"](function () {
      return caches.match(url.pathname).then(function (hit) { return hit || Response.error(); });
    }));
  }
});
{% endautoescape %}
