/* The live room client (protocol v1, docs/live-protocol.md). Vanilla JS, no build step.
 *
 * Server strings in frames (chat text, names, announcements, product names) arrive HTML-escaped,
 * so they are inserted with innerHTML; everything else goes through textContent or attributes.
 * The console page (console.js) extends this client with host controls.
 *
 * Words: every text this client shows goes through gettext()/ngettext()/interpolate() of Django's
 * JavaScript catalogue (djangojs domain, loaded by the page before this file, in the page's language).
 * If the catalogue did not load, the fallbacks below show the Chinese source strings and the room works
 * as before. Server frames shared by the room carry codes and data; the texts are made here.
 */
(function () {
  "use strict";

  var gettext = typeof window.gettext === "function" ? window.gettext : function (s) { return s; };
  var ngettext = typeof window.ngettext === "function" ? window.ngettext
    : function (singular, plural, n) { return n === 1 ? singular : plural; };
  var interpolate = typeof window.interpolate === "function" ? window.interpolate : function (fmt, obj, named) {
    if (named) return fmt.replace(/%\(\w+\)s/g, function (m) { return String(obj[m.slice(2, -2)]); });
    var i = 0;
    return fmt.replace(/%s/g, function () { return String(obj[i++]); });
  };
  function gettext_noop(s) { return s; } // marks a string for the catalogue; translated later by gettext(s)
  function fmt(text, values) { return interpolate(text, values, true); }

  var MAX_CHAT = 200;
  var HEARTBEAT_MS = 15000;
  var FINAL_CODES = { 4403: gettext("你已被移出直播间"), 4404: gettext("没有这场直播"), 4410: gettext("直播已结束") };

  function $(root, role) { return root.querySelector('[data-role="' + role + '"]'); }

  function escapeHtml(text) {
    var div = document.createElement("div");
    div.textContent = String(text);
    return div.innerHTML;
  }

  var GIFTS = { flower: gettext("鲜花") };
  // A product's unit arrives as its label (catalog.models.Product.Unit), which the server words in Chinese
  // for everyone; one of these is shown in the page's language, anything else as sent.
  var UNITS = {};
  [gettext_noop("斤"), gettext_noop("盒"), gettext_noop("袋"), gettext_noop("千克"), gettext_noop("瓶"),
   gettext_noop("件")].forEach(function (label) { UNITS[label] = gettext(label); });

  function viewerId() {
    // A browser keeps one id, so a reconnect is not counted as a new viewer.
    var key = "zhunong.vid";
    try {
      var v = localStorage.getItem(key);
      if (!v || !/^[A-Za-z0-9_-]{8,64}$/.test(v)) {
        v = "v" + Math.random().toString(36).slice(2) + Date.now().toString(36);
        localStorage.setItem(key, v);
      }
      return v;
    } catch (e) { return ""; }
  }

  function Room(root) {
    this.root = root;
    this.streamId = Number(root.dataset.streamId);
    this.userId = root.dataset.userId ? Number(root.dataset.userId) : null;
    this.role = "anonymous";
    this.ws = null;
    this.ref = 0;
    this.pending = {};
    this.backoff = 1000;
    this.closedForGood = false;
    this.likeBuffer = 0;
    this.likeTimer = null;
    this.sampled = 0;
    this.hooks = [];
    this.bind();
    this.connect();
  }

  Room.prototype.url = function () {
    var proto = location.protocol === "https:" ? "wss://" : "ws://";
    var vid = viewerId();
    return proto + location.host + this.root.dataset.wsPath + (vid ? "?vid=" + encodeURIComponent(vid) : "");
  };

  Room.prototype.connect = function () {
    var self = this;
    var ws = new WebSocket(this.url());
    this.ws = ws;
    this.setConn(gettext("连接中…"));
    ws.onopen = function () { self.backoff = 1000; self.setConn(""); };
    ws.onmessage = function (e) {
      var frame;
      try { frame = JSON.parse(e.data); } catch (err) { return; }
      self.handle(frame);
    };
    ws.onclose = function (e) {
      clearInterval(self.hbTimer);
      if (FINAL_CODES[e.code]) {
        self.closedForGood = true;
        self.setConn(FINAL_CODES[e.code]);
        self.disableInput();
        return;
      }
      if (self.closedForGood) return;
      self.setConn(gettext("连接断开，正在重连…"));
      setTimeout(function () { self.connect(); }, self.backoff);
      self.backoff = Math.min(self.backoff * 2, 15000);
    };
    this.hbTimer = setInterval(function () { self.send({ t: "hb" }); }, HEARTBEAT_MS);
  };

  Room.prototype.send = function (obj, onReply) {
    if (!this.ws || this.ws.readyState !== 1) { this.notice(gettext("尚未连接，请稍候")); return false; }
    if (onReply) { obj.ref = "r" + (++this.ref); this.pending[obj.ref] = onReply; }
    this.ws.send(JSON.stringify(obj));
    return true;
  };

  Room.prototype.setConn = function (text) { var el = $(this.root, "conn"); if (el) el.textContent = text; };

  Room.prototype.notice = function (text) {
    var el = $(this.root, "notice");
    if (!el) return;
    el.textContent = text;
    el.hidden = !text;
    clearTimeout(this.noticeTimer);
    this.noticeTimer = setTimeout(function () { el.hidden = true; }, 6000);
  };

  Room.prototype.disableInput = function () {
    var form = $(this.root, "chat-form");
    if (form) Array.prototype.forEach.call(form.elements, function (el) { el.disabled = true; });
  };

  Room.prototype.handle = function (frame) {
    var self = this;
    switch (frame.t) {
      case "welcome": this.welcome(frame); break;
      case "batch": frame.events.forEach(function (e) { self.event(e); }); break;
      case "ack":
        if (frame.ref && this.pending[frame.ref]) { this.pending[frame.ref](frame); delete this.pending[frame.ref]; }
        break;
      case "error":
        if (frame.ref && this.pending[frame.ref]) { delete this.pending[frame.ref]; }
        if (frame.code === "login_required") { location.href = this.root.dataset.loginUrl; return; }
        this.notice(frame.message || frame.code);
        break;
      case "notice": this.notice(frame.message); break;
      case "hb": if (typeof frame.viewers === "number") this.setNumber("viewers", frame.viewers); break;
      default: break;
    }
    this.hooks.forEach(function (h) { h(frame); });
  };

  Room.prototype.welcome = function (w) {
    this.role = w.you.role;
    this.setNumber("viewers", w.viewers);
    this.setNumber("likes", w.likes);
    this.renderShelf(w.shelf, w.pin);
    this.loadSales();
    this.loadCoupons();
    if (w.announcement) this.announce(w.announcement.text);
    var chat = $(this.root, "chat");
    if (chat) chat.innerHTML = "";
    var self = this;
    w.recent.forEach(function (m) { self.chat(m); });
    this.status(w.stream.status);
    if (w.you.muted_until) this.mutedUntil(w.you.muted_until);
  };

  Room.prototype.event = function (e) {
    switch (e.t) {
      case "chat": this.chat(e); break;
      case "likes": this.setNumber("likes", e.total); break;
      case "viewers": this.setNumber("viewers", e.n); break;
      case "pin": this.markPin(e.pin.product.id, e.pin.product); break;
      case "unpin": this.markPin(null); break;
      case "announce": this.announce(e.text); break;
      case "deleted": this.removeMessage(e.message_id); break;
      case "mod": this.modEvent(e); break;
      case "settings":
        if (e.slow_mode) {
          this.system(fmt(ngettext("慢速模式已开启：每 %(n)s 秒可发一条", "慢速模式已开启：每 %(n)s 秒可发一条",
                                   e.slow_mode), { n: e.slow_mode }));
        }
        if (e.established_only) {
          this.system(fmt(ngettext("仅限注册满 %(n)s 分钟的用户发言", "仅限注册满 %(n)s 分钟的用户发言",
                                   e.established_only), { n: e.established_only }));
        }
        break;
      case "status": this.status(e.status); break;
      case "sampled": this.addSampled(e.n); break;
      case "shelf": this.renderShelf(e.products, null); break;
      case "stock":
        if (e.coupon_id) this.couponLeft(e.coupon_id, e.remaining);
        else if (e.flash_sale_id) this.markSale({ product_id: e.product_id, remaining: e.remaining });
        else this.stock(e.product_id, e.stock);
        break;
      case "sale":
        if (e.event === "coupon") this.coupon(e);
        else this.sale(e);
        break;
      case "gift":
        // name is escaped by the server; the gift's name is ours (an unknown kind is shown escaped).
        this.system(fmt(gettext("%(name)s 送出了 %(gift)s"), { name: e.name, gift: GIFTS[e.kind] || escapeHtml(e.kind) }),
                    true);
        break;
      default: break; // unknown events from newer servers are ignored
    }
  };

  Room.prototype.setNumber = function (role, n) {
    var el = $(this.root, role);
    if (el) el.textContent = String(n);
  };

  Room.prototype.chat = function (m, mine) {
    var list = $(this.root, "chat");
    if (!list || (m.id && list.querySelector('li[data-id="' + m.id + '"]'))) return;
    var li = document.createElement("li");
    li.dataset.id = m.id;
    li.dataset.userId = m.user_id;
    li.className = (m.host ? "host " : "") + (m.role === "staff" ? "staff " : "") + (mine ? "mine" : "");
    var who = document.createElement("span");
    who.className = "who";
    who.innerHTML = m.name; // escaped by the server
    if (m.host) who.dataset.badge = gettext("主播"); // shown after the name by room.css
    var text = document.createElement("span");
    text.className = "text";
    text.innerHTML = m.text; // escaped by the server
    li.appendChild(who);
    li.appendChild(text);
    this.messageTools(li, m);
    var atBottom = list.scrollHeight - list.scrollTop - list.clientHeight < 40;
    list.appendChild(li);
    while (list.children.length > MAX_CHAT) list.removeChild(list.firstChild);
    if (atBottom) list.scrollTop = list.scrollHeight;
  };

  Room.prototype.messageTools = function (li, m) {
    if (!this.userId || m.user_id === this.userId || this.role === "host" || this.role === "staff") return;
    var self = this;
    var tools = document.createElement("span");
    tools.className = "tools";
    var btn = document.createElement("button");
    btn.type = "button";
    btn.textContent = gettext("举报");
    btn.addEventListener("click", function () { self.reportForm(tools, m); });
    tools.appendChild(btn);
    li.appendChild(tools);
  };

  Room.prototype.reportForm = function (container, m) {
    var self = this;
    var tpl = document.getElementById("report-reasons");
    var select = document.createElement("select");
    if (tpl) {
      select.innerHTML = tpl.innerHTML;
    } else {
      var other = document.createElement("option");
      other.value = "other";
      other.textContent = gettext("其他");
      select.appendChild(other);
    }
    var ok = document.createElement("button");
    ok.type = "button";
    ok.textContent = gettext("提交");
    ok.addEventListener("click", function () {
      self.send({ t: "report", message_id: m.id, reason: select.value }, function () {
        container.textContent = gettext("已举报");
      });
    });
    container.innerHTML = "";
    container.appendChild(select);
    container.appendChild(ok);
    container.style.display = "inline";
  };

  Room.prototype.system = function (text, escaped) {
    var list = $(this.root, "chat");
    if (!list) return;
    var li = document.createElement("li");
    li.className = "system";
    if (escaped) li.innerHTML = text; else li.textContent = text;
    list.appendChild(li);
    list.scrollTop = list.scrollHeight;
  };

  Room.prototype.removeMessage = function (id) {
    var li = this.root.querySelector('[data-role="chat"] li[data-id="' + Number(id) + '"]');
    if (li) li.remove();
  };

  Room.prototype.mutedUntil = function (iso) {
    this.notice(fmt(gettext("你已被禁言至 %(time)s"), { time: new Date(iso).toLocaleTimeString() }));
  };

  Room.prototype.modEvent = function (e) {
    var name = e.name || fmt(gettext("用户%(id)s"), { id: Number(e.user_id) });
    if (e.user_id === this.userId) {
      if (e.action === "mute") this.mutedUntil(e.until);
      if (e.action === "unmute") this.notice(gettext("你已被解除禁言"));
    }
    var words = { mute: gettext("%(name)s 被禁言"), unmute: gettext("%(name)s 被解除禁言"),
                  ban: gettext("%(name)s 被移出直播间"), unban: gettext("%(name)s 被解除封禁") };
    if (words[e.action]) this.system(fmt(words[e.action], { name: name }), true); // name is escaped by the server
  };

  Room.prototype.addSampled = function (n) {
    this.sampled += n;
    var el = $(this.root, "sampled");
    if (el) {
      el.hidden = false;
      el.textContent = fmt(ngettext("弹幕太多，已省略 %(n)s 条", "弹幕太多，已省略 %(n)s 条", this.sampled), { n: this.sampled });
    }
  };

  Room.prototype.announce = function (escapedText) {
    var el = $(this.root, "announcement");
    if (!el) return;
    el.hidden = false;
    el.querySelector("span").innerHTML = escapedText;
  };

  // Flash sales (frames from the orders app, fields in docs/live-protocol.md): a banner for everyone, and on the
  // shelf the sale price, what is left, and whether it is counting down, selling or sold out.
  // The banners are HTML: product_name is escaped by the server, prices and counts are numbers.
  // Icons are inline SVG from the page's <template id="room-icons"> (core/templatetags/icons.py), never emoji:
  // a phone without a colour-emoji font shows a box. Missing template: no icon.
  function icon(name) {
    var tpl = document.getElementById("room-icons");
    var svg = tpl && tpl.content.querySelector('[data-icon="' + name + '"]');
    return svg ? svg.cloneNode(true) : document.createTextNode("");
  }
  function iconHTML(name) {
    var svg = icon(name);
    return svg.outerHTML ? svg.outerHTML + " " : "";
  }

  var SALE_TEXT = {
    scheduled: function (e) {
      return iconHTML("bolt") + fmt(gettext("秒杀预告：%(product)s ¥%(price)s，共 %(quantity)s 件，每人限购 %(limit)s 件，倒计时后开抢"),
                         { product: e.product_name, price: e.sale_price, quantity: e.quantity, limit: e.per_buyer_limit });
    },
    started: function (e) {
      return iconHTML("bolt") + fmt(gettext("秒杀开抢：%(product)s ¥%(price)s，每人限购 %(limit)s 件"),
                         { product: e.product_name, price: e.sale_price, limit: e.per_buyer_limit });
    },
    sold_out: function (e) { return iconHTML("bolt") + fmt(gettext("%(product)s 秒杀已抢光"), { product: e.product_name }); },
    ended: function (e) { return fmt(gettext("秒杀结束：%(product)s"), { product: e.product_name }); },
    cancelled: function (e) { return fmt(gettext("秒杀取消：%(product)s"), { product: e.product_name }); }
  };

  Room.prototype.sale = function (e) {
    if (SALE_TEXT[e.event]) {
      var box = $(this.root, "banners");
      if (box) {
        var div = document.createElement("div");
        div.className = "banner";
        div.innerHTML = SALE_TEXT[e.event](e);
        div.dataset.productId = e.product_id;
        box.prepend(div);
        while (box.children.length > 3) box.removeChild(box.lastChild);
      }
    }
    this.markSale({ product_id: e.product_id, status: e.status, remaining: e.remaining, quantity: e.quantity,
                    price: e.sale_price, starts_at: e.starts_at });
  };

  Room.prototype.markSale = function (update) {
    this.sales = this.sales || {};
    var s = this.sales[update.product_id] || {};
    Object.keys(update).forEach(function (k) { if (update[k] !== undefined && update[k] !== null) s[k] = update[k]; });
    this.sales[update.product_id] = s;
    var li = this.root.querySelector('[data-role="shelf"] [data-product-id="' + Number(update.product_id) + '"]');
    if (!li) return;
    var tag = li.querySelector(".sale-tag");
    var over = s.status === "ended" || s.status === "cancelled";
    if (over) {
      clearTimeout(s.timer);
      if (tag) tag.remove();
      li.classList.remove("sold-out");
      var back = li.querySelector(".buy");
      if (back) back.textContent = gettext("去购买");
      delete this.sales[update.product_id];
      return;
    }
    if (!tag) {
      tag = document.createElement("span");
      tag.className = "badge live sale-tag";
      var name = li.querySelector(".name");
      li.insertBefore(tag, name ? name.nextSibling : null);
    }
    // The countdown runs here too: the "started" frame may come late (or, without Redis, not at all when the
    // background worker opens the sale), and the buy box checks the time again anyway.
    var wait = s.status === "scheduled" && s.starts_at ? Math.ceil((Date.parse(s.starts_at) - Date.now()) / 1000) : 0;
    if (s.status === "scheduled" && wait <= 0) s.status = "live";
    var soldOut = s.status === "sold_out" || (typeof s.remaining === "number" && s.remaining <= 0);
    var left = typeof s.remaining === "number" ? Math.max(0, s.remaining) : null;
    tag.textContent = gettext("秒杀") + (s.price ? " ¥" + s.price : "") + (left === null ? "" : " · " + (s.quantity
      ? fmt(gettext("剩余 %(left)s/%(total)s"), { left: left, total: s.quantity })
      : fmt(gettext("剩余 %(left)s"), { left: left })));
    tag.prepend(icon("bolt"), " ");
    li.classList.toggle("sold-out", soldOut);
    var buy = li.querySelector(".buy");
    if (buy) {
      buy.textContent = soldOut ? gettext("已抢光") : (s.status === "scheduled"
        ? fmt(ngettext("%(n)s 秒后开抢", "%(n)s 秒后开抢", wait), { n: wait }) : gettext("立即抢购"));
    }
    var self = this;
    clearTimeout(s.timer);
    if (s.status === "scheduled" && !soldOut) {
      s.timer = setTimeout(function () { self.markSale({ product_id: update.product_id }); }, 1000);
    }
  };

  // In-room coupons (a `sale` frame with event `coupon`; `stock` frames with coupon_id): one banner per coupon
  // with a claim button. Claiming goes through the JSON API with the page's session and CSRF token.
  var COUPON_ERRORS = {
    coupon_already_claimed: gettext("你已经领过这张优惠券了"),
    coupons_gone: gettext("优惠券已被领完"),
    coupon_expired: gettext("优惠券已过期"),
    not_authenticated: gettext("请先登录"),
    permission_denied: gettext("请先登录")
  };

  Room.prototype.coupon = function (c) {
    var box = $(this.root, "banners");
    if (!box) return;
    var id = Number(c.coupon_id || c.id);
    var div = box.querySelector('[data-coupon-id="' + id + '"]');
    if (!div) {
      div = document.createElement("div");
      div.className = "banner coupon";
      div.dataset.couponId = String(id);
      box.prepend(div);
    }
    div.innerHTML = "";
    var value = c.kind === "percent" ? String(parseInt(c.value, 10)) : c.value;
    var text = c.kind === "percent" ? fmt(gettext("%(value)s%% 折扣券"), { value: value })
      : (Number(c.min_spend) > 0 ? fmt(gettext("满 %(min)s 减 %(value)s 元"), { min: c.min_spend, value: value })
        : fmt(gettext("立减 %(value)s 元"), { value: value }));
    div.appendChild(icon("ticket"));
    div.appendChild(document.createTextNode(" " + text + " "));
    var left = document.createElement("span");
    left.className = "muted coupon-left";
    div.appendChild(left);
    var action = document.createElement(this.userId ? "button" : "a");
    action.className = "btn claim";
    action.textContent = gettext("领取");
    if (this.userId && this.claimed && this.claimed[id]) {
      // Claimed before (this visit or an earlier one): it is in the wallet, used at checkout automatically.
      action.type = "button";
      action.disabled = true;
      action.textContent = gettext("已领取");
    } else if (this.userId) {
      action.type = "button";
      var self = this;
      action.addEventListener("click", function () { self.claimCoupon(id, div, action); });
    } else {
      action.href = this.root.dataset.loginUrl || "/";
    }
    div.appendChild(action);
    this.couponLeft(id, c.remaining);
  };

  Room.prototype.couponLeft = function (id, remaining) {
    var div = this.root.querySelector('[data-role="banners"] [data-coupon-id="' + Number(id) + '"]');
    if (!div || remaining === undefined || remaining === null) return;
    var left = div.querySelector(".coupon-left");
    if (left) left.textContent = remaining > 0 ? fmt(ngettext("剩 %(n)s 张", "剩 %(n)s 张", remaining), { n: remaining })
      : gettext("已领完");
    var button = div.querySelector("button.claim");
    if (button && remaining <= 0) button.disabled = true;
  };

  Room.prototype.claimCoupon = function (id, div, button) {
    var self = this;
    var token = this.root.querySelector('input[name="csrfmiddlewaretoken"]');
    button.disabled = true;
    var done = function (text) {
      var note = div.querySelector(".claim-note") || div.appendChild(document.createElement("span"));
      note.className = "claim-note";
      note.textContent = " " + text;
    };
    fetch("/api/v1/coupons/" + id + "/claim", {
      method: "POST", credentials: "same-origin",
      headers: { Accept: "application/json", "X-CSRFToken": token ? token.value : "" }
    })
      .then(function (r) { return r.json().then(function (body) { return { ok: r.ok, body: body }; }); })
      .then(function (res) {
        if (res.ok || res.body.code === "coupon_already_claimed") {
          self.claimed = self.claimed || {};
          self.claimed[id] = true;
          button.textContent = gettext("已领取");
        }
        if (res.ok) {
          done(gettext("领取成功，已放入我的优惠券，下单时自动使用"));
        } else {
          done(COUPON_ERRORS[res.body.code] || gettext("领取失败，请稍后再试"));
          if (res.body.code !== "coupon_already_claimed" && res.body.code !== "coupons_gone") button.disabled = false;
        }
      })
      .catch(function () { done(gettext("领取失败，请稍后再试")); button.disabled = false; });
  };

  Room.prototype.loadCoupons = function () {
    var self = this;
    if (!window.fetch) return;
    // A signed-in viewer's claims first, so the buttons of coupons they hold say 已领取 after a reload.
    var mine = !this.userId ? Promise.resolve([]) :
      fetch("/api/v1/me/coupons?stream_id=" + this.streamId, { credentials: "same-origin",
                                                               headers: { Accept: "application/json" } })
        .then(function (r) { return r.ok ? r.json() : []; })
        .catch(function () { return []; });
    mine.then(function (claims) {
      self.claimed = self.claimed || {};
      claims.forEach(function (c) { self.claimed[Number(c.coupon.id)] = true; });
      return fetch("/api/v1/streams/" + self.streamId + "/coupons", { headers: { Accept: "application/json" } });
    })
      .then(function (r) { return r.ok ? r.json() : []; })
      .then(function (coupons) { coupons.slice().reverse().forEach(function (c) { self.coupon(c); }); })
      .catch(function () { /* new coupons still arrive over the socket */ });
  };

  Room.prototype.loadSales = function () {
    // A newcomer learns of running sales from the public API (the welcome frame carries products only).
    var self = this;
    if (!window.fetch) return;
    fetch("/api/v1/streams/" + this.streamId + "/flash-sales", { headers: { Accept: "application/json" } })
      .then(function (r) { return r.ok ? r.json() : []; })
      .then(function (sales) {
        sales.slice().reverse().forEach(function (x) {
          if (x.seconds_left <= 0 || ["scheduled", "live", "sold_out"].indexOf(x.status) < 0) return;
          self.markSale({ product_id: x.product_id, status: x.status, remaining: x.remaining, quantity: x.quantity,
                          price: x.sale_price, starts_at: x.starts_at });
        });
      })
      .catch(function () { /* the banners still arrive over the socket */ });
  };

  Room.prototype.status = function (status) {
    var el = $(this.root, "status");
    var labels = { live: gettext("直播中"), scheduled: gettext("即将开播"), ended: gettext("已结束"),
                   cancelled: gettext("已取消") };
    if (el) { el.textContent = labels[status] || status; el.className = "badge" + (status === "live" ? " live" : ""); }
    this.root.dataset.status = status;
    if (status === "ended" || status === "cancelled") {
      this.closedForGood = true;
      this.system(status === "ended" ? gettext("直播已结束，感谢观看") : gettext("直播已取消"));
      this.disableInput();
    }
  };

  Room.prototype.renderShelf = function (products, pin) {
    var list = $(this.root, "shelf");
    if (!list) return;
    var self = this;
    list.innerHTML = "";
    products.forEach(function (p) {
      var li = document.createElement("li");
      li.className = "shelf-item" + (p.stock <= 0 ? " sold-out" : "");
      li.dataset.productId = p.id;
      var link = document.createElement("a");
      link.className = "name";
      link.href = p.url + "?stream=" + self.streamId;
      link.innerHTML = p.name; // escaped by the server
      var price = document.createElement("span");
      price.className = "price";
      price.textContent = "¥" + p.price;
      var unit = document.createElement("span");
      unit.className = "muted";
      unit.innerHTML = "/" + (UNITS[p.unit] ? escapeHtml(UNITS[p.unit]) : p.unit) + " " + p.unit_size; // escaped
      var stock = document.createElement("span");
      stock.className = "muted stock";
      stock.appendChild(document.createTextNode(gettext("库存") + " "));
      stock.appendChild(document.createElement("b")).textContent = String(p.stock);
      var buy = document.createElement("a");
      buy.className = "btn buy";
      buy.href = link.href;
      buy.textContent = p.stock > 0 ? gettext("去购买") : gettext("已抢光");
      [link, price, unit, stock, buy].forEach(function (el) { li.appendChild(el); });
      list.appendChild(li);
    });
    this.markPin(pin ? pin.product.id : null);
    var sales = this.sales || {};
    Object.keys(sales).forEach(function (pid) { self.markSale({ product_id: Number(pid) }); });
    this.hooks.forEach(function (h) { h({ t: "shelf-rendered" }); });
  };

  Room.prototype.markPin = function (productId) {
    var list = $(this.root, "shelf");
    if (!list) return;
    Array.prototype.forEach.call(list.querySelectorAll(".shelf-item"), function (li) {
      var pinned = productId !== null && Number(li.dataset.productId) === Number(productId);
      li.classList.toggle("pinned", pinned);
      var badge = li.querySelector(".badge.live");
      if (pinned && !badge) {
        badge = document.createElement("span");
        badge.className = "badge live";
        badge.textContent = gettext("讲解中");
        li.prepend(badge);
        list.prepend(li); // the pinned product goes on top
      } else if (!pinned && badge) {
        badge.remove();
      }
    });
  };

  Room.prototype.stock = function (productId, stock) {
    var li = this.root.querySelector('[data-role="shelf"] [data-product-id="' + Number(productId) + '"]');
    if (!li) return;
    var b = li.querySelector(".stock b");
    if (b) b.textContent = String(stock);
    li.classList.toggle("sold-out", stock <= 0);
    var buy = li.querySelector(".buy");
    if (buy) buy.textContent = stock > 0 ? gettext("去购买") : gettext("已抢光");
  };

  Room.prototype.bind = function () {
    var self = this;
    var form = $(this.root, "chat-form");
    if (form) {
      form.addEventListener("submit", function (e) {
        e.preventDefault();
        var input = form.elements.text;
        var text = input.value.trim();
        if (!text) return;
        var sent = self.send({ t: "chat", text: text }, function (ack) {
          self.chat({ id: ack.id, user_id: self.userId, name: escapeHtml(gettext("我")), text: ack.text,
                      host: self.role === "host", role: self.role }, true);
        });
        if (sent) input.value = "";
      });
    }
    var like = $(this.root, "like");
    if (like) {
      like.addEventListener("click", function () {
        // Taps within 300 ms go out as one frame; the server sums likes per tick anyway.
        self.likeBuffer += 1;
        if (!self.likeTimer) {
          self.likeTimer = setTimeout(function () {
            self.send({ t: "like", n: Math.min(self.likeBuffer, 20) });
            self.likeBuffer = 0;
            self.likeTimer = null;
          }, 300);
        }
      });
    }
    Array.prototype.forEach.call(this.root.querySelectorAll('[data-role="gift"]'), function (btn) {
      btn.addEventListener("click", function () {
        self.send({ t: "gift", kind: btn.dataset.kind }, function () { self.notice(gettext("礼物已送出")); });
      });
    });
    this.root.addEventListener("click", function (e) {
      var buy = e.target.closest && e.target.closest(".shelf-item a");
      if (buy) {
        var li = buy.closest(".shelf-item");
        // Count the click for the minute series; the link then navigates as usual.
        self.send({ t: "click", product_id: Number(li.dataset.productId) });
      }
    });
  };

  // console.js words its controls with the same functions (and the same fallbacks).
  Room.i18n = { gettext: gettext, ngettext: ngettext, interpolate: interpolate };
  Room.escapeHtml = escapeHtml;
  window.ZhunongRoom = Room;
  document.addEventListener("DOMContentLoaded", function () {
    var root = document.getElementById("room");
    if (root) window.zhunongRoom = new Room(root);
  });
})();
