// Comment threads on the coding open in the coding view's editor panel. The editor names its
// coding in data-coding (workbench.js sets it); this module loads that coding's comments from
// the API and posts new comments, replies and resolve/reopen. Text goes in with textContent only.
const panel = document.getElementById("wb-comments");
const editor = document.getElementById("wb-editor");

function csrfToken() {
  const match = document.cookie.split("; ").find((part) => part.startsWith("csrftoken="));
  return match ? decodeURIComponent(match.slice("csrftoken=".length)) : "";
}

function el(tag, text, className) {
  const node = document.createElement(tag);
  if (text !== undefined) node.textContent = text;
  if (className) node.className = className;
  return node;
}

// ``version`` is the ETag of the comment as it was shown: a change sends it as If-Match, so a
// thread someone else resolved or reopened meanwhile is not flipped back (412).
async function call(method, url, body, version) {
  const headers = { Accept: "application/json", "Content-Type": "application/json", "X-CSRFToken": csrfToken() };
  if (version) headers["If-Match"] = version;
  const response = await fetch(url, {
    method,
    credentials: "same-origin",
    headers,
    body: body === undefined ? undefined : JSON.stringify(body),
  });
  if (response.status === 412) {
    throw new Error("Someone else changed this thread meanwhile, so your change was not saved. Here is theirs.");
  }
  const payload = response.status === 204 ? null : await response.json().catch(() => null);
  if (!response.ok) {
    const detail = payload && (payload.text || payload.detail || payload.parent);
    throw new Error(Array.isArray(detail) ? detail.join(" ") : detail || `The server answered ${response.status}.`);
  }
  return payload;
}

if (panel && editor) {
  const list = document.getElementById("wb-comment-list");
  const form = document.getElementById("wb-comment-form");
  const status = document.getElementById("wb-comment-status");
  const canWrite = panel.dataset.canWrite === "true";
  let coding = null;
  let replyTo = null;

  const urlFor = (id) => panel.dataset.urlTemplate.replace("/codings/0/", `/codings/${id}/`);

  function render(comments) {
    list.replaceChildren();
    const roots = comments.filter((c) => c.parent === null);
    if (!roots.length) list.appendChild(el("li", "No comments on this coding.", "wb-muted"));
    for (const root of roots) {
      const item = el("li", undefined, root.resolved ? "wb-thread resolved" : "wb-thread");
      const head = el("p");
      head.appendChild(el("strong", root.author_username));
      head.appendChild(document.createTextNode(`: ${root.text}`));
      if (root.resolved) head.appendChild(el("span", ` (resolved by ${root.resolved_by_username || "someone"})`, "wb-muted"));
      item.appendChild(head);
      for (const reply of comments.filter((c) => c.parent === root.id)) {
        const line = el("p", undefined, "wb-reply");
        line.appendChild(el("strong", reply.author_username));
        line.appendChild(document.createTextNode(`: ${reply.text}`));
        item.appendChild(line);
      }
      if (canWrite) {
        const replyButton = el("button", "Reply");
        replyButton.type = "button";
        replyButton.addEventListener("click", () => {
          replyTo = root.id;
          form.elements.text.focus();
          status.textContent = `Replying to ${root.author_username}.`;
        });
        const resolveButton = el("button", root.resolved ? "Reopen" : "Resolve");
        resolveButton.type = "button";
        resolveButton.addEventListener("click", async () => {
          try {
            await call("PATCH", `${urlFor(coding)}${root.id}/`, { resolved: !root.resolved }, root.etag);
            await load();
          } catch (err) {
            await load();
            status.textContent = err.message;
          }
        });
        item.append(replyButton, " ", resolveButton);
      }
      list.appendChild(item);
    }
  }

  async function load() {
    if (coding === null) return;
    try {
      render(await call("GET", urlFor(coding)));
    } catch (err) {
      list.replaceChildren(el("li", err.message, "wb-muted"));
    }
  }

  const follow = () => {
    const id = editor.hidden ? null : Number(editor.dataset.coding) || null;
    if (id !== coding) {
      coding = id;
      replyTo = null;
      status.textContent = "";
      load();
    }
  };
  new MutationObserver(follow).observe(editor, { attributes: true, attributeFilter: ["hidden", "data-coding"] });
  follow(); // the editor may already be open (a link to a coding)

  if (form) {
    form.hidden = !canWrite;
    form.addEventListener("submit", async (event) => {
      event.preventDefault();
      const text = form.elements.text.value;
      if (!text.trim() || coding === null) return;
      try {
        await call("POST", urlFor(coding), replyTo === null ? { text } : { text, parent: replyTo });
        form.elements.text.value = "";
        replyTo = null;
        status.textContent = "Comment added.";
        await load();
      } catch (err) {
        status.textContent = err.message;
      }
    });
  }
}
