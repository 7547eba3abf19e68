"use strict";
// The question page: POST the question to /ask, show the answer inside its source sentence.
(function () {
  const $ = (id) => document.getElementById(id);
  const form = $("ask-form"), input = $("question"), button = $("ask-button");
  const status = $("status"), result = $("result");

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
    if (answer.answer === null) {
      const why = (answer.explanation && answer.explanation.reason) || answer.reason;
      status.textContent = `No answer: ${why}.`;
      renderClosest(answer.sources || []);
      return;
    }
    status.textContent = "";
    $("answer").textContent = answer.answer;
    // The answer's passage, with the answer marked: offsets are into the passage's text.
    const best = answer.candidates[0];
    const source = answer.sources[best.source_index || 0];
    // Offsets count code points (Python), not UTF-16 units: index an array of characters.
    const chars = Array.from(source.text);
    const mark = document.createElement("mark");
    mark.textContent = chars.slice(best.start, best.end).join("");
    $("context").replaceChildren(
      chars.slice(0, best.start).join(""), mark, chars.slice(best.end).join(""));
    renderSource(source);
    result.hidden = false;
  }

  function renderSource(source) {
    const where = $("source");
    where.replaceChildren("Source: ");
    appendSourceName(where, source);
  }

  // A refusal is not a dead end: the closest documents, one line each, linked where possible.
  function renderClosest(sources) {
    const seen = new Set();
    const items = [];
    for (const source of sources) {
      if (seen.has(source.doc_id) || items.length === 3) continue;
      seen.add(source.doc_id);
      const item = document.createElement("li");
      appendSourceName(item, source);
      items.push(item);
    }
    $("closest-list").replaceChildren(...items);
    $("closest").hidden = items.length === 0;
  }

  function appendSourceName(where, source) {
    const name = source.title || source.source || source.doc_id || "source";
    if (/^https?:\/\//i.test(source.url || "")) {
      const link = document.createElement("a");
      link.href = source.url;
      link.rel = "noopener noreferrer";
      link.textContent = name;
      where.append(link);
    } else {
      where.append(name);
    }
    if (source.page) where.append(`, page ${source.page}`);
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
