// The purchase sheet (orders/_sheet.html, docs/decisions/0024): in the live room the shelf's 去购买 and on a replay
// the buy box's 立即购买 / 立即抢购 open a <dialog> over the page, so the video keeps playing while the buyer picks
// quantity, coupon and address and pays. Without JavaScript (or htmx) the links and forms work as before.
(function () {
  "use strict";
  if (window.zhunongSheet) return;
  var SHEET_URL = "/orders/sheet/";

  function dialog() {
    var d = document.getElementById("zh-sheet");
    if (!d) {
      d = document.createElement("dialog");
      d.id = "zh-sheet";
      d.className = "sheet-dialog";
      d.appendChild(document.createElement("div")).id = "zh-sheet-content";
      document.body.appendChild(d);
      d.addEventListener("click", function (e) { if (e.target === d) d.close(); });
      d.addEventListener("close", function () {
        // Stop the pay step's polling: its element leaves the page.
        var old = document.getElementById("zh-sheet-content");
        var empty = document.createElement("div");
        empty.id = "zh-sheet-content";
        if (old) old.replaceWith(empty);
      });
    }
    return d;
  }

  function open(params) {
    if (!window.htmx || !window.HTMLDialogElement) return false;
    var query = new URLSearchParams(params);
    query.set("next", window.location.pathname + window.location.search);
    var d = dialog();
    window.htmx.ajax("GET", SHEET_URL + "?" + query.toString(), { target: "#zh-sheet-content", swap: "outerHTML" })
      .then(function () { if (!d.open) d.showModal(); });
    return true;
  }

  document.addEventListener("click", function (e) {
    if (!e.target.closest) return;
    if (e.target.closest("[data-sheet-close]")) {
      var d = document.getElementById("zh-sheet");
      if (d && d.open) d.close();
      return;
    }
    var buy = e.target.closest("#room .shelf-item a.buy");
    if (!buy || e.defaultPrevented) return;
    var room = buy.closest("#room");
    var li = buy.closest(".shelf-item");
    if (li.classList.contains("sold-out")) return;
    if (open({ product_id: li.dataset.productId, stream_id: room.dataset.streamId })) e.preventDefault();
  });

  document.addEventListener("submit", function (e) {
    var form = e.target;
    if (!form.matches || !form.matches("form.buy-form") || form.hasAttribute("data-no-sheet")) return;
    if (e.submitter && e.submitter.hasAttribute("formaction")) return; // 加入购物车 posts as usual
    var params = { product_id: form.elements.product_id.value,
                   quantity: form.elements.quantity ? form.elements.quantity.value : "1" };
    if (form.elements.stream_id) params.stream_id = form.elements.stream_id.value;
    if (open(params)) e.preventDefault();
  });

  window.zhunongSheet = { open: open };
})();
