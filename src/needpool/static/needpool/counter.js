/* A live character counter under every text field marked data-counter="<limit>": "12 / 300", red with
   "超出 N 字" once over the limit. The field has no maxlength, so a long paste is never cut silently: the server
   refuses it with the limit and the text stays in the field to be shortened. Works on fields htmx swaps in. */
(function () {
  "use strict";

  function length(text) {
    return Array.from(text).length; // characters as people count them (a CJK character or an emoji is one)
  }

  function counterOf(field) {
    var id = field.id ? field.id + "-counter" : "";
    var counter = id ? document.getElementById(id) : null;
    if (!counter) {
      counter = document.createElement("div");
      counter.className = "form-hint text-end char-counter";
      counter.setAttribute("aria-live", "polite");
      if (id) counter.id = id;
      field.insertAdjacentElement("afterend", counter);
    }
    return counter;
  }

  function update(field) {
    var limit = parseInt(field.getAttribute("data-counter"), 10);
    if (!limit) return;
    var used = length(field.value || "");
    var counter = counterOf(field);
    var over = used - limit;
    var template = over > 0 ? field.getAttribute("data-counter-over") : field.getAttribute("data-counter-text");
    counter.textContent = (template || (over > 0 ? "{used} / {limit}（超出 {over}）" : "{used} / {limit}"))
      .replace("{used}", used)
      .replace("{limit}", limit)
      .replace("{over}", over);
    counter.classList.toggle("text-danger", over > 0);
    field.classList.toggle("is-invalid", over > 0);
  }

  function scan(root) {
    (root || document).querySelectorAll("[data-counter]").forEach(update);
  }

  document.addEventListener("input", function (event) {
    if (event.target && event.target.hasAttribute && event.target.hasAttribute("data-counter")) update(event.target);
  });
  document.addEventListener("htmx:afterSwap", function (event) {
    scan(event.target);
  });
  if (document.readyState === "loading") document.addEventListener("DOMContentLoaded", function () { scan(); });
  else scan();
})();
