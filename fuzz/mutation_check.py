#!/usr/bin/env python3
"""Mutation check of the fuzz invariants (issue 15), Python 3 stdlib only.

Each entry of MUTATIONS below plants one realistic bug in the decision code (drops a check,
flips a comparison, decodes `sr` twice, ...) and names the fuzz invariant that should notice
it: the stable replay of that target's committed corpus (`cargo test -p CRATE --test
fuzz_replay -- --exact replay_TARGET`, the logic of fuzz/logic/TARGET.rs over
fuzz/corpus/TARGET/) must FAIL with the mutation in place. The named-seed expectation tests of
the same file are not run: the point is that the invariant itself catches the bug.

For each entry the script checks that `old` occurs exactly once in the file, writes the
mutated file, builds the test (a mutation that does not compile is reported as "build error",
never as caught), runs it with a timeout, records caught (the test failed, with the first
assertion message) or survived, and always restores the file (and checks `git diff --quiet`
on it afterwards). Before the mutations, each distinct command runs once on the unmutated tree
and must pass (else every mutation would look caught).

An entry marked `known_gap` is one the replay is known to miss; it names the other test that
catches it, which then also runs with the mutation in place. It does not fail the check when
that other test catches it.

Usage (from anywhere; the script finds the workspace from its own path):

    python3 fuzz/mutation_check.py --list          # the table, and whether each `old` is found once
    python3 fuzz/mutation_check.py                 # every mutation (long: one build each)
    python3 fuzz/mutation_check.py --only M3,M7    # some of them

Prints a Markdown table (id, invariant (logic file), mutation, command, result, seconds).
Exit status: 0 when every mutation was caught (or is a known gap caught by its other test),
1 when one survived or did not build, 2 when the tree could not be restored or a baseline
failed. Never run in CI (each mutation rebuilds a crate and its dependents).
"""

import argparse
import os
import re
import signal
import subprocess
import sys
import time

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))


def replay(crate, target):
    """The stable replay of one fuzz target's corpus through its logic file."""
    return ["cargo", "test", "--locked", "-p", crate, "--test", "fuzz_replay", "--",
            "--exact", "replay_" + target]


# Shared by several entries: `sr` decoded twice in iot-sas's segment comparison (issue 12.2).
DOUBLE_DECODE = dict(
    file="iot-sas/src/resource.rs",
    old="decoded_equals(once.clone(), plain_segment)",
    new="decoded_equals(Decode::new(once.clone().map(|d| d.byte)), plain_segment)",
)

MUTATIONS = [
    # --- hub_authorize -------------------------------------------------------------------
    dict(id="M1", target="hub_authorize", crate="iot-hub-auth",
         invariant="allowed a disabled identity",
         file="iot-hub-auth/src/authorize.rs",
         old="    if !entry.is_enabled() {",
         new="    if false && !entry.is_enabled() {"),
    dict(id="M2", target="hub_authorize", crate="iot-hub-auth",
         invariant="allowed a module of a disabled device",
         file="iot-hub-auth/src/authorize.rs",
         old="        check_parent_device(registry, claim.device_id, module_id)?;",
         new="        let _ = check_parent_device(registry, claim.device_id, module_id);"),
    dict(id="M3", target="hub_authorize", crate="iot-hub-auth",
         invariant="device-key allow: `sr_covers(sr, &resource, true)` (names exactly)",
         file="iot-hub-auth/src/authorize.rs",
         old="        Some(Scope::Names(resource)),",
         new="        Some(Scope::Covers(resource)),"),
    dict(id="M4", target="hub_authorize", crate="iot-hub-auth",
         invariant="policy allow: `sr_covers` with `sr` decoded once (sas_reference.rs)",
         **DOUBLE_DECODE),
    dict(id="M5", target="hub_authorize", crate="iot-hub-auth",
         invariant="policy allow: `sr_covers` (an escaped letter is never an ID's spelling)",
         file="iot-sas/src/resource.rs",
         old="(hi << 4 | lo) == p && !is_unreserved(p)",
         new="(hi << 4 | lo) == p"),
    dict(id="M6", target="hub_authorize", crate="iot-hub-auth",
         invariant="policy allow: `rights.contains(AccessRights::DEVICE_CONNECT)`",
         file="iot-hub-auth/src/authorize.rs",
         old="    if !policy.rights().contains(required) {",
         new="    if false && !policy.rights().contains(required) {"),
    dict(id="M7", target="hub_authorize", crate="iot-hub-auth",
         invariant="device-key allow: MAC of another key (distinct keys per identity)",
         file="iot-hub-auth/src/authorize.rs",
         old="        |token| verify_with_identity_keys(entry, token),",
         new="        |token| verify_with_identity_keys(entry, token).or(Ok(KeySlot::Primary)),"),
    dict(id="M8", target="hub_authorize", crate="iot-hub-auth",
         invariant="a thumbprint allow for another certificate",
         file="iot-hub-auth/src/certificate.rs",
         old="let matched = match_thumbprints(leaf, primary, secondary).ok_or_else(",
         new="let matched = match_thumbprints(leaf, primary, secondary)"
             ".or(Some(iot_x509::ThumbprintMatch::Primary)).ok_or_else("),
    dict(id="M9", target="hub_authorize", crate="iot-hub-auth",
         invariant="CA allow: `info.common_names() == [identity]`",
         file="iot-hub-auth/src/certificate.rs",
         old="    check_cn()?;\n    let name",
         new="    let _ = check_cn();\n    let name"),
    dict(id="M10", target="hub_authorize", crate="iot-hub-auth",
         invariant="CA allow: x509CaOverWebSockets is false",
         file="iot-hub-auth/src/certificate.rs",
         old="        && !hub.x509_ca_over_websockets",
         new="        && hub.x509_ca_over_websockets"),
    dict(id="M11", target="hub_authorize", crate="iot-hub-auth",
         invariant="allowed another identity (AMQP: the link must agree with the SASL user name)",
         file="iot-hub-auth/src/claim.rs",
         old="&& (link != device_id || req.module_id != module_id)",
         new="&& (link != device_id && req.module_id != module_id)"),
    dict(id="M12", target="hub_authorize", crate="iot-hub-auth",
         invariant="AMQP policy allow: the SASL user name's policy is the token's `skn`",
         file="iot-hub-auth/src/authorize.rs",
         old="        && token.key_name() != Some(policy)",
         new="        && token.key_name().is_none()"),
    dict(id="M13", target="hub_authorize", crate="iot-hub-auth",
         invariant="allowed another identity (MQTT: the user name names this hub)",
         file="iot-hub-auth/src/claim.rs",
         old="    if host == hub.host_name() || host.eq_ignore_ascii_case(hub.host_name()) {",
         new="    if !host.is_empty() {"),
    dict(id="M14", target="hub_authorize", crate="iot-hub-auth",
         invariant="allowed another identity (MQTT: the user name repeats the client ID)",
         file="iot-hub-auth/src/claim.rs",
         old='.is_some_and(|tail| tail.is_empty() || tail == "/" || tail.starts_with("/?"))',
         new=".is_some_and(|tail| tail.is_empty() || tail.starts_with('/'))"),
    dict(id="M15", target="hub_authorize", crate="iot-hub-auth",
         invariant="`valid_until + skew >= now`",
         file="iot-hub-auth/src/authorize.rs",
         old="        hub.allowed_clock_skew_secs,\n        Some(Scope::Names(resource)),",
         new="        now,\n        Some(Scope::Names(resource)),"),
    # --- hub_parse_mqtt_username ---------------------------------------------------------
    dict(id="M16", target="hub_parse_mqtt_username", crate="iot-hub-auth",
         invariant="parts not in their places (device ID from its own segment)",
         file="iot-hub-auth/src/mqtt.rs",
         old="        let (device_id, rest) = rest.split_once('/').unwrap_or((rest, \"\"));",
         new="        let (device_id, rest) = rest.rsplit_once('/').unwrap_or((rest, \"\"));"),
    dict(id="M17", target="hub_parse_mqtt_username", crate="iot-hub-auth",
         invariant="guided parse must agree with the client ID (not a match anywhere)",
         file="iot-hub-auth/src/mqtt.rs",
         old="        let tail = rest.strip_prefix(client_id)?;",
         new="        let tail = rest.get(rest.find(client_id)? + client_id.len()..)?;"),
    # --- sas_verify ----------------------------------------------------------------------
    dict(id="M18", target="sas_verify", crate="iot-sas",
         invariant="accepted `sr` covers the resource once decoded (sas_reference.rs)",
         **DOUBLE_DECODE),
    dict(id="M19", target="sas_verify", crate="iot-sas",
         invariant="an accepted token has a MAC under the key slot it reports",
         file="iot-sas/src/key_slot.rs",
         old="            return Some(Self::Primary);",
         new="            return Some(Self::Secondary);"),
    dict(id="M20", target="sas_verify", crate="iot-sas",
         invariant="accepted within `se + skew`",
         file="iot-sas/src/token.rs",
         old="        if self.expiry.saturating_add(skew_secs) < now {",
         new="        if false && self.expiry.saturating_add(skew_secs) < now {"),
    dict(id="M21", target="sas_verify", crate="iot-sas",
         invariant="a valid token is accepted (the skew is honoured)",
         file="iot-sas/src/token.rs",
         old="        if self.expiry.saturating_add(skew_secs) < now {",
         new="        if self.expiry < now {"),
    dict(id="M22", target="sas_verify", crate="iot-sas",
         invariant="`Scope::Names` accepts at most what the reference names exactly",
         file="iot-sas/src/scope.rs",
         old="                return !exact;",
         new="                return true;"),
    dict(id="M23", target="sas_verify", crate="iot-sas",
         invariant="covers by path segment, not by character (sas_reference.rs)",
         file="iot-sas/src/resource.rs",
         old="            rest.is_empty() || rest.first() == Some(&b'/')",
         new="            true"),
    # --- x509_verify_chain ---------------------------------------------------------------
    dict(id="M24", target="x509_verify_chain", crate="iot-x509",
         invariant="issuer lacks keyCertSign (the anchor too)",
         file="iot-x509/src/anchor.rs",
         old="        if !self.cert_sign {",
         new="        if false && !self.cert_sign {"),
    dict(id="M25", target="x509_verify_chain", crate="iot-x509",
         invariant="issuer EKU refuses clientAuth (the anchor too)",
         file="iot-x509/src/anchor.rs",
         old="        if !self.client_auth {",
         new="        if false && !self.client_auth {"),
    dict(id="M26", target="x509_verify_chain", crate="iot-x509",
         invariant="issuer allows N intermediates (the anchor's pathLenConstraint)",
         file="iot-x509/src/anchor.rs",
         old="map_or(true, |below| below > max)",
         new="map_or(true, |below| below > max.saturating_add(1))"),
    dict(id="M27", target="x509_verify_chain", crate="iot-x509",
         invariant="leaf EKU refuses clientAuth",
         file="iot-x509/src/chain.rs",
         old="        KeyUsage::client_auth(),\n        None,\n        Some(&admit_anchor),",
         new="        KeyUsage::server_auth(),\n        None,\n        Some(&admit_anchor),"),
    dict(id="M28", target="x509_verify_chain", crate="iot-x509",
         invariant="only verified CAs anchor",
         file="iot-x509/src/ca.rs",
         old="            if entry.ca.verified {",
         new="            if !entry.ca.name.is_empty() {"),
    dict(id="M29", target="x509_verify_chain", crate="iot-x509",
         invariant="issuer is not a CA (a non-CA certificate offered as a CA, "
                   "seed leaf-under-not-ca-anchor)",
         file="iot-x509/src/ca.rs",
         old="        if !info.is_ca() {",
         new="        if false && !info.is_ca() {"),
    # --- dps_service_register ------------------------------------------------------------
    dict(id="M30", target="dps_service_register", crate="iot-dps-service",
         invariant="assigned: `sr` = {scope}/registrations/{id} (`sr_covers(.., true)`)",
         file="iot-dps-service/src/attest.rs",
         old="            Some(Scope::Names(resource)),",
         new="            None,"),
    dict(id="M31", target="dps_service_register", crate="iot-dps-service",
         invariant="assigned: `sr` decoded once (sas_reference.rs)",
         **DOUBLE_DECODE),
    dict(id="M32", target="dps_service_register", crate="iot-dps-service",
         invariant="assigned: MAC of another key (the individual enrollment's key)",
         file="iot-dps-service/src/attest.rs",
         old="MacKey::from_base64(text.secret_text()).is_ok_and(|k| k.verify(token).is_ok())",
         new="MacKey::from_base64(text.secret_text()).is_ok()"),
    dict(id="M33", target="dps_service_register", crate="iot-dps-service",
         invariant="assigned: never under the group key itself, only the derived key",
         file="iot-dps-service/src/attest.rs",
         old="                    .is_err()\n                {\n                    continue;",
         new="                    .is_err()\n                    && group_key.verify(token).is_err()\n"
             "                {\n                    continue;"),
    dict(id="M34", target="dps_service_register", crate="iot-dps-service",
         invariant="assigned by X.509: CN = registration ID",
         file="iot-dps-service/src/attest.rs",
         old="        if cn != registration_id {",
         new="        if cn.is_empty() {"),
    dict(id="M35", target="dps_service_register", crate="iot-dps-service",
         invariant="after a previous record: generation advanced (the reprovision flag)",
         file="iot-dps-service/src/register.rs",
         old="generation: previous.map_or(1, |r| r.generation.saturating_add(1)),",
         new="generation: 1,"),
    dict(id="M36", target="dps_service_register", crate="iot-dps-service",
         invariant="after a previous record: creation time kept (the reprovision flag)",
         file="iot-dps-service/src/register.rs",
         old="created: previous.map_or(now, |r| r.created),",
         new="created: now,"),
    dict(id="M37", target="dps_service_register", crate="iot-dps-service",
         invariant="none: the input presents no intermediates, and this mutant only refuses "
                   "more (known gap)",
         file="iot-dps-service/src/attest.rs",
         old="verify_client_chain(&self.cas, leaf, intermediates, now)",
         new="verify_client_chain(&self.cas, leaf, &[], now)",
         known_gap=dict(
             test="iot-dps-service/tests/registration.rs "
                  "first_certificate_up_the_chain_with_an_enrollment_wins",
             command=["cargo", "test", "--locked", "-p", "iot-dps-service", "--test",
                      "registration", "--", "--exact",
                      "first_certificate_up_the_chain_with_an_enrollment_wins"],
             why="the fuzz input presents the leaf alone (the rest of the input is one DER), so "
                 "no seed has intermediates to ignore")),
    # --- dps_client_handle_response ------------------------------------------------------
    dict(id="M38", target="dps_client_handle_response", crate="iot-dps-proto",
         invariant="foreign rid accepted",
         file="iot-dps-proto/src/client.rs",
         old="            && !in_flight.rid.matches(raw)",
         new="            && raw.is_empty()"),
    dict(id="M39", target="dps_client_handle_response", crate="iot-dps-proto",
         invariant="polling limit exceeded",
         file="iot-dps-proto/src/client_config.rs",
         old="            oldest.saturating_add(POLLING_WINDOW)",
         new="            oldest.saturating_add(POLLING_WINDOW / 2)"),
    # --- server_api_decide ---------------------------------------------------------------
    dict(id="M40", target="server_api_decide", crate="iot-server",
         invariant="the report carries the signature (the reason not redacted)",
         file="iot-server/src/engine/api.rs",
         old="        reason: scrub(outcome.reason.clone()),",
         new="        reason: outcome.reason.clone(),"),
    dict(id="M41", target="server_api_decide", crate="iot-server",
         invariant="the report carries the signature (decoded `sig` not redacted)",
         file="iot-server/src/engine/api/redact.rs",
         old="            Ok(decoded) if decoded != raw => found.push(decoded),",
         new="            Ok(decoded) if decoded != raw => drop(decoded),"),
    dict(id="M42", target="server_api_decide", crate="iot-server",
         invariant="a 401/403 names no policy",
         file="iot-server/src/engine/api.rs",
         old='ApiResponse::hub_error(403, "IotHubUnauthorized", "Forbidden")',
         new='ApiResponse::hub_error(403, "IotHubUnauthorized", &refusal.reason())'),
    # --- server_mqtt_decode --------------------------------------------------------------
    dict(id="M43", target="server_mqtt_decode", crate="iot-server",
         invariant="a refused CONNECT answers exactly CONNACK 5",
         file="iot-server/src/engine/connection.rs",
         old="                session_present: false,\n                code,\n            }));\n"
             "        }\n        self.phase = Phase::Closed;",
         new="                session_present: false,\n                code: ConnectReturnCode::Accepted,\n"
             "            }));\n        }\n        self.phase = Phase::Closed;"),
    # --- device_session_input ------------------------------------------------------------
    dict(id="M44", target="device_session_input", crate="iot-device",
         invariant="ack for an identifier never handed out",
         file="iot-device/src/session.rs",
         old='                self.take_ack(ack.pkid, "PUBACK")?;',
         new='                let _ = self.take_ack(ack.pkid, "PUBACK");'),
    dict(id="M45", target="device_session_input", crate="iot-device",
         invariant="one CONNACK 0 at most",
         file="iot-device/src/session.rs",
         old="            (Phase::AwaitingConnAck, Packet::ConnAck(ConnAck { code, .. })) => {",
         new="            (_, Packet::ConnAck(ConnAck { code, .. })) => {"),
]

for _m in MUTATIONS:
    _m.setdefault("command", replay(_m["crate"], _m["target"]))


def one_line(text):
    """Whitespace (newlines too) collapsed, for a table cell."""
    return " ".join(text.split())


def cell(text):
    return text.replace("|", "\\|")


def code(text):
    return "`" + cell(one_line(text)).replace("`", "'") + "`"


def shell(cmd):
    return " ".join(cmd)


def run(cmd, timeout):
    """Runs `cmd` at the workspace root with CARGO_INCREMENTAL=0 under `nice -n 10`; returns
    (exit status or None on timeout, combined output). On timeout the whole process group
    (the cargo started here and its children) is killed."""
    env = dict(os.environ, CARGO_INCREMENTAL="0")
    proc = subprocess.Popen(["nice", "-n", "10"] + cmd, cwd=ROOT, env=env,
                            stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
                            start_new_session=True)
    try:
        out, _ = proc.communicate(timeout=timeout)
        return proc.returncode, out.decode("utf-8", "replace")
    except subprocess.TimeoutExpired:
        os.killpg(proc.pid, signal.SIGKILL)
        out, _ = proc.communicate()
        return None, out.decode("utf-8", "replace")


def build_command(cmd):
    """The same cargo test command without running the tests (`--no-run`)."""
    head = cmd[:cmd.index("--")] if "--" in cmd else cmd
    return head + ["--no-run"]


def first_panic(output):
    """The message of the first panic in a test's output (the invariant that fired)."""
    lines = output.splitlines()
    for i, line in enumerate(lines):
        if "panicked at" in line:
            rest = line.split("panicked at", 1)[1].strip()
            # `panicked at file:line:col:` then the message on the next line(s).
            where = rest.rstrip(":")
            msg = lines[i + 1].strip() if i + 1 < len(lines) else ""
            where = re.sub(r"^.*?(fuzz/|iot-)", r"\1", where)
            return (msg[:110] + "…" if len(msg) > 110 else msg) + " (" + where + ")"
    return "no panic message"


def git_clean(path):
    return subprocess.run(["git", "diff", "--quiet", "--", path], cwd=ROOT).returncode == 0


def count(m):
    with open(os.path.join(ROOT, m["file"]), encoding="utf-8") as f:
        return f.read().count(m["old"])


def test_once(cmd, timeout):
    """Builds then runs one test command; returns (verdict, detail, build ok)."""
    status, out = run(build_command(cmd), timeout)
    if status != 0:
        return "build error", one_line(out[-300:]), False
    status, out = run(cmd, timeout)
    if status is None:
        return "caught", "timeout", True
    if status != 0:
        return "caught", first_panic(out), True
    return "survived", "", True


def check(m, timeout):
    """Applies one mutation, runs its command (and its known-gap test), restores the file."""
    path = os.path.join(ROOT, m["file"])
    with open(path, "rb") as f:
        original = f.read()
    text = original.decode("utf-8")
    found = text.count(m["old"])
    if found != 1:
        return "error", f"`old` found {found} times in {m['file']}", 0.0
    start = time.monotonic()
    try:
        with open(path, "wb") as f:
            f.write(text.replace(m["old"], m["new"]).encode("utf-8"))
        verdict, detail, built = test_once(m["command"], timeout)
        gap = m.get("known_gap")
        if verdict == "survived" and gap:
            other, other_detail, _ = test_once(gap["command"], timeout)
            if other == "caught":
                verdict = "known gap"
                detail = f"replay passes; caught by {gap['test']}: {other_detail}"
            else:
                detail = f"replay passes and {gap['test']} {other}"
        elif verdict == "caught" and gap:
            detail += " (the replay now catches it: the known_gap mark can go)"
    finally:
        with open(path, "wb") as f:
            f.write(original)
    if not git_clean(m["file"]):
        sys.exit(f"{m['file']} differs from git after restoring it; stopping")
    return verdict, detail, time.monotonic() - start


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--only", help="comma-separated ids, e.g. M3,M7")
    parser.add_argument("--list", action="store_true",
                        help="print the mutations (and whether each `old` occurs once)")
    parser.add_argument("--timeout", type=int, default=1200,
                        help="seconds per cargo command (default 1200)")
    parser.add_argument("--no-baseline", action="store_true",
                        help="skip running each command once on the unmutated tree")
    args = parser.parse_args()

    chosen = MUTATIONS
    if args.only:
        wanted = [w.strip() for w in args.only.split(",") if w.strip()]
        unknown = set(wanted) - {m["id"] for m in MUTATIONS}
        if unknown:
            sys.exit(f"unknown ids: {', '.join(sorted(unknown))}")
        chosen = [m for m in MUTATIONS if m["id"] in wanted]

    if args.list:
        print("| id | invariant (logic file) | mutation | command | `old` found |")
        print("| --- | --- | --- | --- | --- |")
        for m in chosen:
            print(f"| {m['id']} | {cell(m['invariant'])} (`fuzz/logic/{m['target']}.rs`) | "
                  f"`{m['file']}`: {code(m['old'])} → {code(m['new'])} | "
                  f"`{cell(shell(m['command']))}` | {count(m)} |")
        return 0 if all(count(m) == 1 for m in chosen) else 1

    for m in chosen:
        if not git_clean(m["file"]):
            sys.exit(f"{m['file']} has uncommitted changes; the check restores files to git")

    if not args.no_baseline:
        for cmd in dict.fromkeys(tuple(m["command"]) for m in chosen):
            verdict, detail, _ = test_once(list(cmd), args.timeout)
            if verdict != "survived":
                sys.exit(f"baseline `{shell(cmd)}` does not pass unmutated: {verdict} {detail}")
            print(f"baseline passes: {shell(cmd)}", file=sys.stderr)

    rows, failed = [], False
    for m in chosen:
        verdict, detail, secs = check(m, args.timeout)
        print(f"{m['id']}: {verdict} {detail} ({secs:.0f} s)", file=sys.stderr)
        if verdict not in ("caught", "known gap"):
            failed = True
        result = verdict + (f": {detail}" if detail else "")
        rows.append(f"| {m['id']} | {cell(m['invariant'])} (`fuzz/logic/{m['target']}.rs`) | "
                    f"`{m['file']}`: {code(m['old'])} → {code(m['new'])} | "
                    f"`{cell(shell(m['command']))}` | {cell(one_line(result))} | {secs:.0f} |")

    caught = sum("| caught" in r for r in rows)
    print("| id | invariant (logic file) | mutation | command | result | seconds |")
    print("| --- | --- | --- | --- | --- | --- |")
    for row in rows:
        print(row)
    print()
    print(f"{caught} of {len(rows)} caught by the replay; "
          f"{sum('| known gap' in r for r in rows)} known gaps caught by another test; "
          f"{len(rows) - caught - sum('| known gap' in r for r in rows)} not caught.")
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
