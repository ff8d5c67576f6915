/* Needpool requirement detail page on a phone: the long cards ([data-fold]) fold to their headers,
 * each with a button to unfold it. A card that the address points into (#comment-form after a
 * post), or that shows an error, stays open. Wider screens show everything. Plain ES2017. */
(function () {
  "use strict";

  var PHONE = "(max-width: 991.98px)";

  function onReady(fn) {
    if (document.readyState === "loading") document.addEventListener("DOMContentLoaded", fn);
    else fn();
  }

  function setFolded(block, button, folded, labels) {
    block.classList.toggle("is-folded", folded);
    button.setAttribute("aria-expanded", folded ? "false" : "true");
    button.textContent = folded ? labels.open : labels.close;
  }

  function targeted(block) {
    var id = window.location.hash ? decodeURIComponent(window.location.hash.slice(1)) : "";
    var target = id ? document.getElementById(id) : null;
    return !!(target && (block === target || block.contains(target)));
  }

  function init() {
    var layout = document.querySelector(".detail-layout");
    if (!layout || !window.matchMedia || !window.matchMedia(PHONE).matches) return;
    var labels = {
      open: layout.getAttribute("data-fold-open") || "+",
      close: layout.getAttribute("data-fold-close") || "-",
    };
    layout.querySelectorAll("[data-fold]").forEach(function (block) {
      var header = block.querySelector(".card-header");
      if (!header || header.querySelector(".detail-fold-toggle")) return;
      var button = document.createElement("button");
      button.type = "button";
      button.className = "btn btn-sm btn-ghost-secondary detail-fold-toggle";
      header.classList.add("d-flex", "align-items-center");
      header.appendChild(button);
      var keepOpen = targeted(block) || block.querySelector(".alert-danger, .is-invalid") !== null;
      setFolded(block, button, !keepOpen, labels);
      button.addEventListener("click", function () {
        setFolded(block, button, !block.classList.contains("is-folded"), labels);
      });
    });
    window.addEventListener("hashchange", function () {
      layout.querySelectorAll("[data-fold].is-folded").forEach(function (block) {
        var button = block.querySelector(".detail-fold-toggle");
        if (button && targeted(block)) setFolded(block, button, false, labels);
      });
    });
  }

  onReady(init);
})();
