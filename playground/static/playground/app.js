/* DIY-MOD playground: the extension's job, on one page, through the public API only.
 *
 * Safety rule of this file: feed content never reaches the page as HTML. Feeds are parsed with
 * DOMParser (an inert document: no scripts run, no images load) and every piece of text is put
 * on the page with textContent. Where the extension inserts a marked text node as HTML
 * (CONTRACT section 4), we decode that HTML to text the same way and build the nodes ourselves.
 */
(function () {
  "use strict";

  const STORAGE_USER = "diymod.playground.userId";
  const STORAGE_TOKEN = "diymod.playground.token";
  const MARKER = /__BLUR_START__([\s\S]*?)__BLUR_END__|__OVERLAY_START__([\s\S]*?)__OVERLAY_END__|__REWRITE_START__([\s\S]*?)__REWRITE_END__/g;
  const START_MARKER = /__(BLUR|OVERLAY|REWRITE)_START__/;
  const POLL_FIRST_MS = 4000;
  const POLL_EVERY_MS = 3000;
  const POLL_MAX = 20;
  const INTENSITY_NAMES = { 1: "blur", 2: "blur", 3: "warning", 4: "rewrite", 5: "rewrite" };
  const CONTENT_NAMES = { all: "text and images", text: "text only", image: "images only" };
  const INTERVENTION_NAMES = {
    blur: "blurred words",
    overlay: "warning card",
    rewrite: "rewritten",
    image: "image only",
  };

  const state = {
    userId: "",
    token: "",
    socket: null,
    socketGeneration: 0,
    reconnectDelay: 1000,
    pending: new Map(), // image_url -> {filters, figures: Set<figure>, polls}
    results: new Map(), // image_url -> processed url, for pushes that beat the rendering
    samples: new Map(),
  };

  const $ = (id) => document.getElementById(id);

  // --- small DOM helpers ------------------------------------------------------------------------

  function element(tag, attributes, ...children) {
    const node = document.createElement(tag);
    for (const [name, value] of Object.entries(attributes || {})) {
      if (value === null || value === undefined || value === false) continue;
      if (name === "text") node.textContent = value;
      else if (name === "className") node.className = value;
      else node.setAttribute(name, value === true ? "" : String(value));
    }
    for (const child of children) {
      if (child === null || child === undefined) continue;
      node.append(typeof child === "string" ? document.createTextNode(child) : child);
    }
    return node;
  }

  function say(id, message, isError) {
    const node = $(id);
    node.textContent = message;
    node.classList.toggle("error", Boolean(isError));
  }

  const inertParser = new DOMParser();

  /** The text an HTML fragment shows, without ever building live nodes from it. */
  function htmlToText(fragment) {
    return inertParser.parseFromString("<!doctype html><body>" + fragment, "text/html").body
      .textContent;
  }

  /** X's page decodes these three entities in full_text before showing it. */
  function xEntitiesDecode(text) {
    return String(text).replace(/&lt;/g, "<").replace(/&gt;/g, ">").replace(/&amp;/g, "&");
  }

  // --- the public API -----------------------------------------------------------------------

  async function api(path, options) {
    const { method = "GET", body, query } = options || {};
    const url = new URL(path, window.location.origin);
    for (const [key, value] of Object.entries(query || {})) url.searchParams.set(key, value);
    const headers = { Accept: "application/json" };
    if (body !== undefined) headers["Content-Type"] = "application/json";
    if (state.token) headers.Authorization = "Bearer " + state.token;
    const response = await fetch(url, {
      method,
      headers,
      body: body === undefined ? undefined : JSON.stringify(body),
    });
    let data = {};
    try {
      data = await response.json();
    } catch (error) {
      data = {};
    }
    if (!response.ok || data.status === "error") {
      throw new Error(data.message || data.detail || "HTTP " + response.status);
    }
    return data;
  }

  // --- identity -----------------------------------------------------------------------------

  function randomUserId() {
    const bytes = new Uint8Array(8);
    window.crypto.getRandomValues(bytes);
    return "playground-" + Array.from(bytes, (b) => b.toString(16).padStart(2, "0")).join("");
  }

  function userUse(userId) {
    state.userId = userId;
    window.localStorage.setItem(STORAGE_USER, userId);
    $("user-id").value = userId;
    const tokenInput = $("api-token");
    if (tokenInput) {
      state.token = tokenInput.value.trim();
      window.localStorage.setItem(STORAGE_TOKEN, state.token);
    }
    pendingClear();
    socketConnect();
    filtersLoad();
  }

  // --- filters ------------------------------------------------------------------------------

  async function filtersLoad() {
    try {
      const data = await api("/filters", { query: { user_id: state.userId } });
      filtersRender(data.filters || []);
    } catch (error) {
      say("filter-message", "Could not load filters: " + error.message, true);
    }
  }

  function filtersRender(filters) {
    const list = $("filter-list");
    list.replaceChildren();
    $("filter-empty").hidden = filters.length > 0;
    for (const filter of filters) {
      const until = filter.expires_at
        ? "until " + new Date(filter.expires_at).toLocaleString()
        : "permanent";
      const remove = element("button", {
        type: "button",
        className: "link",
        "aria-label": "Delete filter " + filter.filter_text,
        text: "Delete",
      });
      remove.addEventListener("click", () => filterDelete(filter));
      list.append(
        element(
          "li",
          { "data-filter-id": filter.id },
          element("span", { className: "filter-text", text: filter.filter_text }),
          element("span", { className: "chip", text: CONTENT_NAMES[filter.content_type] || filter.content_type }),
          element("span", {
            className: "chip",
            text: "intensity " + filter.intensity + ": " + (INTENSITY_NAMES[filter.intensity] || ""),
          }),
          element("span", { className: "chip", text: until }),
          remove
        )
      );
    }
  }

  async function filterAdd(event) {
    event.preventDefault();
    const form = event.currentTarget;
    const text = $("filter-text").value.trim();
    if (!text) return;
    try {
      await api("/filters", {
        method: "POST",
        body: {
          user_id: state.userId,
          filter_text: text,
          content_type: $("filter-content-type").value,
          intensity: Number($("filter-intensity").value),
          duration: $("filter-duration").value,
        },
      });
      say("filter-message", "Added filter “" + text + "”.");
      form.reset();
      await filtersLoad();
    } catch (error) {
      say("filter-message", "Could not add the filter: " + error.message, true);
    }
  }

  async function filterDelete(filter) {
    try {
      await api("/filters/" + filter.id, { method: "DELETE", query: { user_id: state.userId } });
      say("filter-message", "Deleted filter “" + filter.filter_text + "”.");
      await filtersLoad();
      $("filter-text").focus();
    } catch (error) {
      say("filter-message", "Could not delete the filter: " + error.message, true);
    }
  }

  // --- feeds: reading posts out of a payload --------------------------------------------------

  function platformOf(url) {
    let host = "";
    try {
      host = new URL(url).hostname.toLowerCase();
    } catch (error) {
      return "";
    }
    if (host.includes("reddit.com")) return "reddit";
    if (/(^|\.)(x|twitter)\.com$/.test(host)) return "x";
    return "";
  }

  /** Posts of a shreddit HTML document: {id, meta, fields: [{key, text, paragraphs}], images}. */
  function redditPosts(body) {
    const documentNode = inertParser.parseFromString(body, "text/html");
    const posts = [];
    for (const post of documentNode.querySelectorAll("shreddit-post, shreddit-ad-post, shreddit-comment")) {
      if (post.localName === "shreddit-comment") {
        posts.push(redditComment(post));
        continue;
      }
      const fields = [];
      const title = post.querySelector('a[slot="title"]');
      if (title) fields.push(redditField("title", title));
      const bodies = Array.from(post.querySelectorAll('[slot="text-body"]'));
      const inner = bodies.find((node) => node.localName !== "shreddit-post-text-body");
      if (inner || bodies[0]) fields.push(redditField("body", inner || bodies[0]));
      const meta = [post.getAttribute("subreddit-prefixed-name"), post.getAttribute("author") && "u/" + post.getAttribute("author")];
      if (post.localName === "shreddit-ad-post") meta.push("promoted");
      posts.push({
        id: post.getAttribute("id") || "",
        meta: meta.filter(Boolean).join(" · "),
        fields,
        images: redditImages(post),
      });
    }
    return posts;
  }

  function redditComment(comment) {
    const body = comment.querySelector('[slot="comment"]');
    const author = comment.getAttribute("author");
    return {
      id: comment.getAttribute("thingid") || "",
      meta: "comment" + (author ? " by u/" + author : ""),
      fields: body ? [redditField("body", body)] : [],
      images: [],
    };
  }

  function redditField(key, node) {
    const paragraphs = Array.from(node.querySelectorAll("p"), (p) => p.textContent.trim()).filter(Boolean);
    return { key, text: node.textContent.trim(), paragraphs };
  }

  function redditImages(post) {
    const images = [];
    const seen = new Set();
    for (const img of post.querySelectorAll("img")) {
      const inGallery = img.closest("gallery-carousel") !== null;
      const inPlayer = img.closest("shreddit-player") !== null;
      const isMedia =
        img.classList.contains("i18n-post-media-img") ||
        (inGallery && !img.classList.contains("post-background-image-filter")) ||
        (inPlayer && (img.getAttribute("slot") === "poster" || img.classList.contains("preview-image")));
      const src = img.getAttribute("src") || img.getAttribute("data-lazy-src") || "";
      if (!isMedia || !src || seen.has(src)) continue;
      seen.add(src);
      images.push({ src, alt: img.getAttribute("alt") || "", config: configParse(img.getAttribute("diy-mod-image")) });
    }
    return images;
  }

  function configParse(value) {
    if (!value) return null;
    try {
      const config = JSON.parse(value);
      return config && typeof config === "object" ? config : null;
    } catch (error) {
      return null;
    }
  }

  /** Tweets of an X GraphQL timeline (CONTRACT section 3), each once, in timeline order. */
  function xPosts(body) {
    const documentNode = JSON.parse(body);
    const posts = [];
    const seen = new Set();
    const add = (result, note) => {
      const tweet = tweetUnwrap(result);
      if (!tweet || !tweet.legacy) return;
      const retweeted = tweetUnwrap(tweet.legacy.retweeted_status_result && tweet.legacy.retweeted_status_result.result);
      const shown = retweeted || tweet;
      const id = String(shown.rest_id || shown.legacy.id_str || "");
      if (seen.has(id)) return;
      seen.add(id);
      const meta = ["@" + screenName(shown)];
      if (retweeted) meta.push("retweeted by @" + screenName(tweet));
      if (note) meta.push(note);
      posts.push({ id, meta: meta.join(" · "), fields: [tweetField(shown)], images: tweetImages(shown) });
      const quoted = shown.quoted_status_result && shown.quoted_status_result.result;
      if (quoted) add(quoted, "quoted by @" + screenName(shown));
    };
    for (const entry of timelineEntries(documentNode)) {
      const content = entry.content || {};
      const items = content.itemContent ? [content.itemContent] : (content.items || []).map((item) => (item.item || {}).itemContent);
      for (const itemContent of items) {
        if (!itemContent || !itemContent.tweet_results) continue;
        add(itemContent.tweet_results.result, itemContent.promotedMetadata ? "promoted" : "");
      }
    }
    return posts;
  }

  function timelineEntries(value) {
    // Timelines sit at different paths per endpoint; the instructions array is the constant.
    const entries = [];
    const walk = (node, depth) => {
      if (!node || typeof node !== "object" || depth > 8) return;
      if (Array.isArray(node.instructions)) {
        for (const instruction of node.instructions) {
          if (Array.isArray(instruction.entries)) entries.push(...instruction.entries);
          if (instruction.entry) entries.push(instruction.entry);
        }
        return;
      }
      for (const child of Object.values(node)) walk(child, depth + 1);
    };
    walk(value, 0);
    return entries;
  }

  function tweetUnwrap(result) {
    if (!result) return null;
    return result.__typename === "TweetWithVisibilityResults" ? result.tweet : result;
  }

  function screenName(tweet) {
    const user = (((tweet.core || {}).user_results || {}).result) || {};
    return (user.core || {}).screen_name || (user.legacy || {}).screen_name || "someone";
  }

  function tweetField(tweet) {
    const note = ((((tweet.note_tweet || {}).note_tweet_results || {}).result) || {}).text;
    const text = xEntitiesDecode(note || tweet.legacy.full_text || "");
    return { key: "text", text, paragraphs: text.split(/\n{2,}/).filter(Boolean) };
  }

  function tweetImages(tweet) {
    const legacy = tweet.legacy;
    const media = ((legacy.extended_entities || {}).media || (legacy.entities || {}).media || []);
    return media
      .filter((item) => item && item.media_url_https)
      .map((item) => ({
        src: item.media_url_https,
        alt: item.ext_alt_text || "",
        config: configParse(item.diy_mod_config),
      }));
  }

  function feedPosts(platform, body) {
    return platform === "x" ? xPosts(body) : redditPosts(body);
  }

  // --- rendering ----------------------------------------------------------------------------

  function postArticle(post, moderated) {
    const article = element("article", { className: "post", "data-post-id": post.id });
    if (post.meta) article.append(element("p", { className: "post-meta", text: post.meta }));
    for (const field of post.fields) {
      const container = element(field.key === "title" ? "h4" : "div", {
        className: field.key === "title" ? "post-title" : "post-body",
      });
      if (moderated && START_MARKER.test(field.text)) {
        container.classList.add("post-marked");
        container.append(markedTextRender(field.text));
      } else if (field.key !== "title" && field.paragraphs.length > 1) {
        for (const paragraph of field.paragraphs) container.append(element("p", { text: paragraph }));
      } else {
        container.textContent = field.text;
      }
      article.append(container);
    }
    if (post.images.length) {
      const images = element("div", { className: "post-images" });
      for (const image of post.images) images.append(moderated ? moderatedImage(image) : originalImage(image));
      article.append(images);
    }
    return article;
  }

  /** What the extension makes of a text node holding markers (CONTRACT section 4). */
  function markedTextRender(text) {
    const fragment = document.createDocumentFragment();
    let last = 0;
    for (const match of text.matchAll(MARKER)) {
      fragment.append(htmlToText(text.slice(last, match.index)));
      if (match[1] !== undefined) fragment.append(blurSpan(htmlToText(match[1])));
      else if (match[2] !== undefined) fragment.append(warningCard(match[2]));
      else fragment.append(rewriteSpan(htmlToText(match[3])));
      last = match.index + match[0].length;
    }
    fragment.append(htmlToText(text.slice(last)));
    return fragment;
  }

  function blurSpan(text) {
    return element("span", {
      className: "diymod-blur",
      tabindex: 0,
      title: "Blurred by DIY-MOD: hover or focus to read",
      text,
    });
  }

  let cardCount = 0;

  function warningCard(inner) {
    const bar = inner.indexOf("|");
    const warning = htmlToText(bar >= 0 ? inner.slice(0, bar) : "Hidden by DIY-MOD");
    const hidden = htmlToText(bar >= 0 ? inner.slice(bar + 1) : inner);
    cardCount += 1;
    const textId = "diymod-card-text-" + cardCount;
    const reveal = element("button", {
      type: "button",
      className: "diymod-reveal",
      "aria-expanded": "false",
      "aria-controls": textId,
      text: "Show anyway",
    });
    const content = element("span", { className: "diymod-card-text", id: textId, hidden: true, text: hidden });
    reveal.addEventListener("click", () => {
      const open = content.hidden;
      content.hidden = !open;
      reveal.setAttribute("aria-expanded", String(open));
      reveal.textContent = open ? "Hide again" : "Show anyway";
    });
    return element(
      "span",
      { className: "diymod-card", role: "group", "aria-label": "Hidden by DIY-MOD" },
      element("span", { className: "diymod-card-warning", text: "⚠ " + warning }),
      " ",
      reveal,
      content
    );
  }

  function rewriteSpan(text) {
    return element(
      "span",
      {},
      element("span", { className: "diymod-rewrite", text }),
      element("span", { className: "diymod-badge", text: "Modified by DIY-MOD" })
    );
  }

  function originalImage(image) {
    return element(
      "figure",
      { className: "post-image" },
      element("img", { src: image.src, alt: image.alt, loading: "lazy" })
    );
  }

  /** An image as the extension shows it (CONTRACT section 5). */
  function moderatedImage(image) {
    const img = element("img", { src: image.src, alt: image.alt, "data-original-src": image.src });
    const figure = element("figure", { className: "post-image", "data-state": "original" }, img);
    const config = image.config;
    if (!config) return figure;
    if (config.type === "processed" && config.processed_image_url) {
      imageSwap(figure, config.processed_image_url, "feed");
    } else if (config.type === "blur" || config.type === "overlay") {
      figure.dataset.state = "blurred";
      figure.append(element("figcaption", { text: "Blurred by DIY-MOD" }));
    } else if (config.status === "COMPLETED" && config.processedUrl) {
      imageSwap(figure, config.processedUrl, "feed");
    } else if (config.status === "DEFERRED") {
      figure.dataset.state = "pending";
      figure.append(
        element("div", { className: "spinner", role: "status" }, element("span", { text: "Transforming image…" }))
      );
      imageWait(image.src, config.filters || [], figure);
    }
    return figure;
  }

  function imageSwap(figure, url, how) {
    const img = figure.querySelector("img");
    figure.dataset.swappedBy = how;
    img.addEventListener(
      "load",
      () => {
        figure.dataset.state = "done";
        const spinner = figure.querySelector(".spinner");
        if (spinner) spinner.remove();
      },
      { once: true }
    );
    img.addEventListener("error", () => imageFailed(figure, "The transformed image did not load."), { once: true });
    img.src = url;
    if (!figure.querySelector("figcaption")) {
      figure.append(element("figcaption", { text: "Image transformed by DIY-MOD" }));
    }
  }

  function imageFailed(figure, message) {
    figure.dataset.state = "failed";
    for (const stale of figure.querySelectorAll(".spinner, figcaption")) stale.remove();
    figure.append(element("figcaption", { text: message }));
  }

  // --- deferred images: socket first, polling as the fallback ------------------------------------

  function imageWait(imageUrl, filters, figure) {
    const known = state.results.get(imageUrl);
    if (known) {
      imageSwap(figure, known, "socket");
      return;
    }
    let entry = state.pending.get(imageUrl);
    if (!entry) {
      entry = { filters, figures: new Set(), polls: 0, timer: null };
      state.pending.set(imageUrl, entry);
      entry.timer = window.setTimeout(() => imagePoll(imageUrl), POLL_FIRST_MS);
    }
    entry.figures.add(figure);
    socketSend({ type: "wait_for_image", data: { image_url: imageUrl, filters } });
  }

  function imageProcessed(imageUrl, processedUrl, how) {
    if (!imageUrl || !processedUrl) return;
    state.results.set(imageUrl, processedUrl);
    const entry = state.pending.get(imageUrl);
    if (!entry) return;
    state.pending.delete(imageUrl);
    window.clearTimeout(entry.timer);
    for (const figure of entry.figures) imageSwap(figure, processedUrl, how);
  }

  async function imagePoll(imageUrl) {
    const entry = state.pending.get(imageUrl);
    if (!entry) return;
    entry.polls += 1;
    try {
      const data = await api("/get_img_result", {
        query: { img_url: imageUrl, filters: JSON.stringify(entry.filters) },
      });
      if (data.status === "COMPLETED") {
        imageProcessed(imageUrl, data.processed_value, "poll");
        return;
      }
      if (data.status === "FAILED") {
        state.pending.delete(imageUrl);
        for (const figure of entry.figures) imageFailed(figure, "DIY-MOD could not transform this image.");
        return;
      }
    } catch (error) {
      // A failed poll is retried like a pending answer.
    }
    if (entry.polls < POLL_MAX && state.pending.get(imageUrl) === entry) {
      entry.timer = window.setTimeout(() => imagePoll(imageUrl), POLL_EVERY_MS);
    }
  }

  function pendingClear() {
    for (const entry of state.pending.values()) window.clearTimeout(entry.timer);
    state.pending.clear();
    state.results.clear();
  }

  // --- the WebSocket (CONTRACT section 6) ------------------------------------------------------

  function socketStatus(text, socketState) {
    const node = $("socket-status");
    node.textContent = "Live updates: " + text;
    node.dataset.state = socketState;
  }

  function socketConnect() {
    state.socketGeneration += 1;
    const generation = state.socketGeneration;
    if (state.socket) state.socket.close();
    const scheme = window.location.protocol === "https:" ? "wss:" : "ws:";
    let url = scheme + "//" + window.location.host + "/ws/" + encodeURIComponent(state.userId);
    if (state.token) url += "?token=" + encodeURIComponent(state.token);
    const socket = new WebSocket(url);
    state.socket = socket;
    socketStatus("connecting…", "connecting");
    socket.addEventListener("open", () => {
      if (generation !== state.socketGeneration) return;
      state.reconnectDelay = 1000;
      socketStatus("connected", "open");
      socketSend({ type: "connection", data: { client: "playground" } });
      // Pending waits are re-sent after a reconnect, as the extension does.
      for (const [imageUrl, entry] of state.pending) {
        socketSend({ type: "wait_for_image", data: { image_url: imageUrl, filters: entry.filters } });
      }
    });
    socket.addEventListener("message", (event) => socketMessage(event.data));
    socket.addEventListener("close", () => {
      if (generation !== state.socketGeneration) return;
      socketStatus("disconnected, retrying (images are polled meanwhile)", "closed");
      window.setTimeout(() => {
        if (generation === state.socketGeneration) socketConnect();
      }, state.reconnectDelay);
      state.reconnectDelay = Math.min(state.reconnectDelay * 2, 30000);
    });
  }

  function socketSend(message) {
    if (state.socket && state.socket.readyState === WebSocket.OPEN) {
      state.socket.send(JSON.stringify(message));
    }
  }

  function socketMessage(raw) {
    let message;
    try {
      message = JSON.parse(raw);
    } catch (error) {
      return;
    }
    const payload = Object.assign({}, message, message.data && typeof message.data === "object" ? message.data : {});
    if (message.type === "ping") socketSend({ type: "pong", data: { timestamp: Date.now() } });
    if (message.type === "image_processed") {
      imageProcessed(payload.image_url, payload.processed_value || payload.result, "socket");
    }
  }

  // --- moderating a feed ----------------------------------------------------------------------

  async function sampleGet(name) {
    if (!state.samples.has(name)) {
      state.samples.set(name, await api($("feed-form").dataset.samplesUrl + "/" + encodeURIComponent(name)));
    }
    return state.samples.get(name);
  }

  async function feedChosen() {
    const choice = document.querySelector('input[name="sample"]:checked');
    if (!choice || choice.value === "paste") {
      return { url: $("paste-url").value.trim(), body: $("paste-body").value, imagesFetchable: true };
    }
    const sample = await sampleGet(choice.value);
    return { url: sample.url, body: sample.body, imagesFetchable: sample.images_fetchable };
  }

  function columnNote(id, text) {
    $(id).replaceChildren(element("p", { className: "feed-note", text }));
  }

  function columnRender(id, posts, moderated, reports) {
    const column = $(id);
    column.replaceChildren();
    if (!posts.length) {
      columnNote(id, "This payload holds no posts.");
      return;
    }
    for (const post of posts) {
      const article = postArticle(post, moderated);
      if (reports) article.append(postReport(reports.get(post.id)));
      column.append(article);
    }
  }

  /** The per-post badges: which filter matched, how, how sure, on which passage. */
  function postReport(report) {
    const line = element("p", { className: "post-report" });
    if (!report) {
      line.append(element("span", { className: "chip clean", text: "No filter matched" }));
      return line;
    }
    for (const filter of report.filters || []) {
      line.append(element("span", { className: "chip match", text: "Matched “" + filter + "”" }));
    }
    line.append(element("span", { className: "chip", text: INTERVENTION_NAMES[report.intervention] || report.intervention }));
    if (typeof report.confidence === "number") {
      line.append(element("span", { className: "chip", text: Math.round(report.confidence * 100) + "% confident" }));
    }
    for (const passage of (report.passages || []).slice(0, 2)) {
      const shown = passage.length > 80 ? passage.slice(0, 77) + "…" : passage;
      line.append(element("span", { className: "chip passage", text: "passage: “" + shown + "”" }));
    }
    if (report.images) {
      line.append(element("span", { className: "chip", text: report.images + (report.images === 1 ? " image" : " images") }));
    }
    return line;
  }

  function summaryRender(data, postCount) {
    const stats = data.stats || {};
    const parts = [
      (stats.posts ?? postCount) + " posts",
      (stats.matched ?? 0) + " matched",
      (stats.images ?? 0) + ((stats.images ?? 0) === 1 ? " image" : " images") + " sent for transformation",
      (stats.cache_hits ?? 0) + " decisions from cache",
      (stats.model_calls ?? 0) + " model calls",
      (stats.milliseconds ?? "?") + " ms on the server",
    ];
    const summary = $("feed-summary");
    summary.replaceChildren(parts.join(" · "));
    if (data.degraded) {
      summary.append(" ", element("span", { className: "degraded", text: "Degraded: " + (data.degraded_reason || "unknown reason") }));
    }
  }

  async function feedModerate(event) {
    event.preventDefault();
    const button = $("moderate-button");
    button.disabled = true;
    say("feed-message", "Moderating…");
    try {
      const feed = await feedChosen();
      const platform = platformOf(feed.url);
      if (!platform) throw new Error("The URL must be a reddit.com or x.com address.");
      if (!feed.body.trim()) throw new Error("The response body is empty.");
      let originalPosts;
      try {
        originalPosts = feedPosts(platform, feed.body);
      } catch (error) {
        throw new Error("This is not a " + (platform === "x" ? "X timeline (JSON)" : "Reddit feed (HTML)") + ".");
      }
      columnRender("original-feed", originalPosts, false, null);
      pendingClear();
      const started = performance.now();
      let data;
      try {
        data = await api("/get_feed", {
          method: "POST",
          body: { user_id: state.userId, url: feed.url, data: { feed_info: { response: feed.body } } },
        });
      } catch (error) {
        // Like the extension: an error means the original feed, unmoderated.
        columnRender("moderated-feed", originalPosts, false, null);
        throw new Error("The server refused the feed (" + error.message + "); the extension would show it unmoderated.");
      }
      const reports = new Map((data.posts || []).map((report) => [String(report.id), report]));
      columnRender("moderated-feed", feedPosts(platform, data.feed.response), true, reports);
      summaryRender(data, originalPosts.length);
      const roundTrip = Math.round(performance.now() - started);
      let message = "Done in " + roundTrip + " ms.";
      if (!feed.imagesFetchable) {
        message += " This server may not fetch its own sample images, so they stay as they are (see the README, “Playground”).";
      }
      say("feed-message", message);
    } catch (error) {
      say("feed-message", error.message, true);
    } finally {
      button.disabled = false;
    }
  }

  function pasteToggle() {
    const choice = document.querySelector('input[name="sample"]:checked');
    $("paste-fields").hidden = !choice || choice.value !== "paste";
  }

  // --- start ----------------------------------------------------------------------------------

  function start() {
    $("feed-form").dataset.samplesUrl = document.body.dataset.samplesUrl.replace(/\/$/, "");
    const tokenInput = $("api-token");
    if (tokenInput) tokenInput.value = window.localStorage.getItem(STORAGE_TOKEN) || "";
    $("user-form").addEventListener("submit", (event) => {
      event.preventDefault();
      const userId = $("user-id").value.trim();
      if (userId) userUse(userId);
    });
    $("user-new").addEventListener("click", () => userUse(randomUserId()));
    $("filter-form").addEventListener("submit", filterAdd);
    $("feed-form").addEventListener("submit", feedModerate);
    for (const radio of document.querySelectorAll('input[name="sample"]')) radio.addEventListener("change", pasteToggle);
    pasteToggle();
    userUse(window.localStorage.getItem(STORAGE_USER) || randomUserId());
  }

  if (document.readyState === "loading") document.addEventListener("DOMContentLoaded", start);
  else start();
})();
