// A page the front cached the same for everyone (core/publiccache.py, docs/decisions/0022): base.html loads the
// header's personal part from /me/nav/ with htmx; this script hands the CSRF token that fragment carries to
// the page's POST forms and to htmx, and gives every buy form a fresh idempotency key (a cached page's key
// is shared by all who got the same copy).
(function () {
  "use strict";
  function freshKey() {
    var bytes = new Uint8Array(16);
    window.crypto.getRandomValues(bytes);
    return Array.prototype.map.call(bytes, function (b) { return ("0" + b.toString(16)).slice(-2); }).join("");
  }
  function keys() {
    Array.prototype.forEach.call(document.querySelectorAll('input[name="idempotency_key"]'), function (input) {
      input.value = freshKey();
    });
  }
  function arm(token) {
    Array.prototype.forEach.call(document.querySelectorAll("form"), function (form) {
      if ((form.getAttribute("method") || "get").toLowerCase() !== "post") return;
      var field = form.querySelector('input[name="csrfmiddlewaretoken"]');
      if (!field) {
        field = document.createElement("input");
        field.type = "hidden";
        field.name = "csrfmiddlewaretoken";
        form.insertBefore(field, form.firstChild);
      }
      field.value = token;
    });
    var headers = {};
    try { headers = JSON.parse(document.body.getAttribute("hx-headers") || "{}"); } catch (e) { headers = {}; }
    headers["X-CSRFToken"] = token;
    document.body.setAttribute("hx-headers", JSON.stringify(headers));
  }
  document.addEventListener("htmx:afterSwap", function () {
    var carrier = document.querySelector('[data-role="csrf-token"]');
    if (carrier && carrier.getAttribute("data-token")) arm(carrier.getAttribute("data-token"));
  });
  if (document.readyState === "loading") document.addEventListener("DOMContentLoaded", keys); else keys();
})();
