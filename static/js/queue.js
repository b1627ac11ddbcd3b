/* The phone's outbox: submissions kept in IndexedDB until the server has them.
 *
 * An item is {key, url, label, fields: [[name, value]], files: [[name, Blob, filename]],
 * status: "draft" | "queued" | "held"}. "held": the server answered that sending it again
 * cannot help for now ("retry": false, e.g. its photo storage is full); it stays on the
 * phone with the server's message and is sent again only when the worker submits it. Its key is the submission's idempotency key, made when
 * the draft was made, so sending it again (a retry, a second tab, a reload) never makes
 * a second case. Queued items are sent when the page loads, when the browser says it is
 * online again, and every 20 s. Also registers the service worker that caches the page. */
(function () {
  "use strict";
  var DB = "jzt-outbox", STORE = "items";

  function open() {
    return new Promise(function (resolve, reject) {
      var req = indexedDB.open(DB, 1);
      req.onupgradeneeded = function () { req.result.createObjectStore(STORE, { keyPath: "key" }); };
      req.onsuccess = function () { resolve(req.result); };
      req.onerror = function () { reject(req.error); };
    });
  }

  function run(mode, fn) {
    return open().then(function (db) {
      return new Promise(function (resolve, reject) {
        var tx = db.transaction(STORE, mode);
        var result = fn(tx.objectStore(STORE));
        tx.oncomplete = function () { db.close(); resolve(result && "result" in result ? result.result : undefined); };
        tx.onerror = function () { db.close(); reject(tx.error); };
      });
    });
  }

  function put(item) { return run("readwrite", function (s) { s.put(item); }); }
  function remove(key) { return run("readwrite", function (s) { s["delete"](key); }); }
  function all() { return run("readonly", function (s) { return s.getAll(); }).then(function (r) { return r || []; }); }

  /* UI text comes translated from the page (#phone-text data attributes). */
  function text(name) {
    var el = document.getElementById("phone-text");
    return (el && el.dataset[name]) || name;
  }

  function newKey() {
    if (window.crypto && crypto.randomUUID) { return crypto.randomUUID().replace(/-/g, ""); }
    var a = new Uint8Array(16);
    crypto.getRandomValues(a);
    return Array.prototype.map.call(a, function (b) { return ("0" + b.toString(16)).slice(-2); }).join("");
  }

  function csrfToken() {
    var m = document.cookie.match(/(?:^|;\s*)csrftoken=([^;]+)/);
    if (m) { return decodeURIComponent(m[1]); }
    var input = document.querySelector("[name=csrfmiddlewaretoken]");
    return input ? input.value : "";
  }

  function body(item) {
    var fd = new FormData();
    item.fields.forEach(function (f) { if (f[0] !== "csrfmiddlewaretoken") { fd.append(f[0], f[1]); } });
    item.files.forEach(function (f) { fd.append(f[0], f[1], f[2]); });
    return fd;
  }

  /* Send one item. Resolves {ok, data} (kept no longer), {invalid, data} (the server said
   * no: back to a draft), {invalid, held, data} (the server cannot take it now and says
   * not to resend it: held, with its message), or {offline} (no answer, or a passing
   * error such as 503: stays queued and is sent again). */
  function send(item) {
    return fetch(item.url, {
      method: "POST", body: body(item), credentials: "same-origin", redirect: "manual",
      headers: { "Accept": "application/json", "X-CSRFToken": csrfToken() }
    }).then(function (resp) {
      if (resp.status === 201) {
        return resp.json().then(function (data) { return remove(item.key).then(function () { return { ok: true, data: data }; }); });
      }
      if (resp.status === 400) {
        return resp.json().then(function (data) {
          item.status = "draft";
          return put(item).then(function () { return { invalid: true, data: data }; });
        });
      }
      if ((resp.headers.get("Content-Type") || "").indexOf("application/json") === 0) {
        return resp.json().then(function (data) {
          if (!data || data.retry !== false) { return { offline: true }; }
          item.status = "held"; item.error = data.error || "";
          return put(item).then(function () { return { invalid: true, held: true, data: data }; });
        }, function () { return { offline: true }; });
      }
      return { offline: true };
    }, function () { return { offline: true }; });
  }

  var flushing = false;
  function flush() {
    if (flushing) { return Promise.resolve(); }
    flushing = true;
    return all().then(function (items) {
      var queued = items.filter(function (i) { return i.status === "queued"; });
      return queued.reduce(function (p, item) {
        return p.then(function () { return send(item); });
      }, Promise.resolve());
    }).then(function () { flushing = false; return status(); },
            function () { flushing = false; return status(); });
  }

  function status() {
    return all().then(function (items) {
      var n = items.filter(function (i) { return i.status === "queued"; }).length;
      var held = items.filter(function (i) { return i.status === "held"; });
      var el = document.getElementById("queue-status");
      if (el) {
        var lines = [];
        if (n) { lines.push(text("queued").replace("__N__", n)); }
        // The server's own (translated) reason, e.g. "照片存储空间已满…".
        if (held.length) { lines.push(held[0].error); }
        el.hidden = lines.length === 0;
        el.textContent = lines.join(" ");
      }
      document.dispatchEvent(new CustomEvent("jzt:queue", { detail: { count: n } }));
      return n;
    });
  }

  window.JZTOutbox = { put: put, remove: remove, all: all, send: send, flush: flush,
                       status: status, newKey: newKey, text: text };

  window.addEventListener("online", flush);
  setInterval(function () { if (navigator.onLine) { flush(); } }, 20000);
  if (document.readyState === "loading") {
    document.addEventListener("DOMContentLoaded", flush);
  } else { flush(); }

  // The filing page's success message survives its redirect to 我的上报.
  var flash = sessionStorage.getItem("jzt-flash");
  var main = document.getElementById("main");
  if (flash && main) {
    sessionStorage.removeItem("jzt-flash");
    var p = document.createElement("p");
    p.className = "flash"; p.setAttribute("role", "status"); p.textContent = flash;
    main.insertBefore(p, main.firstChild);
  }

  var sw = document.querySelector("meta[name=jzt-sw]");
  if (sw && "serviceWorker" in navigator) {
    navigator.serviceWorker.register(sw.content, { scope: "/" })["catch"](function () {});
  }
}());
