//! The per-server report (issue 6), as a specification.
//!
//! - `golden`: every format from fixed models (`tests/golden/*.input.json`) matches its golden
//!   file byte for byte. Regenerate after an intended change with
//!   `OSD_UPDATE_GOLDEN=1 cargo test -p osd-engine --test report golden` and review the diff.
//! - `model`: the JSON round-trips, the comparable part has no clock in it, old/foreign schemas
//!   are refused.
//! - `html`: the HTML parses as HTML5 with zero parse errors (html5ever, the WHATWG parsing
//!   algorithm, exact errors), loads nothing from outside, escapes what it shows, and renders in
//!   headless Chromium (screenshots and a PDF kept under `artifacts/report/`).
//! - `lab`: against a real lab over SSH, with a fix applied: no secret from odoo.conf or the
//!   database appears in any format.

#[allow(dead_code)]
mod support;

use osd_engine::report::{self, Format, Inputs, Meta, ReportModel};
use std::path::{Path, PathBuf};

fn golden_dir() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/golden")
}

fn artifacts_dir() -> PathBuf {
    let d = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../artifacts/report");
    std::fs::create_dir_all(&d).expect("artifacts/report");
    d
}

/// A fixed model from `tests/golden/<name>.input.json`.
fn fixture(name: &str) -> ReportModel {
    let path = golden_dir().join(format!("{name}.input.json"));
    let text = std::fs::read_to_string(&path).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
    ReportModel::from_json(&text).unwrap_or_else(|e| panic!("{}: {e}", path.display()))
}

/// Compares `actual` with the golden file, or rewrites it when OSD_UPDATE_GOLDEN is set.
fn assert_golden(file: &str, actual: &str) {
    let path = golden_dir().join(file);
    if std::env::var_os("OSD_UPDATE_GOLDEN").is_some() {
        std::fs::write(&path, actual).expect("write golden file");
        return;
    }
    let expected = std::fs::read_to_string(&path).unwrap_or_else(|e| {
        panic!(
            "{}: {e} (create it with OSD_UPDATE_GOLDEN=1)",
            path.display()
        )
    });
    if expected != actual {
        let diff = similar::TextDiff::from_lines(expected.as_str(), actual)
            .unified_diff()
            .context_radius(2)
            .header("golden", "actual")
            .to_string();
        panic!("{file} differs from its golden file (OSD_UPDATE_GOLDEN=1 to accept):\n{diff}");
    }
}

/// The hand-made model: every shape the fixtures from labs do not have (an unknown session store,
/// a rolled-back change set, markup in every text field, a failing check without a fix).
fn hostile() -> ReportModel {
    let mut m = fixture("short-lifetime");
    m.server.name = "odoo <prod> & \"test\"".into();
    m.server.saved_name = Some("Production <main>".into());
    m.changes[0].state = "no_longer_in_effect".into();
    m.changes[0].state_words = "No longer in effect".into();
    m.sessions = report::model::Sessions::Unknown {
        reason: "permission denied: /var/lib/odoo/<sessions>".into(),
    };
    let c = &mut m.checks[1];
    c.evidence.push(report::model::EvidenceItem {
        source: "/etc/odoo/odoo.conf:3".into(),
        excerpt: "<script>alert('x')</script> ``` | *bold* [link](http://evil)".into(),
    });
    c.why = "# not a heading, <b>not bold</b> | not a cell".into();
    let mut rolled = m.changes[0].clone();
    rolled.id = "20250101T000000Z-abcdef".into();
    rolled.status = "rolled_back".into();
    rolled.state = "rolled_back_automatically".into();
    rolled.state_words = "Rolled back automatically after a failure".into();
    rolled.status_text =
        "Failed and rolled back automatically: nginx -t failed. The server is as it was before."
            .into();
    rolled.error = Some("nginx -t failed: <unexpected \"}\">".into());
    rolled.undo = None;
    rolled.verification = vec![report::model::VerificationView {
        check: "session.lifetime".into(),
        persisted: false,
        detail: "nginx -t failed, so everything was restored".into(),
    }];
    m.changes.push(rolled);
    m
}

/// short-lifetime before its fix (a failing report), after it, folklore-conf after its fix, and
/// the hand-made one.
fn models() -> Vec<(&'static str, ReportModel)> {
    vec![
        ("short-lifetime-before", fixture("short-lifetime-before")),
        ("short-lifetime", fixture("short-lifetime")),
        ("folklore-conf", fixture("folklore-conf")),
        ("hostile", hostile()),
    ]
}

/// Three servers for the fleet summary: one failing, one to improve, one with markup in its name.
fn fleet_models() -> Vec<ReportModel> {
    let mut failing = fixture("short-lifetime-before");
    failing.server.name = "odoo-prod-2.example.com".into();
    failing.server.target = "root@odoo-prod-2.example.com".into();
    let mut staging = fixture("folklore-conf");
    staging.server.name = "odoo-staging.example.com".into();
    staging.server.target = "odoo-staging".into();
    vec![fixture("short-lifetime"), failing, staging, hostile()]
}

mod golden {
    use super::*;

    #[test]
    fn each_format_matches_its_golden_file() {
        for (name, m) in models() {
            for format in [Format::Html, Format::Markdown, Format::Json] {
                let out = report::render(&m, format).expect("render");
                assert_golden(&format!("{name}.{}", format.extension()), &out);
            }
        }
    }

    #[test]
    fn the_fleet_summary_matches_its_golden_files() {
        let fleet = fleet_models();
        for format in [Format::Html, Format::Markdown, Format::Json] {
            let out = report::render_fleet(&fleet, format).expect("render fleet");
            assert_golden(&format!("fleet.{}", format.extension()), &out);
        }
    }

    #[test]
    fn the_saved_name_titles_the_report_and_each_change_set_shows_its_state() {
        let m = hostile();
        let html = report::render(&m, Format::Html).unwrap();
        assert!(html.contains("<h1>Production &lt;main&gt;</h1>"), "{html}");
        assert!(html.contains("No longer in effect"));
        assert!(html.contains("Rolled back automatically after a failure"));
        let md = report::render(&m, Format::Markdown).unwrap();
        assert!(
            md.starts_with("# Session checklist report: Production"),
            "{md}"
        );
        // Without a saved name, the host names it.
        let plain = report::render(&fixture("short-lifetime"), Format::Html).unwrap();
        let host = fixture("short-lifetime").server.name;
        assert!(plain.contains(&format!("<h1>{host}</h1>")));
    }

    #[test]
    fn rendering_is_deterministic() {
        let m = fixture("short-lifetime");
        for format in [Format::Html, Format::Markdown, Format::Json] {
            assert_eq!(
                report::render(&m, format).unwrap(),
                report::render(&m, format).unwrap()
            );
        }
    }
}

mod model {
    use super::*;

    #[test]
    fn json_round_trips() {
        for (_, m) in models() {
            let back = ReportModel::from_json(&m.to_json()).expect("read back");
            assert_eq!(back, m);
        }
    }

    #[test]
    fn the_comparable_part_holds_no_clock() {
        let a = fixture("short-lifetime");
        let mut b = a.clone();
        b.meta = Meta::at("2031-12-31T23:59:59Z", "somebody else@elsewhere");
        assert_ne!(a, b);
        assert_eq!(a.comparable(), b.comparable());
        let text = serde_json::to_string(&a.comparable()).unwrap();
        assert!(
            !text.contains(&a.meta.generated_at),
            "the generation time leaked into the comparable part"
        );
    }

    #[test]
    fn checks_follow_the_checklist_and_every_check_is_there() {
        for (name, m) in models() {
            let ids: Vec<&str> = m.checks.iter().map(|c| c.id.as_str()).collect();
            let registry: Vec<&str> = osd_engine::registry::REGISTRY
                .iter()
                .map(|c| c.id.as_str())
                .collect();
            assert_eq!(ids, registry, "{name}");
            let open: Vec<&str> = m
                .checks
                .iter()
                .filter(|c| c.status.open())
                .map(|c| c.id.as_str())
                .collect();
            let steps: Vec<&str> = m.next_steps.iter().map(|s| s.check.as_str()).collect();
            assert_eq!(
                steps, open,
                "{name}: next steps are the open checks, in checklist order"
            );
        }
    }

    #[test]
    fn comparing_with_a_saved_report_gives_the_same_before_and_after() {
        // What `report --before before.json` does equals what building with both diagnoses did.
        let m = fixture("short-lifetime");
        let mut plain = m.clone();
        plain.before = None;
        plain.checks.iter_mut().for_each(|c| c.before = None);
        assert_eq!(plain.compare_with(&fixture("short-lifetime-before")), m);
    }

    #[test]
    fn other_schemas_are_refused() {
        let mut v: serde_json::Value =
            serde_json::from_str(&fixture("short-lifetime").to_json()).unwrap();
        v["schema"] = "odoo-session-doctor/report/v2".into();
        let err = ReportModel::from_json(&v.to_string()).unwrap_err();
        assert!(err.to_string().contains("report/v2"), "{err}");
        assert!(ReportModel::from_json("{\"checks\": []}").is_err());
    }

    #[test]
    fn formats_are_named_as_on_the_command_line() {
        assert_eq!("html".parse::<Format>().unwrap(), Format::Html);
        assert_eq!("md".parse::<Format>().unwrap(), Format::Markdown);
        assert_eq!("json".parse::<Format>().unwrap(), Format::Json);
        assert!("pdf".parse::<Format>().is_err());
    }
}

mod html {
    use super::*;
    use scraper::{Html, Selector};

    /// Parses with html5ever's exact error reporting: any parse error (a stray end tag, an
    /// unescaped `<`, a duplicate attribute, a missing doctype) fails.
    fn parse(html: &str) -> Html {
        let doc = parse_lenient(html);
        assert!(
            doc.errors.is_empty(),
            "HTML5 parse errors: {:#?}",
            doc.errors
        );
        assert_eq!(
            doc.quirks_mode,
            html5ever::tree_builder::QuirksMode::NoQuirks
        );
        doc
    }

    fn parse_lenient(html: &str) -> Html {
        use html5ever::driver::{self, ParseOpts};
        use html5ever::tendril::TendrilSink;
        use html5ever::tokenizer::TokenizerOpts;
        use html5ever::tree_builder::TreeBuilderOpts;
        let opts = ParseOpts {
            tokenizer: TokenizerOpts {
                exact_errors: true,
                ..Default::default()
            },
            tree_builder: TreeBuilderOpts {
                exact_errors: true,
                scripting_enabled: false,
                ..Default::default()
            },
        };
        driver::parse_document(scraper::HtmlTreeSink::new(Html::new_document()), opts).one(html)
    }

    #[test]
    fn the_parse_check_catches_what_is_not_html5() {
        let ok = "<!DOCTYPE html><html lang=en><head><meta charset=utf-8><title>t</title></head><body><p>x</p></body></html>";
        assert!(parse_lenient(ok).errors.is_empty());
        for bad in [
            "<html><head><title>t</title></head><body></body></html>", // no doctype
            "<!DOCTYPE html><title>t</title><p>x</div>",               // stray end tag
            "<!DOCTYPE html><title>t</title><p a=1 a=2>x</p>",         // duplicate attribute
            "<!DOCTYPE html><title>t</title><table><tr><td>x</td></tr><p>y</p></table>", // misnested
        ] {
            assert!(!parse_lenient(bad).errors.is_empty(), "not caught: {bad}");
        }
    }

    fn sel(s: &str) -> Selector {
        Selector::parse(s).unwrap()
    }

    #[test]
    fn parses_as_html5_without_a_single_error() {
        for (name, m) in models() {
            let out = report::render(&m, Format::Html).unwrap();
            let doc = parse(&out);
            assert_eq!(doc.select(&sel("html[lang]")).count(), 1, "{name}");
            assert_eq!(
                doc.select(&sel("head > meta[charset=utf-8]")).count(),
                1,
                "{name}"
            );
            assert_eq!(
                doc.select(&sel("head > meta[name=viewport]")).count(),
                1,
                "{name}: readable on a phone"
            );
            assert_eq!(doc.select(&sel("h1")).count(), 1, "{name}");
        }
        let fleet = fleet_models();
        parse(&report::render_fleet(&fleet, Format::Html).unwrap());
    }

    #[test]
    fn is_self_contained() {
        let fleet = fleet_models();
        let mut pages: Vec<String> = models()
            .iter()
            .map(|(_, m)| report::render(m, Format::Html).unwrap())
            .collect();
        pages.push(report::render_fleet(&fleet, Format::Html).unwrap());
        for out in pages {
            let doc = parse(&out);
            for bad in [
                "script", "link", "img", "iframe", "object", "embed", "video", "audio", "source",
                "base", "[src]", "[srcset]",
            ] {
                assert_eq!(
                    doc.select(&sel(bad)).count(),
                    0,
                    "{bad}: a report loads nothing"
                );
            }
            for style in doc.select(&sel("style")) {
                let css: String = style.text().collect();
                assert!(
                    !css.contains("url(") && !css.contains("@import"),
                    "CSS loads nothing"
                );
            }
            for a in doc.select(&sel("a[href]")) {
                let href = a.value().attr("href").unwrap();
                assert!(
                    href.starts_with('#') || href.starts_with("https://"),
                    "a link that is neither internal nor https: {href}"
                );
            }
        }
    }

    #[test]
    fn every_check_is_present_and_only_ok_ones_are_folded() {
        let m = fixture("short-lifetime");
        let doc = parse(&report::render(&m, Format::Html).unwrap());
        let details: Vec<_> = doc.select(&sel("#checklist details.check")).collect();
        assert_eq!(details.len(), m.checks.len());
        for (d, c) in details.iter().zip(&m.checks) {
            assert_eq!(
                d.value().attr("id"),
                Some(format!("check-{}", c.id).as_str())
            );
            assert_eq!(
                d.value().attr("open").is_some(),
                c.status.open(),
                "{}",
                c.id
            );
            assert_eq!(
                d.select(&sel("figure.evidence")).count(),
                c.evidence.len(),
                "{}: evidence",
                c.id
            );
        }
    }

    #[test]
    fn shows_the_age_chart_and_before_after_side_by_side() {
        let m = fixture("short-lifetime");
        let doc = parse(&report::render(&m, Format::Html).unwrap());
        let report::model::Sessions::Seen(s) = &m.sessions else {
            panic!("fixture has sessions")
        };
        assert_eq!(
            doc.select(&sel("#sessions svg rect")).count(),
            s.buckets.len()
        );
        assert!(doc.select(&sel("#sessions svg line.lifetime")).count() >= 1);
        assert!(
            doc.select(&sel("#sessions svg title")).next().is_some(),
            "the chart has a text alternative"
        );
        let rows = doc.select(&sel("#before-after tbody tr")).count();
        assert_eq!(rows, m.checks.len());
        let undo: String = doc
            .select(&sel("#changes .undo"))
            .flat_map(|e| e.text())
            .collect();
        let id = &m.changes[0].id;
        assert!(
            undo.contains(&format!(
                "odoo-session-doctor rollback {} {id}",
                m.server.target
            )),
            "{undo}"
        );
        assert!(
            undo.contains("History") && undo.contains("Rollback"),
            "{undo}"
        );
    }

    #[test]
    fn markup_in_the_data_is_shown_not_obeyed() {
        let m = hostile();
        let out = report::render(&m, Format::Html).unwrap();
        let doc = parse(&out);
        assert_eq!(doc.select(&sel("script")).count(), 0);
        assert!(out.contains("&lt;script&gt;"));
        let h1: String = doc.select(&sel("h1")).next().unwrap().text().collect();
        // the saved name titles the report when there is one (it is hostile too)
        assert_eq!(
            h1,
            m.server.saved_name.clone().unwrap_or(m.server.name.clone())
        );
        let md = report::render(&m, Format::Markdown).unwrap();
        assert!(
            md.contains("\\<b\\>not bold\\</b\\>"),
            "Markdown escapes markup"
        );
        assert!(
            md.contains("````\n<script>"),
            "a fence longer than any backtick run inside"
        );
    }

    /// Headless Debian Chromium: screenshots (desktop and phone) and a PDF, kept as artifacts.
    fn chromium(args: &[&str], url: &str) {
        let profile = tempfile::tempdir().unwrap();
        let out = std::process::Command::new("chromium")
            .args([
                "--headless",
                "--no-sandbox",
                "--disable-gpu",
                "--disable-background-networking",
                "--disable-component-update",
                "--no-first-run",
                "--hide-scrollbars",
            ])
            .arg(format!("--user-data-dir={}", profile.path().display()))
            .args(args)
            .arg(url)
            .output()
            .expect("chromium (Debian package `chromium`, see scripts/apt-packages.txt)");
        assert!(
            out.status.success(),
            "chromium failed: {}",
            String::from_utf8_lossy(&out.stderr)
        );
    }

    fn png_size(path: &Path) -> (u32, u32) {
        let b = std::fs::read(path).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
        assert_eq!(&b[..8], b"\x89PNG\r\n\x1a\n", "{} is a PNG", path.display());
        (
            u32::from_be_bytes(b[16..20].try_into().unwrap()),
            u32::from_be_bytes(b[20..24].try_into().unwrap()),
        )
    }

    #[test]
    fn renders_in_headless_chromium() {
        let dir = artifacts_dir();
        let fleet = fleet_models();
        let mut pages: Vec<(String, String)> = models()
            .iter()
            .map(|(n, m)| (n.to_string(), report::render(m, Format::Html).unwrap()))
            .collect();
        pages.push((
            "fleet".into(),
            report::render_fleet(&fleet, Format::Html).unwrap(),
        ));
        for (name, html) in pages {
            let file = dir.join(format!("{name}.html"));
            std::fs::write(&file, &html).unwrap();
            let url = format!("file://{}", file.canonicalize().unwrap().display());
            let shot = dir.join(format!("{name}.png"));
            let _ = std::fs::remove_file(&shot);
            chromium(
                &[
                    &format!("--screenshot={}", shot.display()),
                    "--window-size=1200,1600",
                ],
                &url,
            );
            assert_eq!(png_size(&shot), (1200, 1600), "{name}");
            let phone = dir.join(format!("{name}-phone.png"));
            chromium(
                &[
                    &format!("--screenshot={}", phone.display()),
                    "--window-size=390,2400",
                    "--force-device-scale-factor=1",
                ],
                &url,
            );
            assert_eq!(png_size(&phone).0, 390, "{name}");
            let pdf = dir.join(format!("{name}.pdf"));
            let _ = std::fs::remove_file(&pdf);
            chromium(
                &[
                    &format!("--print-to-pdf={}", pdf.display()),
                    "--no-pdf-header-footer",
                ],
                &url,
            );
            let bytes = std::fs::read(&pdf).unwrap();
            assert!(
                bytes.starts_with(b"%PDF-") && bytes.len() > 10_000,
                "{name}: a printable PDF"
            );
        }
    }
}

mod lab {
    use super::support::*;
    use super::*;
    use osd_engine::change::apply::{self, ApplyOptions, Outcome};
    use osd_engine::change::plan::{self, FixRequest};
    use osd_engine::change::record;
    use osd_testlab::Lab;

    /// Every secret the lab holds: odoo.conf's secret values (read from the file itself), the
    /// database password and the Odoo logins' passwords (from lab.json).
    fn secrets(lab: &Lab) -> Vec<String> {
        let conf = std::fs::read_to_string(&lab.info.odoo.conf).expect("the lab's odoo.conf");
        let mut out: Vec<String> = conf
            .lines()
            .filter_map(|l| l.split_once('='))
            .filter(|(k, _)| matches!(k.trim(), "admin_passwd" | "db_password"))
            .map(|(_, v)| v.trim().to_string())
            .collect();
        assert_eq!(
            out.len(),
            2,
            "the lab's odoo.conf has admin_passwd and db_password"
        );
        out.push(lab.info.postgres.password.clone());
        out.push(lab.info.odoo.admin_password.clone());
        out.extend(lab.info.odoo.master_password.clone());
        out.retain(|s| s.len() >= 8);
        out.sort();
        out.dedup();
        assert!(out.len() >= 3, "{out:?}");
        out
    }

    /// Session files of many ages (owned by the service user), so the age chart has something to
    /// show: (age in seconds, how many).
    fn seed_sessions(lab: &Lab) {
        let now = std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .unwrap()
            .as_secs();
        let ages = [
            (600u64, 23),
            (5 * 3600, 61),
            (3 * 86_400, 17),
            (12 * 86_400, 5),
            (45 * 86_400, 2),
            (200 * 86_400, 1),
        ];
        let dir = lab.info.odoo.sessions_dir.join("9f");
        std::fs::create_dir_all(&dir).unwrap();
        for (k, (age, n)) in ages.iter().enumerate() {
            let files: Vec<PathBuf> = (0..*n)
                .map(|i| dir.join(format!("seeded{k:02}{i:03}{:0>27}", 0)))
                .collect();
            for f in &files {
                std::fs::write(f, b"{}").unwrap();
            }
            let ok = std::process::Command::new("touch")
                .arg("-d")
                .arg(format!("@{}", now - age))
                .args(&files)
                .status()
                .unwrap();
            assert!(ok.success());
        }
        let user = &lab.info.odoo.service_user;
        let ok = std::process::Command::new("chown")
            .arg("-R")
            .arg(format!("{user}:"))
            .arg(&lab.info.odoo.sessions_dir)
            .status()
            .unwrap();
        assert!(ok.success());
    }

    /// Diagnoses, applies `fix`, diagnoses again and builds the report with the change set; also
    /// the report of the state before (written to artifacts/report/lab-<scenario>-before.json).
    fn fixed_report(lab: &Lab, fix: &str) -> ReportModel {
        seed_sessions(lab);
        let host = connect(lab);
        let opts = options(lab);
        let before = osd_engine::diagnose(&host, &opts).expect("diagnose before");
        let cs = plan::plan(
            &host,
            &before,
            &FixRequest {
                checks: vec![fix.parse().unwrap()],
                ..Default::default()
            },
        )
        .expect("plan");
        assert!(!cs.is_empty(), "{fix} needs a change in this scenario");
        // Labs share one loopback host: each keeps its records in its own state directory.
        let state_dir = lab.dir().join("state").to_string_lossy().into_owned();
        let aopts = ApplyOptions {
            diagnose: opts.clone(),
            state_dir: Some(state_dir.clone()),
            ..Default::default()
        };
        let result = apply::apply(&host, &before, &cs, &aopts, &|_| {}).expect("apply");
        assert_eq!(result.status, Outcome::Applied, "{:?}", result.error);
        let after = osd_engine::diagnose(&host, &opts).expect("diagnose after");
        let records = record::history(&host, &state_dir).expect("history");
        assert_eq!(
            records.iter().map(|r| r.id.as_str()).collect::<Vec<_>>(),
            [result.changeset.as_str()]
        );
        let target = Some("root@odoo.lab.test");
        let earlier = ReportModel::build(
            Inputs {
                target,
                ..Inputs::new(&before)
            },
            Meta::now("report test"),
        );
        assert_no_secret(lab, &earlier, "before the fix");
        std::fs::write(
            artifacts_dir().join(format!("lab-{}-before.json", lab.info.scenario)),
            earlier.to_json(),
        )
        .unwrap();
        let inputs = Inputs {
            diagnosis: &after,
            before: Some(&before),
            records: &records,
            target,
            ..Inputs::new(&after)
        };
        let m = ReportModel::build(inputs, Meta::now("report test"));
        assert_eq!(
            m.clone().compare_with(&earlier),
            m,
            "report --before gives what building with both diagnoses gives"
        );
        m
    }

    fn assert_no_secret(lab: &Lab, m: &ReportModel, what: &str) {
        let secrets = secrets(lab);
        let mut outputs = vec![("comparable".to_string(), m.comparable().to_string())];
        for f in [Format::Html, Format::Markdown, Format::Json] {
            outputs.push((format!("{f:?}"), report::render(m, f).unwrap()));
            outputs.push((
                format!("fleet {f:?}"),
                report::render_fleet(std::slice::from_ref(m), f).unwrap(),
            ));
        }
        for (format, out) in &outputs {
            for s in &secrets {
                assert!(
                    !out.contains(s.as_str()),
                    "{what}: a secret appears in the {format} report"
                );
            }
        }
    }

    #[test]
    fn folklore_conf_fix_report_holds_no_secret() {
        let lab = Lab::up("folklore-conf");
        let m = fixed_report(&lab, "conf.folklore");
        // The change set rewrote odoo.conf: its diff is in the report, secrets masked.
        let change = &m.changes[0];
        assert_eq!(change.status, "applied");
        let diff = &change
            .files
            .iter()
            .find(|f| f.path.ends_with(".conf"))
            .expect("odoo.conf diff")
            .diff;
        assert!(diff.contains("-session_timeout"), "{diff}");
        assert!(change.undo.as_ref().unwrap().cli.ends_with(&change.id));
        assert_eq!(
            m.check("conf.folklore")
                .unwrap()
                .before
                .as_ref()
                .unwrap()
                .status,
            report::CheckStatus::Warn
        );
        assert_no_secret(&lab, &m, "folklore-conf");
        std::fs::write(
            artifacts_dir().join("lab-folklore-conf.html"),
            report::render(&m, Format::Html).unwrap(),
        )
        .unwrap();
        std::fs::write(artifacts_dir().join("lab-folklore-conf.json"), m.to_json()).unwrap();
    }

    #[test]
    fn short_lifetime_fix_report_holds_no_secret() {
        let lab = Lab::up("short-lifetime");
        let m = fixed_report(&lab, "session.lifetime");
        let change = &m.changes[0];
        let p = &change.params[0];
        assert_eq!(
            (p.key.as_str(), p.old.as_deref(), p.new.as_deref()),
            (
                "sessions.max_inactivity_seconds",
                Some("600"),
                Some("86400")
            )
        );
        assert!(
            change.verification.iter().all(|v| v.persisted),
            "{:?}",
            change.verification
        );
        assert_eq!(
            m.check("session.lifetime").unwrap().status,
            report::CheckStatus::Ok
        );
        assert_no_secret(&lab, &m, "short-lifetime");
        std::fs::write(artifacts_dir().join("lab-short-lifetime.json"), m.to_json()).unwrap();
    }
}
