"use strict";
// The question page: POST the question to /ask, show the answer inside its source sentence.
(function () {
  const $ = (id) => document.getElementById(id);
  const form = $("ask-form"), input = $("question"), button = $("ask-button");
  const status = $("status"), result = $("result");
  const MAX_LISTED = 5;

  async function ask(question, retried) {
    status.textContent = "Looking for an answer…";
    result.hidden = true;
    $("closest").hidden = true;
    button.disabled = true;
    try {
      const response = await fetch("ask", {
        method: "POST", headers: requestHeaders(), body: JSON.stringify({ question }),
      });
      if (response.status === 401 && !retried && askForToken()) return ask(question, true);
      const body = await response.json().catch(() => null);
      if (!response.ok) {
        status.textContent = (body && body.detail) || `The service answered ${response.status}.`;
      } else {
        render(body);
      }
    } catch (err) {
      status.textContent = "The service cannot be reached; try again.";
    } finally {
      button.disabled = false;
    }
  }

  function requestHeaders() {
    const headers = { "Content-Type": "application/json" };
    const token = sessionStorage.getItem("qa-token");
    if (token) headers.Authorization = "Bearer " + token;
    return headers;
  }

  function askForToken() {
    const token = window.prompt("This service needs an API token:");
    if (token) sessionStorage.setItem("qa-token", token.trim());
    return Boolean(token);
  }

  function render(answer) {
    const sources = answer.sources || [];
    if (answer.answer === null) {
      const why = (answer.explanation && answer.explanation.reason) || answer.reason;
      status.textContent = `No answer: ${why}.`;
      renderList("Closest documents", sources);
      return;
    }
    status.textContent = "";
    $("answer").textContent = answer.answer;
    // The answer in its sentence, marked: offsets are into `context.text`.
    const best = answer.candidates[0];
    const source = sources[best.source_index || 0];
    const context = answer.context ||
      { text: answer.answer, answer_start: 0, answer_end: Array.from(answer.answer).length };
    // Offsets count code points (Python), not UTF-16 units: index an array of characters.
    const chars = Array.from(context.text);
    const mark = document.createElement("mark");
    mark.textContent = chars.slice(context.answer_start, context.answer_end).join("");
    $("context").replaceChildren(chars.slice(0, context.answer_start).join(""), mark,
      chars.slice(context.answer_end).join(""));
    // The section it comes from: a heading or signature is context, shown with the answer.
    const heading = (best.heading || "").split(" > ").pop().trim();
    $("heading").textContent = heading ? `From ${heading}` : "";
    $("heading").hidden = !heading;
    $("source").replaceChildren("Source: ");
    appendSourceName($("source"), source, mark.textContent);
    result.hidden = false;
    showVotes(answer.answer_id);
    renderList("Other sources", sources.filter((other) => other !== source));
  }

  // 👍/👎 under an answer: POST /feedback, which the next `qa train-reader` learns from.
  function showVotes(answerId) {
    $("votes").hidden = !answerId;
    $("vote-status").textContent = "";
    for (const button of document.querySelectorAll("#votes button")) {
      button.disabled = false;
      button.onclick = () => vote(answerId, button.dataset.helpful === "true");
    }
  }

  async function vote(answerId, helpful) {
    for (const button of document.querySelectorAll("#votes button")) button.disabled = true;
    try {
      const response = await fetch("feedback", {
        method: "POST", headers: requestHeaders(),
        body: JSON.stringify({ answer_id: answerId, helpful }),
      });
      const body = await response.json().catch(() => null);
      $("vote-status").textContent = response.ok ? "Thanks, noted."
        : (body && body.detail) || `The service answered ${response.status}.`;
    } catch (err) {
      $("vote-status").textContent = "The service cannot be reached; try again.";
    }
  }

  // Under an answer, the other sources read; under a refusal, the closest documents: a
  // refusal is not a dead end. One line per document (the service lists each document once,
  // its other passages under it), linked where possible.
  function renderList(title, sources) {
    const seen = new Set();
    const items = [];
    for (const source of sources) {
      if (seen.has(source.doc_id) || items.length === MAX_LISTED) continue;
      seen.add(source.doc_id);
      const item = document.createElement("li");
      appendSourceName(item, source, "");
      items.push(item);
    }
    $("closest-title").textContent = title;
    $("closest-list").replaceChildren(...items);
    $("closest").hidden = items.length === 0;
  }

  function appendSourceName(where, source, quote) {
    const name = source.title || source.source || source.doc_id || "source";
    if (/^https?:\/\//i.test(source.url || "")) {
      const link = document.createElement("a");
      link.href = deepLink(source, quote);
      link.rel = "noopener noreferrer";
      link.textContent = name;
      where.append(link);
    } else {
      where.append(name);
      // A file with no URL: its path inside the folder that was ingested (QA_SOURCE_URLS
      // links it instead).
      if (source.path && source.path !== name) {
        const path = document.createElement("code");
        path.textContent = source.path;
        where.append(" (", path, ")");
      }
    }
    const pages = [...new Set([source, ...(source.passages || [])]
      .map((p) => p.page).filter(Boolean))];
    if (pages.length) where.append(`, page${pages.length > 1 ? "s" : ""} ${pages.join(", ")}`);
    const copies = (source.also_in || []).map((c) => c.title || c.url || c.path || c.doc_id);
    if (copies.length) where.append(` (also in ${copies.join(", ")})`);
  }

  // A text fragment (#:~:text=) makes the browser scroll to and highlight the answer;
  // a PDF opens at its page instead.
  function deepLink(source, quote) {
    const url = source.url.split("#")[0];
    if (/\.pdf$/i.test(new URL(url).pathname)) {
      return source.page ? `${url}#page=${source.page}` : url;
    }
    const words = quote.split(/\s+/).filter(Boolean);
    const enc = (w) => encodeURIComponent(w.join(" ")).replace(/-/g, "%2D");
    if (!words.length) return url;
    const part = words.length <= 8
      ? enc(words) : `${enc(words.slice(0, 4))},${enc(words.slice(-4))}`;
    return `${url}#:~:text=${part}`;
  }

  form.addEventListener("submit", (event) => {
    event.preventDefault();
    const question = input.value.trim();
    if (question) ask(question, false);
  });

  const preset = new URLSearchParams(window.location.search).get("q");
  if (preset) {
    input.value = preset;
    ask(preset, false);
  }
})();
