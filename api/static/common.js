// Shared by the grid and agenda pages: the token, JSON API calls, an SSE reader, formatting.
// The token comes from the URL fragment (#token=..., never sent to the server) or the token
// form, and is kept in this tab's sessionStorage only.
"use strict";

const Sidelines = (() => {
  function storageKey() {
    return "sidelines.token" + location.pathname;
  }

  function takeToken() {
    const fragment = new URLSearchParams(location.hash.slice(1));
    const fromUrl = fragment.get("token");
    if (fromUrl) {
      sessionStorage.setItem(storageKey(), fromUrl);
      // Drop the token from the address bar and the history; the rest of the fragment stays
      // (the agenda page's #delegation=..., a page state that may be shared without the token).
      fragment.delete("token");
      const rest = fragment.toString();
      history.replaceState(null, "", location.pathname + location.search + (rest ? `#${rest}` : ""));
    }
    return sessionStorage.getItem(storageKey());
  }

  function forgetToken() {
    sessionStorage.removeItem(storageKey());
  }

  // Shows the token form (inside `form`) until a token is entered; resolves with the token.
  function askToken(form) {
    return new Promise((resolve) => {
      const input = form.querySelector("input");
      const submit = (event) => {
        event.preventDefault();
        const value = input.value.trim();
        if (!value) return;
        sessionStorage.setItem(storageKey(), value);
        form.removeEventListener("submit", submit);
        form.hidden = true;
        resolve(value);
      };
      form.addEventListener("submit", submit);
      form.hidden = false;
      input.value = "";
      input.focus();
    });
  }

  // Once the page has loaded: the token (fragment, storage or form), then `open(token)`; a
  // failure is shown with `showMessage`. A token the server refuses (replaced by a new one, or
  // its delegation or forum removed: the server cannot tell which) is forgotten, `refused` says
  // what to do, and the form asks for another.
  function start(what, open, showMessage, refused) {
    document.addEventListener("DOMContentLoaded", async () => {
      const form = document.getElementById("token-form");
      let token = takeToken() || (await askToken(form));
      for (;;) {
        try {
          await open(token);
          return;
        } catch (error) {
          if (error.status !== 401) {
            showMessage(`${what} could not be opened: ${describe(error)}`);
            return;
          }
          forgetToken();
          showMessage(refused || "This token is not accepted (it may have been replaced by a new one): enter the current one.");
          token = await askToken(form);
          showMessage("");
        }
      }
    });
  }

  // What went wrong, for a reader: a problem's detail, or that the server was not reached.
  function describe(error) {
    if (error instanceof ApiError) return error.message;
    return "the server could not be reached. Check the connection, then reload the page.";
  }

  class ApiError extends Error {
    constructor(status, problem) {
      super((problem && (problem.detail || problem.title)) || `HTTP ${status}`);
      this.status = status;
      this.problem = problem || {};
    }
  }

  // The answer and its parsed JSON body; a problem detail is thrown as an ApiError. `extra`:
  // more headers (an Idempotency-Key).
  async function send(token, method, path, body, extra) {
    const headers = { Authorization: `Bearer ${token}`, Accept: "application/json", ...(extra || {}) };
    const init = { method, headers };
    if (body !== undefined) {
      headers["Content-Type"] = "application/json";
      init.body = JSON.stringify(body);
    }
    const answer = await fetch(path, init);
    const text = await answer.text();
    let parsed = null;
    try {
      parsed = text ? JSON.parse(text) : null;
    } catch (_) {
      parsed = null;
    }
    if (!answer.ok) throw new ApiError(answer.status, parsed);
    return { answer, parsed };
  }

  async function api(token, method, path, body, extra) {
    return (await send(token, method, path, body, extra)).parsed;
  }

  const PAGE = 1000; // the largest page a list gives (api/paging.py)

  // Every item of a paged list: a list answers a page at a time (100 items unless asked for
  // more) and names the next page in `Link: <...>; rel="next"` until the last. The pages are
  // of PAGE items unless `path` asks for another size.
  async function every(token, path) {
    const items = [];
    let next = /[?&]limit=/.test(path) ? path : `${path}${path.includes("?") ? "&" : "?"}limit=${PAGE}`;
    while (next) {
      const { answer, parsed } = await send(token, "GET", next);
      items.push(...parsed);
      next = nextPage(answer.headers.get("Link"));
    }
    return items;
  }

  function nextPage(link) {
    const found = /<([^>]*)>\s*;\s*rel="?next"?/.exec(link || "");
    return found ? found[1] : null;
  }

  // Server-Sent Events over fetch, since EventSource cannot send an Authorization header.
  async function events(token, path, onEvent) {
    const answer = await fetch(path, {
      headers: { Authorization: `Bearer ${token}`, Accept: "text/event-stream" },
    });
    if (!answer.ok) throw new ApiError(answer.status, await answer.json().catch(() => null));
    const reader = answer.body.pipeThrough(new TextDecoderStream()).getReader();
    let buffer = "";
    for (;;) {
      const { value, done } = await reader.read();
      if (done) return;
      buffer += value.replace(/\r\n?/g, "\n");
      let end;
      while ((end = buffer.indexOf("\n\n")) >= 0) {
        const block = buffer.slice(0, end);
        buffer = buffer.slice(end + 2);
        let name = "message";
        const data = [];
        for (const line of block.split("\n")) {
          if (line.startsWith("event:")) name = line.slice(6).trim();
          else if (line.startsWith("data:")) data.push(line.slice(5).replace(/^ /, ""));
        }
        if (data.length) onEvent(name, JSON.parse(data.join("\n")));
      }
    }
  }

  // Element builder: el("li", {class: "x", text: "..."}, child, ...)
  function el(tag, attributes, ...children) {
    const node = document.createElement(tag);
    for (const [key, value] of Object.entries(attributes || {})) {
      if (value === undefined || value === null || value === false) continue;
      if (key === "text") node.textContent = value;
      else if (key === "class") node.className = value;
      else if (key.startsWith("on")) node.addEventListener(key.slice(2), value);
      else if (key === "dataset") Object.assign(node.dataset, value);
      else node.setAttribute(key, value === true ? "" : value);
    }
    for (const child of children.flat()) {
      if (child === null || child === undefined || child === false) continue;
      node.append(child instanceof Node ? child : document.createTextNode(String(child)));
    }
    return node;
  }

  // Wall-clock parts of an ISO datetime with an offset, as the forum's clocks read
  // (the API answers in the forum's time zone): never converted to the viewer's zone.
  function wall(iso) {
    const match = /^(\d{4})-(\d{2})-(\d{2})T(\d{2}):(\d{2})/.exec(iso);
    return {
      date: `${match[1]}-${match[2]}-${match[3]}`,
      time: `${match[4]}:${match[5]}`,
      minutes: Number(match[4]) * 60 + Number(match[5]),
    };
  }

  const DAY_FORMAT = new Intl.DateTimeFormat("en-GB", {
    weekday: "long",
    day: "numeric",
    month: "long",
    year: "numeric",
    timeZone: "UTC",
  });

  function dayName(date) {
    return DAY_FORMAT.format(new Date(`${date}T00:00:00Z`));
  }

  function kindOf(count) {
    return { 2: "bilateral", 3: "trilateral", 4: "quadrilateral" }[count] || `${count}-party`;
  }

  return { takeToken, forgetToken, askToken, start, describe, api, every, events, el, wall, dayName, kindOf, ApiError };
})();
