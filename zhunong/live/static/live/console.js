/* Host console: the room client plus host actions (pin, announce, mute, ban, delete, slow mode,
 * established-only). Every action goes over the socket; the server checks the role again.
 * Texts go through room.js's gettext/interpolate (Django's catalogue, or the Chinese source strings). */
(function () {
  "use strict";
  var Room = window.ZhunongRoom;
  if (!Room) return;
  var gettext = Room.i18n.gettext;
  var interpolate = Room.i18n.interpolate;
  // The report reasons of live.models.Report.Reason (a report event carries the code).
  var REASONS = { abuse: gettext("辱骂/骚扰"), fraud: gettext("诈骗/私下交易"), spam: gettext("刷屏/广告"),
                  false_claim: gettext("虚假宣传"), illegal: gettext("违法违规"), other: gettext("其他") };

  Room.prototype.messageTools = function (li, m) {
    if (!m.user_id || m.user_id === this.userId || m.host) return;
    var self = this;
    var tools = document.createElement("span");
    tools.className = "tools";
    // The reasons go into the moderation log as written, in the moderator's language.
    [[gettext("删除"), function () { self.send({ t: "delete", message_id: m.id, reason: gettext("违规内容") }, done); }],
     [gettext("禁言5分钟"), function () {
        self.send({ t: "mute", user_id: m.user_id, seconds: 300, reason: gettext("控制台禁言") }, done);
      }],
     [gettext("移出"), function () {
        if (confirm(gettext("移出该用户？本场不能再进入。"))) {
          self.send({ t: "ban", user_id: m.user_id, reason: gettext("控制台移出") }, done);
        }
      }]].forEach(function (pair) {
      var b = document.createElement("button");
      b.type = "button";
      b.textContent = pair[0];
      b.addEventListener("click", pair[1]);
      tools.appendChild(b);
    });
    li.appendChild(tools);
    function done() { self.notice(gettext("已执行")); }
  };

  function pinButtons(room) {
    var shelf = room.root.querySelector('[data-role="shelf"]');
    if (!shelf) return;
    Array.prototype.forEach.call(shelf.querySelectorAll(".shelf-item"), function (li) {
      if (li.querySelector(".pin-btn")) return;
      var b = document.createElement("button");
      b.type = "button";
      b.className = "btn pin-btn";
      b.textContent = gettext("讲解");
      b.addEventListener("click", function () {
        room.send({ t: "pin", product_id: Number(li.dataset.productId) }, function () { room.notice(gettext("已置顶讲解")); });
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
      if (frame) room.send(frame, function () { room.notice(gettext("已生效")); if (frame.t === "announce") form.reset(); });
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
          // text is escaped by the server; an unknown reason code is shown as text.
          var reason = REASONS[e.report.reason] || String(e.report.reason);
          var words = e.report.text ? gettext("新举报（%(reason)s）：「%(text)s」") : gettext("新举报（%(reason)s）");
          li.innerHTML = interpolate(words, { reason: Room.escapeHtml(reason), text: e.report.text }, true);
          list.prepend(li);
        });
      }
    });
    var unpin = room.root.querySelector('[data-role="unpin"]');
    if (unpin) {
      unpin.addEventListener("click", function () {
        room.send({ t: "unpin" }, function () { room.notice(gettext("已取消讲解")); });
      });
    }
    bindForm(room, "announce-form", function (f) { return { t: "announce", text: f.elements.text.value }; });
    bindForm(room, "slow-form", function (f) { return { t: "slow_mode", seconds: Number(f.elements.seconds.value) }; });
    bindForm(room, "established-form", function (f) { return { t: "established_only", minutes: Number(f.elements.minutes.value) }; });
  });
})();

/* The console's tools on a phone: one card at a time behind tabs named by the cards' headings (room.css shows
 * the tabs below 900 px only; on a desktop every card stays open). Cards htmx replaces are re-tabbed. */
(function () {
  "use strict";
  var tools = document.querySelector('[data-role="tools"]');
  if (!tools) return;
  var narrow = window.matchMedia("(max-width: 899.98px)");
  var nav = document.createElement("div");
  nav.className = "tool-tabs";
  nav.setAttribute("role", "tablist");
  tools.prepend(nav);
  var current = null;

  function cards() {
    return Array.prototype.filter.call(tools.children, function (el) {
      return el !== nav && el.querySelector("h2");
    });
  }

  function build() {
    var list = cards();
    nav.innerHTML = "";
    list.forEach(function (card, i) { if (!card.id) card.id = "console-tool-" + i; });
    if (!list.some(function (c) { return c.id === current; })) current = list.length ? list[0].id : null;
    list.forEach(function (card) {
      var heading = card.querySelector("h2");
      var tab = document.createElement("button");
      tab.type = "button";
      tab.setAttribute("role", "tab");
      tab.setAttribute("aria-controls", card.id);
      tab.textContent = heading.textContent.trim();
      tab.addEventListener("click", function () { current = card.id; show(); });
      nav.appendChild(tab);
    });
    show();
  }

  function show() {
    var tabbed = narrow.matches && cards().length > 1;
    tools.classList.toggle("tabbed", tabbed);
    cards().forEach(function (card) {
      card.classList.toggle("tool-off", tabbed && card.id !== current);
      if (tabbed) card.setAttribute("role", "tabpanel"); else card.removeAttribute("role");
    });
    Array.prototype.forEach.call(nav.children, function (tab) {
      tab.setAttribute("aria-selected", String(tab.getAttribute("aria-controls") === current));
    });
  }

  build();
  if (narrow.addEventListener) narrow.addEventListener("change", show);
  document.addEventListener("htmx:afterSwap", function (event) {
    if (tools.contains(event.target) || event.target === tools) build();
  });
})();
