// Disagreement view: selecting part of a group's text fills that group's "new range" form with
// the selection's offsets. Offsets are code points of the transcript; offsets.js converts the
// browser's UTF-16 indices. The forms work without this script (type the offsets).
import { TextIndex } from "./offsets.js";

function selectionIn(element) {
  const selection = window.getSelection();
  if (!selection || selection.rangeCount === 0 || selection.isCollapsed) return null;
  const range = selection.getRangeAt(0);
  if (!element.contains(range.startContainer) || !element.contains(range.endContainer)) return null;
  const before = document.createRange();
  before.selectNodeContents(element);
  before.setEnd(range.startContainer, range.startOffset);
  const start = before.toString().length;
  return { start, end: start + range.toString().length };
}

for (const element of document.querySelectorAll(".group-text")) {
  const form = document.querySelector(`form.new-range[data-group="${element.dataset.group}"]`);
  if (!form) continue;
  const base = Number(element.dataset.start);
  const fill = () => {
    const picked = selectionIn(element);
    if (!picked) return;
    const index = new TextIndex(element.textContent);
    form.elements.start.value = base + index.toCp(picked.start);
    form.elements.end.value = base + index.toCp(picked.end, true);
  };
  element.addEventListener("mouseup", fill);
  element.addEventListener("keyup", fill);
}
