//! The files an evaluation leaves beside its results: `<out>.summary.json`, a Markdown report
//! `<out>.report.md`, and its plot `<out>.budget.svg` (pass rate against the expansion budget,
//! with the 95% band) — an SVG written by hand, so no plotting dependency. All written atomically.

use std::fmt::Write as _;
use std::path::{Path, PathBuf};

use crate::eval::summary::Summary;
use crate::eval::EvalError;

/// Paths of the files written next to a results file.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ReportPaths {
    /// The summary, as JSON.
    pub summary: PathBuf,
    /// The Markdown report.
    pub report: PathBuf,
    /// The plot.
    pub plot: PathBuf,
}

impl ReportPaths {
    /// `results.jsonl` → `results.summary.json`, `results.report.md`, `results.budget.svg`.
    pub fn beside(results: &Path) -> Self {
        ReportPaths {
            summary: sidecar(results, "summary.json"),
            report: sidecar(results, "report.md"),
            plot: sidecar(results, "budget.svg"),
        }
    }
}

/// A file kept beside a results file: `results.jsonl` + `summary.json` → `results.summary.json`.
pub fn sidecar(results: &Path, suffix: &str) -> PathBuf {
    sidecar_of(results, suffix)
}

/// The files written beside a results file, by their suffixes: a results file named like one
/// of them (`r.lock`, `r.written`) would be its own sidecar, and is refused.
pub const SIDECARS: [&str; 6] = [
    "config.json",
    "lock",
    "written",
    "summary.json",
    "report.md",
    "budget.svg",
];

/// The sidecar suffix `results`'s name ends with, if any: such a name is its own sidecar
/// (`r.written`) or another results file's (`r.summary.json` beside `r.jsonl`).
pub fn named_like_a_sidecar(results: &Path) -> Option<&'static str> {
    let name = results.file_name()?.to_string_lossy();
    SIDECARS
        .into_iter()
        .find(|suffix| name.ends_with(&format!(".{suffix}")))
}

fn sidecar_of(results: &Path, suffix: &str) -> PathBuf {
    let stem = results
        .file_stem()
        .map(|s| s.to_string_lossy().into_owned())
        .unwrap_or_else(|| "results".into());
    let dir = results.parent().unwrap_or(Path::new(""));
    dir.join(format!("{stem}.{suffix}"))
}

/// Writes the summary JSON, the plot and the Markdown report. `about` lists what was run
/// (dataset, model, backend, budgets) for the report's header.
pub fn write_report(
    results: &Path,
    summary: &Summary,
    about: &[(String, String)],
) -> Result<ReportPaths, EvalError> {
    let paths = ReportPaths::beside(results);
    let text =
        serde_json::to_string_pretty(&summary_json(summary, about)).expect("a summary serializes");
    // The three are committed together: a run killed while writing them leaves the last
    // set whole, never a summary of one run beside the report of another.
    let report = markdown(results, summary, about, &paths);
    let parts = [
        (&paths.summary, format!("{text}\n")),
        (&paths.plot, budget_svg(summary)),
        (&paths.report, report),
    ];
    let io = |path: &Path| {
        let path = path.to_path_buf();
        move |source| EvalError::Io { path, source }
    };
    let mut files = Vec::with_capacity(parts.len());
    for (path, bytes) in &parts {
        let mut file = crate::fsutil::AtomicFile::create(path).map_err(io(path))?;
        std::io::Write::write_all(&mut file, bytes.as_bytes()).map_err(io(path))?;
        files.push(file);
    }
    crate::fsutil::commit_all(files).map_err(io(&paths.report))?;
    Ok(paths)
}

/// The summary as `<out>.summary.json` holds it (and `eval --json` prints it): the summary's
/// numbers, and what was run under `about`.
pub fn summary_json(summary: &Summary, about: &[(String, String)]) -> serde_json::Value {
    let mut json = serde_json::to_value(summary).expect("a summary serializes");
    json["about"] = about
        .iter()
        .map(|(k, v)| (k.clone(), serde_json::Value::from(v.clone())))
        .collect();
    json
}

fn markdown(
    results: &Path,
    s: &Summary,
    about: &[(String, String)],
    paths: &ReportPaths,
) -> String {
    let file = |p: &Path| {
        p.file_name()
            .map(|n| n.to_string_lossy().into_owned())
            .unwrap_or_default()
    };
    let mut md = String::from("# proofstep evaluation\n\n");
    for (k, v) in about {
        let _ = writeln!(md, "- {k}: `{v}`");
    }
    let _ = writeln!(md, "- results: `{}`\n", file(results));
    let _ = writeln!(
        md,
        "| theorems | proved | pass rate | 95% CI (Wilson) | could not be searched |"
    );
    let _ = writeln!(md, "|---:|---:|---:|---|---:|");
    let _ = writeln!(
        md,
        "| {} | {} | {:.1}% | {:.1}–{:.1}% | {} |\n",
        s.theorems,
        s.proved,
        100.0 * s.pass_rate,
        100.0 * s.ci95.0,
        100.0 * s.ci95.1,
        s.errors
    );
    if s.lean_failures > 0 {
        let _ = writeln!(
            md,
            "**Not complete:** Lean or the model server failed on {} of the theorems, which were \
             never searched to the end; they count here as not proved, and `eval` again with the \
             same --out and flags searches them.\n",
            s.lean_failures
        );
    }
    if s.proved_with_context > 0 {
        let _ = writeln!(md, "{}", s.context_text());
    }
    let _ = writeln!(
        md,
        "Mean per theorem: {:.2} s, {:.1} expansions. Time in the model {:.1} s, in Lean {:.1} s \
         ({:.0}% model; wall times of each phase, which overlap when generation is pipelined).\n",
        s.mean_time_secs,
        s.mean_expansions,
        s.model_secs,
        s.lean_secs,
        100.0 * s.model_share
    );
    let _ = writeln!(md, "## Pass rate against the expansion budget\n");
    let _ = writeln!(md, "![pass rate against budget]({})\n", file(&paths.plot));
    let _ = writeln!(md, "| expansions | proved | pass rate | 95% CI |");
    let _ = writeln!(md, "|---:|---:|---:|---|");
    for p in &s.by_budget {
        let _ = writeln!(
            md,
            "| {} | {} | {:.1}% | {:.1}–{:.1}% |",
            p.expansions,
            p.proved,
            100.0 * p.pass_rate,
            100.0 * p.ci95.0,
            100.0 * p.ci95.1
        );
    }
    md.push_str(
        "\nA theorem counts at budget b when its proof was found within b expansions; best-first search \
         with a fixed seed takes the same path under any budget, so one run gives the whole curve \
         (theorems stopped by the wall-time limit count as unproved at every budget).\n",
    );
    if let Some(r) = &s.refine {
        let _ = writeln!(md, "\n## Pass rate against whole-proof model calls\n");
        let _ = writeln!(md, "| model calls | proved | pass rate | 95% CI |");
        let _ = writeln!(md, "|---:|---:|---:|---|");
        for p in &r.by_model_calls {
            let _ = writeln!(
                md,
                "| {} | {} | {:.1}% | {:.1}–{:.1}% |",
                p.calls,
                p.proved,
                100.0 * p.pass_rate,
                100.0 * p.ci95.0,
                100.0 * p.ci95.1
            );
        }
        let _ = writeln!(
            md,
            "\npass@k for a run with `--rounds 0` (k independent whole proofs), refine@k otherwise \
             (k calls, repairs included). {} model calls, {} prompt + {} answer tokens ({:.0} per \
             theorem); {} theorems proved by the search after an accepted prefix.",
            r.model_calls, r.prompt_tokens, r.completion_tokens, r.mean_tokens, r.by_prefix_search
        );
    }
    md
}

/// An SVG document's opening and white background, `w` × `h`, for the pass-rate plots (this
/// report's and `iterate`'s); the caller draws and closes it.
pub fn svg_canvas(w: f64, h: f64) -> String {
    format!(
        "<svg xmlns=\"http://www.w3.org/2000/svg\" width=\"{w}\" height=\"{h}\" viewBox=\"0 0 {w} {h}\" \
         font-family=\"sans-serif\" font-size=\"12\">\n<rect width=\"{w}\" height=\"{h}\" fill=\"white\"/>\n"
    )
}

/// The plot: pass rate (%) against expansions on a log₂ axis, with the Wilson band.
pub fn budget_svg(s: &Summary) -> String {
    let (w, h) = (640.0_f64, 400.0_f64);
    let (left, right, top, bottom) = (64.0, 24.0, 40.0, 56.0);
    let pw = w - left - right;
    let ph = h - top - bottom;
    let max_b = s.by_budget.last().map_or(1, |p| p.expansions).max(2) as f64;
    let x = |b: usize| left + pw * ((b.max(1) as f64).log2() / max_b.log2());
    let y = |r: f64| top + ph * (1.0 - r.clamp(0.0, 1.0));
    let mut svg = svg_canvas(w, h);
    let _ = writeln!(
        svg,
        r#"<text x="{}" y="22" text-anchor="middle" font-size="14">Pass rate against expansion budget ({} theorems)</text>"#,
        w / 2.0,
        s.theorems
    );
    for i in 0..=4 {
        let r = i as f64 / 4.0;
        let yy = y(r);
        let _ = writeln!(
            svg,
            r##"<line x1="{left}" y1="{yy:.1}" x2="{:.1}" y2="{yy:.1}" stroke="#ddd"/><text x="{:.1}" y="{:.1}" text-anchor="end">{:.0}%</text>"##,
            left + pw,
            left - 6.0,
            yy + 4.0,
            100.0 * r
        );
    }
    for p in &s.by_budget {
        let xx = x(p.expansions);
        let _ = writeln!(
            svg,
            r##"<line x1="{xx:.1}" y1="{:.1}" x2="{xx:.1}" y2="{:.1}" stroke="#999"/><text x="{xx:.1}" y="{:.1}" text-anchor="middle">{}</text>"##,
            top + ph,
            top + ph + 5.0,
            top + ph + 20.0,
            p.expansions
        );
    }
    let _ = writeln!(
        svg,
        r#"<text x="{:.1}" y="{:.1}" text-anchor="middle">expansions (log scale)</text>"#,
        left + pw / 2.0,
        h - 12.0
    );
    let _ = writeln!(
        svg,
        r#"<text x="16" y="{:.1}" text-anchor="middle" transform="rotate(-90 16 {:.1})">pass rate</text>"#,
        top + ph / 2.0,
        top + ph / 2.0
    );
    if !s.by_budget.is_empty() {
        let upper: Vec<String> = s
            .by_budget
            .iter()
            .map(|p| format!("{:.1},{:.1}", x(p.expansions), y(p.ci95.1)))
            .collect();
        let lower: Vec<String> = s
            .by_budget
            .iter()
            .rev()
            .map(|p| format!("{:.1},{:.1}", x(p.expansions), y(p.ci95.0)))
            .collect();
        let _ = writeln!(
            svg,
            r##"<polygon points="{} {}" fill="#4477aa" fill-opacity="0.15" stroke="none"/>"##,
            upper.join(" "),
            lower.join(" ")
        );
        let line: Vec<String> = s
            .by_budget
            .iter()
            .map(|p| format!("{:.1},{:.1}", x(p.expansions), y(p.pass_rate)))
            .collect();
        let _ = writeln!(
            svg,
            r##"<polyline points="{}" fill="none" stroke="#4477aa" stroke-width="2"/>"##,
            line.join(" ")
        );
        for p in &s.by_budget {
            let _ = writeln!(
                svg,
                r##"<circle cx="{:.1}" cy="{:.1}" r="3.5" fill="#4477aa"><title>{} expansions: {}/{} = {:.1}%</title></circle>"##,
                x(p.expansions),
                y(p.pass_rate),
                p.expansions,
                p.proved,
                s.theorems,
                100.0 * p.pass_rate
            );
        }
    }
    let _ = writeln!(
        svg,
        r##"<rect x="{left}" y="{top}" width="{pw}" height="{ph}" fill="none" stroke="#333"/>"##
    );
    svg.push_str("</svg>\n");
    svg
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::eval::record::TheoremRecord;

    #[test]
    fn writes_summary_report_and_a_well_formed_plot() {
        let dir = tempfile::tempdir().unwrap();
        let results = dir.path().join("run.jsonl");
        let mut a = TheoremRecord::from_error("a", None, String::new(), 1.0);
        a.error = None;
        a.proved = true;
        a.expansions = 3;
        let b = TheoremRecord::from_error("b", None, "bad statement".into(), 1.0);
        let summary = Summary::of(&[a, b], 8);
        let paths =
            write_report(&results, &summary, &[("dataset".into(), "x.jsonl".into())]).unwrap();
        assert_eq!(paths.plot, dir.path().join("run.budget.svg"));
        let json: serde_json::Value =
            serde_json::from_str(&std::fs::read_to_string(&paths.summary).unwrap()).unwrap();
        assert_eq!(json["proved"], 1);
        assert_eq!(json["about"]["dataset"], "x.jsonl");
        let md = std::fs::read_to_string(&paths.report).unwrap();
        assert!(md.contains("| 2 | 1 | 50.0% |"), "{md}");
        assert!(md.contains("run.budget.svg"));
        let svg = std::fs::read_to_string(&paths.plot).unwrap();
        assert!(svg.starts_with("<svg") && svg.trim_end().ends_with("</svg>"));
        assert_eq!(svg.matches("<circle").count(), summary.by_budget.len());
        assert_eq!(svg.matches('<').count(), svg.matches('>').count());
    }
}
