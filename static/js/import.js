// Import pages: upload with a progress bar, and the redaction review.
// Offsets from the server are code points; the DOM works in UTF-16: offsets.js converts.
import { TextIndex } from "./offsets.js";

function csrf() {
  const field = document.querySelector("[name=csrfmiddlewaretoken]");
  return field ? field.value : "";
}

async function api(url, { method = "GET", json, body } = {}) {
  const headers = { "X-CSRFToken": csrf(), Accept: "application/json" };
  if (json !== undefined) headers["Content-Type"] = "application/json";
  const response = await fetch(url, {
    method,
    credentials: "same-origin",
    headers,
    body: json !== undefined ? JSON.stringify(json) : body,
  });
  let data = null;
  try {
    data = await response.json();
  } catch {
    data = null;
  }
  return { ok: response.ok, status: response.status, data };
}

function messageOf(data, fallback) {
  if (!data) return fallback;
  if (typeof data === "string") return data;
  if (data.detail) return String(data.detail);
  return Object.entries(data)
    .map(([field, value]) => `${field}: ${[].concat(value).join(" ")}`)
    .join(" ");
}

function el(tag, props = {}, children = []) {
  const node = document.createElement(tag);
  for (const [key, value] of Object.entries(props)) {
    if (key === "text") node.textContent = value;
    else if (key === "className") node.className = value;
    else node.setAttribute(key, value);
  }
  for (const child of children) node.append(child);
  return node;
}

// ---------------------------------------------------------------- upload page

function uploadPage(data) {
  const form = document.getElementById("import-form");
  const input = document.getElementById("import-files");
  const mapping = document.getElementById("import-mapping");
  const error = document.getElementById("import-error");
  const known = data.pseudonyms.map((p) => [p.toLowerCase(), p]);

  input.addEventListener("change", () => {
    const body = mapping.querySelector("tbody");
    body.replaceChildren();
    for (const file of input.files) {
      const lower = file.name.toLowerCase();
      const guess = known.find(([key]) => lower.includes(key));
      const field = el("input", { maxlength: "40", "data-file": file.name, "aria-label": `Pseudonym for ${file.name}` });
      field.value = guess ? guess[1] : "";
      body.append(el("tr", {}, [el("td", { text: file.name }), el("td", {}, [field])]));
    }
    mapping.hidden = input.files.length === 0;
  });

  form.addEventListener("submit", async (event) => {
    event.preventDefault();
    error.textContent = "";
    if (!input.files.length) {
      error.textContent = "Choose at least one file.";
      return;
    }
    const body = new FormData();
    for (const file of input.files) body.append("files", file);
    const participants = {};
    for (const field of mapping.querySelectorAll("input[data-file]")) {
      if (field.value.trim()) participants[field.dataset.file] = field.value.trim();
    }
    body.append("participants", JSON.stringify(participants));
    document.getElementById("import-start").disabled = true;
    const answer = await api(data.uploadUrl, { method: "POST", body });
    document.getElementById("import-start").disabled = false;
    if (!answer.ok) {
      error.textContent = messageOf(answer.data, `The upload failed (${answer.status}).`);
      return;
    }
    poll(`${data.uploadUrl}${answer.data.id}/`, data);
  });
}

function showBatch(batch, data) {
  document.getElementById("import-progress-section").hidden = false;
  const bar = document.getElementById("import-progress");
  bar.value = batch.progress;
  bar.textContent = `${Math.round(batch.progress * 100)}%`;
  document.getElementById("import-progress-label").textContent =
    `${batch.processed_count} of ${batch.file_count} files read`;
  const rows = batch.files.map((file) => {
    const details = el("td");
    if (file.status === "ready") {
      const href = data.reviewUrl.replace("/0/", `/${file.id}/`);
      details.append(el("a", { href, text: "Review redactions" }));
      const extra = ` ${file.turn_count} turns, ${file.finding_count} proposed, ${file.flagged_count} flagged`;
      details.append(document.createTextNode(extra + (file.duplicate_of ? "; the same text is already imported" : "")));
    } else {
      details.textContent = file.reason;
    }
    return el("tr", { "data-file-id": String(file.id) }, [
      el("td", { text: file.name }),
      el("td", { text: file.status_label, className: `status-${file.status}` }),
      details,
    ]);
  });
  document.querySelector("#import-results tbody").replaceChildren(...rows);
}

async function poll(url, data) {
  for (;;) {
    const answer = await api(url);
    if (!answer.ok) {
      document.getElementById("import-error").textContent = messageOf(answer.data, "Lost track of the import.");
      return;
    }
    showBatch(answer.data, data);
    if (answer.data.status === "done") return;
    await new Promise((resolve) => setTimeout(resolve, 700));
  }
}

// ---------------------------------------------------------------- review page

function csvCell(value) {
  let text = String(value);
  if (/^[=+\-@\t\r]/.test(text)) text = `'${text}`; // never a formula in a spreadsheet
  return `"${text.replaceAll('"', '""')}"`;
}

function reviewPage(data) {
  const error = document.getElementById("review-error");
  const state = { text: "", index: null, findings: [], roles: {}, file: null };

  function render() {
    const container = document.getElementById("review-text");
    const ordered = state.findings.map((f, i) => ({ ...f, i })).sort((a, b) => a.start - b.start);
    const parts = [];
    let cursor = 0;
    for (const f of ordered) {
      if (f.start > cursor) parts.push(document.createTextNode(state.index.slice(cursor, f.start)));
      const mark = el("mark", { "data-i": String(f.i), title: `${f.category}${f.placeholder ? " → " + f.placeholder : ""}` });
      mark.className = [f.on ? "" : "off", f.source === "name" ? "flagged" : ""].join(" ").trim();
      mark.textContent = state.index.slice(f.start, f.end);
      parts.push(mark);
      cursor = f.end;
    }
    parts.push(document.createTextNode(state.index.slice(cursor, state.index.length)));
    container.replaceChildren(...parts);

    const rows = ordered.map((f) => {
      const box = el("input", { type: "checkbox", "aria-label": `Apply redaction ${f.i + 1}` });
      box.checked = f.on;
      box.addEventListener("change", () => {
        state.findings[f.i].on = box.checked;
        render();
      });
      const before = state.index.slice(Math.max(0, f.start - 30), f.start);
      const after = state.index.slice(f.end, Math.min(state.index.length, f.end + 30));
      const context = el("td", { className: "context" }, [
        document.createTextNode(`…${before}`),
        el("strong", { text: state.index.slice(f.start, f.end) }),
        document.createTextNode(`${after}…`),
      ]);
      const kind = f.source === "name" ? "possible name (flagged)" : f.category.toLowerCase();
      const row = el("tr", {}, [el("td", {}, [box]), el("td", { text: kind }), context]);
      row.addEventListener("click", (event) => {
        if (event.target === box) return;
        const mark = container.querySelector(`mark[data-i="${f.i}"]`);
        if (mark) {
          container.querySelectorAll("mark.current").forEach((m) => m.classList.remove("current"));
          mark.classList.add("current");
          mark.scrollIntoView({ block: "center" });
        }
      });
      return row;
    });
    document.querySelector("#review-findings tbody").replaceChildren(...rows);
  }

  function addSelection() {
    error.textContent = "";
    const container = document.getElementById("review-text");
    const selection = window.getSelection();
    if (!selection.rangeCount || selection.isCollapsed) {
      error.textContent = "Select the words to redact in the transcript first.";
      return;
    }
    const range = selection.getRangeAt(0);
    if (!container.contains(range.startContainer) || !container.contains(range.endContainer)) {
      error.textContent = "Select text inside the transcript.";
      return;
    }
    const lead = document.createRange();
    lead.setStart(container, 0);
    lead.setEnd(range.startContainer, range.startOffset);
    const startU = lead.toString().length;
    const endU = startU + range.toString().length;
    const start = state.index.toCp(startU);
    const end = state.index.toCp(endU, true);
    if (end <= start) return;
    if (state.findings.some((f) => f.start < end && start < f.end)) {
      error.textContent = "That overlaps a proposed redaction: tick or untick the existing one instead.";
      return;
    }
    state.findings.push({ start, end, category: "NAME", source: "manual", accepted: true, placeholder: "", on: true });
    selection.removeAllRanges();
    render();
  }

  function fillForm() {
    const roleRows = Object.entries(state.roles).map(([label, role]) => {
      const select = el("select", { "data-label": label, "aria-label": `Role of ${label}` });
      for (const [value, name] of data.roles) {
        const option = el("option", { value, text: name });
        if (value === role) option.selected = true;
        select.append(option);
      }
      return el("tr", {}, [el("td", { text: label, dir: "auto" }), el("td", {}, [select])]);
    });
    document.querySelector("#review-roles tbody").replaceChildren(...roleRows);
    const participant = document.getElementById("review-participant");
    for (const p of data.participants) {
      const option = el("option", { value: String(p.id), text: p.pseudonym });
      if (data.hint && p.pseudonym.toLowerCase() === data.hint.toLowerCase()) option.selected = true;
      participant.append(option);
    }
    const newField = document.getElementById("review-new-field");
    const sync = () => {
      newField.hidden = participant.value !== "";
    };
    participant.addEventListener("change", sync);
    if (participant.value === "") document.getElementById("review-pseudonym").value = data.hint || "";
    sync();
    document.getElementById("review-title").value = (state.file.name || "").replace(/\.[^.]+$/, "");
    if (state.file.duplicate_of) {
      const notice = document.getElementById("review-duplicate");
      notice.textContent = `The same text is already in the project (interview ${state.file.duplicate_of}).`;
      notice.hidden = false;
      document.getElementById("review-dup-field").hidden = false;
    }
  }

  async function confirm(event) {
    event.preventDefault();
    error.textContent = "";
    const participant = document.getElementById("review-participant").value;
    const roles = {};
    for (const select of document.querySelectorAll("#review-roles select")) roles[select.dataset.label] = select.value;
    const body = {
      title: document.getElementById("review-title").value.trim(),
      redactions: state.findings
        .filter((f) => f.on)
        .map((f) => ({ start: f.start, end: f.end, category: f.category, placeholder: f.placeholder || "" })),
      roles,
      allow_duplicate: document.getElementById("review-allow-dup").checked,
    };
    if (participant) body.participant = Number(participant);
    else body.new_pseudonym = document.getElementById("review-pseudonym").value.trim();
    document.getElementById("review-confirm").disabled = true;
    const answer = await api(`${data.fileUrl}confirm/`, { method: "POST", json: body });
    document.getElementById("review-confirm").disabled = false;
    if (!answer.ok) {
      error.textContent = messageOf(answer.data, `Saving failed (${answer.status}).`);
      return;
    }
    // The key is offered once, from this page's memory; the server keeps no copy.
    const lines = ["original,placeholder,category"].concat(
      answer.data.key.map((row) => [row.original, row.placeholder, row.category].map(csvCell).join(",")),
    );
    const url = URL.createObjectURL(new Blob([lines.join("\r\n") + "\r\n"], { type: "text/csv" }));
    const link = document.getElementById("review-download");
    link.href = url;
    document.getElementById("review-body").remove();
    state.text = "";
    state.index = null;
    document.getElementById("review-code-link").href = data.codingUrl.replace("/0/", `/${answer.data.interview}/`);
    document.getElementById("review-done").hidden = false;
    link.click();
  }

  async function discard() {
    const answer = await api(`${data.fileUrl}discard/`, { method: "POST", json: {} });
    if (answer.ok) window.location.assign("../../");
    else error.textContent = messageOf(answer.data, "Discarding failed.");
  }

  (async () => {
    const answer = await api(data.fileUrl);
    if (!answer.ok) {
      error.textContent = messageOf(answer.data, `This file cannot be reviewed (${answer.status}).`);
      return;
    }
    state.file = answer.data.file;
    state.text = answer.data.text;
    state.index = new TextIndex(state.text);
    state.roles = answer.data.roles;
    state.findings = answer.data.findings.map((f) => ({ ...f, on: f.accepted }));
    document.getElementById("review-body").hidden = false;
    render();
    fillForm();
    document.getElementById("review-add").addEventListener("click", addSelection);
    document.getElementById("review-form").addEventListener("submit", confirm);
    document.getElementById("review-discard").addEventListener("click", discard);
  })();
}

const uploadData = document.getElementById("import-data");
const reviewData = document.getElementById("review-data");
if (uploadData) uploadPage(JSON.parse(uploadData.textContent));
if (reviewData) reviewPage(JSON.parse(reviewData.textContent));
