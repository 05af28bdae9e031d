//! The consumer's credentials, loaded and checked once at start.
//!
//! [`CredentialSource`] is what the settings hold (strings and paths, as typed by the operator);
//! [`Credentials::load`] turns it into usable key material or one error that names the setting
//! and the fix. The `check_*` functions are the same checks one by one, for `skimd doctor`.

use std::fmt;
use std::path::{Path, PathBuf};

use num_bigint::BigUint;
use num_traits::One;
use rsa::RsaPrivateKey;
use rsa::traits::PublicKeyParts;
use secrecy::{ExposeSecret, SecretBox, SecretString};

use crate::error::{Error, Result};
use crate::keys::{decrypt_access_token_secret, parse_dh_prime, parse_private_key_pem};

/// The smallest DH prime accepted, in bits (`openssl dhparam 2048`).
pub const MIN_DH_PRIME_BITS: u64 = 2048;

/// Setting names as the deployment spells them (DESIGN.md), used in every error message.
const SET_CONSUMER_KEY: &str = "OAUTH_CONSUMER_KEY";
const SET_ACCESS_TOKEN: &str = "OAUTH_ACCESS_TOKEN";
const SET_SECRET: &str = "OAUTH_ACCESS_TOKEN_SECRET";
const SET_SIGNATURE: &str = "OAUTH_SIGNATURE_PATH";
const SET_ENCRYPTION: &str = "OAUTH_ENCRYPTION_PATH";
const SET_DH_PRIME: &str = "OAUTH_DH_PRIME";
const SET_REALM: &str = "OAUTH_REALM";

/// The credential settings as given: strings and paths, nothing parsed yet.
#[derive(Debug, Clone)]
pub struct CredentialSource {
    pub consumer_key: String,
    pub access_token: String,
    /// base64 of the RSA ciphertext, as the portal shows it.
    pub access_token_secret: SecretString,
    pub signature_key_path: PathBuf,
    pub encryption_key_path: PathBuf,
    /// Hex (a leading `00` allowed), the text of a `dhparam.pem`, or a path to one.
    pub dh_prime: String,
    /// `limited_poa` for a first-party consumer.
    pub realm: String,
}

/// An RSA private key whose `Debug` prints nothing of the key.
#[derive(Clone, PartialEq, Eq)]
pub struct PrivateKey(RsaPrivateKey);

impl PrivateKey {
    pub fn new(key: RsaPrivateKey) -> Self {
        Self(key)
    }

    /// The key, for signing or decrypting. Keep the borrow short.
    pub fn expose(&self) -> &RsaPrivateKey {
        &self.0
    }

    /// Modulus size in bits.
    pub fn bits(&self) -> usize {
        self.0.size() * 8
    }
}

impl fmt::Debug for PrivateKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("PrivateKey([REDACTED])")
    }
}

/// Everything the handshake and request signing need, parsed and cross-checked.
#[derive(Debug, Clone)]
pub struct Credentials {
    consumer_key: String,
    access_token: String,
    signature_key: PrivateKey,
    dh_prime: BigUint,
    realm: String,
    /// The access token secret decrypted with the encryption key, computed once: the HMAC
    /// message of every LST and (as hex) the prepend of the handshake base string.
    decrypted_secret: std::sync::Arc<SecretBox<Vec<u8>>>,
}

impl Credentials {
    /// Reads the key files and the prime, decrypts the secret. Every failure names the setting
    /// or file and says what to do.
    pub fn load(source: &CredentialSource) -> Result<Self> {
        let signature_pem =
            read_key_file(SET_SIGNATURE, "signature key", &source.signature_key_path)?;
        let encryption_pem = read_key_file(
            SET_ENCRYPTION,
            "encryption key",
            &source.encryption_key_path,
        )?;
        let prime_text = dh_prime_text(&source.dh_prime)?;
        Self::from_pem(
            &source.consumer_key,
            &source.access_token,
            source.access_token_secret.expose_secret(),
            signature_pem.expose_secret(),
            encryption_pem.expose_secret(),
            &prime_text,
            &source.realm,
        )
    }

    /// The same from in-memory text (PEMs, the secret as base64, the prime as hex or PEM):
    /// for tests, the simulator and benches.
    pub fn from_pem(
        consumer_key: &str,
        access_token: &str,
        access_token_secret_b64: &str,
        signature_key_pem: &str,
        encryption_key_pem: &str,
        dh_prime: &str,
        realm: &str,
    ) -> Result<Self> {
        let consumer_key = non_empty(SET_CONSUMER_KEY, "consumer key", consumer_key)?;
        let access_token = non_empty(SET_ACCESS_TOKEN, "access token", access_token)?;
        let realm = non_empty(SET_REALM, "realm (limited_poa)", realm)?;
        if access_token_secret_b64.trim().is_empty() {
            return Err(Error::Config(format!(
                "{SET_SECRET} is empty: set it to the access token secret shown in the IBKR portal"
            )));
        }
        let signature_key = parse_private_key_pem(
            &format!("signature key ({SET_SIGNATURE})"),
            signature_key_pem,
        )?;
        let encryption_key = parse_private_key_pem(
            &format!("encryption key ({SET_ENCRYPTION})"),
            encryption_key_pem,
        )?;
        let dh_prime = check_prime(dh_prime)?;
        let decrypted = decrypt_secret(&encryption_key, access_token_secret_b64)?;
        Ok(Self {
            consumer_key,
            access_token,
            signature_key: PrivateKey(signature_key),
            dh_prime,
            realm,
            decrypted_secret: std::sync::Arc::new(SecretBox::new(Box::new(decrypted))),
        })
    }

    pub fn consumer_key(&self) -> &str {
        &self.consumer_key
    }

    pub fn access_token(&self) -> &str {
        &self.access_token
    }

    pub fn realm(&self) -> &str {
        &self.realm
    }

    pub fn dh_prime(&self) -> &BigUint {
        &self.dh_prime
    }

    pub fn signature_key(&self) -> &PrivateKey {
        &self.signature_key
    }

    /// The decrypted access token secret (raw bytes).
    pub fn decrypted_secret(&self) -> &SecretBox<Vec<u8>> {
        &self.decrypted_secret
    }

    /// Lowercase hex of the decrypted secret: the handshake's base string prepend.
    pub fn prepend(&self) -> SecretString {
        SecretString::from(hex::encode(self.decrypted_secret.expose_secret()))
    }
}

fn non_empty(setting: &str, what: &str, value: &str) -> Result<String> {
    let value = value.trim();
    if value.is_empty() {
        return Err(Error::Config(format!(
            "{setting} is empty: set the {what} from the IBKR self-service portal"
        )));
    }
    Ok(value.to_owned())
}

/// What [`check_key_file`] found out about a key file.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct KeyFileReport {
    /// Group or others can read or write it (unix mode & 0o077 != 0): `chmod 600` it.
    pub permissions_too_open: bool,
    /// The file mode (unix), for the message.
    pub mode: Option<u32>,
    /// Modulus size; IBKR wants 2048.
    pub bits: usize,
}

/// Checks one key file: exists, readable, a PEM RSA private key without a passphrase, and
/// whether its permissions are too open. `what` names it in messages ("signature key").
pub fn check_key_file(what: &str, path: &Path) -> Result<KeyFileReport> {
    let pem = read_key_file(what, what, path)?;
    let key = parse_private_key_pem(&format!("{what} {}", path.display()), pem.expose_secret())?;
    let mode = file_mode(path);
    Ok(KeyFileReport {
        permissions_too_open: mode.is_some_and(|m| m & 0o077 != 0),
        mode,
        bits: PrivateKey(key).bits(),
    })
}

#[cfg(unix)]
fn file_mode(path: &Path) -> Option<u32> {
    use std::os::unix::fs::PermissionsExt as _;
    std::fs::metadata(path)
        .ok()
        .map(|m| m.permissions().mode() & 0o777)
}

#[cfg(not(unix))]
fn file_mode(_path: &Path) -> Option<u32> {
    None
}

/// What [`check_dh_prime`] found out.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DhPrimeReport {
    pub bits: u64,
    /// The prime came from a file (a `dhparam.pem`) rather than inline hex.
    pub from_file: bool,
}

/// Checks `OAUTH_DH_PRIME`: hex, a `dhparam.pem` text or a path to one; ≥ 2048 bits; odd.
pub fn check_dh_prime(setting_value: &str) -> Result<DhPrimeReport> {
    let from_file = looks_like_path(setting_value);
    let text = dh_prime_text(setting_value)?;
    let prime = check_prime(&text)?;
    Ok(DhPrimeReport {
        bits: prime.bits(),
        from_file,
    })
}

/// Checks that the encryption key decrypts the access token secret.
pub fn check_access_token_secret(
    encryption_key_path: &Path,
    secret_b64: &SecretString,
) -> Result<()> {
    let pem = read_key_file(SET_ENCRYPTION, "encryption key", encryption_key_path)?;
    let key = parse_private_key_pem(
        &format!("encryption key ({SET_ENCRYPTION})"),
        pem.expose_secret(),
    )?;
    decrypt_secret(&key, secret_b64.expose_secret()).map(drop)
}

/// Decrypts the access token secret, with errors that say which setting to fix.
fn decrypt_secret(encryption_key: &RsaPrivateKey, secret_b64: &str) -> Result<Vec<u8>> {
    use base64::Engine as _;
    if base64::engine::general_purpose::STANDARD
        .decode(secret_b64.trim())
        .is_err()
    {
        return Err(Error::Key(format!(
            "{SET_SECRET} is not base64: copy the access token secret exactly as the IBKR portal shows it"
        )));
    }
    decrypt_access_token_secret(encryption_key, secret_b64).map_err(|_| {
        Error::Key(format!(
            "{SET_SECRET}: the encryption key ({SET_ENCRYPTION}) does not decrypt it: wrong key file, or a secret issued for another consumer key"
        ))
    })
}

fn read_key_file(setting: &str, what: &str, path: &Path) -> Result<SecretString> {
    if path.as_os_str().is_empty() {
        return Err(Error::Config(format!(
            "{setting} is empty: set it to the path of the {what} PEM file"
        )));
    }
    match std::fs::read_to_string(path) {
        Ok(text) => Ok(SecretString::from(text)),
        Err(e) => Err(Error::Key(match e.kind() {
            std::io::ErrorKind::NotFound => format!(
                "{setting}: {what} file {} does not exist: put the PEM there or fix the path",
                path.display()
            ),
            std::io::ErrorKind::PermissionDenied => format!(
                "{setting}: {what} file {} is not readable by this user: chown it to the user running skimd and chmod 600",
                path.display()
            ),
            std::io::ErrorKind::InvalidData => format!(
                "{setting}: {what} file {} is not text: it must be a PEM file",
                path.display()
            ),
            _ => format!("{setting}: cannot read {what} file {}: {e}", path.display()),
        })),
    }
}

/// `true` when the setting is neither hex nor inline PEM, i.e. a path.
fn looks_like_path(value: &str) -> bool {
    let v = value.trim();
    let hexish = v.strip_prefix("0x").unwrap_or(v);
    !(v.contains("-----BEGIN")
        || (!hexish.is_empty() && hexish.bytes().all(|b| b.is_ascii_hexdigit())))
}

fn dh_prime_text(value: &str) -> Result<String> {
    let v = value.trim();
    if v.is_empty() {
        return Err(Error::Config(format!(
            "{SET_DH_PRIME} is empty: set it to the prime in hex or the path of dhparam.pem (openssl dhparam -out dhparam.pem 2048)"
        )));
    }
    if !looks_like_path(v) {
        return Ok(v.to_owned());
    }
    let path = Path::new(v);
    std::fs::read_to_string(path).map_err(|e| {
        Error::Key(match e.kind() {
            std::io::ErrorKind::NotFound => format!(
                "{SET_DH_PRIME}: {v:?} is neither hex nor an existing dhparam.pem file: give the hex prime or fix the path"
            ),
            std::io::ErrorKind::PermissionDenied => format!(
                "{SET_DH_PRIME}: {} is not readable by this user: fix its owner or mode",
                path.display()
            ),
            _ => format!("{SET_DH_PRIME}: cannot read {}: {e}", path.display()),
        })
    })
}

fn check_prime(text: &str) -> Result<BigUint> {
    let prime = parse_dh_prime(text).map_err(|e| {
        Error::Key(format!(
            "{SET_DH_PRIME}: {e} (give the hex prime or a dhparam.pem)"
        ))
    })?;
    if prime.bits() < MIN_DH_PRIME_BITS {
        return Err(Error::Key(format!(
            "{SET_DH_PRIME}: the prime has {} bits, at least {MIN_DH_PRIME_BITS} are needed: use the one registered with IBKR (openssl dhparam 2048)",
            prime.bits()
        )));
    }
    if (&prime & BigUint::one()) != BigUint::one() {
        return Err(Error::Key(format!(
            "{SET_DH_PRIME}: the number is even, so it is not a prime: it was mangled (copy it again from dhparam.pem)"
        )));
    }
    Ok(prime)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn prime_checks_name_the_setting() {
        let e = check_prime("ff").unwrap_err().to_string();
        assert!(e.contains("OAUTH_DH_PRIME") && e.contains("2048"), "{e}");
        let even = format!("{:x}", BigUint::one() << 2100u32);
        let e = check_prime(&even).unwrap_err().to_string();
        assert!(e.contains("even"), "{e}");
        let e = check_dh_prime("/nonexistent/dhparam.pem")
            .unwrap_err()
            .to_string();
        assert!(
            e.contains("OAUTH_DH_PRIME") && e.contains("neither hex"),
            "{e}"
        );
        let e = check_dh_prime("zz not hex").unwrap_err().to_string();
        assert!(e.contains("OAUTH_DH_PRIME"), "{e}");
    }

    #[test]
    fn missing_key_file_names_setting_and_path() {
        let e = check_key_file("signature key", Path::new("/nonexistent/sig.pem"))
            .unwrap_err()
            .to_string();
        assert!(
            e.contains("/nonexistent/sig.pem") && e.contains("does not exist"),
            "{e}"
        );
    }

    #[test]
    fn path_detection() {
        assert!(!looks_like_path("00ffab"));
        assert!(!looks_like_path("-----BEGIN DH PARAMETERS-----\nxx"));
        assert!(looks_like_path("oauth_keys/dhparam.pem"));
    }

    #[test]
    fn private_key_debug_redacts() {
        let source = CredentialSource {
            consumer_key: "CK".into(),
            access_token: "tok".into(),
            access_token_secret: SecretString::from("c2VjcmV0"),
            signature_key_path: "a".into(),
            encryption_key_path: "b".into(),
            dh_prime: "ff".into(),
            realm: "limited_poa".into(),
        };
        let dbg = format!("{source:?}");
        assert!(!dbg.contains("c2VjcmV0"), "{dbg}");
    }
}
