// The operator page: reads the held locks from the silo's admin API and force-releases one on
// request. Plain DOM code: every value from the API (names, keys and owners are user data) is
// rendered with textContent, never as HTML.
"use strict";

(() => {
  const KeyStorage = "orleanslocks.adminKey";
  const OperatorStorage = "orleanslocks.operator";
  const KeyHeader = "X-OrleansLocks-Admin-Key";
  const Api = "/admin/locks";
  const RefreshMilliseconds = 5000;

  const $ = (id) => document.getElementById(id);

  const view = {
    filter: { namePrefix: "", owner: "", pageSize: 50 },
    // The continuation of each page seen so far: pages[0] is the first page (no continuation).
    pages: [null],
    page: 0,
    next: null,
    detail: null,   // { name, key, kind } of the lock whose details are open
    release: null,  // the hold the release dialog is about
    busy: false,
    again: false,  // a refresh was asked for while one was running
  };

  class ApiError extends Error {
    constructor(status, message) {
      super(message);
      this.status = status;
    }
  }

  // One call to the admin API with the key; an ApiError says plainly what went wrong.
  async function call(path, body) {
    const headers = { Accept: "application/json" };
    headers[KeyHeader] = sessionStorage.getItem(KeyStorage) ?? "";
    const init = { headers, cache: "no-store" };
    if (body !== undefined) {
      init.method = "POST";
      headers["Content-Type"] = "application/json";
      init.body = JSON.stringify(body);
    }

    let response;
    try {
      response = await fetch(path, init);
    } catch (e) {
      throw new ApiError(0, `The silo is unreachable (${e.message}). The page tries again every ${RefreshMilliseconds / 1000} seconds.`);
    }

    if (response.ok) {
      return response.json();
    }

    let detail = "";
    try {
      const problem = await response.json();
      detail = problem.detail ?? problem.title ?? "";
    } catch {
      // Not a problem document (e.g. a proxy's error page): the status says enough.
    }

    switch (response.status) {
      case 401:
        throw new ApiError(401, "The admin key was refused (401 Unauthorized). Enter the key configured as OrleansLocks:Admin:ApiKey.");
      case 404:
        throw new ApiError(404, "This silo has no admin API (404 Not Found): it is switched on by configuring OrleansLocks:Admin:ApiKey.");
      default:
        throw new ApiError(response.status, `The silo answered ${response.status}: ${detail}`);
    }
  }

  function showError(message) {
    $("error").textContent = message;
    $("error").hidden = !message;
  }

  function showNotice(message) {
    $("notice").textContent = message;
    $("notice").hidden = !message;
  }

  // A 401 forgets the key and asks for it again; anything else stays on the page until the next success.
  function handle(error) {
    if (error instanceof ApiError && error.status === 401) {
      sessionStorage.removeItem(KeyStorage);
      showKeyForm();
    }

    showError(error instanceof ApiError ? error.message : `Unexpected error: ${error}`);
    $("locks-table").classList.add("stale");
  }

  function time(value) {
    if (!value) {
      return "";
    }

    // ISO 8601 in UTC, to the second: the same on every operator's screen.
    return new Date(value).toISOString().replace("T", " ").replace(/\.\d+Z$/, "Z");
  }

  function cell(text, className) {
    const td = document.createElement("td");
    td.textContent = text;
    if (className) {
      td.className = className;
    }

    return td;
  }

  function keyCell(key) {
    // The empty key is a valid key: show that it is empty rather than a blank cell.
    const td = cell(key === "" ? "(empty key)" : key, "key");
    if (key === "") {
      td.classList.add("empty-value");
    }

    return td;
  }

  function button(text, className, onClick) {
    const b = document.createElement("button");
    b.type = "button";
    b.textContent = text;
    b.className = className;
    b.addEventListener("click", onClick);
    return b;
  }

  // Fencing tokens stay below 2^53 (milliseconds since 1970 times 1,000 until the year 2255),
  // so JSON numbers carry them exactly.
  function renderLocks(page) {
    const rows = page.locks.map((lock) => {
      const tr = document.createElement("tr");
      tr.dataset.name = lock.name;
      tr.dataset.key = lock.key;
      tr.dataset.kind = lock.kind;
      tr.dataset.owner = lock.owner;
      tr.dataset.fencingToken = String(lock.fencingToken);
      const actions = document.createElement("td");
      actions.append(
        button("Details", "details", () => openDetail({ name: lock.name, key: lock.key, kind: lock.kind })),
        " ",
        button("Force release", "release", () => openRelease(lock)));
      tr.append(
        cell(lock.name),
        keyCell(lock.key),
        cell(lock.kind),
        cell(lock.owner),
        cell(String(lock.fencingToken), "number"),
        cell(time(lock.acquiredAt)),
        cell(time(lock.lastRenewedAt)),
        cell(time(lock.expiresAt)),
        cell(lock.waiting === null || lock.waiting === undefined ? "?" : String(lock.waiting), "number"),
        actions);
      return tr;
    });
    $("locks-body").replaceChildren(...rows);
    $("empty").hidden = rows.length > 0;
    $("locks-table").classList.remove("stale");
    view.next = page.continuation ?? null;
    $("next-page").disabled = view.next === null;
    $("previous-page").disabled = view.page === 0;
    $("first-page").disabled = view.page === 0;
    $("page-number").textContent = `Page ${view.page + 1}`;
  }

  function renderDetail(details) {
    $("detail-name").textContent = details.name;
    $("detail-key").textContent = details.key === "" ? "(empty key)" : details.key;
    $("detail-key").className = details.key === "" ? "key empty-value" : "key";
    $("detail-lock").textContent = details.isReadWrite ? "read/write lock" : "plain lock";
    $("detail-version").textContent = details.storedVersion ?? "(nothing stored)";
    $("detail-delay").textContent = details.noGrantsBefore ? `${time(details.noGrantsBefore)} (after a forced release)` : "-";
    $("holders-body").replaceChildren(...details.holders.map((holder) => {
      const tr = document.createElement("tr");
      tr.dataset.owner = holder.owner;
      tr.dataset.fencingToken = String(holder.fencingToken);
      const actions = document.createElement("td");
      actions.append(button("Force release", "release", () => openRelease(holder)));
      tr.append(
        cell(holder.kind),
        cell(holder.owner),
        cell(String(holder.fencingToken), "number"),
        cell(time(holder.acquiredAt)),
        cell(time(holder.lastRenewedAt)),
        cell(time(holder.expiresAt)),
        actions);
      return tr;
    }));
    $("waiters-body").replaceChildren(...details.waiters.map((waiter) => {
      const tr = document.createElement("tr");
      tr.dataset.owner = waiter.owner;
      tr.append(cell(waiter.owner), cell(waiter.kind), cell(time(waiter.since)));
      return tr;
    }));
    $("detail-section").hidden = false;
  }

  function listPath() {
    const query = new URLSearchParams({ pageSize: String(view.filter.pageSize), includeWaiting: "true" });
    if (view.filter.namePrefix) {
      query.set("namePrefix", view.filter.namePrefix);
    }

    if (view.filter.owner) {
      query.set("owner", view.filter.owner);
    }

    const continuation = view.pages[view.page];
    if (continuation) {
      query.set("continuation", continuation);
    }

    return `${Api}?${query}`;
  }

  function detailPath(lock) {
    return `${Api}/inspect?${new URLSearchParams({ name: lock.name, key: lock.key, kind: lock.kind })}`;
  }

  // Reads the current page (and the open lock's details) again.
  async function refresh() {
    if (!sessionStorage.getItem(KeyStorage)) {
      return;
    }

    if (view.busy) {
      view.again = true;
      return;
    }

    view.busy = true;
    try {
      const page = await call(listPath());
      showKeyForm(false);
      renderLocks(page);
      if (view.detail) {
        renderDetail(await call(detailPath(view.detail)));
      }

      showError("");
      $("status").textContent = `Updated ${time(new Date().toISOString())}, ${page.locks.length} row(s) on this page; refreshes every ${RefreshMilliseconds / 1000} s.`;
    } catch (error) {
      handle(error);
    } finally {
      view.busy = false;
    }

    if (view.again) {
      view.again = false;
      await refresh();
    }
  }

  function showKeyForm(show = true) {
    $("key-section").hidden = !show;
    $("locks-section").hidden = show;
    $("forget-key").hidden = show;
    if (show) {
      $("detail-section").hidden = true;
      $("key-input").focus();
    }
  }

  function openDetail(lock) {
    view.detail = lock;
    refresh();
  }

  function openRelease(hold) {
    view.release = hold;
    $("release-what").textContent =
      `${hold.kind} hold of ${hold.name} / ${hold.key === "" ? "(empty key)" : hold.key} by ${hold.owner}, fencing token ${hold.fencingToken}.`;
    $("release-token").textContent = String(hold.fencingToken);
    $("release-only-this-grant").checked = true;
    $("release-reason").value = "";
    $("release-operator").value = sessionStorage.getItem(OperatorStorage) ?? "";
    $("release-dialog").showModal();
    $("release-reason").focus();
  }

  async function confirmRelease(event) {
    event.preventDefault();
    const hold = view.release;
    const reason = $("release-reason").value.trim();
    if (!hold || !reason) {
      return;
    }

    const operator = $("release-operator").value.trim();
    sessionStorage.setItem(OperatorStorage, operator);
    const request = {
      name: hold.name,
      key: hold.key,
      kind: hold.kind,
      fencingToken: $("release-only-this-grant").checked ? hold.fencingToken : null,
      reason,
      operator: operator || null,
    };
    $("release-confirm").disabled = true;
    try {
      const result = await call(`${Api}/release`, request);
      $("release-dialog").close();
      showNotice(describe(result, hold));
      showError("");
    } catch (error) {
      $("release-dialog").close();
      handle(error);
    } finally {
      $("release-confirm").disabled = false;
      view.release = null;
    }

    await refresh();
  }

  function describe(result, hold) {
    switch (result.outcome) {
      case "Released":
        return result.released.map((freed) =>
          `Freed ${freed.owner}'s ${freed.kind} hold of ${freed.name} (fencing token ${freed.fencingToken}). Nobody is granted it before ${time(freed.noGrantsBefore)}, so the holder learns first.`).join(" ");
      case "FencingTokenMoved":
        return `Nothing was freed: ${hold.name} is no longer held under fencing token ${hold.fencingToken} (it changed hands since this page read it).`;
      default:
        return `Nothing was freed: nobody holds ${hold.name} any more.`;
    }
  }

  function startOver() {
    view.pages = [null];
    view.page = 0;
    refresh();
  }

  document.addEventListener("DOMContentLoaded", () => {
    $("key-form").addEventListener("submit", (event) => {
      event.preventDefault();
      sessionStorage.setItem(KeyStorage, $("key-input").value);
      $("key-input").value = "";
      showError("");
      startOver();
    });
    $("forget-key").addEventListener("click", () => {
      sessionStorage.removeItem(KeyStorage);
      $("locks-body").replaceChildren();
      showKeyForm();
    });
    $("filter-form").addEventListener("submit", (event) => {
      event.preventDefault();
      view.filter = {
        namePrefix: $("filter-prefix").value.trim(),
        owner: $("filter-owner").value.trim(),
        pageSize: Number($("page-size").value),
      };
      startOver();
    });
    $("first-page").addEventListener("click", startOver);
    $("previous-page").addEventListener("click", () => {
      view.page = Math.max(0, view.page - 1);
      refresh();
    });
    $("next-page").addEventListener("click", () => {
      if (view.next !== null) {
        view.pages[view.page + 1] = view.next;
        view.pages.length = view.page + 2;
        view.page += 1;
        refresh();
      }
    });
    $("close-detail").addEventListener("click", () => {
      view.detail = null;
      $("detail-section").hidden = true;
    });
    $("release-form").addEventListener("submit", confirmRelease);
    $("release-cancel").addEventListener("click", () => {
      view.release = null;
      $("release-dialog").close();
    });

    if (sessionStorage.getItem(KeyStorage)) {
      showKeyForm(false);
      refresh();
    } else {
      showKeyForm();
    }

    setInterval(refresh, RefreshMilliseconds);
  });
})();
