/* The live widget preview on the character's admin page (CharacterAdmin.widget_preview).
 * It draws the launcher and the open panel from the appearance being edited (the editor's
 * textarea, saved or not) merged over the platform's defaults, as the widget does. Text is
 * set with textContent only, and nothing is fetched: the avatar is the character's own image. */
(function () {
  "use strict";

  function merge(defaults, overrides) {
    var merged = {};
    Object.keys(defaults).forEach(function (key) { merged[key] = defaults[key]; });
    Object.keys(overrides || {}).forEach(function (key) {
      var value = overrides[key];
      var base = defaults[key];
      if (value && typeof value === "object" && !Array.isArray(value) &&
          base && typeof base === "object" && !Array.isArray(base)) {
        merged[key] = merge(base, value);
      } else if (value !== "" && value !== null && value !== undefined) {
        merged[key] = value;
      }
    });
    return merged;
  }

  function el(tag, className, text) {
    var node = document.createElement(tag);
    if (className) node.className = className;
    if (text !== undefined && text !== null) node.textContent = String(text);
    return node;
  }

  function avatar(size, image, name, theme) {
    var node = el("span", "wp-avatar");
    node.style.width = node.style.height = size + "px";
    node.style.background = theme.primary_color;
    if (image) {
      var img = el("img");
      img.src = image;
      img.alt = "";
      node.appendChild(img);
    } else {
      node.textContent = (name || "?").trim().charAt(0).toUpperCase();
      node.style.color = theme.background_color;
      node.style.fontSize = Math.round(size * 0.42) + "px";
    }
    return node;
  }

  function drawField(field, defaults, theme) {
    field = merge(defaults.form_field, field);
    var row = el("div", "wp-field wp-field--" + (field.width || "full"));
    var label = el("span", "wp-field-label", field.label || field.name);
    if (field.required) label.appendChild(el("span", "wp-required", " *"));
    var input;
    if (field.type === "textarea") {
      input = el("span", "wp-input wp-input--textarea", field.placeholder);
    } else if (field.type === "select") {
      input = el("span", "wp-input wp-input--select", field.placeholder || optionLabel((field.options || [])[0]));
    } else if (field.type === "checkbox") {
      row.className += " wp-field--check";
      input = el("span", "wp-check");
      input.style.borderColor = theme.primary_color;
    } else if (field.type === "radio") {
      input = el("span", "wp-radios");
      (field.options || []).slice(0, 4).forEach(function (option) {
        var choice = el("span", "wp-radio", optionLabel(option));
        input.appendChild(choice);
      });
    } else {
      input = el("span", "wp-input", field.placeholder);
    }
    if (field.type === "checkbox") { row.appendChild(input); row.appendChild(label); }
    else { row.appendChild(label); row.appendChild(input); }
    return row;
  }

  function optionLabel(option) {
    if (option && typeof option === "object") return option.label || option.value;
    return option === undefined ? "" : option;
  }

  function drawForm(form, defaults, theme) {
    form = merge(defaults.form, form);
    var box = el("div", "wp-form");
    box.appendChild(el("div", "wp-form-title", form.title));
    if (form.subtitle) box.appendChild(el("div", "wp-form-subtitle", form.subtitle));
    var fields = form.fields || ((form.steps || [])[0] || {}).fields || [];
    var grid = el("div", "wp-form-fields" + (form.layout.field_layout === "grid" ? " wp-form-fields--grid" : ""));
    fields.forEach(function (field) { grid.appendChild(drawField(field, defaults, theme)); });
    box.appendChild(grid);
    var submit = el("span", "wp-button wp-button--small", form.submit_label);
    submit.style.background = theme.primary_color;
    submit.style.color = theme.background_color;
    box.appendChild(submit);
    return box;
  }

  function draw(root, appearance, defaults) {
    var a = merge(defaults.appearance, appearance);
    var theme = a.theme, size = a.dimensions, image = root.dataset.avatar;
    var position = (a.layout.position || "bottom-right").split("-");
    root.textContent = "";
    root.style.fontFamily = a.layout.font_family;

    // The launcher, where the page would show it.
    var page = el("div", "wp-page");
    page.appendChild(el("span", "wp-caption", "Launcher (" + a.layout.position + ")"));
    var launcher = el("div", "wp-launcher");
    launcher.style[position[0]] = "16px";
    launcher.style[position[1]] = "16px";
    launcher.style.flexDirection = position[1] === "left" ? "row-reverse" : "row";
    if (a.fab_label || a.fab_sublabel) {
      var pill = el("span", "wp-fab-label");
      pill.style.background = theme.background_color;
      pill.style.color = theme.text_color;
      pill.appendChild(el("strong", null, a.fab_label));
      if (a.fab_sublabel) pill.appendChild(el("small", null, a.fab_sublabel));
      launcher.appendChild(pill);
    }
    var fab = avatar(size.fab_size, image, a.name, theme);
    fab.className += " wp-fab";
    fab.style.boxShadow = "0 0 0 3px " + theme.accent_color + ", 0 8px 24px rgba(15,23,42,.25)";
    launcher.appendChild(fab);
    page.appendChild(launcher);

    // The open panel, at its size (scaled down to fit the column).
    var frame = el("div", "wp-frame");
    frame.appendChild(el("span", "wp-caption", "Open panel (" + size.panel_width + " × " + size.panel_height + " px)"));
    var scale = Math.min(1, 420 / size.panel_width);
    var holder = el("div", "wp-panel-holder");
    holder.style.width = size.panel_width * scale + "px";
    holder.style.height = size.panel_height * scale + "px";
    var panel = el("div", "wp-panel");
    panel.style.width = size.panel_width + "px";
    panel.style.height = size.panel_height + "px";
    panel.style.transform = "scale(" + scale + ")";
    panel.style.borderRadius = size.border_radius + "px";
    panel.style.background = theme.background_color;
    panel.style.color = theme.text_color;

    var header = el("div", "wp-header");
    header.style.background = theme.primary_color;
    header.style.color = theme.background_color;
    header.appendChild(avatar(44, image, a.name, {primary_color: theme.accent_color, background_color: theme.background_color}));
    var titles = el("div", "wp-titles");
    titles.appendChild(el("div", "wp-name", a.name));
    if (a.subtitle) titles.appendChild(el("div", "wp-subtitle", a.subtitle));
    header.appendChild(titles);
    var status = el("span", "wp-status", a.labels.idle);
    header.appendChild(status);
    panel.appendChild(header);

    var body = el("div", "wp-body");
    if ((a.languages || []).length > 1) {
      var languages = el("div", "wp-languages", a.labels.language_label + ": ");
      var current = a.languages.filter(function (l) { return l.code === a.default_language; })[0] || a.languages[0];
      languages.appendChild(el("span", "wp-input wp-input--select wp-inline", current.native_label || current.label));
      body.appendChild(languages);
    }
    var transcript = el("div", "wp-transcript");
    var agent = el("div", "wp-bubble wp-bubble--agent", root.dataset.greeting || a.labels.transcript_placeholder);
    agent.style.background = theme.agent_bubble_color;
    agent.style.color = theme.agent_bubble_text_color;
    transcript.appendChild(agent);
    var user = el("div", "wp-bubble wp-bubble--user", "…");
    user.style.background = theme.user_bubble_color;
    user.style.color = theme.user_bubble_text_color;
    transcript.appendChild(user);
    body.appendChild(transcript);
    var forms = (a.forms || []).filter(function (form) { return !form.disabled; });
    if (forms.length) body.appendChild(drawForm(forms[0], defaults, theme));
    panel.appendChild(body);

    var footer = el("div", "wp-footer");
    var start = el("span", "wp-button", a.start_button_text);
    start.style.background = theme.primary_color;
    start.style.color = theme.background_color;
    start.style.borderRadius = Math.min(size.border_radius, 999) + "px";
    footer.appendChild(start);
    var consent = el("div", "wp-consent", a.consent_text + " ");
    var terms = el("span", "wp-link", a.terms_label);
    terms.style.color = theme.primary_color;
    consent.appendChild(terms);
    footer.appendChild(consent);
    if (a.powered_by_text) footer.appendChild(el("div", "wp-powered", a.powered_by_text));
    panel.appendChild(footer);

    holder.appendChild(panel);
    frame.appendChild(holder);
    root.appendChild(page);
    root.appendChild(frame);
  }

  function start(root) {
    var defaults = JSON.parse(root.dataset.defaults);
    var source = document.getElementById(root.dataset.source);
    var note = root.parentNode.querySelector(".wp-note");
    var last = null;
    function refresh() {
      var text = source ? source.value : "{}";
      if (text === last) return;
      last = text;
      try {
        var appearance = JSON.parse(text || "{}");
        draw(root, appearance && typeof appearance === "object" ? appearance : {}, defaults);
        if (note) note.textContent = "";
      } catch (error) {
        if (note) note.textContent = "The appearance is not valid JSON: the preview shows the last valid one.";
      }
    }
    refresh();
    // The editor writes the textarea without input events: follow its value.
    window.setInterval(refresh, 250);
    document.addEventListener("input", refresh);
  }

  function init() {
    document.querySelectorAll("[data-widget-preview]").forEach(start);
  }
  if (document.readyState === "loading") document.addEventListener("DOMContentLoaded", init);
  else init();
})();
