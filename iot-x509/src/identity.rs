//! Identity binding of a CA-signed device certificate (reference §7.3).

use crate::{CertificateInfo, Error};

/// Checks that the leaf's subject CN is the device ID, or `deviceId/moduleId` for a module
/// (reference §7.3, Microsoft doc "authenticate-authorize-x509").
///
/// The comparison is ordinal (exact, case-sensitive), as EdgeHub's `ValidateCommonName`
/// does. The subject must hold exactly one CN: several CNs are refused as ambiguous (see
/// [`CertificateInfo`]'s common name rule).
///
/// # Errors
/// [`Error::NoCommonName`], [`Error::AmbiguousCommonName`], [`Error::IdentityMismatch`].
pub fn check_identity(
    leaf: &CertificateInfo,
    device_id: &str,
    module_id: Option<&str>,
) -> Result<(), Error> {
    let common_name = match leaf.common_names() {
        [] => return Err(Error::NoCommonName),
        [one] => one.as_str(),
        many => return Err(Error::AmbiguousCommonName { count: many.len() }),
    };
    let matches = match module_id {
        None => common_name == device_id,
        Some(module_id) => common_name
            .split_once('/')
            .is_some_and(|(device, module)| device == device_id && module == module_id),
    };
    if matches {
        return Ok(());
    }
    let expected = match module_id {
        None => device_id.to_owned(),
        Some(module_id) => format!("{device_id}/{module_id}"),
    };
    Err(Error::IdentityMismatch {
        common_name: common_name.to_owned(),
        expected,
    })
}
