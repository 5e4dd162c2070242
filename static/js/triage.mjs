// Progressive enhancement for triage: every shortcut is a link or a button that also works without this file.
// Single keys, so they can be turned off (WCAG 2.1.4), and never fire while a person types in a field.
const STORAGE_KEY = "consult-triage-shortcuts";
const ACTIONS = {
  n: () => follow('[data-shortcut="next"]'),
  p: () => follow('[data-shortcut="previous"]'),
  a: () => press("#accept"),
  r: () => press("#reject"),
};

function follow(selector) {
  const link = document.querySelector(selector);
  if (link) window.location.assign(link.href);
  return Boolean(link);
}

function press(selector) {
  // Clicking the form's own button sends the form as a person would: with its CSRF token, by POST.
  const button = document.querySelector(selector);
  if (button && !button.disabled) button.click();
  return Boolean(button);
}

function typingIn(element) {
  if (!element || element === document.body) return false;
  if (element.isContentEditable) return true;
  return ["INPUT", "TEXTAREA", "SELECT"].includes(element.tagName);
}

function enabled() {
  try {
    return window.localStorage.getItem(STORAGE_KEY) !== "off";
  } catch {
    return true;
  }
}

function showToggle(toggle, status) {
  const on = enabled();
  toggle.textContent = on ? "Turn keyboard shortcuts off" : "Turn keyboard shortcuts on";
  status.textContent = on ? "Keyboard shortcuts are on." : "Keyboard shortcuts are off.";
}

const panel = document.getElementById("shortcuts");
if (panel) {
  const toggle = panel.querySelector("[data-shortcut-toggle]");
  const status = panel.querySelector("[data-shortcut-status]");
  if (toggle && status) {
    toggle.hidden = false;
    showToggle(toggle, status);
    toggle.addEventListener("click", () => {
      try {
        window.localStorage.setItem(STORAGE_KEY, enabled() ? "off" : "on");
      } catch {
        return;
      }
      showToggle(toggle, status);
    });
  }
  document.addEventListener("keydown", (event) => {
    if (!enabled() || event.defaultPrevented || event.repeat || event.isComposing) return;
    if (event.ctrlKey || event.metaKey || event.altKey) return;
    if (typingIn(event.target) || typingIn(document.activeElement)) return;
    const action = ACTIONS[event.key];
    if (action && action()) event.preventDefault();
  });
}

// The queue: one box ticks or clears every comment on this page.
const selectAll = document.getElementById("select-page");
if (selectAll) {
  const boxes = () => Array.from(document.querySelectorAll('input[name="selected"]'));
  const sync = () => {
    const ticked = boxes().filter((box) => box.checked).length;
    selectAll.checked = ticked > 0 && ticked === boxes().length;
    selectAll.indeterminate = ticked > 0 && ticked < boxes().length;
  };
  selectAll.closest("[data-select-page]").hidden = false;
  selectAll.addEventListener("change", () => {
    boxes().forEach((box) => {
      box.checked = selectAll.checked;
    });
  });
  boxes().forEach((box) => box.addEventListener("change", sync));
  sync();
}
