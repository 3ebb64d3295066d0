// One socket.io connection per page, shared by the log viewer and the live status badges
// (loaded after /socket.io/socket.io.js). Status messages become "ocim:status" DOM events, so
// any script can react to them without knowing about the socket.
(function () {
  "use strict";
  if (window.OcimLive) return;
  var socket = null;

  function dispatchStatus(status) {
    document.dispatchEvent(new CustomEvent("ocim:status", { detail: status }));
  }

  // While the socket is away (the console restarting, the network), every live page says that what
  // it shows may be out of date; not for a blip shorter than OFFLINE_GRACE_MS. The pages catch up
  // by themselves on reconnecting (live-status.js, live-regions.js, log-viewer.js).
  var OFFLINE_GRACE_MS = 1500;
  var offlineTimer = null;
  function showOffline(away) {
    var notice = document.querySelector("[data-live-offline]");
    if (!notice) {
      notice = document.createElement("p");
      notice.className = "live-offline";
      notice.setAttribute("data-live-offline", "");
      notice.setAttribute("role", "status");
      notice.hidden = true;
      notice.textContent = "Not connected: this page is not being updated. Reconnecting…";
      document.body.appendChild(notice);
    }
    clearTimeout(offlineTimer);
    if (!away) notice.hidden = true;
    else offlineTimer = setTimeout(function () { notice.hidden = false; }, OFFLINE_GRACE_MS);
  }

  window.OcimLive = {
    socket: function () {
      if (!socket) {
        // WebSocket first: it needs no sticky sessions when several web processes serve the console;
        // long-polling only where a proxy refuses WebSockets.
        socket = window.io({ transports: ["websocket", "polling"], tryAllTransports: true });
        socket.on("status", dispatchStatus);
        // The instance itself changed (maintenance, archive, settings): live-regions.js renders again.
        socket.on("instance", function (change) { document.dispatchEvent(new CustomEvent("ocim:instance", { detail: change })); });
        socket.on("connect", function () { showOffline(false); });
        socket.on("disconnect", function () { showOffline(true); });
        socket.on("connect_error", function () { if (!socket.connected) showOffline(true); });
      }
      return socket;
    },
    dispatchStatus: dispatchStatus,
  };
})();
