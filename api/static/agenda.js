// A delegation's agenda on a phone: its own meetings day by day, its calendar feed, its inbox.
"use strict";

(() => {
  const { api, every, el, wall, dayName, kindOf } = Sidelines;
  const $ = (id) => document.getElementById(id);
  const state = { token: null, forumId: null, delegationId: null, agenda: null, people: [] };

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
    $("person-filter").addEventListener("change", renderAgenda);
    await Promise.all([loadAgenda(), loadInbox(), loadCalendar()]);
  }

  // ---------------------------------------------------------------- agenda

  async function loadAgenda() {
    try {
      state.agenda = await call("GET", `${delegationPath()}/agenda/detailed`);
    } catch (error) {
      if (error.status !== 404) throw error;
      state.agenda = null;
    }
    const filter = $("person-filter");
    filter.replaceChildren(
      el("option", { value: "", text: "everyone in the delegation" }),
      ...state.people.map((p) => el("option", { value: p.id, text: `${p.name}${p.principal ? " (principal)" : ""}` })),
    );
    if (state.agenda) {
      $("title").textContent = `${state.agenda.delegation.name} · agenda`;
      $("subtitle").textContent = `${state.agenda.forum} · published version ${state.agenda.version} · times in ${state.agenda.time_zone}`;
      document.title = `${state.agenda.delegation.name} · agenda`;
    } else {
      $("title").textContent = `${state.delegationId} · agenda`;
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
    return el(
      "li",
      { class: "card meeting-card", dataset: { meeting: meeting.meeting } },
      el("p", { class: "when" }, el("time", { datetime: meeting.start, text: `${start.time}–${end.time}` })),
      el("h4", { text: with_ ? `With ${with_}` : meeting.title || meeting.meeting }),
      el("p", { class: "kind", text: [kindOf(meeting.counterparts.length + 1), meeting.title].filter(Boolean).join(" · ") }),
      el("p", { class: "where" }, el("strong", { text: "Room: " }), meeting.room_name, meeting.venue ? `, ${meeting.venue}` : ""),
      el("p", { class: "who" }, el("strong", { text: "Yours: " }), own.map((a) => a.name).join(", ") || "–"),
      theirs.length ? el("p", { class: "who" }, el("strong", { text: "Theirs: " }), theirs.map((a) => a.name).join(", ")) : null,
    );
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
