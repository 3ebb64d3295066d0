// Keeps the server-rendered parts of a page current. A page names what it follows with
// data-live-appserver="<id>", data-live-instance="<id>", data-live-instances="<id> <id> …" (a
// roll-out's page) or data-live-fleet (the home page, any appserver) and marks its parts with
// data-live-region="<name>", and gives the GET address that renders it in data-live-url (not
// location.href: a page answering a POST, such as the revealed secrets, is not at its own address).
// On a status message of that appserver (or of any appserver of that instance) it fetches that
// address again and puts each region of the new page in place of the one it shows, so steps, address, link, actions and failure are what the server renders now, and an
// action that is no longer valid disappears. Everything outside the regions (the log viewer, a
// form being filled) is left alone, and the control that had the focus keeps it.
(function () {
  "use strict";
  var root = document.querySelector("[data-live-appserver], [data-live-instance], [data-live-instances], [data-live-fleet]");
  if (!root) return;
  var url = root.getAttribute("data-live-url");
  var appServerId = Number(root.getAttribute("data-live-appserver")) || null;
  var instanceIds = (root.getAttribute("data-live-instances") || root.getAttribute("data-live-instance") || "")
    .split(" ").map(Number).filter(function (id) { return id > 0; });
  var busy = false;
  var again = false;

  function concerns(status) {
    return (appServerId !== null && status.appServerId === appServerId) || instanceIds.indexOf(status.instanceId) >= 0;
  }

  // A confirmation being answered is not swapped away under the reader: the page refreshes once it closes.
  function openDialog() {
    return document.querySelector("[data-live-region] dialog[open]");
  }

  // What names a control across renderings: its tag, the attribute that says what it does, its text.
  function controlKey(el) {
    var does = el.id || el.getAttribute("data-confirm") || el.getAttribute("href") || el.getAttribute("name") ||
      (el.form ? el.form.getAttribute("action") : "") || "";
    return el.tagName + " " + does + " " + (el.textContent || "").trim();
  }

  // The control that had the focus in a region rendered again gets it back in the new rendering
  // (when it is still there): a keyboard user's place is not thrown to the top of the page.
  function refocus(focused, next) {
    var key = controlKey(focused);
    var same = Array.prototype.find.call(next.querySelectorAll(focused.tagName), function (el) { return controlKey(el) === key; });
    if (same) same.focus({ preventScroll: true });
  }

  function swap(html) {
    var fresh = new DOMParser().parseFromString(html, "text/html");
    document.querySelectorAll("[data-live-region]").forEach(function (region) {
      var name = region.getAttribute("data-live-region");
      var next = fresh.querySelector('[data-live-region="' + name + '"]');
      if (!next) return;
      next = document.importNode(next, true);
      var focused = region.contains(document.activeElement) ? document.activeElement : null;
      region.replaceWith(next);
      if (focused) refocus(focused, next);
    });
    document.dispatchEvent(new CustomEvent("ocim:regions-updated"));
  }

  // Asked again once the dialog closes: the page it was answering may have changed meanwhile.
  function afterDialog() {
    var dialog = openDialog();
    if (dialog) dialog.addEventListener("close", refresh, { once: true });
    return Boolean(dialog);
  }

  function refresh() {
    if (busy) { again = true; return; }
    if (afterDialog()) return;
    busy = true;
    again = false;
    fetch(url, { credentials: "same-origin", headers: { Accept: "text/html" } })
      .then(function (res) { return res.ok ? res.text() : null; })
      // A dialog opened while the page was fetched is not swapped away either.
      .then(function (html) { if (html && !afterDialog()) swap(html); })
      .catch(function () { /* the next status message or the reconnection tries again */ })
      .then(function () {
        busy = false;
        if (again) refresh();
      });
  }

  document.addEventListener("ocim:status", function (e) { if (e.detail && concerns(e.detail)) refresh(); });
  document.addEventListener("ocim:instance", function (e) { if (e.detail && instanceIds.indexOf(e.detail.instanceId) >= 0) refresh(); });

  // The fleet home (data-live-fleet): any appserver's change pings it; it renders its panels again
  // after data-live-delay (its panels are shared reads that may be that old), once per burst.
  if (root.hasAttribute("data-live-fleet") && window.OcimLive) {
    var delay = Number(root.getAttribute("data-live-delay")) || 0;
    var pending = null;
    var later = function () {
      if (!pending) pending = setTimeout(function () { pending = null; refresh(); }, delay);
    };
    var socket = window.OcimLive.socket();
    // Rooms are left on disconnect: join again on every (re)connection, and catch up on what changed.
    var watchFleet = function () { socket.emit("watch-fleet", {}, function () { later(); }); };
    socket.on("connect", watchFleet);
    if (socket.connected) watchFleet();
    socket.on("fleet-changed", later);
  }
})();
