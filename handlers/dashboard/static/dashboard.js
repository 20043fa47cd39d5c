// NativeMessage dashboard: small progressive enhancements. Every page works without this file.
(function () {
  "use strict";

  // A page showing a new key is the answer to a POST (generate, or roll at the key's own URL): make a
  // reload fetch the list (GET, no key) instead of resubmitting the form.
  if (document.getElementById("new-api-key") && window.history.replaceState) {
    var panel = document.getElementById("new-key-panel");
    var listUrl = panel && panel.getAttribute("data-list-url");
    window.history.replaceState(null, "", listUrl || window.location.href);
    if (panel) {
      panel.focus();
    }
  }

  function selectText(element) {
    var range = document.createRange();
    range.selectNodeContents(element);
    var selection = window.getSelection();
    selection.removeAllRanges();
    selection.addRange(range);
  }

  function copyText(element) {
    var text = element.textContent.trim();
    if (navigator.clipboard && window.isSecureContext) {
      return navigator.clipboard.writeText(text);
    }
    // Plain-http hosts have no clipboard API: copy the selection the older way.
    return new Promise(function (resolve, reject) {
      selectText(element);
      if (document.execCommand && document.execCommand("copy")) {
        resolve();
      } else {
        reject(new Error("copy refused"));
      }
    });
  }

  document.querySelectorAll("button[data-copy]").forEach(function (button) {
    var target = document.getElementById(button.getAttribute("data-copy"));
    var status = document.getElementById("copy-status");
    if (!target) {
      return;
    }
    button.hidden = false;
    button.addEventListener("click", function () {
      copyText(target).then(
        function () {
          button.textContent = "Copied";
          if (status) {
            status.textContent = "The key is on your clipboard.";
          }
        },
        function () {
          selectText(target);
          if (status) {
            status.textContent = "Copying was blocked: the key is selected, press Ctrl+C (or \u2318C) to copy it.";
          }
        }
      );
    });
  });

  document.querySelectorAll("form").forEach(function (form) {
    form.addEventListener("submit", function (event) {
      var question = form.getAttribute("data-confirm");
      if (question && !window.confirm(question)) {
        event.preventDefault();
        return;
      }
      if (form.method.toLowerCase() !== "post") {
        return;
      }
      if (form.getAttribute("data-submitted")) {
        // A double click must not send the form twice (twice the keys, or a second revoke).
        event.preventDefault();
        return;
      }
      form.setAttribute("data-submitted", "1");
      // Disabled after the form's data is taken, so a button's own value is still sent.
      window.setTimeout(function () {
        form.querySelectorAll("button[type=submit]").forEach(function (button) {
          button.disabled = true;
        });
      }, 0);
    });
  });
})();
