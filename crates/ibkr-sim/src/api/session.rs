//! Session lifecycle: `ssodh/init`, `tickle`, `auth/status`, `logout`, `iserver/accounts`.

use std::time::Instant;

use serde_json::{Value, json};

use super::{Ctx, Reply};
use crate::format::now_ms;
use crate::lock;
use crate::server::Shared;

fn auth_status_json(shared: &Shared) -> Value {
    let session = lock(&shared.session);
    let authenticated = session.bridge_ready_at.is_some() && !session.competing;
    json!({
        "authenticated": authenticated,
        "competing": session.competing,
        "connected": true,
        "message": "",
        "MAC": "00:11:22:33:44:55",
        "serverInfo": {"serverName": "ibkr-sim", "serverVersion": "Build 10.30.1, sim"},
        "fail": "",
    })
}

/// `POST /iserver/auth/ssodh/init` `{publish, compete}`.
pub fn ssodh_init(shared: &Shared, ctx: &Ctx<'_>) -> Result<Reply, Reply> {
    let body = ctx.json()?;
    let compete = body
        .get("compete")
        .and_then(Value::as_bool)
        .unwrap_or(false);
    {
        let mut session = lock(&shared.session);
        if session.competing && !compete {
            drop(session);
            return Ok(Reply::ok(auth_status_json(shared)));
        }
        session.competing = false;
        session.subscribed.clear();
        session.bridge_ready_at = Some(Instant::now() + shared.config.init_settle);
        session.session_id = format!("{:032x}", rand::random::<u128>());
    }
    lock(&shared.book).suppressed.clear();
    lock(&shared.stats).stats.ssodh_inits += 1;
    let mut status = auth_status_json(shared);
    status["hardware_info"] = json!("ibkr-sim|00:11:22:33:44:55");
    Ok(Reply::ok(status))
}

/// `POST /tickle`.
pub fn tickle(shared: &Shared, ctx: &Ctx<'_>) -> Reply {
    lock(&shared.stats).stats.tickles += 1;
    let session_id = {
        let session = lock(&shared.session);
        if session.session_id.is_empty() {
            "0".repeat(32)
        } else {
            session.session_id.clone()
        }
    };
    let sso_expires = ctx.lst_expires_at_ms.map_or(0, |t| (t - now_ms()).max(0));
    Reply::ok(json!({
        "session": session_id,
        "ssoExpires": sso_expires,
        "collission": false,
        "userId": 12345678,
        "hmds": {"error": "no bridge"},
        "iserver": {"authStatus": auth_status_json(shared)},
    }))
}

/// `POST /iserver/auth/status`.
pub fn auth_status(shared: &Shared) -> Reply {
    Reply::ok(auth_status_json(shared))
}

/// `POST /logout`: ends the brokerage session and invalidates the live session tokens.
pub fn logout(shared: &Shared) -> Reply {
    lock(&shared.session).drop_bridge();
    lock(&shared.auth).revoke_all();
    lock(&shared.stats).stats.logouts += 1;
    Reply::ok(json!({"status": true}))
}

/// `GET /iserver/accounts`.
pub fn accounts(shared: &Shared) -> Reply {
    let acct = &shared.config.account_id;
    let session_id = lock(&shared.session).session_id.clone();
    Reply::ok(json!({
        "accounts": [acct],
        "acctProps": {acct: {"hasChildAccounts": false, "supportsCashQty": true, "supportsFractions": false, "allowCustomerTime": false}},
        "aliases": {acct: acct},
        "allowFeatures": {"showGFIS": true, "allowCrypto": false, "allowedAssetTypes": "STK"},
        "chartPeriods": {"STK": ["*"]},
        "groups": [],
        "profiles": [],
        "selectedAccount": acct,
        "serverInfo": {"serverName": "ibkr-sim", "serverVersion": "Build 10.30.1, sim"},
        "sessionId": session_id,
        "isFT": false,
        "isPaper": acct.starts_with("DU"),
    }))
}
