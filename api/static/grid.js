// The organiser's meeting grid: rooms across, time down, one sheet a day.
"use strict";

(() => {
  const { api, every, events, el, wall, dayName, kindOf, describe, ApiError } = Sidelines;
  const $ = (id) => document.getElementById(id);

  const state = {
    token: null,
    forumId: null,
    forum: null,
    problem: null,
    requests: new Map(), // request id -> request (status, title)
    versions: [],
    version: null, // number shown
    grid: null,
    compare: null, // number compared with, or null
    changed: new Map(), // meeting id -> "moved" | "new"
    day: 0,
    pending: null, // the move being checked: {meeting, start, room, check}
    grab: 0, // rows between the top of a dragged block and the pointer
    shows: 0, // calls of show(): only the latest may draw
    shown: 0, // the latest show() that has ended (drawn, or failed): below `shows` while one reads
    note: "", // what the summary adds about the comparison (it could not be made)
    pulse: null, // the forum's revision and version numbers when the page last read them
    checking: false, // a check for a colleague's work is under way
    checkAgain: false, // another check was asked for meanwhile
    // Read once per setup, so that drawing 1,000+ meetings looks each one up rather than searches.
    meetingById: new Map(),
    countryOf: new Map(), // delegation id -> country code
    nameOf: new Map(), // delegation id -> its name (a block's title)
    participantName: new Map(), // participant id -> name (a listed session's title)
    // Filled as the grid is drawn, so that finding a delegation touches only its own meetings.
    blockOf: new Map(), // meeting id -> {node, day}
    blocksOf: new Map(), // delegation id -> [{node, day}] (placed meetings)
    unplacedOf: new Map(), // delegation id -> [list item]
    found: [], // nodes marked as a found delegation's
    findSaid: null, // a timer: the result is said once the typing pauses
    run: null, // the run the page started and follows: its number, while it has not ended
    offlineSince: null, // when the check for a colleague's work first failed (a Date), until it answers again
    compact: null, // narrow columns: null until the organiser chooses (then: more than COMPACT_ROOMS rooms)
    changeSent: null, // {body, key}: the last change sent from the form and its Idempotency-Key (a retry reuses it)
  };
  // How often an open page asks whether a colleague has edited the setup, added or published a
  // version (GET .../revision: one small statement); also at once when the tab is shown again.
  const CHECK_MS = 15000;
  // Past this many rooms the columns are narrow by default (UNGA's 20 booths fit 1600 px).
  const COMPACT_ROOMS = 12;
  const READ_MS = 10000; // a check that hangs is given up after this, and counts as a failure
  // The full solve builds the whole grid again: after publication, the organiser is asked first.
  const FULL_SOLVE_WARNING =
    "A full solve builds the whole grid again and may move any meeting, including published ones that no change " +
    "touches: once its version is published, every delegation whose meetings moved has to learn them. " +
    "Re-solve from the published grid instead to move only what changes force.\n\nStart a full solve all the same?";

  // ---------------------------------------------------------------- start

  Sidelines.start("The grid", (token) => {
    state.token = token;
    return open();
  }, showMessage);

  async function open() {
    const me = await call("GET", "/me");
    if (me.kind !== "organiser") {
      showMessage("This page is for a forum's organiser. A delegation's token opens /agenda.");
      return;
    }
    state.forumId = me.forum_id;
    // The requests page keeps its token under its own name: it goes in the fragment, as the preview's.
    $("requests-link").href = `/requests#${new URLSearchParams({ token: state.token })}`;
    // Read before everything else: an edit made while the page loads moves it, and is caught up.
    state.pulse = await call("GET", `${forumPath()}/revision`);
    await loadSetup();
    $("forum-name").textContent = `${state.forum.name} · meeting grid`;
    document.title = `${state.forum.name} · meeting grid`;
    wireControls();
    $("app").hidden = false;
    await loadVersions();
    const latest = state.versions.at(-1);
    if (latest) await show(latest.number, null);
    else {
      render();
      summarise();
    }
    watch();
  }

  // The forum's stored setup (rooms, meetings, requests): read again once it may have been
  // edited, so that a new meeting or room shows by name rather than as an unknown id. Without the
  // recorded changes (`changes=false`): a meeting a change cancelled keeps its title in the
  // versions made before it; what the changes mean for a move is the server's check to say.
  async function loadSetup() {
    const base = forumPath();
    const [forum, problemView, requests] = await Promise.all([
      call("GET", base),
      call("GET", `${base}/problem?changes=false`),
      every(state.token, `${base}/requests`),
    ]);
    state.forum = forum;
    state.problem = problemView.problem;
    state.requests = new Map(requests.map((request) => [request.id, request]));
    state.meetingById = new Map(state.problem.meetings.map((meeting) => [meeting.id, meeting]));
    state.countryOf = new Map(state.problem.delegations.map((d) => [d.id, d.country]));
    state.nameOf = new Map(state.problem.delegations.map((d) => [d.id, d.name]));
    const people = state.problem.delegations.flatMap((d) => (d.participants || []).map((p) => [p, d.id]));
    state.participantName = new Map(people.map(([p]) => [p.id, p.name]));
    fillSelect($("print-room-select"), state.problem.rooms.map((room) => [room.id, room.name]));
    fillChangeChoices();
    fillSelect(
      $("find-options"),
      [...state.problem.delegations]
        .sort((a, b) => a.name.localeCompare(b.name))
        .map((delegation) => [delegationLabel(delegation), ""]),
    );
  }

  function forumPath() {
    return `/forums/${state.forumId}`;
  }

  function call(method, path, body) {
    return api(state.token, method, path, body);
  }

  function showMessage(text) {
    $("message").textContent = text;
    $("message").hidden = !text;
  }

  // ---------------------------------------------------------------- versions

  // The selects keep what they show: a list read again while the page is open (a colleague's
  // work) neither changes the version chosen nor closes a select being used when nothing changed.
  async function loadVersions() {
    state.versions = await every(state.token, `${forumPath()}/schedules`);
    fillSelect($("version-select"), state.versions.map((v) => [String(v.number), versionLabel(v)]));
    fillSelect($("compare-select"), [["", "nothing"], ...state.versions.map((v) => [String(v.number), `version ${v.number}`])]);
    $("version-select").disabled = $("compare-select").disabled = state.versions.length === 0;
    showSolveActions();
  }

  function publishedVersion() {
    return state.versions.find((version) => version.published) || null;
  }

  // Before any publication the only action is a solve; after it, the re-solve comes first, and the
  // full solve is labelled as what it is.
  function showSolveActions() {
    const published = publishedVersion() !== null;
    $("resolve-control").hidden = !published;
    const button = $("solve-button");
    const text = published ? "Full solve (may move any meeting)" : "Start a solve";
    if (button.textContent !== text) button.textContent = text;
    button.classList.toggle("secondary", published);
  }

  function fillSelect(select, options) {
    const same = select.options.length === options.length &&
      options.every(([value, text], index) => select.options[index].value === value && select.options[index].text === text);
    if (same) return;
    const chosen = select.value;
    select.replaceChildren(...options.map(([value, text]) => el("option", { value, text })));
    if (options.some(([value]) => value === chosen)) select.value = chosen;
  }

  function versionLabel(version) {
    const parts = [`v${version.number}`, version.status || "?", `${version.placed} placed`];
    if (version.unplaced) parts.push(`${version.unplaced} unplaced`);
    if (version.run_id === null) parts.push("manual");
    if (version.published) parts.push("published");
    if (version.out_of_date) parts.push("out of date");
    return parts.join(" · ");
  }

  // Two versions chosen in quick succession start two calls whose answers may
  // come back in either order: only the latest call draws, so the grid shown
  // is always the version the select names.
  //
  // Until it is drawn, the version the select names is not the one shown: the publish button is
  // disabled meanwhile, or a click would publish the version still drawn (showPublish keeps it so
  // when a colleague's work, caught up meanwhile, summarises the version still drawn).
  async function show(number, compare) {
    const thisShow = ++state.shows;
    const pulse = state.pulse; // a check that catches up meanwhile may find this read too old
    $("publish-button").disabled = true;
    let grid;
    try {
      grid = await call("GET", `${forumPath()}/schedules/${number}`);
    } catch (error) {
      if (thisShow === state.shows) state.shown = thisShow;
      if (thisShow === state.shows && state.grid) {
        $("version-select").value = String(state.version); // the version still shown
        showPublish(state.grid);
      }
      throw error;
    }
    const changed = new Map();
    let note = "";
    if (compare !== null && compare !== number) {
      try {
        const diff = await call("GET", `${forumPath()}/schedules/${compare}/diff/${number}`);
        for (const move of diff.moved || []) changed.set(move.meeting, "moved");
        for (const added of diff.added || []) changed.set(added.meeting, "new");
      } catch (error) {
        note = ` Changes since version ${compare} could not be compared (${error.message}).`;
      }
    }
    if (thisShow !== state.shows) return; // a later show() has begun
    if (state.pulse !== pulse) return show(number, compare); // read before a colleague's work it has caught up to
    state.shown = thisShow;
    state.grid = grid;
    state.version = number;
    state.compare = compare;
    state.changed = changed;
    $("version-select").value = String(number);
    $("compare-select").value = compare === null ? "" : String(compare);
    state.note = note;
    clearMove();
    render();
    summarise();
  }

  function summarise() {
    const grid = state.grid;
    if (!grid) {
      // No version yet (a forum just loaded): nothing to publish, undo or print a caption for.
      $("summary").textContent = "No version yet: start a solve to make the first one.";
      $("publish-button").disabled = true;
      $("undo-button").hidden = true;
      return;
    }
    const objective = grid.objective !== null ? `, objective ${grid.objective}` : "";
    let text = `Version ${grid.number} (${grid.status || "?"}${objective}): ${grid.placements.length} placed, `;
    text += `${grid.unplaced.length} unplaced${grid.published ? ", published" : ""}.`;
    if (state.compare !== null && !state.note) {
      const moved = [...state.changed.values()].filter((kind) => kind === "moved").length;
      const added = state.changed.size - moved;
      text += ` Since version ${state.compare}: ${moved} moved, ${added} new.`;
    }
    // Written only when it changes: the summary is a live region, and a colleague's edit
    // elsewhere should not have it read out again unchanged.
    if ($("summary").textContent !== text + state.note) $("summary").textContent = text + state.note;
    $("print-caption").textContent = printCaption(grid);
    showOutOfDate(grid);
    showPublish(grid);
    showUndo(grid);
  }

  // The notice does not print (it would push each day off its A3 page); the caption says it in
  // a few words instead, so that a paper copy of an out-of-date grid cannot pass for current.
  function printCaption(grid) {
    const stale = grid.out_of_date ? ` · out of date: ${editCount(grid.out_of_date)} since it was built` : "";
    return `${state.forum.name} · version ${grid.number}${grid.published ? " (published)" : ""}${stale}`;
  }

  // An out-of-date version is not published (the server refuses it), but its button stays
  // focusable (aria-disabled, not disabled): a keyboard or screen-reader user still reaches it
  // and hears why, from the notice it is described by. A published one needs nothing more.
  function showPublish(grid) {
    const publish = $("publish-button");
    const stale = grid.out_of_date !== null && !grid.published;
    publish.disabled = grid.published || state.shown !== state.shows; // published, or another being read
    publish.textContent = grid.published ? "Published" : stale ? "Can't publish: out of date" : "Publish this version";
    for (const [name, value] of [["aria-disabled", "true"], ["aria-describedby", "out-of-date"]]) {
      if (stale) publish.setAttribute(name, value);
      else publish.removeAttribute(name);
    }
  }

  // ---------------------------------------------------------------- out of date

  // Setup edits as the audit log records them (entity, action), said in plain words.
  const EDITED = {
    create: "added",
    update: "edited",
    delete: "removed",
    import: "imported",
    load: "loaded",
    accept: "accepted",
    declin: "declined", // how the requests flow records a decline
    withdraw: "withdrawn",
  };
  const EDITED_THINGS = {
    session: "a programme session",
    venue: "a venue",
    travel: "a travel time",
    room: "a room",
    resource: "a resource",
    delegation: "a delegation",
    participant: "a participant",
    request: "a request",
  };
  const SINCE_FORMAT = new Intl.DateTimeFormat("en-GB", { day: "numeric", month: "long", hour: "2-digit", minute: "2-digit" });

  // What the edits mean depends on who sees the version: nobody yet (a draft), the delegations
  // (the published one), or the delegations before another replaced it (published earlier).
  function showOutOfDate(grid) {
    const stale = grid.out_of_date;
    const notice = $("out-of-date");
    if (stale === null) {
      notice.hidden = true;
      return;
    }
    const more = stale.edits > stale.first.length ? ` and ${stale.edits - stale.first.length} more` : "";
    // The time of an edit is when someone made it, so the viewer's clock reads it (unlike the grid's times).
    const since = SINCE_FORMAT.format(new Date(stale.since));
    const [title, advice] = staleness(grid);
    // Written only when they change: the notice sits in a live region, read out on each change.
    const text = `${editCount(stale)} since this version was built (the first on ${since}) — ${stale.first.map(saidEdit).join(", ")}${more}.`;
    for (const [id, value] of [["out-of-date-title", title], ["out-of-date-text", text], ["out-of-date-advice", advice]]) {
      if ($(id).textContent !== value) $(id).textContent = value;
    }
    notice.hidden = false;
  }

  function staleness(grid) {
    const them = grid.out_of_date.edits === 1 ? "it" : "them";
    // Once a version is published, the re-solve is what brings the edits in: it moves only what they force.
    const solve = publishedVersion() !== null
      ? `Re-solve from the published grid to make a version that includes ${them}.`
      : `Start a solve to make a version that includes ${them}.`;
    if (grid.published) {
      return [
        "Published, but out of date:",
        `Delegations' agendas and calendars still show this version, without ${them}. To bring them up to date, ` +
          "re-solve from the published grid and publish the version it makes (only what the edits force moves, " +
          "and each delegation is told what changed for it).",
      ];
    }
    if (grid.last_published_at !== null) {
      const current = state.versions.find((version) => version.published);
      const replaced = current ? `until version ${current.number} replaced it` : "earlier";
      return [
        "Out of date:",
        `This version was published ${replaced}; it can't be published again, as delegations would get back ` +
          `a grid without ${them}. ${solve}`,
      ];
    }
    return ["Out of date:", `This version can't be published. ${solve}`];
  }

  function editCount(stale) {
    return `${stale.edits} setup edit${stale.edits === 1 ? "" : "s"}`;
  }

  function saidEdit(edit) {
    const done = EDITED[edit.action] || edit.action;
    if (edit.entity === "forum") return edit.action === "update" ? "the forum's settings edited" : `the forum ${done}`;
    const name = editedName(edit);
    return `${EDITED_THINGS[edit.entity] || edit.entity} ${done}${name ? ` (${name})` : ""}`;
  }

  // What the organiser knows the edited thing by: a request's title (its id is a uuid), a room's
  // or delegation's name, else its id (a participant's reads "AU/min").
  function editedName(edit) {
    const id = edit.entity_id;
    if (edit.entity === "request") return state.requests.get(id)?.title || "";
    const named = { room: state.problem.rooms, delegation: state.problem.delegations }[edit.entity] || [];
    return named.find((thing) => thing.id === id)?.name || id;
  }

  // A version made by a move or an applied fit option records the version it
  // came from: undoing it shows that version again, compared with the one left
  // (versions are never changed, so the undone one stays in the list).
  function showUndo(grid) {
    const undo = $("undo-button");
    const parent = grid.derived_from;
    undo.hidden = parent === null || !state.versions.some((version) => version.number === parent);
    if (!undo.hidden) undo.textContent = `Undo: back to version ${parent}`;
  }

  // ---------------------------------------------------------------- controls

  function wireControls() {
    $("version-select").addEventListener("change", (event) => {
      show(Number(event.target.value), state.version).catch(fail);
    });
    $("compare-select").addEventListener("change", (event) => {
      const value = event.target.value;
      show(state.version, value === "" ? null : Number(value)).catch(fail);
    });
    $("publish-button").addEventListener("click", () => publish().catch(fail));
    $("undo-button").addEventListener("click", () => {
      show(state.grid.derived_from, state.version).catch(fail);
    });
    $("solve-form").addEventListener("submit", (event) => {
      event.preventDefault();
      if (publishedVersion() !== null && !window.confirm(FULL_SOLVE_WARNING)) return;
      solve(false).catch(fail);
    });
    $("resolve-button").addEventListener("click", () => solve(true).catch(fail));
    $("stop-button").addEventListener("click", () => stop().catch(fail));
    $("move-cancel").addEventListener("click", cancelMove);
    $("move-panel").addEventListener("keydown", (event) => {
      if (event.key === "Escape") cancelMove();
    });
    $("find-input").addEventListener("input", () => applyFind());
    $("find-input").addEventListener("keydown", (event) => {
      if (event.key === "Enter") {
        event.preventDefault();
        applyFind();
        goToFound();
      } else if (event.key === "Escape" && event.target.value) {
        event.preventDefault();
        event.target.value = "";
        applyFind();
      }
    });
    // The shown day alone (Ctrl+P prints every day, one A3 page each).
    $("print-day").addEventListener("click", () => {
      document.body.classList.add("print-day");
      window.print();
    });
    // One room, every day (the stewards' sheets): its nodes marked, the print style hides the rest.
    $("print-room").addEventListener("click", () => {
      printRoom($("print-room-select").value);
      window.print();
    });
    window.addEventListener("afterprint", () => {
      document.body.classList.remove("print-day");
      printRoom(null);
    });
    $("density").addEventListener("click", () => {
      state.compact = !$("sheets").classList.contains("compact");
      showDensity();
    });
    $("move-confirm").addEventListener("click", () => confirmMove().catch(fail));
    $("move-form").addEventListener("submit", (event) => {
      event.preventDefault();
      const start = `${$("move-day").value}T${$("move-time").value}:00`;
      checkMove(state.pending.meeting, start, $("move-room").value).catch(fail);
    });
    $("move-day").addEventListener("change", fillTimes);
    wireChanges();
  }

  function fail(error) {
    showMessage(error.message);
  }

  async function publish() {
    if ($("publish-button").getAttribute("aria-disabled") === "true") {
      $("out-of-date").focus(); // the reason, read out where the focus lands
      return;
    }
    try {
      await call("POST", `${forumPath()}/schedules/${state.version}/publish`);
    } catch (error) {
      if (error.status !== 409) throw error;
      await refused(error);
      return;
    }
    await reshow();
    showMessage("");
  }

  // Refused (409): an edit since the page loaded may have made the version out of date. Shown
  // again, the version says so in its notice, naming the edits in plain words (the server's
  // reason names them by id); another refusal (a superseded version) keeps the server's reason.
  async function refused(error) {
    await loadSetup();
    await reshow();
    showMessage(state.grid.out_of_date ? `Not published: version ${state.version} is out of date.` : error.message);
    if (state.grid.out_of_date) $("out-of-date").focus(); // from the refused button to the reason
  }

  async function reshow() {
    await loadVersions();
    await show(state.version, state.compare);
  }

  // A full solve (`resolve` false) or a re-solve from the published grid. Its version opens compared
  // with the version shown before (a solve) or the published one (a re-solve: what moved is marked).
  // A run stopped with Stop keeps its best grid as a version, opened like a finished one's.
  async function solve(resolve) {
    const buttons = [$("solve-button"), $("resolve-button"), $("change-resolve")];
    for (const button of buttons) button.disabled = true;
    const progress = $("progress");
    const title = progress.querySelector(".progress-title");
    progress.hidden = false;
    progress.dataset.reports = "0";
    title.textContent = resolve ? "Re-solving from the published grid…" : "Solving…";
    for (const id of ["objective", "bound", "gap", "elapsed", "proven"]) $(`progress-${id}`).textContent = "–";
    $("progress-placed").textContent = "counted when it ends";
    // Elapsed is the organiser's wall clock since the start; the engine's figures come with its reports.
    const started = performance.now();
    const ticker = setInterval(() => {
      $("progress-elapsed").textContent = `${((performance.now() - started) / 1000).toFixed(1)} s`;
    }, 250);
    const published = publishedVersion();
    let run = null;
    try {
      const timeLimit = Number($("time-limit").value) || 10;
      // The re-solve keeps the server's budget (about a second): it has only the freed meetings to place.
      run = await call("POST", `${forumPath()}/runs`, resolve ? { resolve: {} } : { time_limit: timeLimit });
      state.run = run.id;
      const stopButton = $("stop-button");
      stopButton.textContent = "Stop";
      stopButton.disabled = false;
      stopButton.hidden = false;
      let final = null;
      let reports = 0;
      await events(state.token, `${forumPath()}/runs/${run.id}/events`, (name, data) => {
        if (name === "progress") {
          reports += 1;
          progress.dataset.reports = String(reports);
          showProgress(data);
        }
        if (name === "end") final = data;
      });
      state.run = null;
      stopButton.hidden = true;
      const kept = final && final.version !== null && (final.status === "succeeded" || final.status === "cancelled");
      if (!kept) {
        const why = !final
          ? "the stream ended early"
          : final.status === "cancelled"
            ? "stopped before it had a grid: no version kept"
            : `${final.status}${final.error ? `: ${final.error}` : ""}`;
        title.textContent = `${resolve ? "Re-solve" : "Solve"} ${why}`;
        return;
      }
      if (final.progress) showProgress(final.progress);
      const before = resolve && published ? published.number : state.version;
      await loadSetup(); // the solve may place a request accepted since the page loaded
      await loadVersions();
      await show(final.version, before);
      // A solve that ends before CP-SAT reports (the greedy grid kept) still has the grid's objective.
      if (!final.progress && state.grid.objective !== null) $("progress-objective").textContent = state.grid.objective;
      showOutcome(state.grid, resolve, final.status === "cancelled");
      title.textContent = final.status === "cancelled"
        ? `Stopped: version ${final.version} kept`
        : `${resolve ? "Re-solved" : "Solved"}: version ${final.version}`;
    } catch (error) {
      // Not left saying "Solving…": a run the server took goes on, and its version joins the list
      // at the next check for a colleague's work.
      title.textContent = run
        ? `Solve ${run.id}: progress lost (${error.message}); its version joins the list when it ends`
        : `Solve not started: ${error.message}`;
    } finally {
      state.run = null;
      $("stop-button").hidden = true;
      clearInterval(ticker);
      for (const button of buttons) button.disabled = false;
    }
  }

  // Asks the server to stop the run followed: it ends `cancelled` within seconds, keeping the best
  // grid found so far, and its end arrives on the stream as a finished run's does. A run that
  // finished meanwhile answers 409: its end is on its way.
  async function stop() {
    const number = state.run;
    if (number === null) return;
    const button = $("stop-button");
    button.disabled = true;
    button.textContent = "Stopping…";
    $("progress").querySelector(".progress-title").textContent = "Stopping: keeping the best grid found so far…";
    try {
      await call("POST", `${forumPath()}/runs/${number}/cancel`);
    } catch (error) {
      if (error.status !== 409) {
        button.disabled = false;
        button.textContent = "Stop";
        throw error;
      }
    }
  }

  // The engine's figures as they come (under "Solver figures"), and in words whether the grid found
  // so far is proven the best: a bound and a gap mean nothing to a protocol officer, and with a
  // negative bound the gap is past 100 % for a grid that may well be the best.
  function showProgress(report) {
    $("progress-objective").textContent = report.objective ?? "–";
    $("progress-bound").textContent = report.best_bound ?? "–";
    $("progress-gap").textContent = report.gap === null || report.gap === undefined ? "–" : `${(report.gap * 100).toFixed(1)}%`;
    $("progress-proven").textContent = provenSaid(report);
  }

  function provenSaid(report) {
    if (report.objective === null || report.objective === undefined) return "no grid yet";
    if (report.gap === 0 || report.objective === report.best_bound) return "yes, proven best";
    return "not proven yet: still looking for a better grid";
  }

  // Once the run has ended, its version says what the figures could not: how many of the meetings
  // asked for it holds, and whether the engine proved that no better grid exists.
  function showOutcome(grid, resolve, stopped) {
    const requested = grid.placements.length + grid.unplaced.length;
    $("progress-placed").textContent = `${grid.placements.length} of ${requested} requested`;
    let proven;
    if (grid.status === "OPTIMAL") proven = "yes, proven best: no better grid exists";
    else if (resolve) proven = "not asked: a re-solve keeps what no change forced and places the rest as well as it can";
    else if (stopped) proven = "not proven: stopped before the search could prove it";
    else proven = "not proven: time ran out before the search could prove no better grid exists";
    $("progress-proven").textContent = proven;
  }

  // ---------------------------------------------------------------- a colleague's work

  // Polled, not streamed: the page stays open for hours, and a stream would hold a connection
  // and read the database twice a second for each open page (as a run's progress does, for the
  // seconds a solve lasts); this asks one small question every CHECK_MS while the tab is shown.
  function watch() {
    const next = () => setTimeout(async () => {
      await check();
      next();
    }, CHECK_MS);
    next();
    document.addEventListener("visibilitychange", () => check());
    window.addEventListener("focus", () => check());
    window.addEventListener("online", () => check());
  }

  // The organiser's own clock: it says when this page lost the server, not a time at the forum.
  const CLOCK_FORMAT = new Intl.DateTimeFormat("en-GB", { hour: "2-digit", minute: "2-digit", hourCycle: "h23" });

  // A promise that fails after `ms` if it has not settled: a read that hangs counts as unanswered.
  function within(ms, promise) {
    let timer;
    const late = new Promise((_, reject) => {
      timer = setTimeout(() => reject(new Error("no answer")), ms);
    });
    return Promise.race([promise, late]).finally(() => clearTimeout(timer));
  }

  async function check() {
    if (document.hidden) return;
    if (state.checking) {
      // Asked for while one is under way (a timer beside a focus): that one may have read the
      // numbers before the work it was asked for, so it is run again once done, not dropped.
      state.checkAgain = true;
      return;
    }
    state.checking = true;
    try {
      const pulse = await within(READ_MS, call("GET", `${forumPath()}/revision`));
      if (!samePulse(pulse, state.pulse)) await catchUp(pulse);
      if (state.offlineSince !== null) {
        state.offlineSince = null;
        $("connection").textContent = ""; // current again: nothing to say
      }
    } catch (error) {
      // Unreachable for now: said once, quietly, and asked again at the next check (or as the
      // network comes back); the page's own calls say why they fail.
      if (state.offlineSince === null) {
        state.offlineSince = new Date();
        const since = CLOCK_FORMAT.format(state.offlineSince);
        $("connection").textContent = error.status
          ? `No answer from the server since ${since} (it answered ${error.status}), retrying.`
          : `Offline since ${since}, retrying.`;
      }
    } finally {
      state.checking = false;
    }
    if (state.checkAgain) {
      state.checkAgain = false;
      await check();
    }
  }

  function samePulse(a, b) {
    return ["revision", "latest_version", "published_version", "publications"].every((key) => a[key] === b[key]);
  }

  // Versions never change, only whether they are published or out of date: the version shown is
  // read again for those, and the grid drawn, the move being checked and the focus are left alone.
  async function catchUp(pulse) {
    for (;;) {
      const number = state.version;
      const grid = number === null ? null : await call("GET", `${forumPath()}/schedules/${number}`);
      if (grid && grid.out_of_date && grid.out_of_date.first.some(unnamed)) await loadSetup();
      await loadVersions();
      // Another version shown meanwhile may have been read before the colleague's work: again.
      if (state.version !== number) continue;
      if (grid) {
        state.grid = grid;
        summarise();
      } else if (state.versions.length) {
        await show(state.versions.at(-1).number, null); // a colleague's solve made the first version
      }
      break;
    }
    state.pulse = pulse; // only once caught up: a failure is tried again at the next check
  }

  // An edit of something the page has not read (a room added, a request made since it loaded).
  function unnamed(edit) {
    if (edit.entity === "request") return !state.requests.has(edit.entity_id);
    const named = { room: state.problem.rooms, delegation: state.problem.delegations }[edit.entity];
    return Boolean(named) && !named.some((thing) => thing.id === edit.entity_id);
  }

  // ---------------------------------------------------------------- the grid

  function minutesOf(clock) {
    const [hours, minutes] = clock.split(":").map(Number);
    return hours * 60 + minutes;
  }

  function clockOf(minutes) {
    return `${String(Math.floor(minutes / 60)).padStart(2, "0")}:${String(minutes % 60).padStart(2, "0")}`;
  }

  function slotsOf(day) {
    const step = state.forum.slot_minutes;
    const first = minutesOf(day.start);
    const last = minutesOf(day.end);
    const starts = [];
    for (let minute = first; minute + step <= last; minute += step) starts.push(minute);
    return starts;
  }

  function meetingInfo(id, attendees) {
    const meeting = state.meetingById.get(id);
    const delegations = meeting
      ? meeting.delegations
      : [...new Set((attendees || []).map((a) => a.split("/")[0]))];
    return {
      id,
      delegations,
      title: meeting ? meeting.title : "",
      priority: (meeting && meeting.priority) || "normal", // the API omits defaults
      pinned: Boolean(meeting && (meeting.pinned_start || meeting.pinned_room)),
      codes: delegations.map((d) => state.countryOf.get(d) || d),
      kind: kindOf(delegations.length),
      duration: meeting ? meeting.duration_minutes : null,
      request: state.requests.get(id)?.status || "unknown",
    };
  }

  function statusOf(info) {
    const parts = [info.request];
    if (info.pinned) parts.push("pinned");
    if (state.changed.has(info.id)) parts.push(state.changed.get(info.id));
    return parts.join(" · ");
  }

  function render() {
    const days = state.forum.days;
    const tabs = $("day-tabs");
    tabs.replaceChildren(
      ...days.map((day, index) =>
        el(
          "button",
          {
            type: "button",
            class: "day-tab",
            "aria-pressed": String(index === state.day),
            onclick: () => selectDay(index),
          },
          dayName(day.date),
          el("span", { class: "found-count" }),
        ),
      ),
    );
    // Each day's placements in time order, then by room: the order Tab goes through them.
    const byDay = new Map(days.map((day) => [day.date, []]));
    for (const placement of state.grid ? state.grid.placements : []) {
      const start = wall(placement.start);
      byDay.get(start.date)?.push({ placement, start, end: wall(placement.end) });
    }
    const column = new Map(state.problem.rooms.map((room, index) => [room.id, index]));
    for (const list of byDay.values()) {
      list.sort((a, b) => a.start.minutes - b.start.minutes || column.get(a.placement.room) - column.get(b.placement.room));
    }
    showDensity();
    state.blockOf = new Map();
    state.blocksOf = new Map();
    $("sheets").replaceChildren(...days.map((day, index) => sheet(day, index, byDay.get(day.date))));
    renderUnplaced();
    applyFind();
  }

  // Another day shown: the sheets are all drawn, so only which one shows changes (no redraw).
  function selectDay(index) {
    state.day = index;
    for (const [at, node] of [...$("sheets").children].entries()) node.classList.toggle("current", at === index);
    for (const [at, tab] of [...$("day-tabs").children].entries()) tab.setAttribute("aria-pressed", String(at === index));
  }

  // To assistive technology each sheet is a table (table, row, columnheader, rowheader, cell):
  // honest table semantics rather than role="grid", since the meetings are reached by Tab, not
  // by arrow keys from cell to cell. Rows and cells are `display: contents`, so what they hold
  // stays the CSS grid's items, placed by row and column. A meeting lives in the cell where it
  // starts (Tab goes time, then room), a session or closed window in its first row's cell.
  // Drops are handled once per sheet (the cell is the drop's target), not by a listener a cell.
  function sheet(day, index, placements) {
    const rooms = state.problem.rooms;
    const starts = slotsOf(day);
    const step = state.forum.slot_minutes;
    const first = starts[0];
    const rowOf = (minutes) => Math.round((minutes - first) / step) + 2; // row 1 holds the room names
    const slotOf = (minutes) => Math.min(starts.length - 1, Math.max(0, Math.floor((minutes - first) / step)));
    const grid = el("div", { class: "grid", role: "table", "aria-label": `Meetings on ${dayName(day.date)}` });
    grid.style.setProperty("--rooms", rooms.length);
    grid.style.setProperty("--rows", starts.length);

    const header = el("div", { class: "grid-row", role: "row" }, el("div", { class: "corner", role: "columnheader", text: "Time" }));
    rooms.forEach((room, column) => {
      const head = el(
        "div",
        { class: "room-head", role: "columnheader", title: `${room.name}, ${room.seats} seats`, dataset: { room: room.id } },
        el("strong", { text: room.name }),
      );
      head.append(el("span", { class: "seats", text: `${room.seats} seats` }));
      head.style.gridColumn = String(column + 2);
      header.append(head);
    });
    grid.append(header);

    // A time on every half hour from the day's start (on every slot when slots are 20 minutes or
    // more, since a half hour then may fall inside one), each label spanning its rows up to the next;
    // a row without a label still names its time to a screen reader (a hidden row header).
    const labelled = starts.map((minute) => step >= 20 || (minute - first) % 30 === 0);
    const cells = []; // [slot][column] -> the cell (role) a block starting there goes in
    starts.forEach((minute, slot) => {
      const row = String(slot + 2);
      const line = el("div", { class: "grid-row", role: "row" });
      if (labelled[slot]) {
        const next = labelled.indexOf(true, slot + 1);
        const label = el("div", { class: minute % 60 === 0 ? "time hour" : "time", role: "rowheader", text: clockOf(minute) });
        label.style.gridRow = `${row} / span ${(next < 0 ? starts.length : next) - slot}`;
        line.append(label);
      } else {
        const hidden = el("div", { class: "row-time visually-hidden", role: "rowheader", text: clockOf(minute) });
        hidden.style.gridRow = row;
        hidden.style.gridColumn = "1";
        line.append(hidden);
      }
      const rowCells = rooms.map((room, column) => {
        const cell = el("div", {
          class: minute % 60 === 0 ? "cell hour" : "cell",
          dataset: { room: room.id, start: `${day.date}T${clockOf(minute)}:00`, slot: String(slot) },
        });
        cell.style.gridRow = row;
        cell.style.gridColumn = String(column + 2);
        const holder = el("div", { class: "grid-cell", role: "cell" }, cell);
        line.append(holder);
        return holder;
      });
      cells.push(rowCells);
      grid.append(line);
    });
    grid.addEventListener("dragover", (event) => {
      if (!event.target.closest(".cell")) return;
      event.preventDefault();
      event.dataTransfer.dropEffect = "move";
    });
    grid.addEventListener("drop", (event) => {
      const cell = event.target.closest(".cell");
      if (cell) onDrop(event, day, starts, Number(cell.dataset.slot), cell.dataset.room);
    });

    const last = starts[starts.length - 1] + step;
    for (const session of state.problem.sessions || []) {
      const start = wall(session.start);
      const end = wall(session.end);
      if (start.date !== day.date) continue;
      const from = Math.max(start.minutes, first);
      const to = Math.min(end.date === day.date ? end.minutes : 24 * 60, last);
      if (to <= from) continue;
      const band = sessionBand(session, start, end);
      band.style.gridRow = `${rowOf(from)} / ${rowOf(to)}`;
      band.style.gridColumn = `2 / ${rooms.length + 2}`;
      cells[slotOf(from)][0].append(band);
    }

    for (const [column, room] of rooms.entries()) {
      for (const window of room.unavailable || []) {
        const start = wall(window.start);
        const end = wall(window.end);
        if (start.date !== day.date) continue;
        const from = Math.max(start.minutes, first);
        const to = Math.min(end.date === day.date ? end.minutes : 24 * 60, last);
        if (to <= from) continue;
        const closed = el("div", { class: "closed", text: "unavailable", dataset: { room: room.id } });
        closed.style.gridRow = `${rowOf(from)} / ${rowOf(to)}`;
        closed.style.gridColumn = String(column + 2);
        cells[slotOf(from)][column].append(closed);
      }
    }

    const roomColumn = new Map(rooms.map((room, column) => [room.id, column + 2]));
    for (const { placement, start, end } of placements) {
      const [block, info] = meetingBlock(placement, start, end);
      const column = roomColumn.get(placement.room) || 2;
      block.style.gridRow = `${rowOf(start.minutes)} / ${rowOf(end.minutes)}`;
      block.style.gridColumn = String(column);
      cells[slotOf(start.minutes)][column - 2].append(block);
      const entry = { node: block, day: index };
      state.blockOf.set(info.id, entry);
      for (const delegation of info.delegations) listOf(state.blocksOf, delegation).push(entry);
    }

    const section = el(
      "section",
      { class: index === state.day ? "sheet current" : "sheet", dataset: { day: day.date } },
      el("h2", { class: "sheet-title", text: dayName(day.date) }),
      grid,
    );
    return section;
  }

  // A session that blocks everyone (or every principal) closes the rows it covers: a heavy hatch.
  // One that blocks only its listed participants (a debate's speakers at UNGA) leaves the rooms
  // open to everyone else: a light band naming it and how many it keeps busy (who: its title).
  function sessionBand(session, start, end) {
    const when = `${session.name} · ${start.time}–${end.time}`;
    if (session.scope !== "listed") {
      return el(
        "div",
        { class: "session", title: `${session.name} ${start.time}–${end.time}` },
        el("span", { text: `${when}${session.scope === "principals" ? " · principals" : ""}` }),
      );
    }
    const listed = session.participants || [];
    const busy = `${listed.length} ${listed.length === 1 ? "person" : "people"} busy`;
    const names = listed.map((id) => state.participantName.get(id) || id).join(", ");
    return el(
      "div",
      { class: "session listed", title: `${session.name} ${start.time}–${end.time}: only ${busy}${names ? ` (${names})` : ""}` },
      el("span", { text: `${when} · ${busy}` }),
    );
  }

  function meetingBlock(placement, start, end) {
    const info = meetingInfo(placement.meeting, placement.attendees);
    const changed = state.changed.get(info.id);
    const classes = ["meeting", `prio-${info.priority}`];
    if (changed) classes.push("changed");
    if (info.request !== "accepted") classes.push("stale");
    const label = `${info.codes.join("-")}${info.title ? `: ${info.title}` : ""}, ${start.time}–${end.time}, ${info.kind}, ${info.priority} priority, ${statusOf(info)}`;
    const block = el(
      "div",
      {
        class: classes.join(" "),
        draggable: "true",
        tabindex: "0",
        role: "button",
        "aria-label": label,
        // The whole of it on hover, as narrow columns show the codes alone.
        title: `${info.codes.join("-")}: ${info.delegations.map((d) => state.nameOf.get(d) || d).join(", ")}\n` +
          `${info.title || info.id} · ${start.time}–${end.time} · ${info.kind} · ${info.priority}`,
        dataset: { meeting: info.id, room: placement.room, start: placement.start },
      },
      el("span", { class: "codes", text: info.codes.join(" · ") }),
      el("span", { class: "kind", text: `${info.kind} · ${info.priority}` }),
      el("span", { class: "status", text: `${start.time}–${end.time} · ${statusOf(info)}` }),
    );
    wireDraggable(block, info.id);
    block.addEventListener("keydown", (event) => {
      if (event.key === "Enter" || event.key === " ") {
        event.preventDefault();
        openMoveForm(info.id, start.date, start.time, placement.room);
      }
    });
    return [block, info];
  }

  function listOf(map, key) {
    let list = map.get(key);
    if (!list) map.set(key, (list = []));
    return list;
  }

  function wireDraggable(node, meetingId) {
    node.addEventListener("dragstart", (event) => {
      event.dataTransfer.setData("text/plain", meetingId);
      event.dataTransfer.effectAllowed = "move";
      const cell = document.querySelector(".sheet.current .cell");
      const rowHeight = cell ? cell.getBoundingClientRect().height : 20;
      const top = node.getBoundingClientRect().top;
      state.grab = node.classList.contains("meeting") ? Math.max(0, Math.floor((event.clientY - top) / rowHeight)) : 0;
      node.classList.add("dragging");
      // Once the drag has begun, blocks let drops through to the cells beneath them,
      // so that a meeting can be dropped onto another one (and be told what clashes).
      setTimeout(() => document.body.classList.add("dragging-meeting"), 0);
    });
    node.addEventListener("dragend", () => {
      node.classList.remove("dragging");
      document.body.classList.remove("dragging-meeting");
    });
  }

  function renderUnplaced() {
    const list = $("unplaced-list");
    const unplaced = state.grid ? state.grid.unplaced : [];
    $("unplaced-count").textContent = `(${unplaced.length})`;
    state.unplacedOf = new Map();
    list.replaceChildren(
      ...unplaced.map((entry) => {
        const info = meetingInfo(entry.meeting, []);
        const item = el(
          "li",
          {
            class: `unplaced-item prio-${info.priority}`,
            draggable: "true",
            tabindex: "0",
            dataset: { meeting: entry.meeting },
            "aria-label": `${info.codes.join("-")} ${info.kind}, ${info.priority}: ${entry.message}`,
          },
          el("strong", { text: `${info.codes.join(" · ")}` }),
          el("span", { class: "kind", text: ` ${info.kind} · ${info.priority}` }),
          el("span", { class: "reason", text: entry.reason.replaceAll("_", " ") }),
          el("span", { class: "reason-text", text: entry.message }),
        );
        wireDraggable(item, entry.meeting);
        for (const delegation of info.delegations) listOf(state.unplacedOf, delegation).push(item);
        item.addEventListener("keydown", (event) => {
          if (event.key === "Enter" || event.key === " ") {
            event.preventDefault();
            openUnplaced(entry.meeting).catch(fail);
          }
        });
        return item;
      }),
    );
  }

  // ---------------------------------------------------------------- finding a delegation

  function delegationLabel(delegation) {
    return `${delegation.name} (${delegation.id})`;
  }

  // The delegations a query names: by code or by the label the list offers, else (three letters
  // or more) those whose name holds it. None for an empty query (nothing is being looked for).
  function findMatches(query) {
    const wanted = query.trim().toLowerCase();
    if (!wanted) return null;
    const delegations = state.problem.delegations;
    const exact = delegations.filter((d) =>
      [d.id, d.country || "", delegationLabel(d)].some((name) => name.toLowerCase() === wanted),
    );
    if (exact.length || wanted.length < 3) return exact;
    return delegations.filter((d) => d.name.toLowerCase().includes(wanted));
  }

  // Marks the found delegations' meetings by a class on them and one on the sheets: the grid is
  // not drawn again, and only the nodes marked last time and this time are touched.
  function applyFind() {
    for (const node of state.found) node.classList.remove("found");
    state.found = [];
    const query = $("find-input").value;
    const matched = findMatches(query);
    $("sheets").classList.toggle("finding", matched !== null);
    $("unplaced-list").classList.toggle("finding", matched !== null);
    const perDay = state.forum.days.map(() => 0);
    let unplaced = 0;
    for (const delegation of matched || []) {
      for (const { node, day } of state.blocksOf.get(delegation.id) || []) {
        if (node.classList.contains("found")) continue; // a meeting of two found delegations
        node.classList.add("found");
        state.found.push(node);
        perDay[day] += 1;
      }
      for (const node of state.unplacedOf.get(delegation.id) || []) {
        if (node.classList.contains("found")) continue;
        node.classList.add("found");
        state.found.push(node);
        unplaced += 1;
      }
    }
    for (const [index, tab] of [...$("day-tabs").children].entries()) {
      tab.querySelector(".found-count").textContent = perDay[index] ? ` · ${perDay[index]} found` : "";
    }
    const placed = perDay.reduce((sum, count) => sum + count, 0);
    sayFound(matched === null ? "" : foundText(query.trim(), matched, placed, unplaced));
    linkPreview(matched && matched.length === 1 ? matched[0] : null);
  }

  // One delegation found: a link to its agenda as it sees it (the agenda page's organiser
  // preview). The token goes in the fragment, never to the server in an address; each page
  // keeps its token under its own name, so the new tab could not find it otherwise.
  function linkPreview(delegation) {
    const link = $("find-preview");
    link.hidden = delegation === null;
    if (delegation === null) return;
    link.href = `/agenda#${new URLSearchParams({ token: state.token, delegation: delegation.id })}`;
    link.textContent = `What ${delegationLabel(delegation)} sees (its agenda, in a new tab)`;
  }

  function foundText(query, matched, placed, unplaced) {
    if (!matched.length) return `No delegation matches “${query}”.`;
    const names = matched.length <= 3
      ? matched.map(delegationLabel).join(", ")
      : `${matched.length} delegations (${matched.map((d) => d.id).join(", ")})`;
    const meetings = `${placed} meeting${placed === 1 ? "" : "s"} placed`;
    return `${names}: ${meetings}${unplaced ? `, ${unplaced} unplaced` : ""}.`;
  }

  // Shown at once; said (a live region beside it) once the typing pauses, not at every key.
  function sayFound(text) {
    $("find-result").textContent = text;
    clearTimeout(state.findSaid);
    state.findSaid = setTimeout(() => {
      if ($("find-said").textContent !== text) $("find-said").textContent = text;
    }, text ? 500 : 0);
  }

  // Enter in the box: the first found meeting of the day shown (time order), else of the first
  // day that has one, else the first unplaced one.
  function goToFound() {
    let target = document.querySelector(".sheet.current .meeting.found");
    if (!target) {
      const days = state.found.filter((node) => node.classList.contains("meeting")).map((node) => state.blockOf.get(node.dataset.meeting).day);
      if (days.length) {
        selectDay(Math.min(...days));
        target = document.querySelector(".sheet.current .meeting.found");
      } else {
        target = $("unplaced-list").querySelector(".found");
      }
    }
    if (target) target.focus();
  }

  // ---------------------------------------------------------------- moves

  function onDrop(event, day, starts, slot, roomId) {
    event.preventDefault();
    document.body.classList.remove("dragging-meeting");
    const meeting = event.dataTransfer.getData("text/plain");
    if (!meeting || !state.grid) return;
    const target = Math.max(0, slot - state.grab);
    const start = `${day.date}T${clockOf(starts[target])}:00`;
    checkMove(meeting, start, roomId).catch(fail);
  }

  function openMoveForm(meeting, date, time, room) {
    state.pending = { meeting, start: null, room: null, check: null };
    const panel = $("move-panel");
    panel.hidden = false;
    $("move-form").hidden = false;
    $("move-title").textContent = `Move ${meetingInfo(meeting, []).codes.join("-")}`;
    $("move-day").replaceChildren(...state.forum.days.map((d) => el("option", { value: d.date, text: dayName(d.date) })));
    $("move-day").value = date;
    fillTimes();
    $("move-time").value = time;
    $("move-room").replaceChildren(...state.problem.rooms.map((r) => el("option", { value: r.id, text: r.name })));
    $("move-room").value = room;
    resetVerdict();
    $("move-day").focus();
  }

  // An unplaced meeting's form opens at its cheapest spot the server allows (said beneath the form),
  // not at the first room and slot, which at UNGA is nearly always taken.
  async function openUnplaced(meeting) {
    const spot = await firstSpot(meeting);
    openMoveForm(meeting, spot.date, spot.time, spot.room);
    const verdict = $("move-verdict");
    verdict.textContent = spot.allowed
      ? "Opened at the cheapest spot the server allows."
      : "The server found no spot where this meeting breaks no rule: opened at the day's first slot.";
    verdict.dataset.opened = spot.allowed ? "allowed" : "none";
  }

  function fillTimes() {
    const day = state.forum.days.find((d) => d.date === $("move-day").value) || state.forum.days[0];
    $("move-time").replaceChildren(...slotsOf(day).map((m) => el("option", { value: clockOf(m), text: clockOf(m) })));
  }

  function resetVerdict() {
    $("move-verdict").textContent = "";
    $("move-verdict").className = "verdict";
    delete $("move-verdict").dataset.opened;
    $("move-blocking").replaceChildren();
    $("move-warnings").replaceChildren();
    $("move-confirm").disabled = true;
    for (const node of document.querySelectorAll(".conflict, .ghost")) {
      if (node.classList.contains("ghost")) node.remove();
      else node.classList.remove("conflict");
    }
  }

  async function checkMove(meeting, start, room) {
    const check = await call("POST", `${forumPath()}/schedules/${state.version}/moves/check`, { meeting, start, room });
    state.pending = { meeting, start, room, check };
    const panel = $("move-panel");
    panel.hidden = false;
    resetVerdict();
    const info = meetingInfo(meeting, []);
    const roomName = (state.problem.rooms.find((r) => r.id === room) || { name: room }).name;
    const when = wall(start);
    $("move-title").textContent = `Move ${info.codes.join("-")} to ${roomName}, ${dayName(when.date)} ${when.time}`;
    const verdict = $("move-verdict");
    if (check.allowed) {
      verdict.textContent = check.warnings.length
        ? `Allowed, but it makes the grid worse (objective ${check.objective_before} → ${check.objective_after}).`
        : "Allowed: it breaks no rule and worsens nothing.";
      verdict.classList.add(check.warnings.length ? "warn" : "ok");
    } else {
      verdict.textContent = `Blocked: it would break ${check.blocking.length} rule${check.blocking.length > 1 ? "s" : ""}.`;
      verdict.classList.add("bad");
    }
    $("move-blocking").replaceChildren(
      ...check.blocking.map((v) => el("li", {}, el("strong", { text: v.rule.replaceAll("_", " ") }), ` ${v.message}`)),
    );
    $("move-warnings").replaceChildren(
      ...check.warnings.map((w) => el("li", {}, el("strong", { text: w.term }), ` ${w.message} (+${w.cost})`)),
    );
    $("move-confirm").disabled = !check.allowed;
    for (const violation of check.blocking) {
      for (const id of violation.meetings) {
        if (id === meeting) continue;
        for (const node of document.querySelectorAll(`.meeting[data-meeting="${CSS.escape(id)}"]`)) {
          node.classList.add("conflict");
        }
      }
    }
    placeGhost(meeting, start, room, check);
    (check.allowed ? $("move-confirm") : $("move-cancel")).focus();
  }

  function placeGhost(meeting, start, room, check) {
    const when = wall(start);
    const index = state.forum.days.findIndex((d) => d.date === when.date);
    if (index < 0) return;
    if (index !== state.day) selectDay(index); // no redraw: the clashing meetings stay marked
    const grid = document.querySelector(".sheet.current .grid");
    const column = state.problem.rooms.findIndex((r) => r.id === room) + 2;
    const first = minutesOf(state.forum.days[index].start);
    const step = state.forum.slot_minutes;
    const rows = Math.round((wall(check.after.end).minutes - when.minutes) / step);
    const ghost = el(
      "div",
      {
        class: check.allowed ? (check.warnings.length ? "ghost warn" : "ghost ok") : "ghost bad",
        "aria-hidden": "true",
      },
      el("span", { class: "ghost-label", text: check.allowed ? "move here" : "blocked" }),
    );
    ghost.style.gridRow = `${Math.round((when.minutes - first) / step) + 2} / span ${rows}`;
    ghost.style.gridColumn = String(column);
    grid.append(ghost);
  }

  async function confirmMove() {
    const pending = state.pending;
    if (!pending || !pending.check || !pending.check.allowed) return;
    const stored = await call("POST", `${forumPath()}/schedules/${state.version}/moves`, {
      meeting: pending.meeting,
      start: pending.start,
      room: pending.room,
    });
    await loadVersions();
    await show(stored.version, stored.derived_from);
    showMessage("");
    focusMeeting(pending.meeting); // where it now stands, rather than nowhere (the panel is gone)
  }

  // Closed without moving: the focus goes back to the meeting the move was for.
  function cancelMove() {
    const meeting = state.pending && state.pending.meeting;
    clearMove();
    if (meeting) focusMeeting(meeting);
  }

  function focusMeeting(id) {
    const placed = state.blockOf.get(id);
    if (placed) {
      if (placed.day !== state.day) selectDay(placed.day);
      placed.node.focus();
      return;
    }
    const item = $("unplaced-list").querySelector(`[data-meeting="${CSS.escape(id)}"]`);
    if (item) item.focus();
  }

  function clearMove() {
    state.pending = null;
    resetVerdict();
    $("move-panel").hidden = true;
    $("move-form").hidden = true;
  }

  // ---------------------------------------------------------------- density and printing a room

  function showDensity() {
    const compact = state.compact ?? state.problem.rooms.length > COMPACT_ROOMS;
    $("sheets").classList.toggle("compact", compact);
    $("density").setAttribute("aria-pressed", String(compact));
  }

  // Marks the room's own nodes (a twentieth of the grid at UNGA) and names it in each day's title;
  // the print style hides the rest. (No style written here: the page's CSP allows none inline.)
  function printRoom(roomId) {
    for (const node of document.querySelectorAll(".print-this")) node.classList.remove("print-this");
    document.body.classList.toggle("print-room", roomId !== null);
    if (roomId === null) return;
    const room = state.problem.rooms.find((r) => r.id === roomId);
    for (const node of $("sheets").querySelectorAll(`[data-room="${CSS.escape(roomId)}"]`)) node.classList.add("print-this");
    for (const title of $("sheets").querySelectorAll(".sheet-title")) title.dataset.roomName = room ? room.name : roomId;
  }

  // ---------------------------------------------------------------- an unplaced meeting's first spot

  // Where the form for an unplaced meeting opens: the version's cheapest spot where the meeting
  // breaks no hard rule, as the server ranks them (GET .../spots, exact over every spot); when
  // there is none (its attendees are never there together), the shown day's first slot.
  async function firstSpot(meetingId) {
    const shown = state.forum.days[state.day];
    const fallback = { date: shown.date, time: clockOf(slotsOf(shown)[0]), room: state.problem.rooms[0].id, allowed: false };
    const query = new URLSearchParams({ meeting: meetingId, k: "1" });
    const [best] = await call("GET", `${forumPath()}/schedules/${state.version}/spots?${query}`);
    if (!best) return fallback;
    const start = wall(best.start);
    return { date: start.date, time: start.time, room: best.room, allowed: true };
  }
  // ---------------------------------------------------------------- recording a change

  // The kinds the form records (solver/changes.py): the fields each sends, besides `kind`.
  const CHANGE_FIELDS = {
    room_unavailable: ["change-room", "change-from", "change-to"],
    arrival_changed: ["change-delegation", "change-participant", "change-time"],
    departure_changed: ["change-delegation", "change-participant", "change-time"],
    meeting_cancelled: ["change-meeting"],
  };

  function changeKind() {
    return $("change-form").elements.kind.value;
  }

  // The choices come from the setup the page has read: filled again whenever it is read again,
  // keeping what is chosen (fillSelect), so a colleague's new room or meeting shows here too.
  function fillChangeChoices() {
    fillSelect($("change-room"), state.problem.rooms.map((room) => [room.id, room.name]));
    const delegations = [...state.problem.delegations].sort((a, b) => a.name.localeCompare(b.name));
    fillSelect($("change-delegation"), [["", "choose a delegation"], ...delegations.map((d) => [d.id, delegationLabel(d)])]);
    fillParticipants();
    const meetings = state.problem.meetings.map((meeting) => [meeting.id, meetingLabel(meeting)]);
    meetings.sort((a, b) => a[1].localeCompare(b[1]));
    fillSelect($("change-meeting"), [["", "choose a meeting"], ...meetings]);
  }

  function meetingLabel(meeting) {
    const info = meetingInfo(meeting.id, []);
    return `${info.codes.join("-")}: ${info.title || meeting.id} (${info.kind})`;
  }

  function fillParticipants() {
    const delegation = state.problem.delegations.find((d) => d.id === $("change-delegation").value);
    const people = delegation ? delegation.participants || [] : [];
    fillSelect($("change-participant"), [["", delegation ? "choose a participant" : "choose the delegation first"], ...people.map((p) => [p.id, p.name])]);
    $("change-participant").disabled = !delegation;
  }

  function wireChanges() {
    const form = $("change-form");
    form.addEventListener("change", (event) => {
      if (event.target.name === "kind") showChangeKind();
      if (event.target.id === "change-delegation") fillParticipants();
      if (event.target.id === "change-delegation" || event.target.id === "change-participant") fillTime();
    });
    form.addEventListener("input", (event) => clearChangeError(event.target));
    form.addEventListener("submit", (event) => {
      event.preventDefault();
      recordChange().catch(fail);
    });
    $("change-resolve").addEventListener("click", () => solve(true).catch(fail));
    $("move-cancelled").addEventListener("click", () => {
      const meeting = state.pending && state.pending.meeting;
      clearMove();
      if (meeting) offerCancellation(meeting);
    });
    showChangeKind();
  }

  // Only the chosen kind's fields show (the others stay as typed, for a kind chosen back).
  function showChangeKind() {
    const kind = changeKind();
    for (const part of document.querySelectorAll(".change-part")) part.hidden = !part.dataset.for.split(" ").includes(kind);
    $("change-time-label").textContent = kind === "departure_changed" ? "Now leaves" : "Now arrives";
    fillTime();
  }

  // The participant's time as the forum's setup has it, to be moved from (the page reads the setup
  // without the recorded changes: an earlier change's time is not shown here).
  function fillTime() {
    const kind = changeKind();
    if (kind !== "arrival_changed" && kind !== "departure_changed") return;
    const id = $("change-participant").value;
    const person = state.problem.delegations.flatMap((d) => d.participants || []).find((p) => p.id === id);
    const value = person && person[kind === "arrival_changed" ? "arrival" : "departure"];
    $("change-time").value = value ? String(value).slice(0, 16) : "";
  }

  // From a meeting's block (its move panel): the form with the cancellation of that meeting chosen.
  function offerCancellation(meeting) {
    const form = $("change-form");
    form.elements.kind.value = "meeting_cancelled";
    showChangeKind();
    $("change-meeting").value = meeting;
    showChangeErrors([]);
    $("change-section").scrollIntoView({ block: "nearest" });
    $("change-meeting").focus();
  }

  // The change as filled in, or the fields the page can already say are missing (the server says the rest).
  function changeBody() {
    const kind = changeKind();
    const value = (id) => $(id).value;
    const missing = (ids) => ids.filter((id) => !value(id)).map((id) => ({ id, message: MISSING[id] }));
    if (kind === "room_unavailable") {
      const errors = missing(["change-room", "change-from", "change-to"]);
      const window = { start: `${value("change-from")}:00`, end: `${value("change-to")}:00` };
      return { errors, body: { kind, room: value("change-room"), window } };
    }
    if (kind === "meeting_cancelled") return { errors: missing(["change-meeting"]), body: { kind, meeting: value("change-meeting") } };
    const field = kind === "arrival_changed" ? "arrival" : "departure";
    const errors = missing(["change-delegation", "change-participant"]);
    const time = value("change-time");
    return { errors, body: { kind, participant: value("change-participant"), [field]: time ? `${time}:00` : null } };
  }

  const MISSING = {
    "change-room": "choose the room",
    "change-from": "give the start",
    "change-to": "give the end",
    "change-delegation": "choose the delegation",
    "change-participant": "choose the participant",
    "change-meeting": "choose the meeting",
  };

  // A key for the change as filled in: sending the same again (no answer came back) is recorded
  // once, as the first send was; anything changed is a new change with a new key.
  function changeKey(body) {
    const text = JSON.stringify(body);
    if (!state.changeSent || state.changeSent.body !== text) {
      const bytes = crypto.getRandomValues(new Uint8Array(16));
      state.changeSent = { body: text, key: `grid-${[...bytes].map((b) => b.toString(16).padStart(2, "0")).join("")}` };
    }
    return state.changeSent.key;
  }

  async function recordChange() {
    const { errors, body } = changeBody();
    const said = $("change-said");
    if (errors.length) {
      showChangeErrors(errors);
      said.textContent = "Not recorded: check the fields marked.";
      $("change-resolve").hidden = true;
      return;
    }
    showChangeErrors([]);
    const button = $("change-send");
    button.disabled = true;
    try {
      // The key stays with the form as filled in: sent again unchanged (a double click, a send
      // whose answer seemed lost), the change is recorded once and the same answer comes back.
      const recorded = await postChange(body, changeKey(body));
      said.textContent = changeSaid(recorded);
      $("change-resolve").hidden = publishedVersion() === null;
    } catch (error) {
      $("change-resolve").hidden = true;
      if (error.status === 422 || error.status === 400) {
        showChangeErrors((error.problem.errors || []).map((e) => ({ id: changeField(e.field), message: `${e.field}: ${e.message}` })), error.message);
        said.textContent = `Not recorded: ${error.message}`;
      } else {
        $("change-form").querySelector(".form-error").textContent = describe(error);
        said.textContent = `Not recorded: ${describe(error)}`;
      }
    } finally {
      button.disabled = false;
    }
  }

  async function postChange(body, key) {
    return api(state.token, "POST", `${forumPath()}/changes`, body, { "Idempotency-Key": key });
  }

  // What was recorded, what it does to the published grid, and what the officer does next.
  function changeSaid(recorded) {
    const named = (ids) => ids.map((id) => meetingInfo(id, []).codes.join("-")).join(", ");
    const meetings = (ids) => `${ids.length} published meeting${ids.length === 1 ? "" : "s"} (${named(ids)})`;
    let text = `Recorded as change ${recorded.number}: ${recorded.summary}.`;
    if (recorded.checked_version === null) return `${text} Nothing is published yet: the next solve takes it into account.`;
    const effects = [];
    if (recorded.breaks.length) effects.push(`it breaks ${meetings(recorded.breaks)}`);
    if (recorded.removes.length) effects.push(`it removes ${meetings(recorded.removes)}`);
    if (!effects.length) {
      return `${text} No published meeting is affected. The grid stays as it is; the next re-solve keeps it in mind.`;
    }
    text += ` In the published version ${recorded.checked_version}, ${effects.join(" and ")}.`;
    return `${text} Nothing has moved yet: re-solve from the published grid to move only these, then publish the version it makes so the delegations concerned are told.`;
  }

  // Where the form shows an error the API names (RFC 9457 `errors[].field`): its field's id, or
  // null (said below the form).
  function changeField(field) {
    if (field === "room") return "change-room";
    if (field === "window.start") return "change-from";
    if (field === "window" || field === "window.end") return "change-to";
    if (field === "participant") return "change-participant";
    if (field === "arrival" || field === "departure") return "change-time";
    if (field === "meeting") return "change-meeting";
    if (field === "kind") return "change-kind";
    return null;
  }

  // Errors beside their fields (marked aria-invalid, said through the field's description); any
  // other below the form; the first faulty field takes the focus.
  function showChangeErrors(errors, fallback) {
    const form = $("change-form");
    for (const node of form.querySelectorAll(".field-error")) node.textContent = "";
    for (const node of form.querySelectorAll("[aria-invalid]")) node.removeAttribute("aria-invalid");
    const other = [];
    let first = null;
    for (const error of errors) {
      const target = error.id && $(error.id);
      if (!target) {
        other.push(error.message);
        continue;
      }
      const said = $(`${error.id}-error`);
      said.textContent = [said.textContent, error.message].filter(Boolean).join("; ");
      target.setAttribute("aria-invalid", "true");
      first = first || target;
    }
    if (errors.length && !first && !other.length && fallback) other.push(fallback);
    form.querySelector(".form-error").textContent = other.join("; ");
    if (first) (first.matches("fieldset") ? first.querySelector("input:checked") || first : first).focus();
  }

  // A field changed since it was refused: its error goes (the next send says again if need be).
  function clearChangeError(input) {
    const holder = input.closest("fieldset") || input;
    if (!holder.hasAttribute("aria-invalid")) return;
    holder.removeAttribute("aria-invalid");
    const said = document.getElementById(`${holder.id}-error`);
    if (said) said.textContent = "";
  }
})();
