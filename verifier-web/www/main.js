// zkinfer's browser verifier. The person chooses or drops a proof (.zkp) and a model (.zkm); the proof
// is checked locally by the WebAssembly build of the verifier crate (pkg/, made by
// verifier-web/build.sh). Nothing is uploaded.
//
// Test hook: index.html?zkp=URL&zkm=URL fetches both files (same origin) and verifies them at once
// (&allow_dev_srs=1 ticks the box that accepts development-SRS proofs).
// The verdict lands in #verdict's data-verdict: valid, invalid, unreadable or error. With &post=URL as
// well, the page then POSTs the verdict and its timings (JSON) to that same-origin URL and closes.

import init, { verify, version } from "./pkg/verifier_web.js";

const $ = (id) => document.getElementById(id);
const files = { zkp: null, zkm: null }; // each { name, bytes }

function status(text) {
  $("status").textContent = text;
}

// By extension, else by the JSON's "format" field.
function kindOf(name, bytes) {
  if (/\.zkp$/i.test(name)) return "zkp";
  if (/\.zkm$/i.test(name)) return "zkm";
  const head = new TextDecoder().decode(bytes.subarray(0, 4096));
  const m = head.match(/"format"\s*:\s*"zkinfer-(proof|model)\//);
  return m ? (m[1] === "proof" ? "zkp" : "zkm") : null;
}

function describeChosen() {
  const d = (k, what) => (files[k] ? `${what}: ${files[k].name}` : `${what}: (none)`);
  $("chosen").textContent = `${d("zkp", "Proof")}; ${d("zkm", "Model")}`;
}

function fmtOutputs(outputs) {
  if (!outputs || outputs.length === 0) return "—";
  const out = outputs[0];
  const text = `[${out.map((x) => x.toFixed(4)).join(", ")}]`;
  if (out.length < 2) return text;
  const top = out.reduce((b, x, i) => (x > out[b] ? i : b), 0);
  return `${text}, top class ${top}`;
}

function show(r, ms) {
  const v = $("verdict");
  v.dataset.verdict = r.verdict;
  v.dataset.ms = ms.toFixed(1);
  v.textContent = r.verdict.toUpperCase();
  $("reason").textContent = r.reason ?? "";
  $("model").textContent = r.model_name
    ? `${r.model_name} (digest ${r.model_digest.slice(0, 16)}…, k = ${r.k})`
    : "—";
  const claimed = r.verdict === "valid" || !r.outputs ? "" : "claimed, not proven: ";
  $("outputs").textContent = claimed + fmtOutputs(r.outputs);
  const part = (s) => `${(s * 1e3).toFixed(0)} ms`;
  $("time").textContent =
    r.params_s === undefined
      ? `${ms.toFixed(0)} ms`
      : `${ms.toFixed(0)} ms in this page (SRS points ${part(r.params_s)}, ` +
        `verifying key ${part(r.keygen_vk_s)}, proof check ${part(r.verify_s)})`;
  $("result").hidden = false;
  document.body.dataset.state = "done";
  status(`Checked locally in ${ms.toFixed(0)} ms.`);
}

async function verifyNow() {
  if (!files.zkp || !files.zkm) return null;
  document.body.dataset.state = "verifying";
  status("Verifying…");
  await new Promise((resolve) => setTimeout(resolve, 0)); // let the status show first
  const t = performance.now();
  let r;
  try {
    const allowDev = $("allow-dev-srs").checked;
    r = JSON.parse(verify(files.zkp.name, files.zkp.bytes, files.zkm.name, files.zkm.bytes, allowDev));
  } catch (e) {
    r = { verdict: "error", reason: `the verifier stopped (${e}); reload the page` };
  }
  const ms = performance.now() - t;
  show(r, ms);
  return { ...r, page_ms: ms };
}

async function take(fileList) {
  for (const f of fileList) {
    const bytes = new Uint8Array(await f.arrayBuffer());
    const kind = kindOf(f.name, bytes);
    if (kind) files[kind] = { name: f.name, bytes };
    else status(`${f.name} is neither a .zkp nor a .zkm`);
  }
  describeChosen();
  await verifyNow();
}

function wire() {
  const drop = $("drop");
  for (const ev of ["dragenter", "dragover"]) {
    drop.addEventListener(ev, (e) => {
      e.preventDefault();
      drop.classList.add("over");
    });
  }
  drop.addEventListener("dragleave", () => drop.classList.remove("over"));
  drop.addEventListener("drop", (e) => {
    e.preventDefault();
    drop.classList.remove("over");
    take(e.dataTransfer.files);
  });
  for (const id of ["zkp", "zkm"]) {
    $(id).addEventListener("change", (e) => take(e.target.files));
  }
  $("allow-dev-srs").addEventListener("change", () => verifyNow());
}

async function fromQuery(q) {
  const r = await fetchAndVerify(q);
  const post = q.get("post");
  if (post) {
    const report = { ...r, load_ms: Number(document.body.dataset.loadMs), dom: $("verdict").outerHTML };
    await fetch(post, { method: "POST", body: JSON.stringify(report) });
    window.close();
  }
}

async function fetchAndVerify(q) {
  $("allow-dev-srs").checked = q.get("allow_dev_srs") === "1";
  try {
    for (const kind of ["zkp", "zkm"]) {
      const url = q.get(kind);
      const res = await fetch(url);
      if (!res.ok) throw new Error(`${url}: HTTP ${res.status}`);
      files[kind] = { name: url.split("/").pop(), bytes: new Uint8Array(await res.arrayBuffer()) };
    }
  } catch (e) {
    const r = { verdict: "error", reason: `cannot fetch the files: ${e.message}` };
    show(r, 0);
    return r;
  }
  describeChosen();
  return verifyNow();
}

async function main() {
  wire();
  const t = performance.now();
  try {
    await init();
  } catch (e) {
    document.body.dataset.state = "broken";
    status(`The verifier did not load (${e}). Build it with verifier-web/build.sh and serve ` +
      "verifier-web/www over HTTP (a file:// page cannot load WebAssembly modules).");
    return;
  }
  document.body.dataset.state = "ready";
  document.body.dataset.loadMs = (performance.now() - t).toFixed(1);
  status(`zkinfer verifier ${version()} ready (WebAssembly loaded in ${(performance.now() - t).toFixed(0)} ms).`);
  const q = new URLSearchParams(location.search);
  if (q.get("zkp") && q.get("zkm")) await fromQuery(q);
}

main();
