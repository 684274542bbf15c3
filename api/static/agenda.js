// A delegation's agenda on a phone: its own meetings day by day, its calendar feed, its inbox.
"use strict";

(() => {
  const { api, every, el, wall, dayName, kindOf, ApiError } = Sidelines;
  const $ = (id) => document.getElementById(id);
  const state = {
    token: null,
    forumId: null,
    delegationId: null,
    agenda: null, // the detailed agenda shown, or null before anything is published
    etag: null, // its ETag: the next read asks If-None-Match, and an unchanged agenda answers 304
    people: [],
    marks: new Map(), // meeting id -> what the last update did to it ("Moved at 14:32"), shown on its card
    checked: null, // when the server last answered (a Date): "last updated" while offline
    offline: false,
    checking: false, // a read is under way: never two at once
    checkAgain: false, // another was asked for meanwhile
    stopped: false, // the token was refused: reading again cannot help
  };
  // How often an open page asks whether its agenda changed (a conditional GET: 304 while it has
  // not, two small statements on the server); also at once when the tab is shown again, the window
  // takes the focus or the network comes back. A read that hangs is given up after READ_MS.
  const POLL_MS = 20000;
  const READ_MS = 10000;

  Sidelines.start("The agenda", (token) => {
    state.token = token;
    return open();
  }, showMessage);

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
    if (me.kind !== "delegation") {
      showMessage("This page is for a delegation. An organiser's token opens /grid.");
      return;
    }
    state.forumId = me.forum_id;
    state.delegationId = me.delegation_id;
    state.people = await call("GET", `${delegationPath()}/participants`);
    $("app").hidden = false;
    const filter = $("person-filter");
    filter.replaceChildren(
      el("option", { value: "", text: "everyone in the delegation" }),
      ...state.people.map((p) => el("option", { value: p.id, text: `${p.name}${p.principal ? " (principal)" : ""}` })),
    );
    filter.addEventListener("change", renderAgenda);
    await Promise.all([loadAgenda(), loadInbox(), loadCalendar()]);
    watch();
  }

  // ---------------------------------------------------------------- agenda

  async function loadAgenda() {
    const read = await readAgenda();
    state.checked = new Date();
    if (read.changed) {
      state.agenda = read.agenda;
      state.etag = read.etag;
    }
    showAgenda();
  }

  // The agenda if it changed since the one held: {changed: false} on a 304, else {changed: true,
  // agenda, etag}, with agenda null before anything is published (404). Throws when unreachable.
  async function readAgenda() {
    const headers = { Authorization: `Bearer ${state.token}`, Accept: "application/json" };
    if (state.etag) headers["If-None-Match"] = state.etag;
    const stop = new AbortController();
    const timer = setTimeout(() => stop.abort(), READ_MS);
    try {
      // no-store: the 304 reaches this script, rather than the browser's cache answering for it.
      const answer = await fetch(`${delegationPath()}/agenda/detailed`, { headers, cache: "no-store", signal: stop.signal });
      if (answer.status === 304) return { changed: false };
      if (answer.status === 404) return { changed: state.agenda !== null, agenda: null, etag: null };
      const body = await answer.json().catch(() => null);
      if (!answer.ok) throw new ApiError(answer.status, body);
      return { changed: true, agenda: body, etag: answer.headers.get("ETag") };
    } finally {
      clearTimeout(timer);
    }
  }

  function showAgenda() {
    if (state.agenda) {
      $("title").textContent = `${state.agenda.delegation.name} · agenda`;
      $("subtitle").textContent = `${state.agenda.forum} · published version ${state.agenda.version} · times in ${state.agenda.time_zone}`;
      document.title = `${state.agenda.delegation.name} · agenda`;
    } else {
      $("title").textContent = `${state.delegationId} · agenda`;
      $("subtitle").textContent = "";
    }
    renderAgenda();
  }

  function renderAgenda() {
    const days = $("days");
    if (!state.agenda) {
      $("agenda-note").textContent = "No agenda has been published yet.";
      days.replaceChildren();
      return;
    }
    const person = $("person-filter").value;
    const meetings = state.agenda.meetings.filter(
      (m) => !person || m.attendees.some((a) => a.delegation === state.delegationId && a.participant === person),
    );
    $("agenda-note").textContent = meetings.length
      ? `${meetings.length} meeting${meetings.length > 1 ? "s" : ""}.`
      : "No meetings.";
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

  // ---------------------------------------------------------------- kept up to date

  // Polled, not streamed, as the grid page is: staff keep this page open all day on a phone, and
  // a stream would hold a connection (and read the database twice a second) for each open page.
  // The ETag is a digest of the agenda itself: a 304 says nothing but "as you have it".
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
    if (document.hidden || state.stopped) return;
    if (state.checking) {
      // One read at a time; one asked for meanwhile runs once this one is done (it may have
      // been sent before what the new ask is about).
      state.checkAgain = true;
      return;
    }
    state.checking = true;
    try {
      const before = state.agenda;
      const read = await readAgenda();
      state.checked = new Date();
      if (read.changed) {
        state.agenda = read.agenda;
        state.etag = read.etag;
        announce(before, read.agenda);
        showAgenda(); // the filter, the inbox and the focus are left as they are
      }
      if (state.offline) {
        state.offline = false;
        $("connection").textContent = `Back online, up to date at ${clock(state.checked)}.`;
      } else {
        $("connection").textContent = ""; // said at the read before: the page is simply current again
      }
    } catch (error) {
      if (error.status === 401) {
        state.stopped = true;
        showMessage("This token is no longer accepted: open the page again with the delegation's new token.");
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

  // HH:MM of a moment in the forum's time zone, as the meetings are shown (the viewer's before
  // anything is published).
  function clock(moment) {
    const zone = state.agenda ? { timeZone: state.agenda.time_zone } : {};
    return new Intl.DateTimeFormat("en-GB", { hour: "2-digit", minute: "2-digit", hourCycle: "h23", ...zone }).format(moment);
  }

  // Says what changed between two readings of the agenda, in the live region, and marks the
  // meetings it names until the next change.
  function announce(before, after) {
    const at = clock(new Date());
    const said = [];
    state.marks = new Map();
    if (!after) {
      said.push("the agenda is no longer published");
    } else if (!before) {
      const count = after.meetings.length;
      said.push(`the agenda has been published: ${count} meeting${count === 1 ? "" : "s"}`);
    } else {
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
      if (!said.length && before.version !== after.version) {
        said.push(`version ${after.version} published, your meetings are unchanged`);
      } else if (!said.length) {
        said.push("names in your agenda changed");
      }
    }
    const shown = said.length > 4 ? [...said.slice(0, 3), `and ${said.length - 3} more changes, marked below`] : said;
    $("agenda-updates").textContent = `Updated ${at}: ${shown.join("; ")}.`;
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

  // ---------------------------------------------------------------- inbox

  async function loadInbox() {
    const requests = await every(state.token, `/forums/${state.forumId}/requests`);
    const waiting = requests.filter((request) =>
      request.status === "pending" &&
      request.parties.some((p) => p.delegation === state.delegationId && p.role === "invitee" && p.status === "pending"),
    );
    $("inbox-count").textContent = `(${waiting.length})`;
    $("inbox").replaceChildren(...waiting.map(requestCard));
    if (!waiting.length) $("inbox-status").textContent = $("inbox-status").textContent || "Nothing waiting.";
  }

  function requestCard(request) {
    const others = request.parties.filter((p) => p.delegation !== state.delegationId);
    const legend = `Who attends for you (none ticked: your principals)`;
    const choices = el(
      "fieldset",
      { class: "attendees" },
      el("legend", { text: legend }),
      state.people.map((p) =>
        el(
          "label",
          {},
          el("input", { type: "checkbox", value: p.id, checked: p.principal }),
          ` ${p.name}`,
        ),
      ),
    );
    const answer = async (accept) => {
      const path = `/forums/${state.forumId}/requests/${encodeURIComponent(request.id)}/${accept ? "accept" : "decline"}`;
      const attendees = [...choices.querySelectorAll("input:checked")].map((box) => box.value);
      try {
        await call("POST", path, accept ? { attendees } : undefined);
        $("inbox-status").textContent = `${accept ? "Accepted" : "Declined"}: ${request.title || request.id}.`;
        await loadInbox();
      } catch (error) {
        $("inbox-status").textContent = `Could not answer: ${error.message}`;
      }
    };
    return el(
      "li",
      { class: "card request-card", dataset: { request: request.id } },
      el("h4", { text: request.title || `Meeting with ${others.map((p) => p.delegation).join(", ")}` }),
      el(
        "p",
        { text: `${kindOf(request.parties.length)} with ${others.map((p) => p.delegation).join(", ")} · ${request.duration_minutes} min · ${request.priority}` },
      ),
      request.requester ? el("p", { class: "note", text: `Asked by ${request.requester}` }) : null,
      choices,
      el(
        "div",
        { class: "answer" },
        el("button", { type: "button", class: "accept", text: "Accept", onclick: () => answer(true) }),
        el("button", { type: "button", class: "secondary decline", text: "Decline", onclick: () => answer(false) }),
      ),
    );
  }
})();
