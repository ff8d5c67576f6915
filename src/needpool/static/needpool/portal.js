/* The portal's tracking page: the button that copies the tracking link. */
(function () {
  "use strict";

  function init() {
    var button = document.getElementById("copy-tracking-url");
    var input = document.getElementById("tracking-url");
    if (!button || !input) return;
    button.addEventListener("click", function () {
      input.select();
      var done = function () {
        button.textContent = button.getAttribute("data-copied");
      };
      if (navigator.clipboard) {
        navigator.clipboard.writeText(input.value).then(done, function () {});
      } else {
        try {
          document.execCommand("copy");
          done();
        } catch (e) {
          /* the text stays selected for a manual copy */
        }
      }
    });
  }

  if (document.readyState === "loading") document.addEventListener("DOMContentLoaded", init);
  else init();
})();
