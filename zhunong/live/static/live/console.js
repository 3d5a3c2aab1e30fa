/* Host console: the room client plus host actions (pin, announce, mute, ban, delete, slow mode,
 * established-only). Every action goes over the socket; the server checks the role again. */
(function () {
  "use strict";
  var Room = window.ZhunongRoom;
  if (!Room) return;

  Room.prototype.messageTools = function (li, m) {
    if (!m.user_id || m.user_id === this.userId || m.host) return;
    var self = this;
    var tools = document.createElement("span");
    tools.className = "tools";
    [["删除", function () { self.send({ t: "delete", message_id: m.id, reason: "违规内容" }, done); }],
     ["禁言5分钟", function () { self.send({ t: "mute", user_id: m.user_id, seconds: 300, reason: "控制台禁言" }, done); }],
     ["移出", function () {
        if (confirm("移出该用户？本场不能再进入。")) self.send({ t: "ban", user_id: m.user_id, reason: "控制台移出" }, done);
      }]].forEach(function (pair) {
      var b = document.createElement("button");
      b.type = "button";
      b.textContent = pair[0];
      b.addEventListener("click", pair[1]);
      tools.appendChild(b);
    });
    li.appendChild(tools);
    function done() { self.notice("已执行"); }
  };

  function pinButtons(room) {
    var shelf = room.root.querySelector('[data-role="shelf"]');
    if (!shelf) return;
    Array.prototype.forEach.call(shelf.querySelectorAll(".shelf-item"), function (li) {
      if (li.querySelector(".pin-btn")) return;
      var b = document.createElement("button");
      b.type = "button";
      b.className = "btn pin-btn";
      b.textContent = "讲解";
      b.addEventListener("click", function () {
        room.send({ t: "pin", product_id: Number(li.dataset.productId) }, function () { room.notice("已置顶讲解"); });
      });
      li.appendChild(b);
    });
  }

  function bindForm(room, role, build) {
    var form = room.root.querySelector('[data-role="' + role + '"]');
    if (!form) return;
    form.addEventListener("submit", function (e) {
      e.preventDefault();
      var frame = build(form);
      if (frame) room.send(frame, function () { room.notice("已生效"); if (frame.t === "announce") form.reset(); });
    });
  }

  document.addEventListener("DOMContentLoaded", function () {
    var room = window.zhunongRoom;
    if (!room) return;
    pinButtons(room);
    room.hooks.push(function (frame) {
      if (frame.t === "shelf-rendered" || frame.t === "welcome") pinButtons(room);
      if (frame.t === "batch" && frame.staff) {
        frame.events.forEach(function (e) {
          if (e.t !== "report") return;
          var list = room.root.querySelector('[data-role="reports"]');
          var empty = room.root.querySelector('[data-role="no-reports"]');
          if (empty) empty.remove();
          var li = document.createElement("li");
          li.innerHTML = "新举报（" + e.report.reason + "）：「" + e.report.text + "」"; // text escaped by the server
          list.prepend(li);
        });
      }
    });
    var unpin = room.root.querySelector('[data-role="unpin"]');
    if (unpin) unpin.addEventListener("click", function () { room.send({ t: "unpin" }, function () { room.notice("已取消讲解"); }); });
    bindForm(room, "announce-form", function (f) { return { t: "announce", text: f.elements.text.value }; });
    bindForm(room, "slow-form", function (f) { return { t: "slow_mode", seconds: Number(f.elements.seconds.value) }; });
    bindForm(room, "established-form", function (f) { return { t: "established_only", minutes: Number(f.elements.minutes.value) }; });
  });
})();
