//! `iot demo`: the DPS test-to-production workflow, in memory, with fresh keys and
//! certificates. The workflow itself is `iot_server::engine::workflow`, the same code the
//! crate's integration test runs; this module only draws the randomness, reads the clock
//! and prints.

use iot_server::engine::workflow::{
    CA_DEVICE, ScenarioInputs, Story, X509_DEVICE, run_test_to_production,
};
use iot_x509::generate::{Validity, new_device_cert, new_root_ca, new_self_signed_device_cert};
use ring::rand::{SecureRandom as _, SystemRandom};

use crate::when::{self, now_or, parse_time};
use crate::{Exit, Failure, Out, Outcome};

/// Arguments of `iot demo` (`--json` prints one JSON object instead of the story).
#[derive(Debug, clap::Args)]
pub(crate) struct Args {
    /// Start time: Unix seconds or RFC 3339 (default: the clock).
    #[arg(long, visible_alias = "at", value_parser = parse_time)]
    now: Option<u64>,
}

/// Validity of the demo's certificates: from an hour before `now`, for 30 days.
const DEMO_DAYS: u32 = 30;

/// Runs `iot demo`: exit 0 when every expected decision happened, 1 when one did not.
pub(crate) fn run(args: &Args, out: Out) -> Outcome {
    let now = now_or(args.now);
    when::add(
        now,
        u64::from(DEMO_DAYS) * 86_400,
        "--now: the demo's 30-day certificates",
    )?;
    let inputs = fresh_inputs(now).map_err(|message| {
        Failure::bad(
            "demo_setup",
            format_args!("cannot prepare the demo: {message}"),
        )
    })?;
    let story = run_test_to_production(&inputs).map_err(|err| {
        Failure::bad(
            "demo_setup",
            format_args!("the demo setup was refused: {err}"),
        )
    })?;
    let status = if story.ok { Exit::Ok } else { Exit::Rejected };
    if out.is_json() {
        let value = serde_json::json!({
            "ok": story.ok,
            "idScope": inputs.id_scope,
            "testHub": inputs.test_hub,
            "productionHub": inputs.production_hub,
            "scenarios": story.scenarios,
        });
        let mut value = value;
        when::put_time(&mut value, "now", now);
        emit(out, &format!("{value}\n"), status)
    } else {
        emit(out, &story_text(&inputs, &story), status)
    }
}

/// Fresh symmetric keys (OS randomness) and a fresh test PKI (iot-x509 `generate`).
fn fresh_inputs(now: u64) -> Result<ScenarioInputs, String> {
    let rng = SystemRandom::new();
    let mut keys = [[0u8; 32]; 6];
    for key in &mut keys {
        rng.fill(key)
            .map_err(|_| "the OS random generator failed".to_owned())?;
    }
    let start = i64::try_from(now).map_err(|_| "time out of range".to_owned())? - 3600;
    let validity = Validity::days(start, DEMO_DAYS);
    let root = new_root_ca("iot-auth demo root CA", validity).map_err(|e| e.to_string())?;
    let ca_device = new_device_cert(CA_DEVICE, &root, validity).map_err(|e| e.to_string())?;
    let x509_device =
        new_self_signed_device_cert(X509_DEVICE, validity).map_err(|e| e.to_string())?;
    Ok(ScenarioInputs::with_material(
        now,
        keys,
        root.der.clone(),
        ca_device.der.clone(),
        x509_device.der.clone(),
    ))
}

/// Writes the output; a closed pipe (`iot demo | head`) keeps the story's status, a full disk
/// is an error (status 2).
fn emit(out: Out, text: &str, status: Exit) -> Outcome {
    match out.text(text) {
        Ok(()) => Ok(status),
        Err(Failure::BrokenPipe { .. }) => Err(Failure::BrokenPipe { status }),
        Err(other) => Err(other),
    }
}

fn story_text(inputs: &ScenarioInputs, story: &Story) -> String {
    use std::fmt::Write as _;
    let mut out = String::new();
    let _ = writeln!(
        out,
        "iot demo: the DPS test-to-production workflow, in memory, over every iot-auth crate"
    );
    let _ = writeln!(
        out,
        "DPS id scope {}; linked hubs: Test = {}, Production = {}",
        inputs.id_scope, inputs.test_hub, inputs.production_hub
    );
    let _ = writeln!(
        out,
        "Fresh keys and certificates for this run (root CA registered and verified in DPS);"
    );
    let _ = writeln!(
        out,
        "devices register with the iot-dps-proto state machine over in-memory MQTT."
    );
    let mut passed = 0usize;
    let mut total = 0usize;
    for scenario in &story.scenarios {
        let _ = writeln!(out);
        let _ = writeln!(out, "== {} ==", scenario.name);
        for step in &scenario.steps {
            total += 1;
            passed += usize::from(step.ok);
            let _ = writeln!(
                out,
                "  [{}] {}",
                if step.ok { "ok" } else { "UNEXPECTED" },
                step.step
            );
            let _ = writeln!(out, "       expected: {}", step.expected);
            let _ = writeln!(out, "       actual:   {}", step.actual);
            for note in &step.notes {
                let _ = writeln!(out, "       - {note}");
            }
        }
    }
    let _ = writeln!(out);
    if story.ok {
        let _ = writeln!(
            out,
            "RESULT: every expected decision happened ({passed}/{total} steps, {} scenarios)",
            story.scenarios.len()
        );
    } else {
        let _ = writeln!(
            out,
            "RESULT: {} of {total} steps did not go as expected",
            total - passed
        );
    }
    out
}
