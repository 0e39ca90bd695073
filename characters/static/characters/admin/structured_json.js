/* The structured editors' "Edit as JSON" switch (characters/admin/editors.py).
 * django-jsonform keeps the textarea in step with the editor; the raw view shows that
 * textarea, and going back redraws the editor from what was typed (if it parses). */
(function () {
  "use strict";

  function drawEditor(textarea, data) {
    var attribute = textarea.hasAttribute("data-django-jsonform")
      ? "djangoJsonform" : "structuredConfig";
    var config = JSON.parse(textarea.dataset[attribute]);
    var container = textarea.previousElementSibling;
    container.id = textarea.id + "_jsonform";
    window.ReactDOM.unmountComponentAtNode(container);
    config.data = data;
    config.errorMap = {};
    config.containerId = container.id;
    config.dataInputId = textarea.id;
    window.reactJsonForm.createForm(config).render();
  }

  function toggle(wrapper) {
    var textarea = wrapper.querySelector("textarea");
    var button = wrapper.querySelector("[data-structured-json-toggle]");
    var message = wrapper.querySelector(".structured-json-message");
    message.textContent = "";
    if (!wrapper.classList.contains("structured-json--raw")) {
      try {
        textarea.value = JSON.stringify(JSON.parse(textarea.value), null, 2);
      } catch (error) { /* shown as it is */ }
      wrapper.classList.add("structured-json--raw");
      wrapper.querySelector("[data-structured-json-mode]").value = "raw";
      button.textContent = "Structured editor";
      return;
    }
    var data;
    try {
      data = JSON.parse(textarea.value || "null");
    } catch (error) {
      message.textContent = "This is not valid JSON (" + error.message + "): fix it first.";
      return;
    }
    drawEditor(textarea, data);
    wrapper.classList.remove("structured-json--raw");
    wrapper.querySelector("[data-structured-json-mode]").value = "structured";
    button.textContent = "Edit as JSON";
  }

  document.addEventListener("click", function (event) {
    var button = event.target.closest("[data-structured-json-toggle]");
    if (button) {
      event.preventDefault();
      toggle(button.closest("[data-structured-json]"));
    }
  });
})();
