// The transcript coding view. Data arrives in #wb-data (json_script) and is refreshed by
// polling the coding-data endpoint with its ETag. Every user string is put in the DOM with
// textContent, never as HTML. Offsets from and to the server go through offsets.js only.
import { TextIndex, cpLength } from "./offsets.js";

const POLL_MS = 3000;
const $ = (id) => document.getElementById(id);

let data = JSON.parse($("wb-data").textContent);
let index = new TextIndex(data.text);
const urls = data.urls;
const me = data.me;

const state = {
  show: "all", // "all", "mine" or a coder id
  codeFilter: "", // "" or a code id (with its descendants)
  pending: null, // {start, end} in code points: the passage the next code applies to
  editing: null, // id of the coding in the editor
  hits: [], // [{start, end}] search hits in code points
  hitIndex: -1,
  segs: [], // rendered segment elements, in document order
  mouseDown: false,
  renderQueued: false,
  polling: false,
  laidOutWidth: 0,
  writes: 0,
};
const undoStack = [];
const redoStack = [];

// ------------------------------------------------------------------ small helpers

function el(tag, attrs = {}, text) {
  const node = document.createElement(tag);
  for (const [key, value] of Object.entries(attrs)) {
    if (key === "className") node.className = value;
    else if (key === "dataset") Object.assign(node.dataset, value);
    else node.setAttribute(key, value);
  }
  if (text !== undefined) node.textContent = text;
  return node;
}

function clear(node) {
  while (node.firstChild) node.removeChild(node.firstChild);
}

function say(message, isError = false) {
  const status = $("wb-status");
  status.textContent = message;
  status.classList.toggle("wb-error", isError);
}

function csrfToken() {
  const match = document.cookie.split("; ").find((part) => part.startsWith("csrftoken="));
  return match ? decodeURIComponent(match.slice("csrftoken=".length)) : "";
}

// ``headers`` adds request headers: If-Match (the coding's version, so a change made meanwhile
// by someone else is refused with 412 instead of overwritten) or Idempotency-Key (so a create
// retried after a network failure makes one coding, not two).
async function api(method, url, body, headers = {}) {
  state.writes++; // a poll that was under way when this write started is stale
  const request = {
    method,
    credentials: "same-origin",
    headers: {
      Accept: "application/json",
      "Content-Type": "application/json",
      "X-CSRFToken": csrfToken(),
      ...headers,
    },
    body: body === undefined ? undefined : JSON.stringify(body),
  };
  let response;
  try {
    response = await fetch(url, request);
  } catch (err) {
    // The network failed: only a request that is safe to repeat is sent once more.
    if (!headers["Idempotency-Key"]) throw err;
    await new Promise((resolve) => setTimeout(resolve, 1000));
    response = await fetch(url, request);
  }
  if (response.status === 412) {
    poll(); // fetch what the other person changed
    const error = new Error(
      "Someone else changed this passage meanwhile, so your change was not saved. " +
        "The page now shows their version; make your change again if it is still needed.",
    );
    error.status = 412;
    throw error;
  }
  if (response.status === 204) return null;
  let payload = null;
  try {
    payload = await response.json();
  } catch (err) {
    payload = null;
  }
  if (!response.ok) {
    const error = new Error(describeError(payload, response.status));
    error.status = response.status;
    throw error;
  }
  const etag = response.headers.get("ETag");
  if (etag && payload && typeof payload === "object") payload.etag = etag;
  return payload;
}

function versionOf(id) {
  const coding = data.codings.find((c) => c.id === id);
  return coding && coding.etag ? { "If-Match": coding.etag } : {};
}

function newRequestKey() {
  const bytes = new Uint8Array(16);
  crypto.getRandomValues(bytes);
  return Array.from(bytes, (b) => b.toString(16).padStart(2, "0")).join("");
}

function describeError(payload, status) {
  if (payload && typeof payload === "object") {
    const parts = [];
    for (const [field, value] of Object.entries(payload)) {
      const text = Array.isArray(value) ? value.join(" ") : String(value);
      parts.push(field === "detail" || field === "non_field_errors" ? text : `${field}: ${text}`);
    }
    if (parts.length) return parts.join(" ");
  }
  return `The server answered ${status}.`;
}

function hexToRgb(hex) {
  const n = parseInt(hex.slice(1), 16);
  return [(n >> 16) & 255, (n >> 8) & 255, n & 255];
}

function luminance([r, g, b]) {
  const lin = (c) => {
    const s = c / 255;
    return s <= 0.03928 ? s / 12.92 : ((s + 0.055) / 1.055) ** 2.4;
  };
  return 0.2126 * lin(r) + 0.7152 * lin(g) + 0.0722 * lin(b);
}

// A light tint of the code's colour behind dark text keeps a contrast ratio above 7:1.
function tint(hex, amount = 0.38) {
  const rgb = hexToRgb(hex).map((c) => Math.round(255 - (255 - c) * amount));
  return `rgb(${rgb[0]}, ${rgb[1]}, ${rgb[2]})`;
}

// Black or white, whichever contrasts more with the colour (stripe labels).
function inkOn(hex) {
  const l = luminance(hexToRgb(hex));
  return (l + 0.05) / 0.05 >= 1.05 / (l + 0.05) ? "#000" : "#fff";
}

// ------------------------------------------------------------------ derived data

let codesById = new Map();
let childrenOf = new Map();
let membersById = new Map();

function indexData() {
  codesById = new Map(data.codes.map((c) => [c.id, c]));
  childrenOf = new Map();
  for (const code of data.codes) {
    const key = code.parent_id ?? 0;
    if (!childrenOf.has(key)) childrenOf.set(key, []);
    childrenOf.get(key).push(code);
  }
  membersById = new Map(data.members.map((m) => [m.id, m]));
}

function subtree(codeId) {
  const found = new Set();
  const stack = [codeId];
  while (stack.length) {
    const id = stack.pop();
    found.add(id);
    for (const child of childrenOf.get(id) || []) stack.push(child.id);
  }
  return found;
}

function visibleCodings() {
  let codings = data.codings;
  if (state.show === "mine") codings = codings.filter((c) => c.coder_id === me.id);
  else if (state.show !== "all") codings = codings.filter((c) => c.coder_id === Number(state.show));
  if (state.codeFilter) {
    const allowed = subtree(Number(state.codeFilter));
    codings = codings.filter((c) => allowed.has(c.code_id));
  }
  return codings;
}

function codeName(id) {
  const code = codesById.get(id);
  return code ? code.name : `code #${id}`;
}

function codeColour(id) {
  const code = codesById.get(id);
  return code ? code.colour : "#888888";
}

function coderName(coding) {
  return coding.coder_username || (membersById.get(coding.coder_id) || {}).username || `user #${coding.coder_id}`;
}

function mayChange(coding) {
  return me.can_code && (me.can_supervise || coding.coder_id === me.id);
}

// ------------------------------------------------------------------ rendering the text

// Blocks are the speaker turns, plus any non-blank text between turns (so nothing is hidden).
function blocks() {
  const result = [];
  let pos = 0;
  const gap = (start, end) => {
    if (end > start && index.slice(start, end).trim()) {
      result.push({ start, end, speaker: "", role: "other", index: null });
    }
  };
  for (const turn of data.turns) {
    gap(pos, turn.start);
    result.push(turn);
    pos = turn.end;
  }
  gap(pos, index.length);
  return result;
}

function renderText() {
  const container = $("wb-text");
  const keep = state.mouseDown ? null : currentSelection();
  const codings = visibleCodings()
    .slice()
    .sort((a, b) => a.start - b.start || b.end - a.end);
  const bounds = new Set();
  for (const c of codings) {
    bounds.add(c.start);
    bounds.add(c.end);
  }
  for (const h of state.hits) {
    bounds.add(h.start);
    bounds.add(h.end);
  }
  const sortedBounds = Array.from(bounds).sort((a, b) => a - b);
  const fragment = document.createDocumentFragment();
  const segs = [];
  let ci = 0;
  let bi = 0;
  let hi = 0;
  let active = [];
  let turnNo = 0;
  for (const block of blocks()) {
    const isTurn = block.index !== null && block.index !== undefined;
    if (isTurn) turnNo = block.index + 1;
    const wrapper = el("div", {
      className: `wb-turn wb-role-${block.role}`,
      dataset: { start: block.start, end: block.end },
    });
    const meta = el("div", { className: "wb-turn-meta", "aria-hidden": "true" });
    if (isTurn) meta.appendChild(el("span", { className: "wb-turn-no" }, String(turnNo)));
    meta.appendChild(el("span", { className: "wb-speaker" }, block.speaker || ""));
    wrapper.appendChild(meta);
    const para = el("p", { className: "wb-turn-text", dir: "auto", dataset: { start: block.start } });
    while (bi < sortedBounds.length && sortedBounds[bi] <= block.start) bi++;
    let pos = block.start;
    while (pos < block.end) {
      const next = bi < sortedBounds.length && sortedBounds[bi] < block.end ? sortedBounds[bi] : block.end;
      if (next === sortedBounds[bi]) bi++;
      // Codings covering [pos, next).
      while (ci < codings.length && codings[ci].start <= pos) active.push(codings[ci++]);
      active = active.filter((c) => c.end > pos);
      while (hi < state.hits.length && state.hits[hi].end <= pos) hi++;
      const seg = el("span", { className: "wb-seg", dataset: { start: pos, end: next } });
      seg.textContent = index.slice(pos, next);
      if (active.length) {
        // The shortest (most specific) coding gives the colour; stripes show the rest.
        const top = active.reduce((a, b) => (b.end - b.start < a.end - a.start ? b : a));
        seg.classList.add("wb-coded");
        if (active.length > 1) seg.classList.add("wb-multi");
        seg.style.backgroundColor = tint(codeColour(top.code_id));
        seg.dataset.codings = active.map((c) => c.id).join(",");
        seg.title = active.map((c) => `${codeName(c.code_id)} (${coderName(c)})`).join("\n");
      }
      const hit = state.hits[hi];
      if (hit && hit.start <= pos && hit.end >= next) {
        seg.classList.add("wb-hit");
        if (hi === state.hitIndex) seg.classList.add("wb-hit-current");
      }
      para.appendChild(seg);
      segs.push(seg);
      pos = next;
    }
    wrapper.appendChild(para);
    fragment.appendChild(wrapper);
  }
  clear(container);
  container.appendChild(fragment);
  state.segs = segs;
  if (keep) restoreSelection(keep);
  layoutStripes();
}

function scheduleRender() {
  if (state.renderQueued) return;
  state.renderQueued = true;
  requestAnimationFrame(() => {
    state.renderQueued = false;
    if (state.mouseDown) {
      scheduleRender();
      return;
    }
    renderText();
    renderCodebook();
    renderMemos();
  });
}

// ------------------------------------------------------------------ stripes

function segIndexAt(cp) {
  // The last segment starting at or before cp.
  let lo = 0;
  let hi = state.segs.length - 1;
  let found = -1;
  while (lo <= hi) {
    const mid = (lo + hi) >> 1;
    if (Number(state.segs[mid].dataset.start) <= cp) {
      found = mid;
      lo = mid + 1;
    } else hi = mid - 1;
  }
  return found;
}

function layoutStripes() {
  const column = $("wb-stripes");
  const codings = visibleCodings()
    .slice()
    .sort((a, b) => a.start - b.start || b.end - a.end || a.id - b.id);
  // Read every position first, then write: interleaving the two would force a layout of the
  // whole transcript per stripe.
  clear(column);
  const base = column.getBoundingClientRect().top;
  const placed = [];
  for (const coding of codings) {
    const first = state.segs[segIndexAt(coding.start)];
    const last = state.segs[segIndexAt(coding.end - 1)];
    if (!first || !last) continue;
    const firstRects = first.getClientRects();
    const lastRects = last.getClientRects();
    if (!firstRects.length || !lastRects.length) continue;
    const top = firstRects[0].top - base;
    placed.push({ coding, top, bottom: lastRects[lastRects.length - 1].bottom - base });
  }
  // Lanes by vertical extent: two passages on the same line get two lanes even when their
  // characters do not overlap, so every stripe stays visible and clickable.
  placed.sort((a, b) => a.top - b.top || b.bottom - a.bottom || a.coding.id - b.coding.id);
  const laneEnds = [];
  for (const item of placed) {
    let lane = laneEnds.findIndex((bottom) => bottom <= item.top + 1);
    if (lane === -1) {
      lane = laneEnds.length;
      laneEnds.push(0);
    }
    laneEnds[lane] = item.bottom;
    item.lane = lane;
  }
  const laneWidth = 22;
  const fragment = document.createDocumentFragment();
  for (const { coding, lane, top, bottom } of placed) {
    const colour = codeColour(coding.code_id);
    const name = codeName(coding.code_id);
    const stripe = el("button", {
      type: "button",
      className: "wb-stripe",
      title: name,
      dataset: { coding: coding.id, lane },
      "aria-label": `${name}, coded by ${coderName(coding)}, characters ${coding.start} to ${coding.end}`,
    });
    stripe.style.top = `${top}px`;
    stripe.style.height = `${Math.max(bottom - top, 12)}px`;
    stripe.style.left = `${lane * laneWidth}px`;
    stripe.style.backgroundColor = colour;
    stripe.style.color = inkOn(colour);
    stripe.appendChild(el("span", { className: "wb-stripe-label" }, name));
    fragment.appendChild(stripe);
  }
  column.appendChild(fragment);
  column.style.width = `${Math.max(laneEnds.length, 1) * laneWidth + 4}px`;
  state.laidOutWidth = $("wb-text").clientWidth;
}

// ------------------------------------------------------------------ selection <-> offsets

// A DOM boundary point to a code point offset. Inside a segment's text node the offset is
// exact; anywhere else (turn header, between turns) it snaps to the nearest segment edge.
function pointToCp(node, offset, isEnd) {
  if (node.nodeType === Node.TEXT_NODE && node.parentElement?.classList.contains("wb-seg")) {
    const segStart = Number(node.parentElement.dataset.start);
    return index.toCp(index.toUtf16(segStart) + offset, isEnd);
  }
  const range = document.createRange();
  range.setStart(node, offset);
  const segs = state.segs;
  if (!isEnd) {
    // First segment that begins at or after the point.
    let lo = 0;
    let hi = segs.length;
    while (lo < hi) {
      const mid = (lo + hi) >> 1;
      if (range.comparePoint(segs[mid], 0) >= 0) hi = mid;
      else lo = mid + 1;
    }
    return lo < segs.length ? Number(segs[lo].dataset.start) : index.length;
  }
  // Last segment that ends at or before the point.
  let lo = 0;
  let hi = segs.length;
  while (lo < hi) {
    const mid = (lo + hi) >> 1;
    if (range.comparePoint(segs[mid], segs[mid].childNodes.length) <= 0) lo = mid + 1;
    else hi = mid;
  }
  return lo > 0 ? Number(segs[lo - 1].dataset.end) : 0;
}

// A code point offset to a DOM point inside a segment's text node.
function cpToPoint(cp) {
  let i = segIndexAt(cp);
  if (i < 0) i = 0;
  let seg = state.segs[i];
  if (!seg) return null;
  if (cp > Number(seg.dataset.end) && i + 1 < state.segs.length) {
    // In a gap between blocks: the start of the next block.
    seg = state.segs[i + 1];
    cp = Number(seg.dataset.start);
  }
  const start = Number(seg.dataset.start);
  const end = Number(seg.dataset.end);
  const clamped = Math.min(Math.max(cp, start), end);
  return { node: seg.firstChild, offset: index.toUtf16(clamped) - index.toUtf16(start) };
}

function selectionInText() {
  const sel = window.getSelection();
  if (!sel || sel.rangeCount === 0) return null;
  const text = $("wb-text");
  const range = sel.getRangeAt(0);
  if (!text.contains(range.commonAncestorContainer) && !range.intersectsNode(text)) return null;
  return { sel, range };
}

function currentSelection() {
  const found = selectionInText();
  if (!found || found.sel.isCollapsed) return null;
  const { sel, range } = found;
  const start = pointToCp(range.startContainer, range.startOffset, false);
  const end = pointToCp(range.endContainer, range.endOffset, true);
  if (end <= start) return null;
  const anchorFirst =
    sel.anchorNode === range.startContainer && sel.anchorOffset === range.startOffset;
  return { start, end, anchor: anchorFirst ? start : end, focus: anchorFirst ? end : start };
}

function restoreSelection({ anchor, focus }) {
  const a = cpToPoint(anchor);
  const f = cpToPoint(focus);
  if (!a || !f || !a.node || !f.node) return;
  window.getSelection().setBaseAndExtent(a.node, a.offset, f.node, f.offset);
}

function setPending(range) {
  state.pending = range;
  const label = $("wb-selection");
  if (!label) return;
  if (!range) {
    label.textContent = "No passage selected.";
    return;
  }
  let quote = index.slice(range.start, range.end).replace(/\s+/g, " ");
  const chars = Array.from(quote);
  if (chars.length > 120) quote = `${chars.slice(0, 117).join("")}…`;
  label.textContent = `Selected characters ${range.start}–${range.end} (${range.end - range.start}): “${quote}”`;
}

document.addEventListener("selectionchange", () => {
  const found = selectionInText();
  if (!found) return;
  if (found.sel.isCollapsed) {
    // A click in the text starts afresh; a click on a button elsewhere keeps the passage.
    if ($("wb-text").contains(found.sel.anchorNode)) setPending(null);
    return;
  }
  const current = currentSelection();
  if (current) setPending({ start: current.start, end: current.end });
});

// Keyboard selection: Shift+arrows by character (grapheme), Ctrl+Shift+arrows by word,
// Shift+Home/End to the edges of the turn. Plain arrows move the caret.
const graphemes = typeof Intl !== "undefined" && Intl.Segmenter ? new Intl.Segmenter(undefined, { granularity: "grapheme" }) : null;
const words = typeof Intl !== "undefined" && Intl.Segmenter ? new Intl.Segmenter(undefined, { granularity: "word" }) : null;

function stepCp(cp, direction, byWord) {
  const text = index.text;
  let u = index.toUtf16(cp);
  const segmenter = byWord ? words : graphemes;
  if (!segmenter) return Math.max(0, Math.min(index.length, cp + direction));
  const all = segmenter.segment(text);
  if (direction > 0) {
    if (u >= text.length) return index.length;
    let seg = all.containing(u);
    u = seg.index + seg.segment.length;
    if (byWord) {
      while (u < text.length && !(seg = all.containing(u)).isWordLike) u = seg.index + seg.segment.length;
      if (u < text.length) u = seg.index + seg.segment.length;
    }
  } else {
    if (u <= 0) return 0;
    let seg = all.containing(u - 1);
    u = seg.index;
    if (byWord) {
      while (u > 0 && !seg.isWordLike) {
        seg = all.containing(u - 1);
        u = seg.index;
      }
    }
  }
  return index.toCp(u);
}

function blockAround(cp) {
  for (const block of blocks()) if (cp >= block.start && cp <= block.end) return block;
  return null;
}

let caret = null; // {anchor, focus} for keyboard selection

$("wb-text").addEventListener("keydown", (event) => {
  const keys = ["ArrowLeft", "ArrowRight", "ArrowUp", "ArrowDown", "Home", "End"];
  if (!keys.includes(event.key) || event.altKey) return;
  const current = currentSelection();
  if (current) caret = { anchor: current.anchor, focus: current.focus };
  if (!caret) {
    const first = state.segs[0];
    const start = first ? Number(first.dataset.start) : 0;
    caret = { anchor: start, focus: start };
  }
  event.preventDefault();
  const rtl = getComputedStyle(event.target).direction === "rtl";
  let focus = caret.focus;
  const byWord = event.ctrlKey || event.metaKey;
  if (event.key === "ArrowRight") focus = stepCp(focus, rtl ? -1 : 1, byWord);
  else if (event.key === "ArrowLeft") focus = stepCp(focus, rtl ? 1 : -1, byWord);
  else {
    const block = blockAround(focus);
    const all = blocks();
    const at = block ? all.indexOf(block) : 0;
    if (event.key === "Home") focus = block ? block.start : 0;
    else if (event.key === "End") focus = block ? block.end : index.length;
    else if (event.key === "ArrowUp") focus = at > 0 ? all[at - 1].start : 0;
    else if (event.key === "ArrowDown") focus = at + 1 < all.length ? all[at + 1].start : index.length;
  }
  caret = event.shiftKey ? { anchor: caret.anchor, focus } : { anchor: focus, focus };
  if (caret.anchor === caret.focus) {
    const p = cpToPoint(caret.focus);
    if (p) window.getSelection().setBaseAndExtent(p.node, p.offset, p.node, p.offset);
    setPending(null);
  } else {
    restoreSelection(caret);
    const start = Math.min(caret.anchor, caret.focus);
    const end = Math.max(caret.anchor, caret.focus);
    setPending({ start, end });
  }
  const p = cpToPoint(caret.focus);
  p?.node?.parentElement?.scrollIntoView({ block: "nearest" });
});

$("wb-text").addEventListener("mousedown", () => {
  state.mouseDown = true;
  caret = null;
});
document.addEventListener("mouseup", () => {
  state.mouseDown = false;
});

// ------------------------------------------------------------------ codings: create, edit, delete

function normalise(coding) {
  // API answers use "code"/"coder"; page data uses "code_id"/"coder_id".
  return {
    id: coding.id,
    code_id: coding.code_id ?? coding.code,
    coder_id: coding.coder_id ?? coding.coder,
    coder_username: coding.coder_username,
    start: coding.start,
    end: coding.end,
    comment: coding.comment || "",
    needs_review: coding.needs_review,
    updated_at: coding.updated_at,
    etag: coding.etag,
  };
}

function upsertCoding(coding) {
  const normal = normalise(coding);
  const at = data.codings.findIndex((c) => c.id === normal.id);
  if (at >= 0) data.codings[at] = normal;
  else data.codings.push(normal);
  return normal;
}

function removeCoding(id) {
  data.codings = data.codings.filter((c) => c.id !== id);
  data.memos = data.memos.filter((m) => m.coding_id !== id);
}

async function postCoding(snapshot) {
  const body = {
    interview: data.interview.id,
    code: snapshot.code_id,
    start: snapshot.start,
    end: snapshot.end,
    comment: snapshot.comment || "",
  };
  const created = await api("POST", urls.codings, body, { "Idempotency-Key": newRequestKey() });
  return upsertCoding(created);
}

function record(action) {
  shareKeys(action);
  undoStack.push(action);
  redoStack.length = 0;
  updateUndoButtons();
}

async function applyCode(codeId) {
  if (!me.can_code) return;
  const code = codesById.get(codeId);
  if (!code || !code.is_codable) {
    say("Choose a code, not a folder.", true);
    return;
  }
  const range = state.pending || currentSelection();
  if (!range) {
    say("Select a passage first, then choose a code.", true);
    return;
  }
  try {
    const coding = await postCoding({ code_id: codeId, start: range.start, end: range.end });
    record({ type: "create", key: { id: coding.id }, snapshot: { ...coding } });
    say(`Coded characters ${coding.start}–${coding.end} as “${code.name}”.`);
    scheduleRender();
  } catch (err) {
    say(err.message, true);
  }
}

async function createCodeAndApply(name) {
  name = name.replace(/\s+/g, " ").trim();
  if (!name) {
    say("Type a name for the new code.", true);
    return;
  }
  if (!state.pending) {
    say("Select a passage first, then create the code.", true);
    return;
  }
  const chars = Array.from(name);
  if (chars.length > 120) name = chars.slice(0, 120).join("");
  try {
    const code = await api("POST", urls.codes, { name });
    data.codes.push({
      id: code.id,
      parent_id: code.parent,
      name: code.name,
      colour: code.colour,
      shortcut: code.shortcut,
      is_codable: code.is_codable,
      order: code.order,
      definition: code.definition,
    });
    indexData();
    renderFilters();
    await applyCode(code.id);
  } catch (err) {
    say(err.message, true);
  }
}

async function updateCoding(id, changes, { remember = true } = {}) {
  const before = data.codings.find((c) => c.id === id) || {};
  const previous = {};
  for (const key of Object.keys(changes)) previous[key] = before[key];
  const body = {};
  for (const [key, value] of Object.entries(changes)) body[key === "code_id" ? "code" : key] = value;
  const updated = upsertCoding(await api("PATCH", `${urls.codings}${id}/`, body, versionOf(id)));
  if (remember) record({ type: "update", key: { id }, before: previous, after: changes });
  return updated;
}

async function deleteCoding(id) {
  const coding = data.codings.find((c) => c.id === id);
  await api("DELETE", `${urls.codings}${id}/`, undefined, versionOf(id));
  removeCoding(id);
  record({ type: "delete", key: { id }, snapshot: { ...coding } });
}

// Undo and redo through the API. A coding recreated by undo gets a new id; every action that
// refers to it shares one ``key`` object, so updating ``key.id`` keeps the history consistent.
async function runAction(action, direction) {
  const { type, key } = action;
  const reverse = direction === "undo";
  if ((type === "create" && reverse) || (type === "delete" && !reverse)) {
    await api("DELETE", `${urls.codings}${key.id}/`, undefined, versionOf(key.id));
    removeCoding(key.id);
  } else if (type === "create" || type === "delete") {
    const coding = await postCoding(action.snapshot);
    key.id = coding.id;
  } else {
    const values = reverse ? action.before : action.after;
    const body = {};
    for (const [k, v] of Object.entries(values)) body[k === "code_id" ? "code" : k] = v;
    upsertCoding(await api("PATCH", `${urls.codings}${key.id}/`, body, versionOf(key.id)));
  }
}

function shareKeys(action) {
  // Updates and deletes of a coding created in this session use the create action's key.
  for (const other of [...undoStack, ...redoStack]) {
    if (other !== action && other.key.id === action.key.id) {
      action.key = other.key;
      return;
    }
  }
}

async function undo() {
  const action = undoStack.pop();
  if (!action) return;
  try {
    await runAction(action, "undo");
    redoStack.push(action);
    say(`Undone: ${describeAction(action)}.`);
  } catch (err) {
    undoStack.push(action);
    say(`Could not undo: ${err.message}`, true);
  }
  updateUndoButtons();
  refreshEditor();
  scheduleRender();
}

async function redo() {
  const action = redoStack.pop();
  if (!action) return;
  try {
    await runAction(action, "redo");
    undoStack.push(action);
    say(`Redone: ${describeAction(action)}.`);
  } catch (err) {
    redoStack.push(action);
    say(`Could not redo: ${err.message}`, true);
  }
  updateUndoButtons();
  refreshEditor();
  scheduleRender();
}

function describeAction(action) {
  return { create: "coding added", delete: "coding deleted", update: "coding changed" }[action.type];
}

function updateUndoButtons() {
  const undoButton = $("wb-undo");
  const redoButton = $("wb-redo");
  if (!undoButton) return;
  undoButton.disabled = undoStack.length === 0;
  redoButton.disabled = redoStack.length === 0;
  undoButton.title = undoStack.length ? `Undo ${describeAction(undoStack.at(-1))} (Ctrl+Z)` : "Nothing to undo";
  redoButton.title = redoStack.length ? `Redo ${describeAction(redoStack.at(-1))} (Ctrl+Shift+Z)` : "Nothing to redo";
}

// ------------------------------------------------------------------ "at this place" and the editor

function codingsAt(seg) {
  const ids = (seg.dataset.codings || "").split(",").filter(Boolean).map(Number);
  return data.codings.filter((c) => ids.includes(c.id));
}

function showHere(codings) {
  const box = $("wb-here-list");
  clear(box);
  if (!codings.length) {
    box.appendChild(el("p", { className: "wb-muted" }, "No codings here."));
    return;
  }
  const list = el("ul", { className: "wb-here" });
  for (const coding of codings) {
    const item = el("li");
    const swatch = el("span", { className: "wb-swatch", "aria-hidden": "true" });
    swatch.style.backgroundColor = codeColour(coding.code_id);
    item.appendChild(swatch);
    item.appendChild(el("strong", {}, codeName(coding.code_id)));
    item.appendChild(document.createTextNode(` — ${coderName(coding)}, ${coding.start}–${coding.end}`));
    if (coding.comment) item.appendChild(el("p", { className: "wb-comment", dir: "auto" }, coding.comment));
    const open = el("button", { type: "button", className: "wb-link" }, mayChange(coding) ? "Edit" : "Details");
    open.addEventListener("click", () => openEditor(coding.id));
    item.appendChild(open);
    list.appendChild(item);
  }
  box.appendChild(list);
}

function openEditor(id) {
  state.editing = id;
  refreshEditor();
  $("wb-editor").hidden = false;
  const focusTarget = $("wb-editor-code");
  if (focusTarget && !focusTarget.disabled) focusTarget.focus();
  else $("wb-editor-close").focus();
}

function closeEditor() {
  state.editing = null;
  $("wb-editor").hidden = true;
}

function refreshEditor() {
  if (state.editing === null) return;
  const coding = data.codings.find((c) => c.id === state.editing);
  if (!coding) {
    closeEditor();
    return;
  }
  const editable = mayChange(coding);
  $("wb-editor").dataset.coding = coding.id; // coding_comments.js loads this coding's comments
  $("wb-editor-who").textContent = `${codeName(coding.code_id)} — coded by ${coderName(coding)}${
    coding.needs_review ? " — needs review after a transcript change" : ""
  }`;
  $("wb-editor-quote").textContent = index.slice(coding.start, coding.end);
  const select = $("wb-editor-code");
  clear(select);
  for (const code of data.codes.filter((c) => c.is_codable)) {
    const option = el("option", { value: code.id }, code.name);
    if (code.id === coding.code_id) option.selected = true;
    select.appendChild(option);
  }
  $("wb-editor-start").value = coding.start;
  $("wb-editor-end").value = coding.end;
  $("wb-editor-start").max = index.length - 1;
  $("wb-editor-end").max = index.length;
  $("wb-editor-comment").value = coding.comment || "";
  for (const id of ["wb-editor-code", "wb-editor-start", "wb-editor-end", "wb-editor-comment"]) {
    $(id).disabled = !editable;
  }
  for (const id of ["wb-editor-save", "wb-editor-delete", "wb-editor-reselect"]) $(id).hidden = !editable;
  const memoList = $("wb-coding-memos");
  clear(memoList);
  for (const memo of data.memos.filter((m) => m.coding_id === coding.id)) memoList.appendChild(memoItem(memo));
  if (!memoList.firstChild) memoList.appendChild(el("li", { className: "wb-muted" }, "No memos on this coding."));
  $("wb-coding-memo-form").hidden = !me.can_write_memos;
}

$("wb-editor-form").addEventListener("submit", async (event) => {
  event.preventDefault();
  const coding = data.codings.find((c) => c.id === state.editing);
  if (!coding || !mayChange(coding)) return;
  const wanted = {
    code_id: Number($("wb-editor-code").value),
    start: Number($("wb-editor-start").value),
    end: Number($("wb-editor-end").value),
    comment: $("wb-editor-comment").value,
  };
  const changes = {};
  for (const [key, value] of Object.entries(wanted)) if (value !== coding[key]) changes[key] = value;
  if (!Object.keys(changes).length) {
    say("Nothing changed.");
    return;
  }
  try {
    await updateCoding(coding.id, changes);
    say("Coding saved.");
    refreshEditor();
    scheduleRender();
  } catch (err) {
    say(err.message, true);
  }
});

$("wb-editor-reselect").addEventListener("click", () => {
  if (!state.pending) {
    say("Select the new passage in the text first.", true);
    return;
  }
  $("wb-editor-start").value = state.pending.start;
  $("wb-editor-end").value = state.pending.end;
  say("Range taken from the selection; press Save to keep it.");
});

$("wb-editor-delete").addEventListener("click", async () => {
  const id = state.editing;
  if (id === null) return;
  try {
    await deleteCoding(id);
    closeEditor();
    say("Coding deleted. Ctrl+Z brings it back.");
    scheduleRender();
  } catch (err) {
    say(err.message, true);
  }
});

$("wb-editor-close").addEventListener("click", closeEditor);

$("wb-coding-memo-form").addEventListener("submit", async (event) => {
  event.preventDefault();
  const text = $("wb-coding-memo-text").value;
  if (!text.trim() || state.editing === null) return;
  try {
    const memo = await api("POST", urls.memos, { kind: "coding", coding: state.editing, text });
    data.memos.unshift({ ...memo, coding_id: memo.coding, author_id: memo.author });
    $("wb-coding-memo-text").value = "";
    say("Memo added.");
    refreshEditor();
  } catch (err) {
    say(err.message, true);
  }
});

// ------------------------------------------------------------------ codebook panel and filters

function renderCodebook() {
  const root = $("wb-codebook");
  clear(root);
  const query = ($("wb-code-search")?.value || "").trim().toLocaleLowerCase();
  const counts = new Map();
  for (const coding of visibleCodings()) counts.set(coding.code_id, (counts.get(coding.code_id) || 0) + 1);
  const matches = (code) => !query || code.name.toLocaleLowerCase().includes(query);
  const shown = (code) => matches(code) || (childrenOf.get(code.id) || []).some(shown);
  const build = (parentKey, list) => {
    for (const code of childrenOf.get(parentKey) || []) {
      if (!shown(code)) continue;
      const item = el("li", { dataset: { code: code.id } });
      const swatch = el("span", { className: "wb-swatch", "aria-hidden": "true" });
      swatch.style.backgroundColor = code.colour;
      let label;
      if (code.is_codable && me.can_code) {
        label = el("button", { type: "button", className: "wb-code", dataset: { code: code.id } });
        label.addEventListener("click", () => applyCode(code.id));
        if (code.shortcut) label.setAttribute("aria-keyshortcuts", code.shortcut);
      } else {
        label = el("span", { className: code.is_codable ? "wb-code-name" : "wb-folder" });
      }
      label.appendChild(swatch);
      label.appendChild(el("span", { className: "wb-name" }, code.name));
      if (code.shortcut) label.appendChild(el("kbd", {}, code.shortcut));
      if (counts.get(code.id)) label.appendChild(el("span", { className: "wb-count" }, String(counts.get(code.id))));
      item.appendChild(label);
      if (code.definition) label.title = code.definition;
      const sub = el("ul");
      build(code.id, sub);
      if (sub.firstChild) item.appendChild(sub);
      list.appendChild(item);
    }
  };
  build(0, root);
  if (!root.firstChild) root.appendChild(el("li", { className: "wb-muted" }, "No code matches."));
}

function renderFilters() {
  const show = $("wb-show");
  const keepShow = state.show;
  clear(show);
  show.appendChild(el("option", { value: "all" }, "All coders"));
  show.appendChild(el("option", { value: "mine" }, "Me only"));
  const coderIds = new Set(data.codings.map((c) => c.coder_id));
  for (const member of data.members) {
    if (member.role !== "viewer" || coderIds.has(member.id)) coderIds.add(member.id);
  }
  for (const id of coderIds) {
    const member = membersById.get(id);
    const name = member ? member.username : coderName(data.codings.find((c) => c.coder_id === id));
    show.appendChild(el("option", { value: String(id) }, `Only ${name}`));
  }
  show.value = keepShow;
  if (show.value !== keepShow) state.show = show.value = "all";

  const filter = $("wb-code-filter");
  const keepFilter = state.codeFilter;
  clear(filter);
  filter.appendChild(el("option", { value: "" }, "All codes"));
  const add = (parentKey, depth) => {
    for (const code of childrenOf.get(parentKey) || []) {
      filter.appendChild(el("option", { value: String(code.id) }, `${"  ".repeat(depth)}${code.name}`));
      add(code.id, depth + 1);
    }
  };
  add(0, 0);
  filter.value = keepFilter;
  if (filter.value !== keepFilter) state.codeFilter = filter.value = "";
}

$("wb-show").addEventListener("change", (event) => {
  state.show = event.target.value;
  scheduleRender();
});
$("wb-code-filter").addEventListener("change", (event) => {
  state.codeFilter = event.target.value;
  scheduleRender();
});

const codeSearch = $("wb-code-search");
if (codeSearch) {
  codeSearch.addEventListener("input", renderCodebook);
  codeSearch.addEventListener("keydown", async (event) => {
    if (event.key === "Enter") {
      event.preventDefault();
      const first = $("wb-codebook").querySelector("button.wb-code");
      const query = codeSearch.value.trim().toLocaleLowerCase();
      const exact = data.codes.find((c) => c.is_codable && c.name.toLocaleLowerCase() === query);
      if (exact) await applyCode(exact.id);
      else if (first) await applyCode(Number(first.dataset.code));
      else if (me.can_edit_codebook) await createCodeAndApply(codeSearch.value);
      else say("No code matches; ask a supervisor to add it.", true);
    } else if (event.key === "ArrowDown") {
      const first = $("wb-codebook").querySelector("button.wb-code");
      if (first) {
        event.preventDefault();
        first.focus();
      }
    }
  });
}
$("wb-new-code")?.addEventListener("click", () => createCodeAndApply(codeSearch.value));
$("wb-invivo")?.addEventListener("click", () => {
  if (!state.pending) {
    say("Select the words that should name the code.", true);
    return;
  }
  createCodeAndApply(index.slice(state.pending.start, state.pending.end));
});

// ------------------------------------------------------------------ memos on the interview

function memoItem(memo) {
  const item = el("li");
  const head = el("p", { className: "wb-memo-head" });
  if (memo.title) head.appendChild(el("strong", { dir: "auto" }, memo.title));
  head.appendChild(el("span", { className: "wb-muted" }, ` ${memo.author_username || ""} · ${String(memo.updated_at || "").slice(0, 10)}`));
  item.appendChild(head);
  item.appendChild(el("p", { className: "wb-memo-text", dir: "auto" }, memo.text));
  return item;
}

function renderMemos() {
  const list = $("wb-memo-list");
  clear(list);
  for (const memo of data.memos.filter((m) => m.kind === "interview")) list.appendChild(memoItem(memo));
  if (!list.firstChild) list.appendChild(el("li", { className: "wb-muted" }, "No memos yet."));
}

$("wb-memo-form")?.addEventListener("submit", async (event) => {
  event.preventDefault();
  const text = $("wb-memo-text").value;
  if (!text.trim()) return;
  try {
    const memo = await api("POST", urls.memos, {
      kind: "interview",
      interview: data.interview.id,
      title: $("wb-memo-title").value,
      text,
    });
    data.memos.unshift({ ...memo, coding_id: memo.coding, author_id: memo.author });
    $("wb-memo-text").value = "";
    $("wb-memo-title").value = "";
    say("Memo added.");
    renderMemos();
  } catch (err) {
    say(err.message, true);
  }
});

// ------------------------------------------------------------------ search in the transcript

function escapeRegExp(text) {
  return text.replace(/[.*+?^${}()|[\]\\]/g, "\\$&");
}

function runSearch() {
  const query = $("wb-search").value;
  state.hits = [];
  state.hitIndex = -1;
  if (query.trim()) {
    const pattern = new RegExp(escapeRegExp(query), "giu");
    for (const match of index.text.matchAll(pattern)) {
      if (!match[0].length) break;
      state.hits.push({ start: index.toCp(match.index), end: index.toCp(match.index + match[0].length, true) });
      if (state.hits.length >= 2000) break;
    }
    if (state.hits.length) state.hitIndex = 0;
  }
  updateSearchCount();
  renderText();
  scrollToHit();
}

function updateSearchCount() {
  const count = $("wb-search-count");
  if (!$("wb-search").value.trim()) count.textContent = "";
  else if (!state.hits.length) count.textContent = "No hits";
  else count.textContent = `${state.hitIndex + 1} of ${state.hits.length}`;
}

function scrollToHit() {
  const current = $("wb-text").querySelector(".wb-hit-current");
  current?.scrollIntoView({ block: "center" });
}

function moveHit(step) {
  if (!state.hits.length) return;
  state.hitIndex = (state.hitIndex + step + state.hits.length) % state.hits.length;
  updateSearchCount();
  renderText();
  scrollToHit();
}

let searchTimer = null;
$("wb-search").addEventListener("input", () => {
  clearTimeout(searchTimer);
  searchTimer = setTimeout(runSearch, 150);
});
$("wb-search").addEventListener("keydown", (event) => {
  if (event.key === "Enter") {
    event.preventDefault();
    clearTimeout(searchTimer);
    if (!state.hits.length) runSearch();
    else moveHit(event.shiftKey ? -1 : 1);
  }
});
$("wb-search-next").addEventListener("click", () => moveHit(1));
$("wb-search-prev").addEventListener("click", () => moveHit(-1));

// ------------------------------------------------------------------ pointer and keyboard on codings

$("wb-text").addEventListener("mouseover", (event) => {
  const seg = event.target.closest?.(".wb-coded");
  if (seg) showHere(codingsAt(seg));
});

$("wb-text").addEventListener("click", (event) => {
  const seg = event.target.closest?.(".wb-coded");
  if (!seg || !window.getSelection().isCollapsed) return;
  const codings = codingsAt(seg).sort((a, b) => a.end - a.start - (b.end - b.start));
  showHere(codings);
  if (codings.length) openEditor(codings[0].id);
});

$("wb-stripes").addEventListener("click", (event) => {
  const stripe = event.target.closest(".wb-stripe");
  if (stripe) openEditor(Number(stripe.dataset.coding));
});

$("wb-stripes").addEventListener("focusin", (event) => {
  const stripe = event.target.closest(".wb-stripe");
  const coding = stripe && data.codings.find((c) => c.id === Number(stripe.dataset.coding));
  if (coding) showHere([coding]);
});
$("wb-stripes").addEventListener("mouseover", (event) => {
  const stripe = event.target.closest(".wb-stripe");
  const coding = stripe && data.codings.find((c) => c.id === Number(stripe.dataset.coding));
  if (coding) showHere([coding]);
});

function typing(target) {
  return target.closest?.("input, textarea, select, [contenteditable='true']");
}

document.addEventListener("keydown", (event) => {
  if (event.key === "Escape" && !$("wb-editor").hidden) {
    closeEditor();
    return;
  }
  if (typing(event.target)) return;
  const mod = event.ctrlKey || event.metaKey;
  if (mod && !event.altKey && event.key.toLowerCase() === "z" && me.can_code) {
    event.preventDefault();
    if (event.shiftKey) redo();
    else undo();
    return;
  }
  if (mod && !event.altKey && event.key.toLowerCase() === "y" && me.can_code) {
    event.preventDefault();
    redo();
    return;
  }
  if (mod || event.altKey || event.key.length !== 1 || !me.can_code) return;
  const code = data.codes.find((c) => c.shortcut && c.shortcut === event.key && c.is_codable);
  if (code && state.pending) {
    event.preventDefault();
    applyCode(code.id);
  }
});

$("wb-undo")?.addEventListener("click", undo);
$("wb-redo")?.addEventListener("click", redo);

// ------------------------------------------------------------------ polling with ETag

async function poll() {
  if (state.polling || document.hidden) return;
  state.polling = true;
  const writesBefore = state.writes;
  try {
    const response = await fetch(urls.data, {
      credentials: "same-origin",
      cache: "no-store",
      // X-Background-Poll: not a sign the person is active (for an idle-timeout policy).
      headers: { Accept: "application/json", "If-None-Match": data.etag, "X-Background-Poll": "1" },
    });
    if (response.status === 200) {
      const fresh = await response.json();
      if (state.writes !== writesBefore) return; // our own write overtook it; the next poll has both
      const textChanged = fresh.text !== data.text;
      data = { ...fresh, urls };
      if (textChanged) index = new TextIndex(data.text);
      indexData();
      renderFilters();
      refreshEditor();
      scheduleRender();
    }
  } catch (err) {
    // Offline for a moment: the next poll tries again.
  } finally {
    state.polling = false;
  }
}

// ------------------------------------------------------------------ start

// Links from the retrieve, memo and analytics pages land on their passage: "#c<id>" opens that
// coding in the editor, "?at=<offset>" (a code point offset) brings that place into view.
function goToLinkedPassage() {
  const params = new URLSearchParams(location.search);
  const linked = /^#c(\d+)$/.exec(location.hash);
  const coding = linked ? data.codings.find((c) => c.id === Number(linked[1])) : null;
  const at = coding ? coding.start : Number.parseInt(params.get("at") ?? "", 10);
  if (Number.isFinite(at)) {
    const point = cpToPoint(Math.max(0, Math.min(at, index.length)));
    point?.node?.parentElement?.scrollIntoView({ block: "center" });
  }
  if (coding) openEditor(coding.id);
}

// The one helper the browser tests use to check offsets against the server.
window.workbench = {
  cpLength,
  selection: () => currentSelection(),
  pending: () => state.pending,
};

// Timings of the first render, visible in the browser's performance panel (and to benchmarks).
performance.mark("wb-init");
indexData();
renderFilters();
renderText();
performance.measure("wb-render-text-and-stripes", "wb-init");
renderCodebook();
renderMemos();
updateUndoButtons();
performance.measure("wb-first-render", "wb-init");
goToLinkedPassage();
// Stripes follow the text when its width changes (window resized, panel wrapped).
new ResizeObserver(() => {
  if ($("wb-text").clientWidth !== state.laidOutWidth) layoutStripes();
}).observe($("wb-text"));
setInterval(poll, POLL_MS);
document.addEventListener("visibilitychange", () => {
  if (!document.hidden) poll();
});
document.body.dataset.workbench = "ready";
