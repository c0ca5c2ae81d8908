// The configuration editor: line numbers that follow the text, and the line a validation error is on
// selected and scrolled to (also from the "line N" links of the problem list).
(() => {
  function lineHeight(textarea) {
    return parseFloat(getComputedStyle(textarea).lineHeight) || 18;
  }
  function goTo(textarea, line) {
    const lines = textarea.value.split("\n");
    const start = lines.slice(0, line - 1).reduce((n, text) => n + text.length + 1, 0);
    textarea.focus({ preventScroll: true });
    textarea.setSelectionRange(start, start + (lines[line - 1] || "").length);
    textarea.scrollTop = Math.max(0, (line - 4) * lineHeight(textarea));
  }
  function renumber(textarea, gutter) {
    const count = textarea.value.split("\n").length;
    if (gutter.childElementCount !== count) {
      gutter.innerHTML = Array.from({ length: count }, (_, i) => `<span>${i + 1}</span>`).join("");
    }
  }
  function wire(root) {
    const textarea = root.querySelector("#yaml");
    const gutter = root.querySelector(".gutter");
    if (!textarea || !gutter || textarea.dataset.wired) return;
    textarea.dataset.wired = "1";
    textarea.addEventListener("scroll", () => { gutter.scrollTop = textarea.scrollTop; });
    textarea.addEventListener("input", () => renumber(textarea, gutter));
    root.querySelectorAll("a.goto").forEach((link) => link.addEventListener("click", (event) => {
      event.preventDefault();
      goTo(textarea, Number(link.dataset.line));
    }));
    if (textarea.dataset.errorLine) {
      goTo(textarea, Number(textarea.dataset.errorLine));
      gutter.scrollTop = textarea.scrollTop;
    }
  }
  document.addEventListener("DOMContentLoaded", () => wire(document));
  document.addEventListener("htmx:afterSettle", () => wire(document));
})();

// The datasets-accepted rules: a row's "Edit" shows or hides its form below it.
function runregRuleToggle(button) {
  const row = document.getElementById(button.getAttribute("aria-controls"));
  const open = row.hasAttribute("hidden");
  row.toggleAttribute("hidden", !open);
  button.setAttribute("aria-expanded", String(open));
}
