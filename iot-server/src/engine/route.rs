//! Routing and deciding a CONNECT (issue 10 "Endpoints"): the user name names the endpoint,
//! `{idScope}/registrations/{registrationId}/...` for DPS (reference §5.1) and
//! `{hubHost}/{deviceId}[/{moduleId}]/?...` for a hub (§6.1); the hub decides with
//! `iot_hub_auth::authorize` and the TLS peer chain. DPS accepts the session when the user
//! name names its ID scope and the client ID, and attests the device on each register request
//! (a bad credential is answered 401 / 401002 there, as the service does, §5.4).

use iot_dps_proto::UserNameParts;
use iot_dps_service::DpsTransport;
use iot_hub_auth::{ClientView, ConnectRequest, Transport};
use iot_x509::CertificateDer;

use crate::ServerEvent;
use crate::engine::realm::Realm;
use crate::mqtt::{Connect, ConnectReturnCode};

/// Where an accepted connection goes.
#[derive(Clone, PartialEq, Eq)]
pub enum Endpoint {
    /// A hub device or module session.
    Hub {
        /// Hub host name as registered.
        host: String,
        /// Device ID.
        device_id: String,
        /// Module ID.
        module_id: Option<String>,
        /// Unix second after which the connection must end (token `se` or certificate
        /// `notAfter`).
        valid_until: u64,
    },
    /// A DPS session.
    Dps {
        /// Registration ID (the client ID).
        registration_id: String,
        /// The CONNECT user name.
        user_name: String,
        /// The CONNECT password (SAS token), if any.
        password: Option<String>,
        /// Transport.
        transport: DpsTransport,
    },
}

impl core::fmt::Debug for Endpoint {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        match self {
            Self::Hub {
                host,
                device_id,
                module_id,
                ..
            } => f
                .debug_struct("Hub")
                .field("host", host)
                .field("device_id", device_id)
                .field("module_id", module_id)
                .finish(),
            Self::Dps {
                registration_id, ..
            } => f
                .debug_struct("Dps")
                .field("registration_id", registration_id)
                .finish_non_exhaustive(),
        }
    }
}

/// The decision on a CONNECT: the endpoint when allowed, and the event to report.
#[derive(Clone, Debug)]
pub struct ConnectDecision {
    /// `Some` when allowed.
    pub endpoint: Option<Endpoint>,
    /// What a refusal tells the client: the CONNACK code of the decision's client-safe view
    /// (`iot_hub_auth::ClientView`: 4 for a malformed or inconsistent claim, 5 for every other
    /// refusal, without saying which); the reason itself is only in [`Self::event`].
    pub refusal: ConnectReturnCode,
    /// The decision as reported (no secret in it).
    pub event: ServerEvent,
}

/// The CONNACK code of a hub's client-safe view (azure-iot-protocol.md §6.1).
fn connack_of(view: ClientView) -> ConnectReturnCode {
    match view {
        ClientView::Accepted => ConnectReturnCode::Accepted,
        ClientView::BadRequest => ConnectReturnCode::BadUserNameOrPassword,
        ClientView::NotAuthorized => ConnectReturnCode::NotAuthorized,
    }
}

impl Realm {
    /// Decides a CONNECT that arrived over `transport` with the TLS `chain`, at `now` (Unix
    /// seconds); `peer` is the remote address for the report.
    pub fn decide_connect(
        &self,
        connect: &Connect,
        chain: &[CertificateDer<'_>],
        transport: Transport,
        peer: &str,
        now: u64,
    ) -> ConnectDecision {
        let user = connect.username.as_deref().unwrap_or_default();
        let first = user.split('/').next().unwrap_or_default();
        let event = |endpoint: &str, target: &str, allowed: bool, code: &str, reason: String| {
            ServerEvent::Connect {
                endpoint: endpoint.into(),
                target: target.into(),
                identity: connect.client_id.clone(),
                transport: transport.as_str().into(),
                allowed,
                code: code.into(),
                reason,
                peer: peer.into(),
            }
        };
        let password = match connect.password.as_deref().map(core::str::from_utf8) {
            None => None,
            Some(Ok(text)) => Some(text),
            Some(Err(_)) => {
                return ConnectDecision {
                    refusal: ConnectReturnCode::NotAuthorized,
                    endpoint: None,
                    event: event(
                        "unknown",
                        first,
                        false,
                        "malformed_token",
                        "the password is not UTF-8 text".into(),
                    ),
                };
            }
        };
        if let Some(hub) = self.hubs.hub(first) {
            let host = hub.settings.host_name().to_owned();
            let mut req = ConnectRequest::mqtt(&connect.client_id, user).over(transport);
            req.password = password;
            req.client_chain = chain;
            return match self.hubs.authorize(&host, &req, now) {
                Ok((identity, valid_until)) => {
                    let reason = format!("{} connected to {host}", identity.display_id());
                    ConnectDecision {
                        refusal: ConnectReturnCode::NotAuthorized,
                        endpoint: Some(Endpoint::Hub {
                            host: host.clone(),
                            device_id: identity.device_id,
                            module_id: identity.module_id,
                            valid_until,
                        }),
                        event: event("hub", &host, true, "allowed", reason),
                    }
                }
                Err(deny) => ConnectDecision {
                    refusal: connack_of(deny.wire()),
                    endpoint: None,
                    event: event("hub", &host, false, deny.code(), deny.to_string()),
                },
            };
        }
        let Some(dps) = self
            .dps
            .as_ref()
            .filter(|d| d.state.instance.id_scope.eq_ignore_ascii_case(first))
        else {
            return ConnectDecision {
                refusal: ConnectReturnCode::NotAuthorized,
                endpoint: None,
                event: event(
                    "unknown",
                    first,
                    false,
                    "unknown_endpoint",
                    format!(
                        "the user name names neither a hub nor the DPS ID scope ('{}')",
                        clip(first)
                    ),
                ),
            };
        };
        let scope = dps.state.instance.id_scope.clone();
        let refuse = |code: &str, reason: String| ConnectDecision {
            refusal: ConnectReturnCode::NotAuthorized,
            endpoint: None,
            event: event("dps", &scope, false, code, reason),
        };
        let parts = match UserNameParts::parse(user) {
            Ok(parts) => parts,
            Err(e) => return refuse("malformed_claim", format!("dps user name: {e}")),
        };
        if parts.registration_id != connect.client_id {
            return refuse(
                "client_id_mismatch",
                format!(
                    "the user name names registration '{}' but the client ID is '{}'",
                    clip(parts.registration_id),
                    clip(&connect.client_id)
                ),
            );
        }
        let dps_transport = if transport.is_websocket() {
            DpsTransport::MqttWebSockets
        } else {
            DpsTransport::Mqtt
        };
        let credential = match (password.is_some(), chain.is_empty()) {
            (true, _) => "a SAS token",
            (false, false) => "a client certificate",
            (false, true) => "no credential",
        };
        ConnectDecision {
            refusal: ConnectReturnCode::NotAuthorized,
            endpoint: Some(Endpoint::Dps {
                registration_id: connect.client_id.clone(),
                user_name: user.to_owned(),
                password: password.map(str::to_owned),
                transport: dps_transport,
            }),
            event: event(
                "dps",
                &scope,
                true,
                "session",
                format!("dps session opened with {credential}; attested on each register"),
            ),
        }
    }
}

/// At most 64 characters of untrusted text for a report.
fn clip(text: &str) -> String {
    text.chars().take(64).collect()
}
