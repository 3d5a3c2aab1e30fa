// Page behaviours declared in the markup, kept out of inline handlers: the Content-Security-Policy allows
// scripts only from static files (docs/decisions/0006).
//   <form data-confirm="question">   asks before submitting
//   <button data-print>              prints the page
//   <select data-autosubmit>         submits its form when changed
(function () {
  "use strict";
  document.addEventListener("submit", function (event) {
    var question = event.target.getAttribute && event.target.getAttribute("data-confirm");
    if (question && !window.confirm(question)) {
      event.preventDefault();
      event.stopImmediatePropagation();
    }
  }, true);
  document.addEventListener("click", function (event) {
    if (event.target.closest && event.target.closest("[data-print]")) {
      event.preventDefault();
      window.print();
    }
  });
  document.addEventListener("change", function (event) {
    var field = event.target;
    if (field.hasAttribute && field.hasAttribute("data-autosubmit") && field.form) field.form.submit();
  });
})();
