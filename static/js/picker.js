// Searchable pickers for the segment editor (countries, industries, regions, municipalities).
//
// Progressive enhancement of a plain text box marked data-picker="<field>" inside a form that
// carries data-picker-url: the box keeps its name and still posts the codes, comma-separated (it
// is what a browser without JavaScript shows); the picker hides it and offers a combobox (ARIA
// 1.2: role=combobox with a role=listbox popup, aria-activedescendant; Arrow keys, Enter, Escape,
// Backspace on an empty box removes the last pick) whose options come from the server as JSON.
// Each pick or removal fires "change" on the box, so the editor's live count (htmx) follows.
(function () {
  "use strict";
  let uid = 0;

  function split(value) {
    return value.split(/[,;]/).map(function (s) { return s.trim(); }).filter(Boolean);
  }

  function enhance(input, form) {
    const url = form.getAttribute("data-picker-url");
    const field = input.getAttribute("data-picker");
    const texts = {
      remove: form.getAttribute("data-picker-remove") || "Remove",
      none: form.getAttribute("data-picker-none") || "No matches",
      placeholder: form.getAttribute("data-picker-placeholder") || "Type to search",
    };
    const listId = "picker-" + field + "-" + (++uid);
    const labels = new Map();
    let options = [];
    let active = -1;
    let seq = 0;
    let timer = null;

    const wrap = document.createElement("div");
    wrap.className = "picker";
    const chips = document.createElement("ul");
    chips.className = "picker-chips";
    const combo = document.createElement("input");
    combo.type = "text";
    combo.className = "picker-input";
    combo.autocomplete = "off";
    combo.placeholder = texts.placeholder;
    combo.setAttribute("role", "combobox");
    combo.setAttribute("aria-autocomplete", "list");
    combo.setAttribute("aria-expanded", "false");
    combo.setAttribute("aria-controls", listId);
    combo.setAttribute("data-picker-for", field);
    const list = document.createElement("ul");
    list.id = listId;
    list.className = "picker-list";
    list.setAttribute("role", "listbox");
    list.hidden = true;

    // The field's <label for=…> now names the combobox; the hidden box keeps the name.
    combo.id = input.id;
    input.id = input.id + "_codes";
    const help = input.parentElement && input.parentElement.querySelector(".help");
    if (help) {
      help.id = help.id || combo.id + "_help";
      combo.setAttribute("aria-describedby", help.id);
    }
    const disabled = input.disabled || !!input.closest("fieldset:disabled");
    combo.disabled = disabled;
    input.hidden = true;
    input.after(wrap);
    wrap.append(chips, combo, list);

    function values() { return split(input.value); }

    function setValues(next) {
      input.value = next.join(", ");
      renderChips();
      input.dispatchEvent(new Event("change", { bubbles: true }));
    }

    function renderChips() {
      chips.replaceChildren();
      values().forEach(function (value) {
        const label = labels.get(value) || value;
        const li = document.createElement("li");
        li.className = "picker-chip";
        const text = document.createElement("span");
        text.textContent = label;
        const button = document.createElement("button");
        button.type = "button";
        button.textContent = "×";
        button.disabled = disabled;
        button.setAttribute("aria-label", texts.remove + " " + label);
        button.addEventListener("click", function () {
          setValues(values().filter(function (v) { return v !== value; }));
          combo.focus();
        });
        li.append(text, button);
        chips.append(li);
      });
    }

    function close() {
      list.hidden = true;
      combo.setAttribute("aria-expanded", "false");
      combo.removeAttribute("aria-activedescendant");
      active = -1;
    }

    function open(found) {
      options = found;
      active = -1;
      list.replaceChildren();
      const picked = new Set(values());
      if (!found.length) {
        const li = document.createElement("li");
        li.setAttribute("role", "option");
        li.setAttribute("aria-disabled", "true");
        li.className = "picker-none";
        li.textContent = texts.none;
        list.append(li);
      }
      found.forEach(function (option, i) {
        const li = document.createElement("li");
        li.id = listId + "-" + i;
        li.setAttribute("role", "option");
        li.setAttribute("aria-selected", "false");
        li.dataset.index = String(i);
        li.dataset.value = option.value;
        li.textContent = option.label;
        if (picked.has(option.value)) li.classList.add("picked");
        list.append(li);
      });
      list.hidden = false;
      combo.setAttribute("aria-expanded", "true");
    }

    function move(step) {
      if (!options.length) return;
      active = (active + step + options.length) % options.length;
      list.querySelectorAll("[role=option]").forEach(function (li, i) {
        li.setAttribute("aria-selected", i === active ? "true" : "false");
      });
      const current = document.getElementById(listId + "-" + active);
      combo.setAttribute("aria-activedescendant", current.id);
      current.scrollIntoView({ block: "nearest" });
    }

    function pick(i) {
      const option = options[i];
      if (!option) return;
      labels.set(option.value, option.label);
      combo.value = "";
      close();
      if (!values().includes(option.value)) setValues(values().concat([option.value]));
    }

    function ask(params) {
      return fetch(url + "?field=" + encodeURIComponent(field) + "&" + params, {
        credentials: "same-origin",
        headers: { Accept: "application/json" },
      }).then(function (r) { return r.ok ? r.json() : { options: [] }; });
    }

    function search() {
      const mine = ++seq;
      ask("q=" + encodeURIComponent(combo.value)).then(function (data) {
        if (mine === seq && document.activeElement === combo) open(data.options || []);
      });
    }

    // Typing in the search box is not an edit of the criteria: the editor's htmx trigger
    // (change, input on the form) must only see the picks.
    combo.addEventListener("input", function (ev) {
      ev.stopPropagation();
      clearTimeout(timer);
      timer = setTimeout(search, 120);
    });
    combo.addEventListener("change", function (ev) { ev.stopPropagation(); });
    combo.addEventListener("click", function () { if (list.hidden) search(); });
    combo.addEventListener("blur", function () { close(); });
    combo.addEventListener("keydown", function (ev) {
      if (ev.key === "ArrowDown") {
        ev.preventDefault();
        if (list.hidden) search(); else move(1);
      } else if (ev.key === "ArrowUp") {
        ev.preventDefault();
        if (!list.hidden) move(-1);
      } else if (ev.key === "Enter") {
        // Enter in a search box picks; it never submits the form (an empty box still does).
        if (list.hidden && combo.value === "") return;
        ev.preventDefault();
        if (list.hidden) search();
        else pick(active >= 0 ? active : (options.length === 1 ? 0 : -1));
      } else if (ev.key === "Escape") {
        if (!list.hidden) { ev.preventDefault(); close(); }
      } else if (ev.key === "Backspace" && combo.value === "" && values().length) {
        setValues(values().slice(0, -1));
      }
    });
    // A click on an option must not blur the box first (which would close the list).
    list.addEventListener("mousedown", function (ev) { ev.preventDefault(); });
    list.addEventListener("click", function (ev) {
      const li = ev.target.closest("[role=option]");
      if (li && li.dataset.index !== undefined) pick(Number(li.dataset.index));
    });

    renderChips();
    const initial = values();
    if (initial.length) {
      ask("values=" + encodeURIComponent(initial.join(","))).then(function (data) {
        (data.options || []).forEach(function (o) { labels.set(o.value, o.label); });
        renderChips();
      });
    }
  }

  document.addEventListener("DOMContentLoaded", function () {
    document.querySelectorAll("form[data-picker-url]").forEach(function (form) {
      form.querySelectorAll("input[data-picker]").forEach(function (input) {
        enhance(input, form);
      });
    });
  });
})();
