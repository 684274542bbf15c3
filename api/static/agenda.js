// A delegation's agenda on a phone: its own meetings day by day, its calendar feed, the requests
// waiting for its answer and those it sent. Kept up to date while it stays open.
// Opened with the organiser's token it is a preview: the organiser picks a delegation (kept in the
// address as #delegation=ID, never with the token) and sees that delegation's page as it sees it
// (the published agenda and its requests, polled alike), read-only and under a banner saying so.
"use strict";

(() => {
  const { api, el, wall, dayName, kindOf, describe, forgetToken, ApiError } = Sidelines;
  const $ = (id) => document.getElementById(id);
  const state = {
    token: null,
    forumId: null,
    delegationId: null,
    agenda: null, // the detailed agenda shown, or null before anything is published
    agendaTag: null, // its ETag: the next read asks If-None-Match, and an unchanged agenda answers 304
    inbox: null, // the requests waiting for an answer and those sent, with the forum's name and zone
    inboxTag: null,
    peopleTag: null, // the participants list's: they change far less often than the page asks
    people: [], // the delegation's participants, read again at each check (a colleague or the organiser edits them)
    peopleSeen: null, // their JSON as last shown: redrawn only when it moves
    travel: new Map(), // participant id -> {form, loaded}: the arrival and departure form, and the times it was filled from
    marks: new Map(), // meeting id -> what the last update did to it ("Moved at 14:32"), shown on its card
    inboxMarks: new Map(), // request id -> the same, for requests
    // Requests answered from this page: never shown as waiting again, even by a read sent before the
    // answer was stored and answered after it (an answer cannot be taken back to pending).
    answered: new Set(),
    cards: new Map(), // request id -> {node, shown}: a waiting request's card, kept while it waits
    checked: null, // when the server last answered (a Date): "last updated" while offline
    offline: false,
    checking: false, // a read is under way: never two at once
    checkAgain: false, // another was asked for meanwhile
    stopped: false, // the token was refused: reading again cannot help
    preview: false, // an organiser's token: the delegation shown is the one picked, read-only
    delegations: [], // in a preview, the forum's delegations to pick from, by name
    generation: 0, // counts the delegations shown: a read for an earlier one is dropped
    loading: false, // a preview is switching delegation: the timer's reads wait for it
    forum: null, // the forum as GET /forums/{id} answers it: its slot (durations) and request deadline
    sentCards: new Map(), // request id -> {node, signature, request}: a sent request's card, kept (an edit form open in it survives a read)
    // Requests this page itself sent, edited or withdrew: said here when done, not again as news by the
    // next read. Request id -> whether a sent request as read shows the change (then it is forgotten).
    hush: new Map(),
    asked: null, // {body, key}: the last request sent from the form and its Idempotency-Key (a retry reuses it)
    directory: [], // the forum's delegations (GET .../directory: id, name, country), offered to the ask form
    directoryTag: null, // its ETag: read again with each check, an unchanged directory answers 304
    directoryPrivate: false, // the organiser keeps the directory private (a 403): ids are typed, with a note
  };
  // How often an open page asks whether its agenda or its requests changed (conditional GETs: 304
  // while they have not); also at once when the tab is shown again, the window takes the focus or
  // the network comes back. A read that hangs is given up after READ_MS.
  const POLL_MS = 20000;
  const READ_MS = 10000;
  const REFUSED =
    "This link no longer opens the agenda: the delegation's token was replaced by a new one, or the delegation" +
    " or its forum removed. Ask the organiser for the delegation's current link, or enter its current token.";
  // The first read refused: the link may never have worked (a link broken across two lines of an
  // e-mail opens with part of the token), which the server cannot tell from a replaced token.
  const NOT_OPENED =
    "This link does not open the agenda: it may be cut short (copy the whole link, with everything after " +
    "#token=), or the delegation's token was replaced by a new one, or the delegation or its forum removed." +
    " Ask the organiser for the delegation's current link, or enter its current token.";
  const ORGANISER_REFUSED =
    "This token no longer opens the preview: the organiser's token was replaced by a new one, or the forum removed." +
    " Reload the page and enter the current token.";

  Sidelines.start("The agenda", (token) => {
    state.token = token;
    return open();
  }, showMessage, NOT_OPENED);

  function call(method, path, body) {
    return api(state.token, method, path, body);
  }

  function showMessage(text) {
    $("message").textContent = text;
    $("message").hidden = !text;
  }

  function delegationPath() {
    return `/forums/${state.forumId}/delegations/${encodeURIComponent(state.delegationId)}`;
  }

  async function open() {
    const me = await call("GET", "/me");
    $("person-filter").addEventListener("change", renderAgenda);
    if (me.kind === "organiser") return openPreview(me.forum_id);
    if (me.kind !== "delegation") {
      showMessage("This page is for a delegation, or for a forum's organiser previewing one. Enter one of their tokens.");
      return;
    }
    state.forumId = me.forum_id;
    state.delegationId = me.delegation_id;
    state.forum = await call("GET", `/forums/${state.forumId}`);
    setUpAsking();
    await Promise.all([refresh(false), loadCalendar()]);
    $("app").hidden = false;
    watch();
  }

  // The delegation's people: the filter that shows one's meetings (everyone's at first, the one
  // chosen kept while they remain), who attends a request's meeting, their arrivals and departures.
  function showPeople(people) {
    const seen = JSON.stringify(people);
    if (seen === state.peopleSeen) return;
    state.peopleSeen = seen;
    state.people = people;
    const filter = $("person-filter");
    const chosen = filter.value;
    filter.replaceChildren(
      el("option", { value: "", text: "everyone in the delegation" }),
      ...people.map((p) => el("option", { value: p.id, text: `${p.name}${p.principal ? " (principal)" : ""}` })),
    );
    filter.value = people.some((p) => p.id === chosen) ? chosen : "";
    if (filter.value !== chosen) renderAgenda(); // the one chosen was removed: everyone's again
    for (const shown of state.cards.values()) {
      const choices = shown.node.querySelector("fieldset.attendees");
      if (choices) fillChoices(choices);
    }
    if (!state.preview) {
      showTravel();
      fillChoices($("ask-attendees"));
      for (const shown of state.sentCards.values()) {
        const choices = shown.node.querySelector(".request-form fieldset.attendees");
        if (choices) fillChoices(choices);
      }
    }
  }

  // ---------------------------------------------------------------- the organiser's preview

  async function openPreview(forumId) {
    state.preview = true;
    state.forumId = forumId;
    const delegations = await Sidelines.every(state.token, `/forums/${forumId}/delegations`);
    state.delegations = delegations.sort((a, b) => a.name.localeCompare(b.name) || a.id.localeCompare(b.id));
    const select = $("preview-select");
    select.replaceChildren(
      el("option", { value: "", text: "choose a delegation" }),
      ...state.delegations.map((d) => el("option", { value: d.id, text: `${d.name} (${d.id})` })),
    );
    $("preview-form").addEventListener("submit", (event) => {
      event.preventDefault();
      if (!select.value || select.value === state.delegationId) return;
      // A new entry in the history (back returns to the one before), and a link staff can share.
      history.pushState(null, "", `${location.pathname}${location.search}#${new URLSearchParams({ delegation: select.value })}`);
      preview(select.value);
    });
    // Back, forward, or a shared link pasted into this tab's address bar.
    window.addEventListener("hashchange", () => {
      const id = chosen();
      if (id && id !== state.delegationId) preview(id);
    });
    $("preview-form").hidden = false;
    watch();
    const id = chosen();
    if (id) await preview(id);
    else {
      $("title").textContent = "Preview a delegation's agenda";
      document.title = "Preview · agenda";
      select.focus();
    }
  }

  // The delegation named in the address (#delegation=ID), if any.
  function chosen() {
    return new URLSearchParams(location.hash.slice(1)).get("delegation");
  }

  // Shows delegation `id`'s page as it sees it; whatever was shown of another is forgotten.
  async function preview(id) {
    const delegation = state.delegations.find((d) => d.id === id);
    state.generation += 1;
    const generation = state.generation;
    state.delegationId = delegation ? id : null;
    state.agenda = state.agendaTag = state.inbox = state.inboxTag = state.peopleTag = null;
    state.marks = new Map();
    state.inboxMarks = new Map();
    state.offline = false;
    for (const shown of state.cards.values()) shown.node.remove();
    state.cards = new Map();
    for (const shown of state.sentCards.values()) shown.node.remove();
    state.sentCards = new Map();
    for (const region of ["updates", "connection", "inbox-status"]) $(region).textContent = "";
    $("app").hidden = true;
    $("preview-select").value = delegation ? id : "";
    if (!delegation) {
      state.loading = false;
      $("title").textContent = "Preview a delegation's agenda";
      $("subtitle").textContent = $("zone").textContent = "";
      $("preview-banner").hidden = true;
      showMessage(`This forum has no delegation "${id}": choose one from the list.`);
      return;
    }
    showMessage("");
    const banner = $("preview-banner");
    banner.textContent = `Preview: what ${delegation.name} sees`;
    banner.hidden = false;
    state.loading = true;
    state.people = [];
    state.peopleSeen = null;
    try {
      await refresh(false);
      if (generation !== state.generation) return;
      // The feed's secret link is derived from the delegation's own token, which the organiser never holds.
      $("calendar").replaceChildren(el("span", { class: "note", text: "Calendar feed: the delegation's own link, not shown in a preview." }));
      $("app").hidden = false;
    } catch (error) {
      if (generation !== state.generation) return;
      if (error.status === 401) {
        state.stopped = true;
        forgetToken();
        showMessage(ORGANISER_REFUSED);
      } else {
        showMessage(`The agenda of ${delegation.name} could not be shown: ${describe(error)}`);
      }
    } finally {
      if (generation === state.generation) state.loading = false;
    }
  }

  // ---------------------------------------------------------------- reading

  // One conditional GET: {status: 304} while `tag` is current, else {status, body, tag}; 404
  // is returned, any other failure thrown (an ApiError, or a TypeError/AbortError unreached).
  async function read(path, tag) {
    const headers = { Authorization: `Bearer ${state.token}`, Accept: "application/json" };
    if (tag) headers["If-None-Match"] = tag;
    const stop = new AbortController();
    const timer = setTimeout(() => stop.abort(), READ_MS);
    try {
      // no-store: the 304 reaches this script, rather than the browser's cache answering for it.
      const answer = await fetch(path, { headers, cache: "no-store", signal: stop.signal });
      if (answer.status === 304 || answer.status === 404) return { status: answer.status };
      const body = await answer.json().catch(() => null);
      if (!answer.ok) throw new ApiError(answer.status, body);
      return { status: answer.status, body, tag: answer.headers.get("ETag") };
    } finally {
      clearTimeout(timer);
    }
  }

  // The reads at once, one of each at a time; what changed is shown, and said when `announce`.
  // The participants are asked for too (a short list, not paged: no Link to follow), since who
  // attends a request's meeting and their arrivals follow a colleague's or the organiser's edits;
  // its ETag is a digest of the list, so an unchanged one answers 304 and is not drawn again.
  // The forum's directory too, for the ask form (not in a preview, which asks nothing); a failed
  // read of it keeps the one held: the form still takes a typed id. A 403 is the organiser keeping
  // the list private (the forum's `directory`): the list held is dropped and the form says so.
  async function refresh(announce) {
    const generation = state.generation;
    const [agenda, inbox, people, directory] = await Promise.all([
      read(`${delegationPath()}/agenda/detailed`, state.agendaTag),
      read(`${delegationPath()}/inbox`, state.inboxTag),
      read(`${delegationPath()}/participants`, state.peopleTag),
      state.preview ? { status: 304 } : read(`/forums/${state.forumId}/directory`, state.directoryTag).catch((error) => ({ status: error && error.status === 403 ? 403 : 0 })),
    ]);
    if (generation !== state.generation) return; // read for a delegation no longer previewed
    if (inbox.status === 404 || people.status === 404) throw new ApiError(404, null); // only a delegation gone meanwhile
    state.checked = new Date();
    if (people.status !== 304) {
      state.peopleTag = people.tag;
      showPeople(people.body);
    }
    if (directory.status === 200 || directory.status === 403) {
      state.directoryPrivate = directory.status === 403;
      state.directoryTag = state.directoryPrivate ? null : directory.tag;
      state.directory = state.directoryPrivate ? [] : directory.body;
      if (state.inbox) showAsking(); // a delegation added or renamed meanwhile is offered
    }
    const said = [];
    const published = agenda.status === 404 ? null : agenda.body;
    const moved = agenda.status === 404 ? state.agenda !== null : agenda.status !== 304;
    if (moved || !announce) {
      const before = state.agenda;
      state.agenda = published;
      state.agendaTag = published ? agenda.tag : null;
      if (announce) said.push(...agendaNews(before, published));
      showAgenda();
    }
    if (inbox.status !== 304) {
      const before = state.inbox;
      state.inbox = inbox.body;
      state.inboxTag = inbox.tag;
      if (announce) said.push(...inboxNews(before, inbox.body));
      // Read after the answer (reads go one at a time): a request listed as waiting from now on was
      // asked again (the organiser took the delegation off and back on, or a change of time).
      const waiting = new Set(inbox.body.waiting.map((request) => request.id));
      for (const id of state.answered) if (!waiting.has(id)) state.answered.delete(id);
      showInbox();
    }
    showHeader();
    if (said.length) say(said);
  }

  // ---------------------------------------------------------------- header

  function showHeader() {
    if (!state.inbox) return;
    const { forum, delegation, time_zone: zone } = state.inbox;
    $("title").textContent = `${delegation.name} · agenda`;
    document.title = `${state.preview ? "Preview: " : ""}${delegation.name} · agenda`;
    const agenda = state.agenda;
    const published = !agenda
      ? "no agenda published yet"
      : `published${agenda.published_at ? ` ${moment(agenda.published_at)}` : ""}${agenda.publication ? ` (publication ${agenda.publication})` : ""}`;
    $("subtitle").textContent = `${forum} · ${published}`;
    // Stated in words, with the offset: staff read this on phones set to their home time.
    const at = agenda && agenda.meetings.length ? new Date(agenda.meetings[0].start) : new Date();
    const offset = offsetOf(zone, at);
    const device = offsetOf(Intl.DateTimeFormat().resolvedOptions().timeZone, at);
    const differs = device !== offset ? ", not this device's time zone" : "";
    $("zone").textContent = `Times are the forum's: ${zone} (${offset})${differs}.`;
  }

  // "UTC+08:00" for a zone at a moment.
  function offsetOf(zone, at) {
    const parts = new Intl.DateTimeFormat("en-GB", { timeZone: zone, timeZoneName: "longOffset" }).formatToParts(at);
    const name = (parts.find((part) => part.type === "timeZoneName") || { value: "GMT" }).value;
    return name === "GMT" ? "UTC" : name.replace("GMT", "UTC");
  }

  const CLOCK_FIELDS = { hour: "2-digit", minute: "2-digit", hourCycle: "h23" };
  const DAY_FIELDS = { weekday: "short", day: "numeric", month: "short" };
  // One formatter a kind and time zone, as requests.js keeps them: making one costs far more than
  // formatting with it, and the agenda shows two or three times a meeting.
  const formats = new Map();

  function formatter(kind, fields) {
    const zone = state.inbox ? state.inbox.time_zone : "";
    const key = `${kind} ${zone}`;
    let format = formats.get(key);
    if (!format) {
      format = new Intl.DateTimeFormat("en-GB", zone ? { ...fields, timeZone: zone } : fields);
      formats.set(key, format);
    }
    return format;
  }

  // HH:MM of a moment in the forum's time zone, as the meetings are shown.
  function clock(at) {
    return formatter("clock", CLOCK_FIELDS).format(at);
  }

  // "Fri 31 May, 14:05" of an ISO moment, in the forum's time zone.
  function moment(iso) {
    const at = new Date(iso);
    return `${formatter("day", DAY_FIELDS).format(at)}, ${clock(at)}`;
  }

  // ---------------------------------------------------------------- agenda

  function showAgenda() {
    $("filter").hidden = !state.agenda;
    renderAgenda();
  }

  function renderAgenda() {
    const days = $("days");
    if (!state.agenda) {
      $("agenda-note").textContent = "No agenda has been published yet: your meetings appear here as soon as the organiser publishes it.";
      days.replaceChildren();
      return;
    }
    const person = $("person-filter").value;
    const whose = person ? ` for ${state.people.find((p) => p.id === person)?.name || person}` : "";
    const meetings = state.agenda.meetings.filter(
      (m) => !person || m.attendees.some((a) => a.delegation === state.delegationId && a.participant === person),
    );
    $("agenda-note").textContent = meetings.length
      ? `${meetings.length} meeting${meetings.length > 1 ? "s" : ""}${whose}.`
      : person
        ? `No meetings${whose} in the published agenda.`
        : "Your delegation has no meetings in the published agenda.";
    const byDay = new Map();
    for (const meeting of meetings) {
      const date = wall(meeting.start).date;
      if (!byDay.has(date)) byDay.set(date, []);
      byDay.get(date).push(meeting);
    }
    days.replaceChildren(
      ...[...byDay.entries()].map(([date, list]) =>
        el("section", { class: "day", "aria-label": dayName(date) }, el("h3", { text: dayName(date) }), el("ol", { class: "cards" }, list.map(card))),
      ),
    );
  }

  function card(meeting) {
    const start = wall(meeting.start);
    const end = wall(meeting.end);
    const with_ = meeting.counterparts.map((c) => `${c.name} (${c.country})`).join(", ");
    const own = meeting.attendees.filter((a) => a.delegation === state.delegationId);
    const theirs = meeting.attendees.filter((a) => a.delegation !== state.delegationId);
    const mark = state.marks.get(meeting.meeting);
    return el(
      "li",
      { class: `card meeting-card${mark ? " updated" : ""}`, dataset: { meeting: meeting.meeting } },
      mark ? el("p", { class: "mark", text: mark }) : null,
      el("p", { class: "when" }, el("time", { datetime: meeting.start, text: `${start.time}–${end.time}` })),
      el("h4", { text: with_ ? `With ${with_}` : meeting.title || meeting.meeting }),
      el("p", { class: "kind", text: [kindOf(meeting.counterparts.length + 1), meeting.title].filter(Boolean).join(" · ") }),
      el("p", { class: "where" }, el("strong", { text: "Room: " }), meeting.room_name, meeting.venue ? `, ${meeting.venue}` : ""),
      el("p", { class: "who" }, el("strong", { text: "Yours: " }), own.map((a) => a.name).join(", ") || "–"),
      theirs.length ? el("p", { class: "who" }, el("strong", { text: "Theirs: " }), theirs.map((a) => a.name).join(", ")) : null,
    );
  }

  // What changed between two readings of the agenda; marks the meetings it names until the next.
  function agendaNews(before, after) {
    const at = clock(new Date());
    const said = [];
    state.marks = new Map();
    if (!after) return ["the agenda is no longer published"];
    if (!before) {
      const count = after.meetings.length;
      return [`the agenda has been published: ${count} meeting${count === 1 ? "" : "s"} for your delegation`];
    }
    const old = new Map(before.meetings.map((m) => [m.meeting, m]));
    const now = new Set(after.meetings.map((m) => m.meeting));
    for (const meeting of after.meetings) {
      const was = old.get(meeting.meeting);
      if (!was) {
        said.push(`new meeting ${withWhom(meeting)} on ${whenWhere(meeting, null)}`);
        state.marks.set(meeting.meeting, `New at ${at}`);
      } else if (was.start !== meeting.start || was.end !== meeting.end || was.room !== meeting.room) {
        said.push(`meeting ${withWhom(meeting)} moved to ${whenWhere(meeting, was)}`);
        state.marks.set(meeting.meeting, `Moved at ${at}`);
      } else {
        const detail = detailChange(was, meeting);
        if (detail) {
          said.push(`meeting ${withWhom(meeting)}: ${detail}`);
          state.marks.set(meeting.meeting, `Changed at ${at}`);
        }
      }
    }
    for (const meeting of before.meetings) {
      if (!now.has(meeting.meeting)) said.push(`meeting ${withWhom(meeting)} on ${whenWhere(meeting, null)} is no longer on your agenda`);
    }
    if (!said.length && before.publication !== after.publication) {
      said.push(`a new publication${after.publication ? ` (${after.publication})` : ""} leaves your meetings as they were`);
    } else if (!said.length) {
      said.push("names in your agenda changed");
    }
    return said;
  }

  function withWhom(meeting) {
    const names = meeting.counterparts.map((c) => c.name);
    if (names.length) return `with ${names.join(", ")}`;
    return meeting.title ? `"${meeting.title}"` : meeting.meeting;
  }

  // "15:00, Booth 3", with the day when it is not the day it was on (or there is none to compare).
  function whenWhere(meeting, was) {
    const start = wall(meeting.start);
    const day = was && wall(was.start).date === start.date ? "" : `${dayName(start.date)} `;
    return `${day}${start.time}, ${meeting.room_name}${meeting.venue ? ` (${meeting.venue})` : ""}`;
  }

  function detailChange(was, meeting) {
    const own = (m) => m.attendees.filter((a) => a.delegation === state.delegationId).map((a) => a.name).join(", ");
    const theirs = (m) => m.attendees.filter((a) => a.delegation !== state.delegationId).map((a) => a.name).join(", ");
    const where = (m) => `${m.room_name}${m.venue ? ` (${m.venue})` : ""}`;
    const parts = [];
    if (own(was) !== own(meeting)) parts.push(`yours now ${own(meeting) || "no one"}`);
    if (theirs(was) !== theirs(meeting)) parts.push(`theirs now ${theirs(meeting) || "no one"}`);
    if (where(was) !== where(meeting)) parts.push(`room now ${where(meeting)}`);
    if (was.title !== meeting.title) parts.push(meeting.title ? `now titled "${meeting.title}"` : "title removed");
    const names = (m) => m.counterparts.map((c) => `${c.name} (${c.country})`).join(", ");
    if (!parts.length && names(was) !== names(meeting)) parts.push(`now with ${names(meeting)}`);
    return parts.join(", ");
  }

  // ---------------------------------------------------------------- kept up to date

  // Polled, not streamed, as the grid page is: staff keep this page open all day on a phone, and
  // a stream would hold a connection for each open page. The ETags are digests of the answers: a
  // 304 says nothing but "as you have it".
  function watch() {
    const next = () => setTimeout(async () => {
      await check();
      next();
    }, POLL_MS);
    next();
    document.addEventListener("visibilitychange", () => check());
    window.addEventListener("focus", () => check());
    window.addEventListener("online", () => check());
  }

  async function check() {
    if (document.hidden || state.stopped || state.loading || !state.delegationId) return;
    if (state.checking) {
      // One read at a time; one asked for meanwhile runs once this one is done (it may have
      // been sent before what the new ask is about).
      state.checkAgain = true;
      return;
    }
    state.checking = true;
    try {
      await refresh(true); // the filter, the requests' ticks and the focus are left as they are
      if (state.offline) {
        state.offline = false;
        $("connection").textContent = `Back online, up to date at ${clock(state.checked)}.`;
      } else {
        $("connection").textContent = ""; // said at the read before: the page is simply current again
      }
    } catch (error) {
      if (error.status === 401) {
        state.stopped = true;
        forgetToken();
        showMessage(state.preview ? ORGANISER_REFUSED : REFUSED);
        $("connection").textContent = `Not updated since ${clock(state.checked)}.`;
      } else if (!state.offline) {
        state.offline = true; // said once, quietly; the next read tries again
        const why = error.status ? `Not updated (the server answered ${error.status})` : "Offline";
        $("connection").textContent = `${why}, last updated ${clock(state.checked)}. Trying again.`;
      }
    } finally {
      state.checking = false;
    }
    if (state.checkAgain) {
      state.checkAgain = false;
      await check();
    }
  }

  // Says what changed in the live region (the focus stays where it is).
  function say(said) {
    const shown = said.length > 4 ? [...said.slice(0, 3), `and ${said.length - 3} more changes, marked below`] : said;
    $("updates").textContent = `Updated ${clock(new Date())}: ${shown.join("; ")}.`;
  }

  // ---------------------------------------------------------------- calendar

  async function loadCalendar() {
    const holder = $("calendar");
    try {
      const link = await call("GET", `${delegationPath()}/calendar-link`);
      holder.replaceChildren(el("a", { href: link.url, id: "calendar-link", text: "Subscribe to the calendar" }));
    } catch (error) {
      holder.replaceChildren(el("span", { class: "note", text: "Calendar feed not available yet." }));
    }
  }

  // ---------------------------------------------------------------- requests

  const others = (request) => request.parties.filter((p) => p.delegation !== state.delegationId);
  // "A", "A and B", "A, B and C"
  const names = (parties) => {
    const all = parties.map((p) => p.name);
    return all.length > 1 ? `${all.slice(0, -1).join(", ")} and ${all[all.length - 1]}` : all.join("");
  };
  const label = (request) => (request.title ? `"${request.title}"` : `the meeting with ${names(others(request))}`);
  const capital = (text) => text.charAt(0).toUpperCase() + text.slice(1);

  function waitingShown() {
    return state.inbox.waiting.filter((request) => !state.answered.has(request.id));
  }

  function showInbox() {
    const waiting = waitingShown();
    $("inbox-count").textContent = `(${waiting.length})`;
    const deadline = state.inbox.request_deadline;
    const open = !deadline || new Date(deadline) > new Date();
    const until = deadline ? ` Requests can be answered until ${moment(deadline)}.` : "";
    $("inbox-note").textContent = waiting.length
      ? `${waiting.length} waiting.${open ? until : ""}`
      : `No requests are waiting for your answer.${open ? until : ""}`;
    renderWaiting(waiting);
    renderSent();
    if (!state.preview) showAsking();
  }

  // Cards are kept while their request waits, so that the ticks and the focus in them survive a
  // read; new ones come last (oldest first), so no kept card is moved.
  function renderWaiting(waiting) {
    const list = $("inbox");
    const keep = new Set(waiting.map((request) => request.id));
    let lostFocus = false;
    for (const [id, shown] of state.cards) {
      if (keep.has(id)) continue;
      lostFocus = lostFocus || shown.node.contains(document.activeElement);
      shown.node.remove();
      state.cards.delete(id);
    }
    waiting.forEach((request, index) => {
      const signature = JSON.stringify(request);
      let shown = state.cards.get(request.id);
      if (!shown) {
        shown = { node: requestCard(request), signature };
        state.cards.set(request.id, shown);
      } else if (shown.signature !== signature) {
        shown.node.querySelector(".about").replaceWith(about(request));
        shown.signature = signature;
        const choices = shown.node.querySelector("fieldset.attendees");
        if (choices && choices.dataset.named !== JSON.stringify(ownAttendees(request))) {
          choices.dataset.named = JSON.stringify(ownAttendees(request));
          fillChoices(choices);
        }
      }
      const mark = state.inboxMarks.get(request.id);
      shown.node.querySelector(".mark").textContent = mark || "";
      shown.node.classList.toggle("updated", Boolean(mark));
      if (list.children[index] !== shown.node) list.insertBefore(shown.node, list.children[index] || null);
    });
    if (lostFocus) $("inbox-title").focus(); // the request it was on is gone (withdrawn, expired, answered elsewhere)
  }

  // What a waiting request is: who asks, with whom, how long, when they would like it.
  function about(request) {
    const requester = request.parties.find((p) => p.role === "requester");
    const also = others(request).filter((p) => p.role !== "requester");
    const when = request.preferred.map((w) => `${dayName(wall(w.start).date)}, ${wall(w.start).time}–${wall(w.end).time}`);
    return el(
      "div",
      { class: "about" },
      el("h3", { text: request.title || `Meeting with ${names(others(request))}` }),
      el("p", {}, el("strong", { text: "From: " }), requester ? requester.name : "the organiser"),
      also.length
        ? el("p", {}, el("strong", { text: "Also invited: " }), also.map((p) => `${p.name} (${p.status === "accepted" ? "accepted" : "not answered yet"})`).join(", "))
        : null,
      el(
        "p",
        { class: "kind" },
        [capital(kindOf(request.parties.length)), `${request.duration_minutes} min`, request.priority !== "normal" ? `priority ${request.priority}` : null]
          .filter(Boolean)
          .join(" · "),
      ),
      when.length ? el("p", {}, el("strong", { text: "Preferred: " }), when.join("; ")) : null,
    );
  }

  function requestCard(request) {
    if (state.preview) {
      // Read-only: the delegation answers (who attends, accept or decline), never its preview.
      return el(
        "li",
        { class: "card request-card", dataset: { request: request.id } },
        el("p", { class: "mark" }),
        about(request),
        el("p", { class: "note preview-note", text: "The delegation answers here (who attends, Accept or Decline); the preview cannot." }),
      );
    }
    const choices = el("fieldset", { class: "attendees" }, el("legend", { text: "Who attends for you (none ticked: your principals)" }));
    choices.dataset.named = JSON.stringify(ownAttendees(request));
    fillChoices(choices);
    const node = el("li", { class: "card request-card", dataset: { request: request.id } }, el("p", { class: "mark" }), about(request), choices);
    const buttons = () => node.querySelectorAll("button");
    // Read first and answered with If-Match: a colleague may have answered in another browser since
    // this card was drawn, and a decline (allowed after an accept) would overwrite it unseen.
    const answer = async (accept) => {
      const path = `/forums/${state.forumId}/requests/${encodeURIComponent(request.id)}`;
      const attendees = [...choices.querySelectorAll("input:checked")].map((box) => box.value);
      const verb = accept ? "accepted" : "declined";
      buttons().forEach((button) => { button.disabled = true; });
      try {
        const current = await send("GET", path);
        const mine = current.body.parties.find((p) => p.delegation === state.delegationId);
        const drawn = choices.dataset.named || "[]";
        if (accept && mine && mine.status === "pending" && JSON.stringify(mine.attendees) !== drawn) {
          // Named by a colleague or the organiser since the boxes were drawn: shown, not overwritten unseen.
          choices.dataset.named = JSON.stringify(mine.attendees);
          fillChoices(choices);
          buttons().forEach((button) => { button.disabled = false; });
          const now = mine.attendees.map((id) => state.people.find((p) => p.id === id)?.name || id).join(", ") || "your principals";
          $("inbox-status").textContent = `Not accepted: who attends for you in ${label(request)} was changed meanwhile, now ${now}. Check the boxes, then accept again.`;
          return;
        }
        if (mine && mine.status !== "pending") {
          // Answered elsewhere: it waits no longer (an answer never goes back to pending).
          state.answered.add(request.id);
          showInbox();
          $("inbox-status").textContent = `Not ${verb}: your delegation has already ${mine.status} ${label(request)} (a colleague answered meanwhile).`;
          $("inbox-title").focus();
          check();
          return;
        }
        await send("POST", `${path}/${accept ? "accept" : "decline"}`, accept ? { attendees } : undefined, current.tag);
      } catch (error) {
        if (error.status === 404) {
          // No longer a party (the organiser changed who meets): its card goes now, not at the next read.
          state.inbox.waiting = state.inbox.waiting.filter((r) => r.id !== request.id);
          showInbox();
          $("inbox-status").textContent = `Not ${verb}: ${label(request)} is no longer your delegation's to answer (the organiser changed who meets).`;
          $("inbox-title").focus();
          check();
          return;
        }
        buttons().forEach((button) => { button.disabled = false; });
        const why = error.status === 412 ? "it changed while it was being answered; check it and answer again" : describe(error);
        $("inbox-status").textContent = `Could not answer ${label(request)}: ${why}`;
        if (error.status === 401) showMessage(REFUSED);
        if ([409, 412].includes(error.status)) check(); // answered or withdrawn meanwhile
        return;
      }
      state.answered.add(request.id);
      const left = waitingShown().length;
      $("inbox-status").textContent =
        `${accept ? "Accepted" : "Declined"}: ${label(request)}. ${left ? `${left} more waiting.` : "No more requests waiting."}`;
      showInbox();
      $("inbox-title").focus(); // the card and its buttons are gone
      check();
    };
    const accept = el("button", { type: "button", class: "accept", text: "Accept", onclick: () => answer(true) });
    const decline = el("button", { type: "button", class: "secondary decline", text: "Decline…" });
    const choose = el("div", { class: "answer" }, accept, decline);
    // Declining is final (accepting can still be followed by a decline): asked once more.
    const keep = el("button", { type: "button", class: "secondary keep", text: "Keep it" });
    const sure = el(
      "div",
      { class: "confirm", hidden: true },
      el("p", { text: "Decline for good? The other delegations are told, and it cannot be accepted afterwards." }),
      el("div", { class: "answer" }, el("button", { type: "button", class: "danger confirm-decline", text: "Yes, decline", onclick: () => answer(false) }), keep),
    );
    decline.addEventListener("click", () => {
      choose.hidden = true;
      sure.hidden = false;
      keep.focus();
    });
    keep.addEventListener("click", () => {
      sure.hidden = true;
      choose.hidden = false;
      decline.focus();
    });
    node.append(choose, sure);
    return node;
  }

  // Who attends for this delegation as the request names them so far (a colleague or the organiser
  // may have named them, PATCH); empty: its principals.
  function ownAttendees(request) {
    const mine = request.parties.find((p) => p.delegation === state.delegationId);
    return (mine && mine.attendees) || [];
  }

  // One box per participant, ticked for those the request names (else the principals), following
  // both as they are read again: a participant added gets a box, one removed loses it, and a box
  // nobody has ticked or unticked here follows them; one the reader has changed (or is on) keeps its tick.
  function fillChoices(choices) {
    const named = JSON.parse(choices.dataset.named || "[]");
    const ticked = (person) => (named.length ? named.includes(person.id) : person.principal);
    const boxes = new Map([...choices.querySelectorAll("input")].map((box) => [box.value, box]));
    const ids = new Set(state.people.map((p) => p.id));
    for (const [id, box] of boxes) {
      if (!ids.has(id)) box.closest("label").remove();
    }
    state.people.forEach((person, index) => {
      let box = boxes.get(person.id);
      if (!box) {
        box = el("input", { type: "checkbox", value: person.id, checked: ticked(person) });
        box.addEventListener("change", () => { box.dataset.touched = "yes"; });
        el("label", {}, box, el("span", { text: ` ${person.name}` }));
      } else {
        if (!box.dataset.touched && box !== document.activeElement) box.checked = ticked(person);
        box.nextElementSibling.textContent = ` ${person.name}`;
      }
      // In the list's order, after the legend; moved only when out of it (a move drops the focus).
      const label = box.closest("label");
      const at = choices.children[index + 1] || null;
      if (at !== label) choices.insertBefore(label, at);
    });
  }

  // ---------------------------------------------------------------- arrivals and departures

  // A late flight is the delegation's usual last-minute news: each participant's arrival and
  // departure (forum time; empty: from the forum's start, to its end), saved with PUT and If-Match
  // over the participant as it stands now (its blocked windows and the rest kept), and refused,
  // with nothing written, when someone else changed those times since this form was filled.
  function showTravel() {
    const list = $("travel");
    const ids = new Set(state.people.map((p) => p.id));
    for (const [id, shown] of state.travel) {
      if (ids.has(id)) continue;
      shown.form.remove();
      state.travel.delete(id);
    }
    state.people.forEach((person, index) => {
      let shown = state.travel.get(person.id);
      if (!shown) {
        shown = { form: travelForm(person), loaded: null };
        state.travel.set(person.id, shown);
      }
      const now = times(person);
      const form = shown.form;
      form.querySelector("legend").textContent = `${person.name}${person.principal ? " (principal)" : ""}`;
      form.querySelector("button").setAttribute("aria-label", `Save times for ${person.name}`); // one per person
      // A form being filled in keeps what the reader typed; the others show the times as they are now.
      if (!shown.loaded || (!edited(shown) && !form.contains(document.activeElement))) {
        shown.loaded = now;
        for (const field of ["arrival", "departure"]) form.elements[field].value = now[field];
      }
      if (list.children[index] !== form) list.insertBefore(form, list.children[index] || null);
    });
    $("travel-section").hidden = $("travel-link").hidden = false;
  }

  // "2024-06-01T14:00" (a datetime-local input's value) of the participant's times, "" when none.
  function times(person) {
    const minute = (value) => (value ? String(value).slice(0, 16) : "");
    return { arrival: minute(person.arrival), departure: minute(person.departure) };
  }

  function edited(shown) {
    return ["arrival", "departure"].some((field) => shown.form.elements[field].value !== shown.loaded[field]);
  }

  function travelForm(person) {
    const key = person.id.replace(/[^A-Za-z0-9_-]/g, "_");
    const field = (name, text) => {
      const id = `${name}-${key}`;
      return el(
        "div",
        { class: "field" },
        el("label", { for: id, text }),
        el("input", { id, name, type: "datetime-local", "aria-describedby": `${id}-error` }),
        el("p", { id: `${id}-error`, class: "field-error" }),
      );
    };
    const form = el(
      "form",
      { class: "card travel-form", dataset: { participant: person.id }, novalidate: true },
      el(
        "fieldset",
        {},
        el("legend", { text: person.name }),
        field("arrival", "Arrival"),
        field("departure", "Departure"),
        el("p", { class: "field-error form-error" }),
        el("button", { type: "submit", text: "Save times" }),
      ),
    );
    form.addEventListener("submit", (event) => {
      event.preventDefault();
      saveTravel(person.id);
    });
    return form;
  }

  // One call, with If-Match when given: {body, tag}, or the ApiError thrown.
  async function send(method, path, body, ifMatch, extra) {
    const headers = { Authorization: `Bearer ${state.token}`, Accept: "application/json", ...(extra || {}) };
    if (ifMatch) headers["If-Match"] = ifMatch;
    if (body !== undefined) headers["Content-Type"] = "application/json";
    const answer = await fetch(path, { method, headers, cache: "no-store", body: body === undefined ? undefined : JSON.stringify(body) });
    const parsed = await answer.json().catch(() => null);
    if (!answer.ok) throw new ApiError(answer.status, parsed);
    return { body: parsed, tag: answer.headers.get("ETag") };
  }

  async function saveTravel(id) {
    const shown = state.travel.get(id);
    if (!shown) return;
    const form = shown.form;
    const button = form.querySelector("button");
    const status = $("travel-status");
    const wanted = { arrival: form.elements.arrival.value, departure: form.elements.departure.value };
    showErrors(form, []);
    button.disabled = true;
    const path = `${delegationPath()}/participants/${encodeURIComponent(id)}`;
    try {
      const current = await send("GET", path);
      const now = times(current.body);
      const name = current.body.name;
      if (now.arrival !== shown.loaded.arrival || now.departure !== shown.loaded.departure) {
        shown.loaded = now; // saving again replaces them with what is typed
        status.textContent = `Not saved: ${name}'s times were changed meanwhile, now ${said(now)}. Check them, then save again.`;
        return;
      }
      const body = { ...current.body, arrival: wanted.arrival ? `${wanted.arrival}:00` : null, departure: wanted.departure ? `${wanted.departure}:00` : null };
      const saved = await send("PUT", path, body, current.tag);
      shown.loaded = times(saved.body);
      status.textContent = `Saved: ${name}, ${said(shown.loaded)}. The organiser sees the change at their next check.`;
    } catch (error) {
      if (error.status === 412) {
        // Changed between the read and the write: the next save reads it again and compares.
        status.textContent = "Not saved: the participant was changed meanwhile. Save again.";
      } else if (error.status === 422 || error.status === 400) {
        showErrors(form, error.problem.errors || [], error.message);
        status.textContent = `Not saved: ${error.message}`;
      } else {
        status.textContent = `Not saved: ${describe(error)}`;
        if (error.status === 401) showMessage(REFUSED);
        if (error.status === 404) check(); // the participant was removed meanwhile
      }
    } finally {
      button.disabled = false;
    }
  }

  function said(times) {
    const one = (value) => (value ? `${dayName(wall(value).date)}, ${wall(value).time}` : null);
    const arrival = one(times.arrival);
    const departure = one(times.departure);
    return `arrival ${arrival || "not set (from the forum's start)"}, departure ${departure || "not set (to the forum's end)"}`;
  }

  // The API's field errors beside their fields (named as the API names them: "departure: must be
  // after arrival"), any other below; the first faulty field takes the focus.
  function showErrors(form, errors, fallback) {
    let first = null;
    const other = [];
    for (const name of ["arrival", "departure"]) {
      const input = form.elements[name];
      const mine = errors.filter((e) => e.field === name).map((e) => `${e.field}: ${e.message}`);
      form.querySelector(`#${input.id}-error`).textContent = mine.join("; ");
      if (mine.length) input.setAttribute("aria-invalid", "true");
      else input.removeAttribute("aria-invalid");
      if (mine.length && !first) first = input;
    }
    for (const error of errors) if (error.field !== "arrival" && error.field !== "departure") other.push(`${error.field}: ${error.message}`);
    if (errors.length && !first && !other.length && fallback) other.push(fallback);
    form.querySelector(".form-error").textContent = other.join("; ");
    if (first) first.focus();
  }

  // The requests sent, newest first, each with where its answers stand and, for the delegation (not
  // its preview), Edit and Withdraw while it is still asked or agreed. Cards are kept across reads,
  // so that an edit form open in one keeps what is typed and the focus.
  function renderSent() {
    const sent = [...state.inbox.sent].reverse();
    $("sent-note").textContent = sent.length ? "" : "Your delegation has not asked for a meeting.";
    const list = $("sent");
    const keep = new Set(sent.map((request) => request.id));
    let lostFocus = false;
    for (const [id, shown] of state.sentCards) {
      if (keep.has(id)) continue;
      lostFocus = lostFocus || shown.node.contains(document.activeElement);
      shown.node.remove();
      state.sentCards.delete(id);
    }
    sent.forEach((request, index) => {
      let shown = state.sentCards.get(request.id);
      if (!shown) {
        shown = { node: sentCard(request), signature: null, request };
        state.sentCards.set(request.id, shown);
      }
      shown.request = request;
      const signature = JSON.stringify(request);
      if (shown.signature !== signature) {
        shown.node.querySelector(".summary").replaceWith(sentSummary(request));
        shown.signature = signature;
      }
      const mark = state.inboxMarks.get(request.id);
      shown.node.querySelector(".mark").textContent = mark || "";
      shown.node.className = `card sent-card ${request.status}${mark ? " updated" : ""}`;
      const open = ["pending", "accepted"].includes(request.status);
      const actions = shown.node.querySelector(".answer");
      if (actions) {
        const editing = Boolean(shown.node.querySelector(".request-form"));
        const confirming = !shown.node.querySelector(".confirm").hidden;
        actions.hidden = !open || editing || confirming;
        actions.querySelector(".edit").hidden = !beforeDeadline();
        if (!open) {
          shown.node.querySelector(".confirm").hidden = true;
          shown.node.querySelector(".request-form")?.remove();
        }
      }
      if (list.children[index] !== shown.node) list.insertBefore(shown.node, list.children[index] || null);
    });
    if (lostFocus) $("sent-title").focus();
  }

  function sentSummary(request) {
    return el(
      "div",
      { class: "summary" },
      el("h3", { text: request.title || `Meeting with ${names(others(request))}` }),
      el("p", { class: "kind", text: `${capital(kindOf(request.parties.length))} with ${names(others(request))} · ${request.duration_minutes} min` }),
      el("p", { class: "state", text: standing(request) }),
    );
  }

  function sentCard(request) {
    const node = el("li", { class: "card sent-card", dataset: { request: request.id } }, el("p", { class: "mark" }), el("div", { class: "summary" }));
    if (state.preview) return node; // read-only: the delegation edits and withdraws, never its preview
    const current = () => state.sentCards.get(request.id)?.request || request;
    const edit = el("button", { type: "button", class: "secondary edit", text: "Edit" });
    const withdraw = el("button", { type: "button", class: "secondary withdraw", text: "Withdraw…" });
    const actions = el("div", { class: "answer" }, edit, withdraw);
    // Withdrawing is final: asked once more, as declining is.
    const keep = el("button", { type: "button", class: "secondary keep", text: "Keep it" });
    const sure = el(
      "div",
      { class: "confirm", hidden: true },
      el("p", { text: "Withdraw for good? The delegations invited are told, and it cannot be asked again (ask anew instead)." }),
      el("div", { class: "answer" }, el("button", { type: "button", class: "danger confirm-withdraw", text: "Yes, withdraw", onclick: () => withdrawSent(request.id, node) }), keep),
    );
    withdraw.addEventListener("click", () => {
      actions.hidden = true;
      sure.hidden = false;
      keep.focus();
    });
    keep.addEventListener("click", () => {
      sure.hidden = true;
      actions.hidden = false;
      withdraw.focus();
    });
    edit.addEventListener("click", () => openEditor(current(), node));
    node.append(actions, sure);
    return node;
  }

  function requestPath(id) {
    return `/forums/${state.forumId}/requests/${encodeURIComponent(id)}`;
  }

  function beforeDeadline() {
    const deadline = state.inbox && state.inbox.request_deadline;
    return !deadline || new Date(deadline) > new Date();
  }

  // Read first, then withdrawn with If-Match: a colleague may have changed it since the card was drawn.
  async function withdrawSent(id, node) {
    const request = state.sentCards.get(id)?.request;
    const buttons = [...node.querySelectorAll(".confirm button")];
    buttons.forEach((button) => { button.disabled = true; });
    try {
      const now = await send("GET", requestPath(id));
      await send("POST", `${requestPath(id)}/withdraw`, undefined, now.tag);
      state.hush.set(id, (read) => read.status === "withdrawn");
      $("updates").textContent = `Withdrawn: ${label(request)}. The delegations invited are told.`;
      node.querySelector(".confirm").hidden = true;
      focusAfter(node);
    } catch (error) {
      const why = error.status === 412 ? "a colleague changed it meanwhile; it is shown as it is now. Check it, then withdraw again if you still want to" : describe(error);
      $("updates").textContent = `Not withdrawn: ${label(request)}: ${why}.`;
      if (error.status === 401) showMessage(REFUSED);
    } finally {
      buttons.forEach((button) => { button.disabled = false; });
    }
    check();
  }

  function focusAfter(node) {
    const button = node.querySelector(".answer .edit");
    if (button && !button.hidden && !node.querySelector(".answer").hidden) button.focus();
    else $("sent-title").focus();
  }

  // ---------------------------------------------------------------- asking for a meeting

  // The durations offered: whole numbers of the forum's slot (the API refuses any other), up to 4 hours.
  function durations(keep) {
    const slot = state.forum.slot_minutes;
    const offered = [];
    for (let minutes = slot; minutes <= Math.max(240, slot); minutes += slot) offered.push(minutes);
    if (keep && !offered.includes(keep)) offered.push(keep);
    return offered.sort((a, b) => a - b);
  }

  function fillDurations(select, chosen) {
    const offered = durations(chosen);
    select.replaceChildren(...offered.map((minutes) => el("option", { value: minutes, text: `${minutes} min` })));
    select.value = String(chosen || offered.find((minutes) => minutes >= 30) || offered[0]);
  }

  // A key for the request as filled in: sending the same again (no answer came back) is answered
  // once, as the first send was; anything changed is a new request with a new key.
  function idempotencyKey(body) {
    const text = JSON.stringify(body);
    if (!state.asked || state.asked.body !== text) {
      const bytes = crypto.getRandomValues(new Uint8Array(16));
      state.asked = { body: text, key: `agenda-${[...bytes].map((b) => b.toString(16).padStart(2, "0")).join("")}` };
    }
    return state.asked.key;
  }

  function setUpAsking() {
    const form = $("ask-form");
    fillDurations($("ask-duration"), null);
    $("ask-attendees").dataset.named = "[]";
    addParty();
    $("ask-add").addEventListener("click", () => {
      addParty().querySelector("input").focus();
    });
    form.addEventListener("submit", (event) => {
      event.preventDefault();
      ask();
    });
    form.addEventListener("input", (event) => clearFieldError(form, event.target));
  }

  // A field changed since the API refused it: its error goes (the next send says again if need be).
  function clearFieldError(form, input) {
    const holder = input.closest("fieldset.attendees") || input;
    if (!holder.hasAttribute("aria-invalid")) return;
    holder.removeAttribute("aria-invalid");
    const said = form.querySelector(`#${holder.id}-error`);
    if (said) said.textContent = "";
  }

  const ORDINAL = ["", "Second", "Third"];
  const MOST_INVITED = 3; // four parties at most, the requester's among them

  // One more delegation invited: a bilateral has one, a trilateral two, a quadrilateral three.
  function addParty() {
    const holder = $("ask-counterparts");
    const row = el("div", { class: "party" });
    holder.append(row);
    renumberParties();
    return row;
  }

  // Inputs numbered as the API numbers the parties it refuses: parties[0] is the requester.
  function renumberParties() {
    const rows = [...$("ask-counterparts").children];
    rows.forEach((row, index) => {
      const value = row.querySelector("input")?.value || "";
      const id = `ask-party-${index + 1}`;
      const what = index ? `${ORDINAL[index]} delegation invited` : "Delegation invited";
      const input = el("input", { id, name: `parties[${index + 1}]`, list: "ask-known", autocomplete: "off", required: true, "aria-describedby": partyDescription(id) });
      input.value = value;
      const parts = [
        el("div", { class: "field" }, el("label", { for: id, text: `${what} (its id or name)` }), input, el("p", { id: `${id}-error`, class: "field-error" })),
      ];
      if (index) {
        parts.push(
          el("button", {
            type: "button",
            class: "secondary remove-party",
            text: "Remove",
            "aria-label": `Remove the ${what.toLowerCase()}`,
            onclick: () => {
              row.remove();
              renumberParties();
              $("ask-add").focus();
            },
          }),
        );
      }
      row.replaceChildren(...parts);
    });
    $("ask-add").hidden = rows.length >= MOST_INVITED;
  }

  // The note on a private directory describes each party's field only while it is shown: a hidden
  // element named by aria-describedby is still read out.
  function partyDescription(id) {
    return state.directoryPrivate ? `ask-parties-note ${id}-error` : `${id}-error`;
  }

  // The delegations it may ask, offered as the ids are typed: the forum's directory (every delegation's
  // id, name and country; GET .../delegations is the organiser's), and those met in requests received
  // or sent (should the directory not be read). Its own delegation is not offered.
  function knownDelegations() {
    const known = new Map();
    for (const entry of state.directory) if (entry.id !== state.delegationId) known.set(entry.id, entry.name);
    for (const request of [...state.inbox.waiting, ...state.inbox.sent]) {
      for (const party of request.parties) if (party.delegation !== state.delegationId && !known.has(party.delegation)) known.set(party.delegation, party.name);
    }
    return known;
  }

  function showAsking() {
    $("ask-section").hidden = $("ask-link").hidden = false;
    $("ask-parties-note").hidden = !state.directoryPrivate;
    for (const input of $("ask-counterparts").querySelectorAll("input")) input.setAttribute("aria-describedby", partyDescription(input.id));
    const known = knownDelegations();
    const list = $("ask-known");
    if (list.dataset.shown !== JSON.stringify([...known])) {
      list.dataset.shown = JSON.stringify([...known]);
      list.replaceChildren(...[...known].sort((a, b) => a[1].localeCompare(b[1]) || a[0].localeCompare(b[0])).map(([id, name]) => el("option", { value: id, label: `${name} (${id})` })));
    }
    const deadline = state.inbox.request_deadline;
    const open = beforeDeadline();
    $("ask-form").hidden = !open;
    $("ask-note").textContent = open
      ? `Your delegation has agreed by asking; the delegations invited each accept or decline.${deadline ? ` Requests can be sent until ${moment(deadline)}.` : ""}`
      : `The request deadline (${moment(deadline)}) has passed: no more meetings can be asked for here. Ask the organiser, who can still arrange one.`;
  }

  // A typed name of a known delegation stands for its id.
  function partyId(value) {
    const typed = value.trim();
    for (const [id, name] of knownDelegations()) if (name.toLowerCase() === typed.toLowerCase()) return id;
    return typed;
  }

  // "2024-06-01T14:00" of a datetime-local input as the API takes it, in the forum's time.
  const local = (value) => `${value}:00`;

  function preferredOf(from, to) {
    if (!from && !to) return { windows: [], errors: [] };
    if (!from) return { windows: [], errors: [{ field: "preferred[0].start", message: "give the start too, or neither" }] };
    if (!to) return { windows: [], errors: [{ field: "preferred[0].end", message: "give the end too, or neither" }] };
    return { windows: [{ start: local(from), end: local(to) }], errors: [] };
  }

  async function ask() {
    const form = $("ask-form");
    const button = $("ask-send");
    const parties = [...$("ask-counterparts").querySelectorAll("input")].map((input) => partyId(input.value));
    const preferred = preferredOf($("ask-from").value, $("ask-to").value);
    const errors = [...preferred.errors];
    parties.forEach((party, index) => {
      if (!party) errors.push({ field: `parties[${index + 1}]`, message: "name a delegation (its id)" });
    });
    if (errors.length) {
      showFieldErrors(form, errors, askField);
      $("updates").textContent = "Not sent: check the fields marked.";
      return;
    }
    const body = {
      parties: [state.delegationId, ...parties],
      title: $("ask-title-input").value.trim(),
      duration_minutes: Number($("ask-duration").value),
      priority: $("ask-priority").value,
      preferred: preferred.windows,
      attendees: { [state.delegationId]: [...$("ask-attendees").querySelectorAll("input:checked")].map((box) => box.value) },
    };
    showFieldErrors(form, [], askField);
    button.disabled = true;
    try {
      const made = await send("POST", `/forums/${state.forumId}/requests`, body, null, { "Idempotency-Key": idempotencyKey(body) });
      const request = made.body;
      state.hush.set(request.id, () => true);
      state.asked = null;
      const invited = parties.map((id) => knownDelegations().get(id) || id);
      const what = request.title ? `"${request.title}"` : "a meeting";
      $("updates").textContent = `Sent: your delegation asked ${invited.join(", ")} for ${what}, ${request.duration_minutes} min. It waits for their answer.`;
      resetAsking();
      $("sent-title").focus();
      check();
    } catch (error) {
      if (error.status === 422 || error.status === 400) {
        showFieldErrors(form, error.problem.errors || [], askField, error.message);
        $("updates").textContent = `Not sent: ${error.message}`;
      } else {
        form.querySelector(".form-error").textContent = describe(error);
        $("updates").textContent = `Not sent: ${describe(error)}`;
        if (error.status === 401) showMessage(REFUSED);
      }
    } finally {
      button.disabled = false;
    }
  }

  function resetAsking() {
    $("ask-counterparts").replaceChildren();
    addParty();
    $("ask-title-input").value = $("ask-from").value = $("ask-to").value = "";
    $("ask-priority").value = "normal";
    fillDurations($("ask-duration"), null);
    for (const box of $("ask-attendees").querySelectorAll("input")) delete box.dataset.touched;
    fillChoices($("ask-attendees"));
  }

  // Where the ask form shows an error the API names: its field's id, or null (below the form).
  function askField(field) {
    const party = /^parties\[(\d+)\]$/.exec(field);
    if (party && Number(party[1]) > 0) return `ask-party-${party[1]}`;
    if (field === "parties" || field.startsWith("parties")) return "ask-parties";
    if (field === "title") return "ask-title-input";
    if (field === "duration_minutes") return "ask-duration";
    if (field === "priority") return "ask-priority";
    if (field.startsWith("attendees")) return "ask-attendees";
    if (/^preferred\[\d+\]\.start$/.test(field)) return "ask-from";
    if (field.startsWith("preferred")) return "ask-to";
    return null;
  }

  // The API's field errors beside their fields, as the API names them ("parties[1]: no delegation
  // XX"); any other below the form; the first faulty field takes the focus.
  function showFieldErrors(form, errors, where, fallback) {
    for (const node of form.querySelectorAll(".field-error")) node.textContent = "";
    for (const node of form.querySelectorAll("[aria-invalid]")) node.removeAttribute("aria-invalid");
    const other = [];
    let first = null;
    for (const error of errors) {
      const id = where(error.field);
      const target = id && form.querySelector(`#${id}`);
      if (!target) {
        other.push(`${error.field}: ${error.message}`);
        continue;
      }
      const said = form.querySelector(`#${id}-error`);
      said.textContent = [said.textContent, `${error.field}: ${error.message}`].filter(Boolean).join("; ");
      target.setAttribute("aria-invalid", "true");
      first = first || target;
    }
    if (errors.length && !first && !other.length && fallback) other.push(fallback);
    form.querySelector(".form-error").textContent = other.join("; ");
    if (first) (first.matches("fieldset") ? first.querySelector("input, button") || first : first).focus();
  }

  // ---------------------------------------------------------------- editing a request sent

  // The request read (GET, its ETag kept for If-Match) and shown in a form in its card: title,
  // duration, who attends for the delegation, the preferred time. Room needs (features, seats) and
  // earliest/latest are the API's (PATCH) only.
  async function openEditor(request, node) {
    let now;
    try {
      now = await send("GET", requestPath(request.id));
    } catch (error) {
      $("updates").textContent = `Cannot edit ${label(request)}: ${describe(error)}`;
      if (error.status === 401) showMessage(REFUSED);
      check();
      return;
    }
    node.querySelector(".request-form")?.remove();
    const key = `edit-${request.id.replace(/[^A-Za-z0-9_-]/g, "_")}`;
    const field = (name, text, input) => {
      input.id = `${key}-${name}`;
      input.name = name;
      input.setAttribute("aria-describedby", `${input.id}-error`);
      return el("div", { class: "field" }, el("label", { for: input.id, text }), input, el("p", { id: `${input.id}-error`, class: "field-error" }));
    };
    const choices = el("fieldset", { class: "attendees", id: `${key}-attendees`, "aria-describedby": `${key}-attendees-error` }, el("legend", { text: "Who attends for you (none ticked: your principals)" }));
    const form = el(
      "form",
      { class: "request-form edit-form", novalidate: true },
      el("h4", { text: "Edit this request" }),
      field("title", "Title", el("input", { maxlength: 200 })),
      field("duration_minutes", "Duration", el("select")),
      choices,
      el("p", { id: `${key}-attendees-error`, class: "field-error" }),
      el(
        "fieldset",
        {},
        el("legend", { text: "Preferred time (in the forum's time; empty: none)" }),
        field("from", "From", el("input", { type: "datetime-local" })),
        field("to", "Until", el("input", { type: "datetime-local" })),
        el("p", { class: "note more-windows" }),
      ),
      el("p", { class: "note asks-again" }),
      el("p", { class: "field-error form-error" }),
      el("div", { class: "answer" }, el("button", { type: "submit", class: "save", text: "Save changes" }), el("button", { type: "button", class: "secondary cancel", text: "Cancel" })),
    );
    const shown = { form, loaded: null, tag: null, id: request.id };
    fillEditor(shown, now);
    form.querySelector(".cancel").addEventListener("click", () => {
      form.remove();
      node.querySelector(".answer").hidden = false;
      node.querySelector(".edit").focus();
    });
    form.addEventListener("submit", (event) => {
      event.preventDefault();
      saveEdit(shown, node);
    });
    form.addEventListener("input", (event) => clearFieldError(form, event.target));
    node.querySelector(".answer").hidden = true;
    node.append(form);
    form.elements.title.focus();
  }

  // The form filled from the request as read now (`now`: {body, tag}), with who would be asked again.
  function fillEditor(shown, now) {
    const form = shown.form;
    const record = now.body;
    const windows = record.preferred || [];
    const minute = (value) => (value ? String(value).slice(0, 16) : "");
    shown.tag = now.tag;
    shown.loaded = {
      title: record.title,
      duration_minutes: record.duration_minutes,
      from: minute(windows[0]?.start),
      to: minute(windows[0]?.end),
      attendees: ownAttendees(record),
    };
    form.elements.title.value = record.title;
    fillDurations(form.elements.duration_minutes, record.duration_minutes);
    form.elements.from.value = shown.loaded.from;
    form.elements.to.value = shown.loaded.to;
    const choices = form.querySelector("fieldset.attendees");
    for (const box of choices.querySelectorAll("input")) delete box.dataset.touched;
    choices.dataset.named = JSON.stringify(shown.loaded.attendees);
    fillChoices(choices);
    for (const box of choices.querySelectorAll("input")) box.checked = shown.loaded.attendees.length ? shown.loaded.attendees.includes(box.value) : state.people.find((p) => p.id === box.value)?.principal;
    form.querySelector(".more-windows").textContent =
      windows.length > 1 ? `It names ${windows.length} preferred windows; the first is shown. A change here keeps only this one.` : "";
    const accepted = record.parties.filter((p) => p.delegation !== state.delegationId && p.status === "accepted");
    const them = accepted.map((p) => knownDelegations().get(p.delegation) || p.delegation);
    form.querySelector(".asks-again").textContent = them.length
      ? `A change of the duration or the preferred time asks ${them.join(" and ")} again: ${them.length > 1 ? "they have" : "it has"} accepted, and would have to accept again. The title and who attends can change without that.`
      : "";
    showFieldErrors(form, [], () => null);
  }

  async function saveEdit(shown, node) {
    const form = shown.form;
    const button = form.querySelector(".save");
    const was = shown.loaded;
    const changes = {};
    const title = form.elements.title.value.trim();
    if (title !== was.title) changes.title = title;
    const duration = Number(form.elements.duration_minutes.value);
    if (duration !== was.duration_minutes) changes.duration_minutes = duration;
    const from = form.elements.from.value;
    const to = form.elements.to.value;
    const where = editField(form);
    if (from !== was.from || to !== was.to) {
      const preferred = preferredOf(from, to);
      if (preferred.errors.length) {
        showFieldErrors(form, preferred.errors, where);
        return;
      }
      changes.preferred = preferred.windows;
    }
    const ticked = [...form.querySelectorAll("fieldset.attendees input:checked")].map((box) => box.value);
    const before = was.attendees.length ? was.attendees : state.people.filter((p) => p.principal).map((p) => p.id);
    if (JSON.stringify([...ticked].sort()) !== JSON.stringify([...before].sort())) changes.attendees = { [state.delegationId]: ticked };
    const request = state.sentCards.get(shown.id)?.request;
    if (!Object.keys(changes).length) {
      $("updates").textContent = `Nothing to save: ${label(request)} is as it was.`;
      return;
    }
    showFieldErrors(form, [], where);
    button.disabled = true;
    try {
      const saved = await send("PATCH", requestPath(shown.id), changes, shown.tag);
      state.hush.set(shown.id, (read) => read.title === saved.body.title && read.duration_minutes === saved.body.duration_minutes);
      const again = saved.body.parties.filter((p) => p.delegation !== state.delegationId && p.status === "pending" && request?.parties.find((q) => q.delegation === p.delegation)?.status === "accepted");
      const asked = again.length ? ` ${names(again.map((p) => ({ name: knownDelegations().get(p.delegation) || p.delegation })))} ${again.length > 1 ? "are" : "is"} asked again.` : "";
      $("updates").textContent = `Saved: ${saved.body.title ? `"${saved.body.title}"` : label(request)}.${asked}`;
      form.remove();
      node.querySelector(".answer").hidden = false;
      node.querySelector(".edit").focus();
    } catch (error) {
      if (error.status === 412) {
        // A colleague's edit since the form was filled: shown as it is now, never overwritten unseen.
        try {
          fillEditor(shown, await send("GET", requestPath(shown.id)));
          $("updates").textContent = `Not saved: a colleague changed ${label(request)} meanwhile; the form shows it as it is now. Check it, then save again.`;
          form.elements.title.focus();
        } catch (again) {
          $("updates").textContent = `Not saved: ${describe(again)}`;
        }
      } else if (error.status === 422 || error.status === 400) {
        showFieldErrors(form, error.problem.errors || [], where, error.message);
        $("updates").textContent = `Not saved: ${error.message}`;
      } else {
        form.querySelector(".form-error").textContent = describe(error);
        $("updates").textContent = `Not saved: ${describe(error)}`;
        if (error.status === 401) showMessage(REFUSED);
      }
    } finally {
      button.disabled = false;
    }
    check();
  }

  function editField(form) {
    const key = form.elements.title.id.replace(/-title$/, "");
    return (field) => {
      if (field === "title" || field === "duration_minutes") return `${key}-${field}`;
      if (field.startsWith("attendees")) return `${key}-attendees`;
      if (/^preferred\[\d+\]\.start$/.test(field)) return `${key}-from`;
      if (field.startsWith("preferred")) return `${key}-to`;
      return null;
    };
  }

  function standing(request) {
    const them = others(request);
    const by = (status) => names(them.filter((p) => p.status === status));
    switch (request.status) {
      case "accepted":
        return "Accepted by all: it goes into the next agenda the organiser publishes.";
      case "declined":
        return `Declined by ${by("declined")}.`;
      case "withdrawn":
        return "Withdrawn.";
      case "expired":
        return `Expired: ${by("pending")} did not answer before the deadline.`;
      default:
        return `${by("accepted") ? `Accepted by ${by("accepted")}; w` : "W"}aiting for ${by("pending")}.`;
    }
  }

  // What changed between two readings of the requests; marks the requests it names until the next.
  function inboxNews(before, after) {
    const at = clock(new Date());
    state.inboxMarks = new Map();
    if (!before) return [];
    const said = [];
    const was = new Map(before.waiting.map((request) => [request.id, request]));
    const now = new Set(after.waiting.map((request) => request.id));
    for (const request of after.waiting) {
      if (was.has(request.id) || state.answered.has(request.id)) continue;
      const from = request.parties.find((p) => p.role === "requester");
      said.push(`new request from ${from ? from.name : "the organiser"}: ${label(request)}`);
      state.inboxMarks.set(request.id, `New at ${at}`);
    }
    for (const request of before.waiting) {
      if (!now.has(request.id) && !state.answered.has(request.id)) said.push(`${label(request)} no longer waits for your answer`);
    }
    const sent = new Map(before.sent.map((request) => [request.id, request]));
    for (const request of after.sent) {
      const hushed = state.hush.get(request.id);
      if (hushed) {
        if (hushed(request)) state.hush.delete(request.id); // said when it was done here
        continue;
      }
      const earlier = sent.get(request.id);
      if (!earlier) {
        said.push(`your delegation asked ${names(others(request))} for ${label(request)}`);
        state.inboxMarks.set(request.id, `Sent at ${at}`);
        continue;
      }
      const answers = others(request).filter((p) => {
        const old = earlier.parties.find((q) => q.delegation === p.delegation);
        return old && old.status !== p.status && p.status !== "pending";
      });
      for (const party of answers) said.push(`${party.name} ${party.status} your request ${label(request)}`);
      const who = (r) => others(r).map((p) => p.delegation).join(" ");
      const regrouped = who(earlier) !== who(request); // only the organiser changes a request's parties
      if (regrouped) said.push(`the organiser changed who meets in your request ${label(request)}: now with ${names(others(request))}`);
      if (earlier.status !== request.status && (request.status === "withdrawn" || request.status === "expired")) {
        said.push(`your request ${label(request)} ${request.status === "withdrawn" ? "was withdrawn" : "expired"}`);
      }
      if (answers.length || regrouped || earlier.status !== request.status) state.inboxMarks.set(request.id, `${answers.length ? "Answered" : "Changed"} at ${at}`);
    }
    return said;
  }
})();
