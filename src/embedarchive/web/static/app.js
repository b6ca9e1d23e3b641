// Keyboard help for the archive pages; everything works without it.
// "/" focuses the search box (unless you are typing somewhere already).
document.addEventListener("keydown", (event) => {
  if (event.key !== "/" || event.ctrlKey || event.metaKey || event.altKey) return;
  const target = event.target;
  if (target instanceof HTMLElement && (target.isContentEditable || /^(INPUT|TEXTAREA|SELECT)$/.test(target.tagName))) return;
  const box = document.querySelector("#q") || document.querySelector("#home-q") || document.querySelector("#top-q");
  if (box) {
    event.preventDefault();
    box.focus();
    box.select();
  }
});
