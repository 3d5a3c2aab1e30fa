/* Live player: hls.js where the browser has Media Source Extensions, native HLS (Safari, iOS) otherwise.
   The state (upcoming / live / reconnecting / ended) comes from the platform, polled every few seconds,
   so the overlay says what is happening even when no video arrives. */
(function () {
  "use strict";
  var POLL_MS = 5000;

  function setup(el) {
    var video = el.querySelector("video");
    var hls = null;
    var current = null;

    function show(state) { el.setAttribute("data-state", state); }

    function detach() {
      if (hls) { hls.destroy(); hls = null; }
      if (current) { video.removeAttribute("src"); video.load(); }
      current = null;
    }

    function attach(url) {
      if (current === url) { return; }
      detach();
      current = url;
      if (window.Hls && window.Hls.isSupported()) {
        hls = new window.Hls({ liveSyncDurationCount: 3, manifestLoadingMaxRetry: 6 });
        hls.on(window.Hls.Events.ERROR, function (_e, data) {
          if (!data.fatal) { return; }
          if (data.type === window.Hls.ErrorTypes.NETWORK_ERROR) {
            // The playlist can be missing for a moment while the host reconnects: keep trying.
            setTimeout(function () { if (hls) { hls.startLoad(); } }, 2000);
          } else if (data.type === window.Hls.ErrorTypes.MEDIA_ERROR) {
            hls.recoverMediaError();
          } else {
            detach();
          }
        });
        hls.loadSource(url);
        hls.attachMedia(video);
        hls.on(window.Hls.Events.MANIFEST_PARSED, function () { video.play().catch(function () {}); });
      } else if (video.canPlayType("application/vnd.apple.mpegurl")) {
        video.src = url;
        video.play().catch(function () {});
      } else {
        show("unsupported");
      }
    }

    function apply(pb) {
      if (!pb) { return; }
      if (pb.replay_url) {
        var link = el.querySelector(".zn-replay-link");
        if (link) { link.setAttribute("href", pb.replay_url); link.hidden = false; }
        var pending = el.querySelector(".zn-replay-pending");
        if (pending) { pending.hidden = true; }
      }
      if (pb.state === "live" && pb.hls_url) {
        attach(pb.hls_url);
        if (el.getAttribute("data-state") !== "unsupported") { show("live"); }
      } else if (pb.state === "reconnecting") {
        show("reconnecting");  // keep the player: the same playlist continues when the host is back
      } else if (pb.state === "ended") {
        detach();
        show("ended");
      } else {
        show(pb.state);
      }
    }

    function poll() {
      fetch(el.getAttribute("data-playback-url"), { credentials: "same-origin" })
        .then(function (r) { return r.ok ? r.json() : null; })
        .then(apply)
        .catch(function () {})
        .then(function () {
          // After the end, keep asking (slowly) until the replay is ready, so its link appears by itself.
          if (el.getAttribute("data-state") !== "ended") { setTimeout(poll, POLL_MS); }
          else if (el.querySelector(".zn-replay-link[hidden]")) { setTimeout(poll, POLL_MS * 5); }
        });
    }

    apply({ state: el.getAttribute("data-state"), hls_url: el.getAttribute("data-hls") || null });
    if (el.getAttribute("data-state") !== "ended" || el.querySelector(".zn-replay-link[hidden]")) {
      setTimeout(poll, POLL_MS);
    }
    // The live room may re-dispatch its websocket frames as DOM events; a video frame means "ask now".
    document.addEventListener("zn:room-event", function (e) {
      if (e.detail && e.detail.t === "video") { poll(); }
    });
  }

  function init() {
    var players = document.querySelectorAll(".zn-player:not([data-ready])");
    for (var i = 0; i < players.length; i++) {
      players[i].setAttribute("data-ready", "1");
      setup(players[i]);
    }
  }
  if (document.readyState === "loading") { document.addEventListener("DOMContentLoaded", init); } else { init(); }
})();
