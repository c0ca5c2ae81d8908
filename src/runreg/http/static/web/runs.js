// The run page: a component's "Edit LS" and "History" buttons show or hide its panel.
function runregToggle(button) {
  const panel = button.closest("article").querySelector(`.panel.${button.dataset.panel}`);
  const open = panel.hasAttribute("hidden");
  panel.toggleAttribute("hidden", !open);
  button.setAttribute("aria-expanded", String(open));
}
