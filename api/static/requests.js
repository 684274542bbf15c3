// The organiser's requests board: every request of the forum (all pages of GET .../requests) in
// one table, filtered in place; counts by status; the delegations to chase; a request's priority
// set inline (PATCH with the ETag the list gave, If-Match), or confirmed as it is (Confirm: the
// same PATCH at the value it has, which records the decision, `priority_decided_at`). One
// listener on the table's body serves every row's controls. The page asks every POLL_MS (and when it is shown again or takes the focus)
// whether the list changed: the first page with If-None-Match, 304 while nothing did (the
// organiser's list ETag moves with any request change, so one page answers for all). A changed
// list is merged into the table: only new and changed rows are drawn, no row is moved, and a row
// whose priority is being chosen or sent is left as it is until then.
"use strict";

(() => {
  const { el, api, ApiError, describe } = Sidelines;
  const $ = (id) => document.getElementById(id);
  const PRIORITIES = ["must", "high", "normal", "low"];
  const STATUS_LABEL = {
    pending: "waiting for an answer",
    accepted: "accepted",
    declined: "declined",
    withdrawn: "withdrawn",
    expired: "expired",
  };
  const state = {
    token: null,
    forumId: null,
    forum: null,
    delegations: new Map(), // id -> {id, name, country}
    requests: [], // as listed, in order of creation
    rowOf: new Map(), // request id -> its <tr>
    clock: null,
    tag: null, // the first page's ETag (If-None-Match): the list as this page holds it
    deferred: new Map(), // request id -> its newer copy, kept while its row's priority is being edited
    checking: false, // a read is under way: never two at once
    checkAgain: false,
  };
  const POLL_MS = 20000;
  const PAGE = 1000; // the largest page a list gives (api/paging.py)
  // The first draw puts this many rows in the table (more than a screenful), the rest in the next
  // frame: the first screen shows without waiting for 1,100 rows' style and layout. All the rest
  // at once, not in chunks: each chunk laid the table out again (bench/pages.py, docs/benchmarks.md).
  const FIRST_ROWS = 100;

  Sidelines.start("The requests", (token) => {
    state.token = token;
    return open();
  }, showMessage);

  // Text, or text and elements (a link): never HTML.
  function showMessage(...parts) {
    $("message").replaceChildren(...parts);
    $("message").hidden = !$("message").textContent;
  }

  function say(text) {
    $("said").textContent = text;
  }

  async function open() {
    const me = await api(state.token, "GET", "/me");
    if (me.kind !== "organiser") {
      // No token in the link: this one was given for this page; the agenda page asks for its own.
      const agenda = el("a", { href: "/agenda", text: "/agenda" });
      showMessage("This page needs the forum organiser's token. A delegation's token opens ", agenda, ".");
      return;
    }
    state.forumId = me.forum_id;
    $("grid-link").href = `/grid#${new URLSearchParams({ token: state.token })}`;
    $("filters").addEventListener("change", filter);
    $("filters").addEventListener("submit", (event) => event.preventDefault());
    $("refresh-button").addEventListener("click", () => check(true));
    $("requests-body").addEventListener("change", (event) => {
      const select = event.target.closest("select.priority");
      if (select) sendPriority(select, select.value, "set to");
    });
    $("requests-body").addEventListener("click", (event) => {
      const button = event.target.closest("button.confirm");
      if (button) sendPriority(button, state.requests.find((r) => r.id === button.dataset.request).priority, "confirmed at");
    });
    $("requests-body").addEventListener("focusout", (event) => {
      const control = event.target.closest("select.priority, button.confirm");
      // A microtask, not a timer: once this event is dispatched, the focus has left the control.
      if (control && !control.disabled) queueMicrotask(() => applyDeferred(control.dataset.request));
    });
    await read(false, true);
    $("app").hidden = false;
    watch();
  }

  function base() {
    return `/forums/${state.forumId}`;
  }

  // ---------------------------------------------------------------- reading

  // Reads the list (with If-None-Match unless `whole`), and the forum and its delegations when it
  // changed; merges what changed into the table and, when `again`, says what in the live region.
  async function read(again, whole) {
    const button = $("refresh-button");
    button.disabled = true;
    try {
      const list = await readList(whole ? null : state.tag);
      if (list === null) return; // 304: as the page shows it
      const [forum, delegations] = await Promise.all([
        api(state.token, "GET", base()),
        api(state.token, "GET", `${base()}/delegations`),
      ]);
      const before = state.requests;
      state.forum = forum;
      state.delegations = new Map(delegations.map((d) => [d.id, d]));
      state.tag = list.tag;
      $("forum-name").textContent = `${forum.name} · requests`;
      document.title = `${forum.name} · requests`;
      fillDelegations();
      merge(list.items);
      summarise();
      chase();
      showDeadline();
      if (again) say(changes(before, list.items));
    } catch (error) {
      if (!again) throw error;
      say(`The requests could not be read again: ${describe(error)}`);
    } finally {
      button.disabled = false;
    }
  }

  // Every request, page by page; null when the first page answers 304 to `tag`.
  async function readList(tag) {
    const items = [];
    let next = `${base()}/requests?limit=${PAGE}`;
    let first = null;
    while (next) {
      const headers = { Authorization: `Bearer ${state.token}`, Accept: "application/json" };
      if (tag && first === null) headers["If-None-Match"] = tag;
      // no-store: the 304 reaches this script, rather than the browser's cache answering for it.
      const answer = await fetch(next, { headers, cache: "no-store" });
      if (answer.status === 304) return null;
      const parsed = await answer.json().catch(() => null);
      if (!answer.ok) throw new ApiError(answer.status, parsed);
      if (first === null) first = answer.headers.get("ETag");
      items.push(...parsed);
      const found = /<([^>]*)>\s*;\s*rel="?next"?/.exec(answer.headers.get("Link") || "");
      next = found ? found[1] : null;
    }
    return { items, tag: first };
  }

  // ---------------------------------------------------------------- kept up to date

  function watch() {
    const next = () => setTimeout(async () => {
      await check(false);
      next();
    }, POLL_MS);
    next();
    document.addEventListener("visibilitychange", () => check(false));
    window.addEventListener("focus", () => check(false));
    window.addEventListener("online", () => check(false));
  }

  // One read at a time; one asked for meanwhile runs once this one is done. `whole`: the Refresh
  // button, which reads the list whatever its ETag.
  async function check(whole) {
    if (!whole && document.hidden) return;
    if (state.checking) {
      state.checkAgain = state.checkAgain || (whole ? "whole" : "poll");
      return;
    }
    state.checking = true;
    try {
      await read(true, whole);
    } finally {
      state.checking = false;
    }
    if (state.checkAgain) {
      const again = state.checkAgain === "whole";
      state.checkAgain = false;
      await check(again);
    }
  }

  function clock() {
    return new Intl.DateTimeFormat("en-GB", { hour: "2-digit", minute: "2-digit" }).format(new Date());
  }

  // What a read found, in a sentence.
  function changes(before, after) {
    const old = new Map(before.map((r) => [r.id, r]));
    let added = 0;
    let answered = 0;
    let withdrawn = 0;
    let moved = 0;
    let edited = 0;
    let regrouped = 0; // the organiser changed who meets: answers come and go with the parties
    for (const request of after) {
      const was = old.get(request.id);
      if (!was) added += 1;
      else if (request.status === "withdrawn" && was.status !== "withdrawn") withdrawn += 1;
      else if (who(was) !== who(request)) regrouped += 1;
      else if (answers(was) !== answers(request)) answered += 1;
      else if (was.status !== request.status) moved += 1;
      else if (was.etag !== request.etag) edited += 1;
    }
    const gone = before.length + added - after.length;
    const parts = [];
    if (added) parts.push(`${added} new`);
    if (answered) parts.push(`${answered} answered`);
    if (withdrawn) parts.push(`${withdrawn} withdrawn`);
    if (regrouped) parts.push(`${regrouped} with ${regrouped === 1 ? "its" : "their"} parties changed`);
    if (moved) parts.push(`${moved} with a new status`);
    if (edited) parts.push(`${edited} edited`);
    if (gone > 0) parts.push(`${gone} removed`);
    return parts.length ? `Updated at ${clock()}: ${parts.join(", ")}.` : `Read again at ${clock()}: nothing has changed.`;
  }

  function who(request) {
    return request.parties.map((p) => p.delegation).join(" ");
  }

  function answers(request) {
    return request.parties.map((p) => `${p.delegation}:${p.status}`).join(" ");
  }

  // ---------------------------------------------------------------- the table

  // The table made to show `requests`: a row is drawn anew only when its request changed, new
  // ones are put in their place, none is moved (a moved row would lose the focus in it), and a
  // row whose priority is being chosen or sent keeps its request as it was until then.
  function merge(requests) {
    const old = new Map(state.requests.map((r) => [r.id, r]));
    const rows = new Map();
    const merged = [];
    for (const request of requests) {
      const was = old.get(request.id);
      let row = state.rowOf.get(request.id);
      if (row && was && busy(row)) {
        if (JSON.stringify(was) !== JSON.stringify(request)) state.deferred.set(request.id, request);
        merged.push(was);
        rows.set(request.id, row);
        continue;
      }
      state.deferred.delete(request.id);
      if (!row) {
        row = rowFor(request);
      } else if (JSON.stringify(was) !== JSON.stringify(request) || !was) {
        const fresh = rowFor(request);
        row.replaceWith(fresh);
        row = fresh;
      }
      merged.push(request);
      rows.set(request.id, row);
    }
    for (const [id, row] of state.rowOf) if (!rows.has(id)) row.remove();
    const first = state.rowOf.size === 0;
    state.rowOf = rows;
    state.requests = merged;
    filter();
    // The first draw connects the first rows now and the rest once they are drawn (a task after
    // the frame: in a frame callback they would be laid out in that same frame); a later merge
    // connects every row at once (and so finishes a first draw still under way).
    if (connect(first ? FIRST_ROWS : Infinity)) requestAnimationFrame(() => setTimeout(() => connect(Infinity), 0));
  }

  // Puts up to `count` rows not yet in the table in their places; true when some are still out
  // (the table is then aria-busy: a screen reader is told it is not whole yet).
  function connect(count) {
    const body = $("requests-body");
    let previous = null;
    let put = 0;
    for (const request of state.requests) {
      const row = state.rowOf.get(request.id);
      if (!row.isConnected) {
        if (put === count) {
          $("requests-table").setAttribute("aria-busy", "true");
          return true;
        }
        body.insertBefore(row, previous ? previous.nextSibling : body.firstChild);
        put += 1;
      }
      previous = row;
    }
    $("requests-table").removeAttribute("aria-busy");
    return false;
  }

  function busy(row) {
    const sending = row.querySelector("select.priority:disabled, button.confirm:disabled");
    return Boolean(sending) || row.contains(document.activeElement);
  }

  // A row left as it was while its priority was edited shows its request as read since.
  function applyDeferred(id) {
    const newer = state.deferred.get(id);
    const row = state.rowOf.get(id);
    if (!newer || !row || busy(row)) return;
    state.deferred.delete(id);
    const index = state.requests.findIndex((r) => r.id === id);
    if (index >= 0) replace(index, newer);
    summarise();
    chase();
  }

  function delegationName(id) {
    const delegation = state.delegations.get(id);
    return delegation ? `${delegation.name} (${delegation.country})` : id;
  }

  // A delegation's open request whose priority the organiser has not decided: not set, nor
  // confirmed at the value asked (a must held at high included).
  function needsPriority(request) {
    if (request.created_by !== "delegation") return false;
    if (!["pending", "accepted"].includes(request.status)) return false;
    return !request.priority_decided_at;
  }

  function rowFor(request) {
    const parties = el(
      "ul",
      { class: "parties" },
      request.parties.map((party) =>
        el(
          "li",
          { class: `answer ${party.status}` },
          `${delegationName(party.delegation)}: `,
          el("strong", { text: party.role === "requester" ? "asked" : party.status }),
        ),
      ),
    );
    const title = request.title || "(no title)";
    const select = el(
      "select",
      {
        class: "priority",
        "aria-label": `Priority of ${title}`,
        "aria-describedby": `note-${request.id}`,
        dataset: { request: request.id },
      },
      PRIORITIES.map((p) => el("option", { value: p, selected: p === request.priority, text: p })),
    );
    const asked =
      request.requested_priority !== request.priority
        ? el("span", { class: "asked", text: `asked ${request.requested_priority}` })
        : null;
    // Keeps the priority as it is, decided: a second stop for the keyboard, on undecided rows only.
    const confirm = needsPriority(request)
      ? el("button", {
          type: "button",
          class: "confirm secondary",
          text: "Confirm",
          "aria-label": `Confirm ${request.priority} for ${title}`,
          "aria-describedby": `note-${request.id}`,
          dataset: { request: request.id },
        })
      : null;
    const row = el(
      "tr",
      { dataset: { request: request.id, status: request.status } },
      el("th", { scope: "row" }, el("span", { class: "title", text: title }), el("span", { class: "id", text: request.id })),
      el("td", {}, parties),
      el("td", { class: "number", text: request.duration_minutes }),
      el("td", { class: "priority-cell" }, select, confirm, asked, el("span", { class: "note", id: `note-${request.id}` })),
      el("td", { class: `status ${request.status}`, text: STATUS_LABEL[request.status] || request.status }),
      el("td", { class: "when", text: moment(request.created_at) }),
      el("td", { class: "when updated", text: moment(request.updated_at) }),
    );
    row.classList.toggle("needs-priority", needsPriority(request));
    return row;
  }

  // One formatter a time zone: making one is dearer than formatting (two a row, 1,100 rows at UNGA).
  const formats = new Map();

  function moment(iso) {
    const zone = state.forum.time_zone;
    let format = formats.get(zone);
    if (!format) {
      const fields = { day: "numeric", month: "short", hour: "2-digit", minute: "2-digit" };
      format = new Intl.DateTimeFormat("en-GB", { ...fields, timeZone: zone });
      formats.set(zone, format);
    }
    return format.format(new Date(iso));
  }

  function filter() {
    const status = $("status-filter").value;
    const delegation = $("delegation-filter").value;
    const needs = $("priority-filter").checked;
    let shown = 0;
    for (const request of state.requests) {
      const row = state.rowOf.get(request.id);
      const visible =
        (!status || request.status === status) &&
        (!delegation || request.parties.some((p) => p.delegation === delegation)) &&
        (!needs || needsPriority(request));
      row.hidden = !visible;
      if (visible) shown += 1;
    }
    $("shown-count").textContent = `Showing ${shown} of ${state.requests.length} requests.`;
  }

  function fillDelegations() {
    const select = $("delegation-filter");
    const chosen = select.value;
    const sorted = [...state.delegations.values()].sort((a, b) => a.name.localeCompare(b.name));
    select.replaceChildren(
      el("option", { value: "", text: "Any" }),
      ...sorted.map((d) => el("option", { value: d.id, selected: d.id === chosen, text: `${d.name} (${d.country})` })),
    );
  }

  // ---------------------------------------------------------------- counts, chase list, deadline

  function summarise() {
    const counts = {};
    for (const request of state.requests) counts[request.status] = (counts[request.status] || 0) + 1;
    const needing = state.requests.filter(needsPriority).length;
    $("counts").replaceChildren(
      el("li", {}, el("strong", { text: state.requests.length }), " requests"),
      ...Object.keys(STATUS_LABEL).map((status) =>
        el("li", { class: status, dataset: { status } }, el("strong", { text: counts[status] || 0 }), ` ${STATUS_LABEL[status]}`),
      ),
      el("li", { dataset: { status: "needs-priority" } }, el("strong", { text: needing }), " need a priority"),
    );
  }

  function chase() {
    const owed = new Map(); // delegation -> {count, oldest}
    const asked = new Set();
    const answered = new Set(); // has answered a delegation's request (the organiser's start agreed)
    for (const request of state.requests) {
      if (request.requester) asked.add(request.requester);
      for (const party of request.parties) {
        if (request.requester && party.role === "invitee" && party.status !== "pending") answered.add(party.delegation);
      }
      if (request.status !== "pending") continue;
      for (const party of request.parties) {
        if (party.role === "requester" || party.status !== "pending") continue;
        const entry = owed.get(party.delegation) || { count: 0, oldest: request.created_at };
        entry.count += 1;
        // by instant: the times carry the forum's offset, which moves with summer time
        if (new Date(request.created_at) < new Date(entry.oldest)) entry.oldest = request.created_at;
        owed.set(party.delegation, entry);
      }
    }
    const waiting = [...owed.entries()].sort((a, b) => new Date(a[1].oldest) - new Date(b[1].oldest));
    $("chase-waiting").replaceChildren(
      ...(waiting.length
        ? waiting.map(([id, entry]) =>
            el(
              "li",
              { dataset: { delegation: id } },
              el("strong", { text: delegationName(id) }),
              `: ${entry.count} request${entry.count === 1 ? "" : "s"} waiting, the oldest since ${moment(entry.oldest)}`,
              answered.has(id) ? "" : "; has answered none yet",
            ),
          )
        : [el("li", { text: "None: no request waits for an answer." })]),
    );
    const silent = [...state.delegations.values()]
      .filter((d) => !asked.has(d.id))
      .sort((a, b) => a.name.localeCompare(b.name));
    $("chase-silent").replaceChildren(
      ...(silent.length
        ? silent.map((d) => el("li", { dataset: { delegation: d.id }, text: delegationName(d.id) }))
        : [el("li", { text: "None: every delegation has asked for a meeting." })]),
    );
  }

  function showDeadline() {
    clearInterval(state.clock);
    const deadline = state.forum.request_deadline;
    if (!deadline) {
      $("deadline").textContent = "No request deadline is set.";
      return;
    }
    const { date, time } = Sidelines.wall(deadline);
    const tell = () => {
      const left = Date.parse(deadline) - Date.now();
      const at = `Request deadline ${Sidelines.dayName(date)}, ${time} (${state.forum.time_zone})`;
      $("deadline").textContent = left > 0 ? `${at}: ${duration(left)} left.` : `${at}: passed; pending requests have expired.`;
    };
    tell();
    state.clock = setInterval(tell, 60000);
  }

  function duration(ms) {
    const minutes = Math.floor(ms / 60000);
    const days = Math.floor(minutes / 1440);
    const hours = Math.floor((minutes % 1440) / 60);
    if (days) return `${days} day${days === 1 ? "" : "s"} ${hours} h`;
    return `${hours} h ${minutes % 60} min`;
  }

  // ---------------------------------------------------------------- setting a priority

  // PATCH the request's priority to `value` from `control` (its select, or its Confirm button:
  // the value it has), with the ETag the page holds. `done` says what happened ("set to",
  // "confirmed at"). A 412 shows the row as it is now; any other refusal in the API's words.
  async function sendPriority(control, value, done) {
    const id = control.dataset.request;
    const index = state.requests.findIndex((r) => r.id === id);
    const request = state.requests[index];
    const title = request.title || id;
    const confirming = control.matches("button.confirm");
    control.disabled = true;
    try {
      const { answer, parsed } = await send("PATCH", `${base()}/requests/${encodeURIComponent(id)}`, request.etag, {
        priority: value,
      });
      state.deferred.delete(id); // the answer is newer than what a read found meanwhile
      replace(index, { ...parsed, etag: answer.headers.get("ETag") });
      say(`${title}: priority ${done} ${parsed.priority}.`);
      summarise();
    } catch (error) {
      const select = state.rowOf.get(id).querySelector("select.priority");
      const again = confirming ? "Confirm its priority again" : "Set its priority again";
      if (error instanceof ApiError && error.status === 412) {
        let text = `${title} changed since this page read it (412, If-Match stale): it is shown as it is now. ${again} if it is still wanted.`;
        try {
          await reload(index);
        } catch (failed) {
          select.value = request.priority;
          text = `${title} changed since this page read it (412, If-Match stale), and could not be read again: ${problemText(failed)}. Refresh the page.`;
        }
        note(id, text);
        say(text);
      } else {
        select.value = request.priority;
        const text = `The priority of ${title} was not ${confirming ? "confirmed" : "set"}: ${problemText(error)}`;
        note(id, text);
        say(text);
      }
    } finally {
      const row = state.rowOf.get(id);
      // The same control when the row still has it (a refused confirm keeps its button), else the
      // select: a confirmed row has no Confirm any more, and the focus must not fall to the page.
      const current = (confirming && row.querySelector("button.confirm")) || row.querySelector("select.priority");
      current.disabled = false;
      const lost = document.activeElement === document.body || document.activeElement === control;
      if (lost) (row.hidden ? nextControl(id) : current).focus();
    }
  }

  // A row the filter now hides (confirmed under "Needs a priority") hands the focus on to the next
  // shown row's first control, Confirm first: the organiser works down the list; else the title.
  function nextControl(id) {
    const index = state.requests.findIndex((r) => r.id === id);
    for (const request of state.requests.slice(index + 1)) {
      const row = state.rowOf.get(request.id);
      if (!row.hidden && row.isConnected) return row.querySelector("button.confirm") || row.querySelector("select.priority");
    }
    return $("table-title");
  }

  // A PATCH with If-Match; the answer and its JSON, or an ApiError.
  async function send(method, path, tag, body) {
    const answer = await fetch(path, {
      method,
      headers: {
        Authorization: `Bearer ${state.token}`,
        Accept: "application/json",
        "Content-Type": "application/json",
        "If-Match": tag,
      },
      body: JSON.stringify(body),
    });
    const parsed = await answer.json().catch(() => null);
    if (!answer.ok) throw new ApiError(answer.status, parsed);
    return { answer, parsed };
  }

  // An error as the API names it: each field and what is wrong with it, else the detail.
  function problemText(error) {
    if (!(error instanceof ApiError)) return describe(error);
    // A 404's error names the URL's part (path:...), which the detail already says in words.
    const fields = (error.problem.errors || []).filter((e) => !e.field.startsWith("path:")).map((e) => `${e.field}: ${e.message}`);
    return `${error.message} (${error.status}${fields.length ? `; ${fields.join("; ")}` : ""})`;
  }

  async function reload(index) {
    const id = state.requests[index].id;
    const answer = await fetch(`${base()}/requests/${encodeURIComponent(id)}`, {
      headers: { Authorization: `Bearer ${state.token}`, Accept: "application/json" },
    });
    const parsed = await answer.json();
    if (!answer.ok) throw new ApiError(answer.status, parsed);
    state.deferred.delete(id);
    replace(index, { ...parsed, etag: answer.headers.get("ETag") });
    summarise();
    chase();
  }

  function replace(index, request) {
    state.requests[index] = request;
    const row = rowFor(request);
    state.rowOf.get(request.id).replaceWith(row);
    state.rowOf.set(request.id, row);
    filter();
  }

  function note(id, text) {
    state.rowOf.get(id).querySelector(".note").textContent = text;
  }
})();
