// The header's unread count, kept live over /ws/me/ (the user's own events: new notifications, order status
// changes). A page element can listen for "zhunong:order" / "zhunong:notification" events on document.
(function () {
  "use strict";
  var link = document.querySelector("[data-notes-socket]");
  if (!link || !window.WebSocket) return;
  var badge = link.querySelector(".notes-unread");
  var delay = 1000;

  function show(count) {
    if (!badge) return;
    badge.textContent = String(count);
    if (count > 0) badge.removeAttribute("hidden"); else badge.setAttribute("hidden", "");
  }

  function connect() {
    var scheme = window.location.protocol === "https:" ? "wss://" : "ws://";
    var socket = new WebSocket(scheme + window.location.host + link.getAttribute("data-notes-socket"));
    socket.onopen = function () { delay = 1000; };
    socket.onmessage = function (message) {
      var frame;
      try { frame = JSON.parse(message.data); } catch (e) { return; }
      if (frame.t === "notification") {
        show(frame.unread || 0);
        document.dispatchEvent(new CustomEvent("zhunong:notification", { detail: frame }));
      } else if (frame.t === "order") {
        document.dispatchEvent(new CustomEvent("zhunong:order", { detail: frame }));
      }
    };
    socket.onclose = function (event) {
      if (event.code === 4401) return;  // signed out: nothing to listen to
      window.setTimeout(connect, delay);
      delay = Math.min(delay * 2, 60000);
    };
  }
  connect();
})();
