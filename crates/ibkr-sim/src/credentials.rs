//! [`TestCredentials`]: one complete first-party OAuth credential set, as IBKR's self-service
//! portal would hand it out, plus what the server side derives from it.

use std::fmt;
use std::path::{Path, PathBuf};

use base64::Engine as _;
use base64::engine::general_purpose::STANDARD as B64;
use num_bigint::BigUint;
use rand::RngCore as _;
use rand::rngs::OsRng;
use rsa::pkcs8::{EncodePrivateKey, LineEnding};
use rsa::{Pkcs1v15Encrypt, RsaPrivateKey, RsaPublicKey};

use crate::error::{Result, SimError};

/// RFC 3526 group 14: the 2048-bit MODP prime, generator 2. A valid `openssl dhparam` style prime
/// that costs nothing to "generate".
pub const RFC3526_GROUP14_PRIME_HEX: &str = concat!(
    "ffffffffffffffffc90fdaa22168c234c4c6628b80dc1cd129024e088a67cc74",
    "020bbea63b139b22514a08798e3404ddef9519b3cd3a431b302b0a6df25f1437",
    "4fe1356d6d51c245e485b576625e7ec6f44c42e9a637ed6b0bff5cb6f406b7ed",
    "ee386bfb5a899fa5ae9f24117c4b1fe649286651ece45b3dc2007cb8a163bf05",
    "98da48361c55d39a69163fa8fd24cf5f83655d23dca3ad961c62f356208552bb",
    "9ed529077096966d670c354e4abc9804f1746c08ca18217c32905e462e36ce3b",
    "e39e772c180e86039b2783a2ec07a28fb5c55df06f4c52c9de2bcbf695581718",
    "3995497cea956ae515d2261898fa051015728e5a8aacaa68ffffffffffffffff",
);

/// A credential set: what a client needs (and what the simulator checks against).
#[derive(Clone)]
pub struct TestCredentials {
    pub consumer_key: String,
    pub access_token: String,
    /// base64 of the RSA (PKCS#1 v1.5) ciphertext of the secret, under the encryption key.
    pub access_token_secret_b64: String,
    /// The private signature key, PKCS#8 PEM.
    pub signature_key_pem: String,
    /// The private encryption key, PKCS#8 PEM.
    pub encryption_key_pem: String,
    /// The DH prime as lowercase hex.
    pub dh_prime_hex: String,
    pub realm: String,
}

impl fmt::Debug for TestCredentials {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("TestCredentials")
            .field("consumer_key", &self.consumer_key)
            .field("access_token", &self.access_token)
            .field("access_token_secret_b64", &"REDACTED")
            .field("signature_key_pem", &"REDACTED")
            .field("encryption_key_pem", &"REDACTED")
            .field("dh_prime_hex", &self.dh_prime_hex)
            .field("realm", &self.realm)
            .finish()
    }
}

/// What the server derives from the credentials once, at start.
pub(crate) struct ServerKeys {
    pub signature_public: RsaPublicKey,
    /// The plaintext access token secret: the LST's HMAC message; its hex is the prepend.
    pub secret: Vec<u8>,
    pub prepend_hex: String,
    pub prime: BigUint,
}

fn pkcs8(key: &RsaPrivateKey, what: &str) -> Result<String> {
    key.to_pkcs8_pem(LineEnding::LF)
        .map(|pem| pem.to_string())
        .map_err(|e| SimError::Key(format!("{what}: cannot encode as PKCS#8: {e}")))
}

impl TestCredentials {
    /// Fresh RSA-2048 signature and encryption keys, a random 32-byte access token secret
    /// encrypted with the encryption key, and the RFC 3526 group 14 prime. Slow-ish (two RSA
    /// key generations): call it from a blocking context.
    pub fn generate(consumer_key: &str, access_token: &str, realm: &str) -> Result<Self> {
        let mut rng = OsRng;
        let signature = RsaPrivateKey::new(&mut rng, 2048)
            .map_err(|e| SimError::Key(format!("generating the signature key: {e}")))?;
        let encryption = RsaPrivateKey::new(&mut rng, 2048)
            .map_err(|e| SimError::Key(format!("generating the encryption key: {e}")))?;
        let mut secret = [0u8; 32];
        rng.fill_bytes(&mut secret);
        let ciphertext = RsaPublicKey::from(&encryption)
            .encrypt(&mut rng, Pkcs1v15Encrypt, &secret)
            .map_err(|e| SimError::Key(format!("encrypting the access token secret: {e}")))?;
        Ok(Self {
            consumer_key: consumer_key.to_owned(),
            access_token: access_token.to_owned(),
            access_token_secret_b64: B64.encode(ciphertext),
            signature_key_pem: pkcs8(&signature, "signature key")?,
            encryption_key_pem: pkcs8(&encryption, "encryption key")?,
            dh_prime_hex: RFC3526_GROUP14_PRIME_HEX.to_owned(),
            realm: realm.to_owned(),
        })
    }

    /// Loads existing keys (PKCS#1 or PKCS#8 PEM files). `dh_prime_hex_or_pem` is hex, the text
    /// of a `dhparam.pem`, or a path to either.
    #[allow(clippy::too_many_arguments)]
    pub fn from_files(
        signature_pem_path: impl AsRef<Path>,
        encryption_pem_path: impl AsRef<Path>,
        dh_prime_hex_or_pem: &str,
        access_token_secret_b64: &str,
        consumer_key: &str,
        access_token: &str,
        realm: &str,
    ) -> Result<Self> {
        let read = |p: &Path| {
            std::fs::read_to_string(p).map_err(|e| SimError::Key(format!("{}: {e}", p.display())))
        };
        let signature = ibkr_oauth::keys::parse_private_key_pem(
            "signature key",
            &read(signature_pem_path.as_ref())?,
        )?;
        let encryption = ibkr_oauth::keys::parse_private_key_pem(
            "encryption key",
            &read(encryption_pem_path.as_ref())?,
        )?;
        let prime_text = if Path::new(dh_prime_hex_or_pem).is_file() {
            read(Path::new(dh_prime_hex_or_pem))?
        } else {
            dh_prime_hex_or_pem.to_owned()
        };
        let prime = ibkr_oauth::keys::parse_dh_prime(&prime_text)?;
        let creds = Self {
            consumer_key: consumer_key.to_owned(),
            access_token: access_token.to_owned(),
            access_token_secret_b64: access_token_secret_b64.trim().to_owned(),
            signature_key_pem: pkcs8(&signature, "signature key")?,
            encryption_key_pem: pkcs8(&encryption, "encryption key")?,
            dh_prime_hex: prime.to_str_radix(16),
            realm: realm.to_owned(),
        };
        // Fail now, not at the first handshake, if the secret does not match the key.
        creds.server_keys()?;
        Ok(creds)
    }

    /// Writes `private_signature.pem`, `private_encryption.pem` (PKCS#8, mode 0600),
    /// `dhparam.hex` and `ibkr-sim.env` (the deployment's `OAUTH_*` names) into `dir`, creating
    /// it. Returns the env file's path.
    pub fn write_to_dir(&self, dir: impl AsRef<Path>) -> Result<PathBuf> {
        let dir = dir.as_ref();
        std::fs::create_dir_all(dir)?;
        let signature = dir.join("private_signature.pem");
        let encryption = dir.join("private_encryption.pem");
        write_private(&signature, &self.signature_key_pem)?;
        write_private(&encryption, &self.encryption_key_pem)?;
        std::fs::write(dir.join("dhparam.hex"), format!("{}\n", self.dh_prime_hex))?;
        let env = dir.join("ibkr-sim.env");
        write_private(&env, &self.env_lines(&signature, &encryption))?;
        Ok(env)
    }

    /// The `OAUTH_*` lines of an env file pointing at the given key files.
    pub fn env_lines(&self, signature_path: &Path, encryption_path: &Path) -> String {
        format!(
            "OAUTH_CONSUMER_KEY={}\nOAUTH_ACCESS_TOKEN={}\nOAUTH_ACCESS_TOKEN_SECRET={}\n\
             OAUTH_SIGNATURE_PATH={}\nOAUTH_ENCRYPTION_PATH={}\nOAUTH_DH_PRIME={}\n\
             OAUTH_REALM={}\nPAPER_TRADING=true\n",
            self.consumer_key,
            self.access_token,
            self.access_token_secret_b64,
            signature_path.display(),
            encryption_path.display(),
            self.dh_prime_hex,
            self.realm,
        )
    }

    pub(crate) fn server_keys(&self) -> Result<ServerKeys> {
        let signature =
            ibkr_oauth::keys::parse_private_key_pem("signature key", &self.signature_key_pem)?;
        let encryption =
            ibkr_oauth::keys::parse_private_key_pem("encryption key", &self.encryption_key_pem)?;
        let secret = ibkr_oauth::keys::decrypt_access_token_secret(
            &encryption,
            &self.access_token_secret_b64,
        )?;
        let prime = ibkr_oauth::keys::parse_dh_prime(&self.dh_prime_hex)?;
        Ok(ServerKeys {
            signature_public: RsaPublicKey::from(&signature),
            prepend_hex: hex::encode(&secret),
            secret,
            prime,
        })
    }
}

fn write_private(path: &Path, contents: &str) -> Result<()> {
    std::fs::write(path, contents)?;
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt as _;
        std::fs::set_permissions(path, std::fs::Permissions::from_mode(0o600))?;
    }
    Ok(())
}
