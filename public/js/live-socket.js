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

  window.OcimLive = {
    socket: function () {
      if (!socket) {
        // WebSocket first: it needs no sticky sessions when several web processes serve the console;
        // long-polling only where a proxy refuses WebSockets.
        socket = window.io({ transports: ["websocket", "polling"], tryAllTransports: true });
        socket.on("status", dispatchStatus);
      }
      return socket;
    },
    dispatchStatus: dispatchStatus,
  };
})();
