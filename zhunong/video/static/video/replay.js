/* Replay shelf: as the video plays, show the products that were pinned at that moment. Chapter links
   seek instead of reloading. Without JavaScript the page still works through ?t= links. */
(function () {
  "use strict";
  var video = document.getElementById("zn-replay-video");
  var shelf = document.getElementById("zn-shelf-now");
  if (!video || !shelf) { return; }
  var items = Array.prototype.slice.call(document.querySelectorAll(".zn-chapters li[data-chapter]"));
  var chapters = items.map(function (li) {
    return { id: li.getAttribute("data-chapter"), start: parseFloat(li.getAttribute("data-start")),
             end: parseFloat(li.getAttribute("data-end")), li: li,
             tpl: li.querySelector("template.zn-buy-tpl") };
  });
  var shown = null;
  var emptyText = (shelf.querySelector(".zn-shelf-empty") || {}).textContent || "";

  function render(t) {
    var active = chapters.filter(function (c) { return c.start <= t && t < c.end; });
    var key = active.map(function (c) { return c.id; }).join(",");
    if (key === shown) { return; }
    shown = key;
    shelf.innerHTML = "";
    chapters.forEach(function (c) { c.li.classList.toggle("is-current", active.indexOf(c) >= 0); });
    if (!active.length) {
      var p = document.createElement("p");
      p.className = "muted small zn-shelf-empty";
      p.textContent = emptyText;
      shelf.appendChild(p);
      return;
    }
    active.forEach(function (c) {
      var div = document.createElement("div");
      div.className = "zn-shelf-item";
      if (c.tpl) { div.appendChild(c.tpl.content.cloneNode(true)); }
      shelf.appendChild(div);
    });
  }

  video.addEventListener("timeupdate", function () { render(video.currentTime); });
  video.addEventListener("seeked", function () { render(video.currentTime); });
  items.forEach(function (li) {
    var a = li.querySelector("a.zn-seek");
    if (!a) { return; }
    a.addEventListener("click", function (e) {
      e.preventDefault();
      video.currentTime = parseFloat(li.getAttribute("data-start")) + 0.05;
      video.play().catch(function () {});
      render(video.currentTime);
    });
  });
})();
