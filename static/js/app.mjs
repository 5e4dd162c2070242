// Progressive enhancement only: every journey works without this file.
import { CharacterCount, initAll } from "govuk-frontend";

// The server counts a comment's characters one per Unicode character (code
// point); GOV.UK Frontend counts JavaScript's UTF-16 units, so each emoji
// counted twice and the page said "too many" for text the server accepts.
const countUnits = CharacterCount.prototype.updateCount;
CharacterCount.prototype.updateCount = function updateCount() {
  countUnits.call(this);
  if (!this.config.maxwords) this.count = Array.from(this.$textarea.value).length;
};

initAll();

// Selecting text inside a section turns that section's "Comment on section"
// link into one that carries the selection as the quoted passage.
const MAX_QUOTE = 2000;

function sectionOf(node) {
  const element = node && (node.nodeType === Node.ELEMENT_NODE ? node : node.parentElement);
  return element ? element.closest("[data-section]") : null;
}

function resetLinks() {
  document.querySelectorAll("[data-quote-link]").forEach((link) => {
    if (link.dataset.baseHref) link.href = link.dataset.baseHref;
    const hint = link.parentElement.querySelector("[data-quote-hint]");
    if (hint) hint.textContent = "";
  });
}

function onSelectionChange() {
  const selection = window.getSelection();
  const text = selection ? selection.toString().replace(/\s+/g, " ").trim() : "";
  if (!text) return; // keep the last selection so that moving to the link does not lose it
  const section = sectionOf(selection.anchorNode);
  const textBox = section && section.querySelector("[data-section-text]");
  if (!section || section !== sectionOf(selection.focusNode) || !textBox ||
      !textBox.contains(selection.anchorNode) || !textBox.contains(selection.focusNode)) {
    return;
  }
  resetLinks();
  const link = section.querySelector("[data-quote-link]");
  if (!link) return;
  link.dataset.baseHref = link.dataset.baseHref || link.href;
  const url = new URL(link.dataset.baseHref, window.location.href);
  url.searchParams.set("quote", text.slice(0, MAX_QUOTE));
  link.href = url.toString();
  const hint = section.querySelector("[data-quote-hint]");
  if (hint) hint.textContent = "Your selected text will be quoted in your comment.";
}

if (document.querySelector("[data-quote-link]")) {
  document.addEventListener("selectionchange", onSelectionChange);
}

document.querySelectorAll("[data-print-page]").forEach((button) => {
  button.hidden = false;
  button.addEventListener("click", () => window.print());
});

// A live word count beside GOV.UK's character count. The visible count follows
// every keystroke; screen readers hear it once typing pauses, as with characters.
function wordsIn(text) {
  const words = text.trim().split(/\s+/).filter(Boolean).length;
  return `You have written ${words.toLocaleString("en-GB")} word${words === 1 ? "" : "s"}`;
}

document.querySelectorAll("[data-word-count-for]").forEach((count) => {
  const field = document.getElementById(count.dataset.wordCountFor);
  if (!field) return;
  const status = document.createElement("div");
  status.className = "govuk-visually-hidden";
  status.setAttribute("aria-live", "polite");
  count.after(status);
  let pause;
  field.addEventListener("input", () => {
    count.textContent = wordsIn(field.value);
    clearTimeout(pause);
    pause = setTimeout(() => { status.textContent = count.textContent; }, 1000);
  });
});
