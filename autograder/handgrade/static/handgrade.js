// The hand-grading page: one question, every answer in the grader's share, the rubric beside.
// Answers arrive as HTML sanitised by the server; everything else is set as text.
// window.__timings holds the time of each action, from the key press to the page updated.
"use strict";

const csrf = document.querySelector('meta[name="csrf"]').content;
const timings = [];
window.__timings = timings;
let view = null;
let cursor = 0;
let where = {}; // pseudonym -> group index

function el(tag, attrs, ...children) {
  const node = document.createElement(tag);
  for (const [k, v] of Object.entries(attrs || {})) {
    if (k === "class") node.className = v;
    else node.setAttribute(k, v);
  }
  for (const c of children) node.append(c);
  return node;
}

async function api(path, body) {
  const response = await fetch(path, body === undefined ? {} : {
    method: "POST",
    headers: {"Content-Type": "application/json", "X-CSRF-Token": csrf},
    body: JSON.stringify(body),
  });
  const data = await response.json();
  if (!response.ok) throw new Error(data.error || response.statusText);
  return data;
}

function say(text) {
  document.getElementById("status").textContent = text;
}

function fmt(x) {
  return x === null || x === undefined ? "–" : String(Math.round(x * 100) / 100);
}

function label(member) {
  return member.name ? member.name : member.id;
}

function may(action) {
  return view.allowed.includes(action); // what this token's role allows (the server checks)
}

async function load(question) {
  view = await api("/api/view" + (question ? "?question=" + encodeURIComponent(question) : ""));
  history.replaceState(null, "", "/?question=" + encodeURIComponent(view.question.id));
  cursor = Math.min(cursor, Math.max(0, view.groups.length - 1));
  renderAll();
}

function renderAll() {
  document.getElementById("title").textContent =
    `${view.assignment}: ${view.question.id} (${view.question.points} points) — ${view.grader}`;
  const nav = document.getElementById("questions");
  nav.replaceChildren(...view.questions.map((q) => {
    const b = el("button", {class: q.id === view.question.id ? "current" : ""}, q.id);
    b.addEventListener("click", () => { cursor = 0; load(q.id); });
    return b;
  }));
  document.getElementById("guide").textContent = view.question.rubric;
  const reveal = document.getElementById("reveal");
  reveal.hidden = !may("reveal");
  reveal.textContent = view.reveal ? "hide names" : "reveal names";
  renderItems();
  renderProgress();
  renderRequests();
  where = {};
  const cards = view.groups.map((g, i) => {
    for (const m of g.members) where[m.id] = i;
    return card(g, i);
  });
  document.getElementById("answers").replaceChildren(...cards);
  focusCard(false);
}

function renderItems() {
  const list = document.getElementById("items");
  list.replaceChildren(...view.items.map((item, n) => {
    let points = el("b", {}, String(item.points)); // a TA applies items; the instructor edits
    if (may("edit")) {
      points = el("input", {type: "number", step: "0.25", value: String(item.points),
                            "aria-label": "points of " + item.description});
      points.addEventListener("change", () => act("edit", {item: item.id,
                                                            points: Number(points.value)}));
    }
    const row = el("li", {"data-item": item.id},
      el("kbd", {}, n < 9 ? String(n + 1) : " "), " ", points, " ",
      el("span", {}, item.description), el("small", {}, ` (applied ${item.uses}×)`));
    if (may("delete")) {
      // two clicks: the first says what deleting does, the second deletes
      const remove = el("button", {class: "delete", title: "delete this rubric item"}, "×");
      remove.addEventListener("click", () => {
        if (remove.dataset.armed) act("delete", {item: item.id});
        else {
          remove.dataset.armed = "1";
          remove.textContent = `delete, re-scoring ${item.uses} answer(s)?`;
        }
      });
      row.append(" ", remove);
    }
    return row;
  }));
}

function renderProgress() {
  const rows = [];
  for (const [q, byGrader] of Object.entries(view.progress)) {
    for (const [grader, [done, total]] of Object.entries(byGrader)) {
      rows.push(el("tr", {}, el("td", {}, q), el("td", {}, grader),
                   el("td", {}, `${done} / ${total}`)));
    }
  }
  document.getElementById("progress").replaceChildren(...rows);
}

function renderRequests() {
  const list = document.getElementById("requests");
  list.replaceChildren(...view.requests.map((r) => {
    const who = r.student || r.answer;
    const item = el("li", {class: "request", "data-request": r.id},
                    `${r.id} (${who}, ${r.status}): ${r.why}`);
    if (r.status === "open" && may("resolve")) {
      const note = el("input", {placeholder: "answer to the student", maxlength: "5000"});
      const button = el("button", {}, "resolve");
      button.addEventListener("click", () => act("resolve", {request: r.id, note: note.value}));
      const go = el("button", {}, "show");
      go.addEventListener("click", () => { cursor = where[r.answer]; focusCard(true); });
      item.append(" ", go, " ", note, " ", button);
    } else if (r.status === "open") {
      item.append(" (the instructor resolves it)");
    } else {
      item.append(` — ${r.resolved_by}: ${r.note} (${fmt(r.score_then)} → ${fmt(r.score_after)})`);
    }
    return item;
  }));
}

function itemLabel(item, n) {
  return `${n < 9 ? n + 1 + ": " : ""}${item.description} (${item.points > 0 ? "+" : ""}${item.points})`;
}

function card(group, index) {
  const members = group.members;
  const graded = members.every((m) => m.score !== null);
  const node = el("article", {class: "card" + (graded ? " graded" : ""), "data-index": index});
  const who = el("div", {class: "who"},
    el("strong", {}, members.length > 1 ? `${members.length} identical answers: ` : ""));
  for (const m of members) {
    const flag = m.requests.length ? " ⚑ regrade" : "";
    const elsewhere = m.gradebook === m.score ? "" : ` (gradebook: ${fmt(m.gradebook)}, set elsewhere)`;
    const changed = m.changed ? " ⚠ answer changed since graded" : "";
    who.append(el("span", {"data-answer": m.id},
                  `${label(m)}: ${fmt(m.score)}${flag}${elsewhere}${changed}`));
  }
  const answer = el("div", {class: "answer" + (group.empty ? " empty" : "")});
  if (group.empty) answer.textContent = "(empty answer)";
  else answer.innerHTML = group.html; // sanitised by the server (safe_html), under the CSP
  const buttons = el("div", {class: "apply"});
  view.items.forEach((item, n) => {
    const count = members.filter((m) => m.items.includes(item.id)).length;
    const state = count === members.length ? "on" : count ? "partial" : "";
    const b = el("button", {class: state, "data-item": item.id}, itemLabel(item, n));
    b.addEventListener("click", () => { cursor = index; toggle(n); });
    buttons.append(b);
  });
  if (members.some((m) => m.items.length || m.comment)) {
    const clear = el("button", {class: "clear", title: "delete the marks (x)"}, "delete marks");
    clear.addEventListener("click", () => { cursor = index; clearMarks(); });
    buttons.append(clear);
  }
  if (may("reassign") && view.graders.length) {
    const pick = el("select", {class: "reassign", "aria-label": "grader of these answers"});
    const owner = members[0].grader;
    for (const g of view.graders) {
      const option = el("option", {value: g}, `grader: ${g}`);
      option.selected = g === owner;
      pick.append(option);
    }
    pick.addEventListener("change", () => {
      cursor = index;
      act("reassign", {question: view.question.id, answers: members.map((m) => m.id),
                       grader: pick.value});
    });
    buttons.append(" ", pick);
  }
  const comment = el("textarea", {placeholder: "comment (Enter saves)", maxlength: "5000"});
  comment.value = members[0].comment;
  comment.addEventListener("keydown", (event) => {
    if (event.key === "Enter" && !event.shiftKey) {
      event.preventDefault();
      cursor = index;
      act("comment", {question: view.question.id, answers: members.map((m) => m.id),
                      comment: comment.value});
    } else if (event.key === "Escape") {
      comment.blur();
    }
  });
  node.append(who, answer, buttons, comment);
  return node;
}

function focusCard(scroll) {
  const cards = document.querySelectorAll(".card");
  cards.forEach((c) => c.classList.remove("current"));
  const current = cards[cursor];
  if (current) {
    current.classList.add("current");
    if (scroll) current.scrollIntoView({block: "nearest", inline: "nearest"});
  }
}

function patch(delta) {
  view.items = delta.items;
  view.requests = delta.requests;
  view.progress = delta.progress;
  const touched = new Set();
  for (const m of delta.members) {
    const i = where[m.id];
    if (i === undefined) continue;
    const group = view.groups[i];
    group.members = group.members.map((old) => (old.id === m.id ? m : old));
    touched.add(i);
  }
  if (delta.deleted) {
    for (const g of view.groups) {
      for (const m of g.members) m.items = m.items.filter((i) => i !== delta.deleted);
    }
  }
  renderItems();
  renderProgress();
  renderRequests();
  const cards = document.querySelectorAll(".card");
  if (delta.relabel) {
    // an item edited: its buttons say its new points; only the answers it is on change score
    view.items.forEach((item, n) => {
      for (const b of document.querySelectorAll(`.apply button[data-item="${item.id}"]`)) {
        b.textContent = itemLabel(item, n);
      }
    });
    for (const i of touched) cards[i].replaceWith(card(view.groups[i], i));
  } else if (delta.itemsChanged) {
    view.groups.forEach((g, i) => cards[i].replaceWith(card(g, i)));
  } else {
    for (const i of touched) cards[i].replaceWith(card(view.groups[i], i));
  }
  focusCard(false);
}

async function act(action, body, started) {
  const t0 = started === undefined ? performance.now() : started;
  try {
    const delta = await api("/api/" + action, body);
    if (action === "reveal") {
      await load(view.question.id); // every label changes
    } else {
      delta.itemsChanged = action === "item" || action === "delete";
      delta.relabel = action === "edit";
      patch(delta);
    }
    const ms = performance.now() - t0;
    timings.push({action, ms});
    say(`${action}: saved (${ms.toFixed(0)} ms)`);
  } catch (error) {
    say(`${action}: ${error.message}`);
  }
}

function toggle(n, started) {
  const item = view.items[n];
  const group = view.groups[cursor];
  if (!item || !group) return;
  const on = !group.members.every((m) => m.items.includes(item.id));
  act("apply", {question: view.question.id, item: item.id, answers: group.members.map((m) => m.id),
                on}, started);
}

function clearMarks(started) {
  const group = view.groups[cursor];
  if (!group) return;
  act("clear", {question: view.question.id, answers: group.members.map((m) => m.id)}, started);
}

function move(to, started) {
  cursor = Math.max(0, Math.min(view.groups.length - 1, to));
  focusCard(true);
  timings.push({action: "move", ms: performance.now() - started});
}

document.addEventListener("keydown", (event) => {
  if (!view || event.target.closest("input, textarea") || event.ctrlKey || event.metaKey
      || event.altKey) return;
  const t0 = performance.now();
  if (event.key === "j" || event.key === "ArrowDown") move(cursor + 1, t0);
  else if (event.key === "k" || event.key === "ArrowUp") move(cursor - 1, t0);
  else if (event.key === "n") {
    const next = view.groups.findIndex((g, i) => i > cursor && g.members.some((m) => m.score === null));
    if (next >= 0) move(next, t0);
  } else if (/^[1-9]$/.test(event.key)) toggle(Number(event.key) - 1, t0);
  else if (event.key === "x") clearMarks(t0);
  else if (event.key === "c") {
    const area = document.querySelectorAll(".card")[cursor]?.querySelector("textarea");
    if (area) area.focus();
  } else return;
  event.preventDefault();
});

async function showHistory() {
  const entries = await api("/api/audit?question=" + encodeURIComponent(view.question.id));
  document.getElementById("audit").replaceChildren(...entries.slice(-100).reverse().map((e) =>
    el("li", {}, `${e.when} ${e.who}: ${e.student} ${fmt(e.old)} → ${fmt(e.new)} (${e.why}` +
                 (e.detail ? `: ${e.detail})` : ")"))));
}

document.getElementById("history").addEventListener("toggle", (event) => {
  if (event.target.open) showHistory().catch((error) => say(error.message));
});

document.getElementById("reveal").addEventListener("click", () => {
  act("reveal", {reveal: !view.reveal});
});

document.getElementById("add-item").addEventListener("submit", (event) => {
  event.preventDefault();
  const description = document.getElementById("new-description");
  const points = document.getElementById("new-points");
  act("item", {question: view.question.id, description: description.value,
               points: Number(points.value)}).then(() => {
    description.value = "";
    points.value = "";
  });
});

load(new URLSearchParams(location.search).get("question")).catch((error) => say(error.message));
