//! A self-contained report of one verification, to attach to a document: HTML (inline styles, no
//! external resources) or Markdown.

use circuits::ModelFile;

use crate::bundle::printable;
use crate::outputs::top_class;
use crate::{ProofBundle, Verdict};

/// The format of a verification report.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum ReportFormat {
    /// A standalone HTML page (inline styles, no external resources).
    Html,
    /// Markdown text.
    Markdown,
}

/// Where the files are, for the re-check command.
pub struct ReportPaths<'a> {
    /// Path of the proof file (`.zkp`).
    pub proof: &'a str,
    /// Path of the model file (`.zkm`).
    pub model: &'a str,
}

/// `YYYY-MM-DD HH:MM:SS UTC` of a Unix time (days-to-civil, no calendar dependency).
pub fn utc(unix: u64) -> String {
    let (days, secs) = ((unix / 86_400) as i64, unix % 86_400);
    let z = days + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z - era * 146_097;
    let yoe = (doe - doe / 1_460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let day = doy - (153 * mp + 2) / 5 + 1;
    let month = if mp < 10 { mp + 3 } else { mp - 9 };
    let year = yoe + era * 400 + (month <= 2) as i64;
    format!(
        "{year:04}-{month:02}-{day:02} {:02}:{:02}:{:02} UTC",
        secs / 3600,
        secs % 3600 / 60,
        secs % 60
    )
}

fn escape(s: &str) -> String {
    s.replace('&', "&amp;")
        .replace('<', "&lt;")
        .replace('>', "&gt;")
        .replace('"', "&quot;")
}

/// The facts a report shows, as (label, value) rows.
fn facts(
    bundle: &ProofBundle,
    model: &ModelFile,
    v: &Verdict,
    checked_unix: u64,
) -> Vec<(&'static str, String)> {
    let vis = &model.visibility;
    let r = &model.report;
    let mut rows = vec![
        (
            "Verdict",
            if v.valid {
                "VALID".into()
            } else {
                format!("INVALID: {}", v.reason.as_deref().unwrap_or(""))
            },
        ),
        ("Checked", utc(checked_unix)),
        ("Model", format!("{} (from {})", model.name, model.source)),
        ("Model digest", model.digest.clone()),
        ("Proof system", proof_system(model)),
        (
            "Weights hash",
            model
                .weights_hash
                .clone()
                .unwrap_or_else(|| "none: the weights are public (in the model file)".into()),
        ),
        (
            "Revealed",
            format!(
                "input: {} ({} values); output: {} ({} values); weights: {}",
                vis.input,
                bundle.public.input.quantized.len(),
                vis.output,
                bundle.public.output.quantized.len(),
                vis.weights
            ),
        ),
        ("Quantization", {
            let top1 = r
                .top1_agreement
                .map(|a| format!("; top-1 agreement with float {:.1}%", a * 100.0))
                .unwrap_or_default();
            format!(
                "output max abs error vs float {:.4} on {} calibration samples{top1}",
                r.output_max_abs_error, r.samples
            )
        }),
        (
            "Proof",
            format!(
                "{} bytes, k = {}, made by {} {} ({} threads, proved in {:.3} s)",
                v.proof_bytes,
                v.k,
                printable(&bundle.prover.tool),
                printable(&bundle.prover.version),
                bundle.prover.threads,
                bundle.prover.prove_s
            ),
        ),
    ];
    if !r.unproven_tail.is_empty() {
        rows.push((
            "Not proven",
            format!(
                "the model's final {} (outputs are the scores before it)",
                r.unproven_tail.join(" + ")
            ),
        ));
    }
    rows
}

/// Render the report of `verdict` (the result of verifying `bundle` against `model`).
pub fn render(
    bundle: &ProofBundle,
    model: &ModelFile,
    verdict: &Verdict,
    paths: &ReportPaths<'_>,
    checked_unix: u64,
    format: ReportFormat,
) -> String {
    let outputs = &verdict.outputs[0];
    // An invalid proof proves nothing: its outputs are shown as claims, with no top class.
    let top = top_class(outputs, model.graph.input_len()).filter(|_| verdict.valid);
    let outputs_title = if verdict.valid {
        "Outputs"
    } else {
        "Claimed outputs (not proven: the proof is invalid)"
    };
    let scale = outputs
        .iter()
        .fold(0.0f64, |m, v| m.max(v.abs()))
        .max(1e-12);
    let recheck = format!("zkinfer verify {} -m {}", paths.proof, paths.model);
    let rows = facts(bundle, model, verdict, checked_unix);
    match format {
        ReportFormat::Markdown => {
            let mut s = String::from("# zkinfer proof report\n\n| | |\n|---|---|\n");
            for (k, v) in &rows {
                s.push_str(&format!("| {k} | {} |\n", v.replace('|', "\\|")));
            }
            s.push_str(&format!(
                "\n## {outputs_title}\n\n| index | value | |\n|---|---|---|\n"
            ));
            for (i, v) in outputs.iter().enumerate() {
                let bar = "█".repeat(((v.abs() / scale) * 20.0).round() as usize);
                let mark = if top == Some(i) {
                    " **(top class)**"
                } else {
                    ""
                };
                s.push_str(&format!(
                    "| {i} | {v:.4}{mark} | {}{bar} |\n",
                    if *v < 0.0 { "−" } else { "" }
                ));
            }
            s.push_str(&format!("\n## Re-check\n\n```sh\n{recheck}\n```\n"));
            s
        }
        ReportFormat::Html => {
            let color = if verdict.valid { "#1a7f37" } else { "#cf222e" };
            let mut s = String::from(
                "<!DOCTYPE html>\n<html lang=\"en\"><head><meta charset=\"utf-8\"><title>zkinfer proof report</title>\n\
                 <style>body{font-family:system-ui,sans-serif;max-width:52rem;margin:2rem auto;padding:0 1rem;color:#1f2328}\
                 table{border-collapse:collapse;width:100%}td,th{border-bottom:1px solid #d0d7de;padding:.35rem .5rem;text-align:left;vertical-align:top}\
                 th{width:10rem;color:#59636e;font-weight:600}.bar{height:.9rem;background:#54aeff;display:inline-block}\
                 .neg{background:#ff8182}.top{font-weight:700}code,pre{background:#f6f8fa;padding:.2rem .4rem;border-radius:4px}\
                 .verdict{font-size:1.6rem;font-weight:700}</style></head><body>\n<h1>zkinfer proof report</h1>\n",
            );
            s.push_str(&format!(
                "<p class=\"verdict\" style=\"color:{color}\">{}</p>\n<table>\n",
                if verdict.valid { "VALID" } else { "INVALID" }
            ));
            for (k, v) in &rows {
                s.push_str(&format!("<tr><th>{k}</th><td>{}</td></tr>\n", escape(v)));
            }
            s.push_str(&format!("</table>\n<h2>{outputs_title}</h2>\n<table>\n"));
            for (i, v) in outputs.iter().enumerate() {
                let width = (v.abs() / scale * 100.0).round();
                let class = if *v < 0.0 { "bar neg" } else { "bar" };
                let row_class = if top == Some(i) { " class=\"top\"" } else { "" };
                let mark = if top == Some(i) { " (top class)" } else { "" };
                s.push_str(&format!(
                    "<tr{row_class}><th>{i}</th><td>{v:.4}{mark}</td><td style=\"width:50%\"><span class=\"{class}\" style=\"width:{width}%\"></span></td></tr>\n"
                ));
            }
            s.push_str(&format!(
                "</table>\n<h2>Re-check</h2>\n<pre><code>{}</code></pre>\n</body></html>\n",
                escape(&recheck)
            ));
            s
        }
    }
}

/// The commitment scheme and SRS, with a warning for the development SRS.
fn proof_system(model: &ModelFile) -> String {
    let scheme = model.proof_system.commitment;
    let Some(srs) = &model.proof_system.srs else {
        return scheme.to_string();
    };
    if srs.is_dev() {
        format!(
            "{scheme}, development SRS: INSECURE, anyone can forge proofs against it (for trying \
             zkinfer out only)"
        )
    } else {
        format!("{scheme}, SRS '{}' (τ·G2 {})", srs.name, srs.tau_g2)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn utc_dates_are_civil_dates() {
        assert_eq!(utc(0), "1970-01-01 00:00:00 UTC");
        assert_eq!(utc(951_782_400), "2000-02-29 00:00:00 UTC");
        assert_eq!(utc(1_795_564_800 + 3_723), "2026-11-25 01:02:03 UTC");
    }

    #[test]
    fn html_is_escaped() {
        assert_eq!(
            escape("<a href=\"x\">&</a>"),
            "&lt;a href=&quot;x&quot;&gt;&amp;&lt;/a&gt;"
        );
    }
}
