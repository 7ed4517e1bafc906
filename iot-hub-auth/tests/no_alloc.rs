//! The SAS connect path allocates nothing: MQTT client ID and user name parsing, registry
//! lookup, token parsing, expiry, pre-keyed MAC verification and the resource check. A counting
//! global allocator (`stats_alloc`, so no `unsafe` here) wraps the system allocator and the test
//! asserts zero allocations (and reallocations) across the decision. The deny path may allocate
//! (its reasons carry owned text), which the end of the test shows, proving the counter works.
//! One test function only: the counter is process-wide, so no other test may run beside it.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic, missing_docs)]

#[path = "support/fixtures.rs"]
mod fixtures;

use std::alloc::System;

use fixtures::*;
use iot_hub_auth::{AuthMethod, ConnectRequest, DeviceIdentity, KeySlot, Transport, authorize};
use iot_sas::ResourceUri;
use stats_alloc::{INSTRUMENTED_SYSTEM, Region, StatsAlloc};

#[global_allocator]
static GLOBAL: &StatsAlloc<System> = &INSTRUMENTED_SYSTEM;

/// The value of `f` and the fewest heap allocations of three runs: the counters are
/// process-wide and the test harness's own thread can allocate at any moment under load; an
/// allocation on the measured path shows in every run.
fn counted<T>(mut f: impl FnMut() -> T) -> (T, usize) {
    let mut fewest = usize::MAX;
    let mut out = None;
    for _ in 0..3 {
        let region = Region::new(GLOBAL);
        let value = std::hint::black_box(f());
        let stats = region.change();
        fewest = fewest.min(stats.allocations + stats.reallocations);
        out = Some(value);
    }
    (out.expect("three runs"), fewest)
}

#[test]
fn sas_connect_decisions_allocate_nothing() {
    let hub = hub();
    let mut reg = registry();
    // A busier registry, so lookups go through a real table.
    for i in 0..1000 {
        reg.upsert(DeviceIdentity::sas(&format!("filler-{i}"), K1, K2))
            .unwrap();
    }
    let dev = device_token(K1, "dev1", EXPIRY);
    let dev2 = device_token(K2, "dev1", EXPIRY);
    let module = module_token(K2, "dev1", "mod1", EXPIRY);
    let policy = policy_token(P1, &ResourceUri::Devices { host: HOST }, "device", EXPIRY);
    let user = format!(
        "{HOST}/dev1/?api-version=2021-04-12&DeviceClientType=azsdk-c%2F1.5.0&model-id=dtmi%3Acom%3Aexample%3AThermostat%3B1"
    );
    let user_m = username("dev1/mod1");
    let requests = [
        ConnectRequest::mqtt("dev1", &user).with_password(&dev),
        ConnectRequest::mqtt("dev1", &user).with_password(&dev2),
        ConnectRequest::mqtt("dev1", &user)
            .with_password(&dev)
            .over(Transport::MqttWs),
        ConnectRequest::mqtt("dev1/mod1", &user_m).with_password(&module),
        ConnectRequest::mqtt("dev1", &user).with_password(&policy),
        ConnectRequest::amqp_sasl("dev1@sas.contoso", &dev),
        ConnectRequest::https("dev1").with_password(&dev),
    ];
    for req in requests {
        // Warm up once (lazy statics in dependencies, if any), then count.
        assert!(authorize(&hub, &reg, &req, AT).is_allowed());
        let (allowed, allocations) = counted(|| authorize(&hub, &reg, &req, AT).is_allowed());
        assert!(allowed);
        assert_eq!(allocations, 0, "{req:?}");
    }
    let (method, allocations) = counted(|| {
        let req = ConnectRequest::mqtt("dev1", &user).with_password(&dev2);
        authorize(&hub, &reg, &req, AT)
            .allowed()
            .map(|a| a.method.clone())
    });
    assert_eq!(allocations, 0);
    assert_eq!(method, Some(AuthMethod::DeviceKey(KeySlot::Secondary)));

    // The counter works: the deny path allocates (the reason carries owned text).
    let bad = device_token(K3, "dev1", EXPIRY);
    let user = username("dev1");
    let req = ConnectRequest::mqtt("dev1", &user).with_password(&bad);
    let (allowed, allocations) = counted(|| authorize(&hub, &reg, &req, AT).is_allowed());
    assert!(!allowed);
    assert!(allocations > 0, "a deny reason carries owned text");
}
