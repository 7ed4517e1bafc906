//! Issue 14: help text (exit codes on every command, 100 columns, `dps` lists `derive-key`, no
//! private document), and what a modern CLI has: completions, man pages, `--version`.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic, missing_docs)]

#[path = "support/cli.rs"]
mod cli;

use cli::{iot, temp_dir};

/// The subcommand names listed under "Commands:" in a help text.
fn subcommands(help: &str) -> Vec<String> {
    help.lines()
        .skip_while(|l| *l != "Commands:")
        .skip(1)
        .take_while(|l| !l.is_empty())
        .filter(|l| l.starts_with("  ") && !l.starts_with("   "))
        .filter_map(|l| l.split_whitespace().next().map(str::to_owned))
        .filter(|name| name != "help")
        .collect()
}

/// Every command path of the CLI, found by walking the help texts.
fn every_command() -> Vec<Vec<String>> {
    let mut found = vec![Vec::new()];
    let mut i = 0;
    while let Some(path) = found.get(i).cloned() {
        let mut args: Vec<&str> = path.iter().map(String::as_str).collect();
        args.push("--help");
        for name in subcommands(&iot(&args).stdout) {
            let mut child = path.clone();
            child.push(name);
            found.push(child);
        }
        i += 1;
        assert!(i < 100, "bounded walk");
    }
    found
}

#[test]
fn every_help_states_the_exit_codes_fits_100_columns_and_names_no_private_document() {
    let commands = every_command();
    assert!(commands.len() >= 20, "{commands:?}");
    for path in commands {
        for flag in ["-h", "--help"] {
            let mut args: Vec<&str> = path.iter().map(String::as_str).collect();
            args.push(flag);
            let run = iot(&args);
            assert_eq!(run.code, 0, "{args:?}");
            assert!(
                run.stdout
                    .contains("Exit status: 0 success or accepted, 1 checked and rejected"),
                "{args:?}"
            );
            for line in run.stdout.lines() {
                assert!(line.chars().count() <= 100, "{args:?}: {line}");
            }
            for private in ["§", "reference", "examples/", "DESIGN", "shared/"] {
                assert!(!run.stdout.contains(private), "{args:?} names {private}");
            }
        }
    }
}

#[test]
fn dps_help_lists_derive_key() {
    assert_eq!(
        subcommands(&iot(&["dps", "--help"]).stdout),
        ["derive-key", "decode"]
    );
    // The group's own line in `iot --help` names both commands.
    let top = iot(&["--help"]).stdout;
    let dps = top
        .lines()
        .find(|l| l.trim_start().starts_with("dps "))
        .unwrap();
    assert!(dps.contains("derive") && dps.contains("decode"), "{dps}");
}

#[test]
fn completions_for_every_shell() {
    for (shell, marker) in [
        ("bash", "complete -F"),
        ("zsh", "#compdef iot"),
        ("fish", "complete -c iot"),
        ("powershell", "Register-ArgumentCompleter"),
        ("elvish", "edit:completion"),
    ] {
        let run = iot(&["completions", shell]);
        assert_eq!(run.code, 0, "{shell}");
        assert!(run.stdout.contains(marker), "{shell}");
        assert!(
            run.stdout.contains("derive-key"),
            "{shell} completes subcommands"
        );
    }
    assert_eq!(iot(&["completions", "tcsh"]).code, 2);
}

#[test]
fn man_pages_print_or_write_one_page_per_command() {
    let run = iot(&["man"]);
    assert_eq!(run.code, 0);
    assert!(run.stdout.contains(".TH iot 1"), "{}", run.stdout);
    assert!(run.stdout.contains("Exit status"));
    let dir = temp_dir("help_man");
    let run = iot(&["man", "--out", &dir.display().to_string()]);
    assert_eq!(run.code, 0, "{}", run.stderr);
    for page in [
        "iot.1",
        "iot-sas.1",
        "iot-sas-sign.1",
        "iot-x509-new-device.1",
        "iot-hub-authorize-service.1",
        "iot-completions.1",
        "iot-serve-events.1",
        "iot-device-run.1",
    ] {
        let text =
            std::fs::read_to_string(dir.join(page)).unwrap_or_else(|e| panic!("{page}: {e}"));
        assert!(text.contains(".TH"), "{page}");
    }
}

#[test]
fn version_names_the_crate_versions_and_features() {
    let run = iot(&["--version"]);
    assert_eq!(run.code, 0);
    let version = env!("CARGO_PKG_VERSION");
    assert!(
        run.stdout.starts_with(&format!("iot {version}\n")),
        "{}",
        run.stdout
    );
    for name in [
        "iot-sas",
        "iot-x509",
        "iot-hub-auth",
        "iot-dps-proto",
        "iot-dps-service",
        "rustls-webpki",
    ] {
        assert!(
            run.stdout.contains(&format!("{name} ")),
            "{name}: {}",
            run.stdout
        );
    }
    assert!(
        !run.stdout.contains(" ?"),
        "every version resolved: {}",
        run.stdout
    );
    assert!(run.stdout.contains("features: "), "{}", run.stdout);
    assert!(run.stdout.contains("iot-x509/generate"), "{}", run.stdout);
    assert_eq!(iot(&["-V"]).stdout, format!("iot {version}\n"));
}

/// `(command, flag, variable, help text)` for every flag whose help names an environment
/// variable; the text is the flag's own entry up to its `[env: ...]`, whitespace collapsed.
fn env_flags() -> Vec<(String, String, String, String)> {
    flag_entries(&every_long_help())
        .into_iter()
        .filter_map(|entry| {
            let (text, env) = entry.text.split_once("[env: ")?;
            let var = env.split(']').next().unwrap_or_default().to_owned();
            Some((entry.command, entry.flag, var, text.trim_end().to_owned()))
        })
        .collect()
}

#[test]
fn every_secret_flag_documents_its_file_stdin_and_environment_forms() {
    let found = env_flags();
    // The secrets issue 14 names, each with a variable somewhere.
    for flag in [
        "--key",
        "--secondary-key",
        "--group-key",
        "--password",
        "--token",
        "--symmetric-key",
    ] {
        assert!(
            found.iter().any(|(_, f, _, _)| f == flag),
            "{flag}: no help names its variable ({found:?})"
        );
    }
    // One variable per flag name, everywhere; the entry names @FILE and stdin too.
    for (cmd, flag, var, text) in &found {
        assert!(var.starts_with("IOT_"), "{cmd} {flag}: {var}");
        let other = found.iter().find(|(_, f, v, _)| f == flag && v != var);
        assert!(other.is_none(), "{cmd} {flag}: {var} vs {other:?}");
        assert!(
            text.contains("@FILE") && text.contains("- for stdin"),
            "{cmd} {flag}: the help names @FILE and - for stdin: {text}"
        );
    }
    // The README's table of variables is exactly what the commands read.
    let readme =
        std::fs::read_to_string(concat!(env!("CARGO_MANIFEST_DIR"), "/README.md")).unwrap();
    let mut documented: Vec<(String, String)> = readme
        .lines()
        .filter(|l| l.starts_with("| `--") && l.contains("| `IOT_"))
        .map(|l| {
            let cells: Vec<&str> = l.split('|').map(str::trim).collect();
            let flag = cells[1].split('`').nth(1).unwrap_or_default().to_owned();
            (flag, cells[2].trim_matches('`').to_owned())
        })
        .collect();
    documented.sort();
    let mut used: Vec<(String, String)> = found.into_iter().map(|(_, f, v, _)| (f, v)).collect();
    used.sort();
    used.dedup();
    assert_eq!(documented, used, "README variables vs help");
}

/// One flag of one command's `--help`: its name, and its entry (the lines from the flag's own
/// line to the next flag), whitespace collapsed.
#[derive(Debug)]
struct FlagEntry {
    command: String,
    flag: String,
    text: String,
}

/// `(command, --help text)` of every command, from the one walk of the help texts.
fn every_long_help() -> Vec<(String, String)> {
    every_command()
        .into_iter()
        .map(|path| {
            let mut args: Vec<&str> = path.iter().map(String::as_str).collect();
            args.push("--help");
            let run = iot(&args);
            assert_eq!(run.code, 0, "{args:?}");
            (path.join(" "), run.stdout)
        })
        .collect()
}

/// Every flag entry of the help texts.
fn flag_entries(helps: &[(String, String)]) -> Vec<FlagEntry> {
    let mut found: Vec<FlagEntry> = Vec::new();
    for (command, help) in helps {
        let mut open = false;
        for line in help.lines() {
            let named = line
                .split_whitespace()
                .take(2)
                .find(|w| w.starts_with("--"))
                .map(|w| w.trim_end_matches(','));
            // A flag's own line starts at column 2 (`-k, --key`) or 6 (`--key`); a wrapped
            // line of the text below it is indented further.
            let indent = line.len() - line.trim_start().len();
            if (2..=6).contains(&indent)
                && line.trim_start().starts_with('-')
                && let Some(name) = named
            {
                found.push(FlagEntry {
                    command: command.clone(),
                    flag: name.to_owned(),
                    text: String::new(),
                });
                open = true;
            } else if !line.starts_with(' ') && !line.is_empty() {
                // A section heading ("Commands:", "Exit status: ...") ends the entry.
                open = false;
            }
            if open && let Some(entry) = found.last_mut() {
                entry.text.push(' ');
                entry.text.push_str(line.trim());
            }
        }
    }
    for entry in &mut found {
        entry.text = entry.text.split_whitespace().collect::<Vec<_>>().join(" ");
    }
    found
}

/// Issue 14: one clock flag name everywhere. Every flag whose help says it stands for the
/// clock is `--now` with the alias `--at`; no other clock name is left in any help.
#[test]
fn every_clock_flag_in_every_help_is_now_with_at_as_its_alias() {
    let helps = every_long_help();
    let entries = flag_entries(&helps);
    assert!(entries.len() > 100, "{} flag entries", entries.len());
    let clock: Vec<&FlagEntry> = entries
        .iter()
        .filter(|e| e.text.contains("the clock"))
        .collect();
    for entry in &clock {
        assert_eq!(entry.flag, "--now", "{entry:?}");
        assert!(entry.text.contains("[alias: --at]"), "{entry:?}");
        assert!(entry.text.contains("Unix seconds or RFC 3339"), "{entry:?}");
    }
    // A `--now` that does not name the clock would be a second meaning of the name.
    for entry in entries.iter().filter(|e| e.flag == "--now") {
        assert!(entry.text.contains("the clock"), "{entry:?}");
    }
    let mut with_clock: Vec<&str> = clock.iter().map(|e| e.command.as_str()).collect();
    with_clock.sort_unstable();
    assert_eq!(
        with_clock,
        [
            "hub authorize",
            "hub authorize-service",
            "sas inspect",
            "sas sign",
            "sas verify",
            "x509 new-ca",
            "x509 new-device",
            "x509 new-intermediate",
            "x509 new-verification",
            "x509 verify",
            "x509 verify-pop",
        ]
    );
    // The only other flag that takes a point in time is sas sign's --expiry.
    for entry in entries
        .iter()
        .filter(|e| e.text.contains("Unix seconds or RFC 3339"))
    {
        assert!(
            entry.flag == "--now" || (entry.command == "sas sign" && entry.flag == "--expiry"),
            "{entry:?}"
        );
    }
    // No other clock name is a flag, an alias or a word of any help text.
    for (command, help) in &helps {
        let words = help
            .split(|c: char| !(c.is_ascii_alphanumeric() || c == '-'))
            .filter(|w| w.starts_with("--"));
        for word in words {
            assert!(
                ![
                    "--time",
                    "--current-time",
                    "--timestamp",
                    "--clock",
                    "--date",
                    "--when",
                    "--at-time",
                    "--now-time",
                ]
                .contains(&word),
                "{command} names {word}"
            );
            if word == "--at" {
                let flat = help.split_whitespace().collect::<Vec<_>>().join(" ");
                assert!(
                    flat.contains("[alias: --at]"),
                    "{command}: --at only as an alias"
                );
            }
        }
    }
    assert!(
        !entries.iter().any(|e| e.flag == "--at"),
        "--at is an alias, not a flag of its own"
    );
}
