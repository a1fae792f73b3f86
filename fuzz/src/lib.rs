//! What the importer targets share: one database per fuzzing process, made by dms's own
//! `init` (demo participant B01234 with its DAs and users, the test clock pinned), a few
//! more participants (one customer code in both HKCC and SEOCH, a designated bank), the
//! file the importers read, and a transaction that is always rolled back, so every input
//! meets the same database.

use dms::api::{Format, Upload};
use dms::cli::{Global, InitArgs};
use dms::commands::init;
use dms::domain::gate::Method;
use dms::domain::user_id::{UserId, FIRST_OPERATOR_ID};
use dms::ops::migration;
use dms::ops::service::Service;
use dms::ops::session::Actor;
use dms::ops::work::{Mode, Work};
use dms::storage::users;
use std::cell::RefCell;

/// Registered once per process, beside the demo's B01234 (HKSCC CP).
const PARTICIPANTS: &str = "id,name,house,max_users,domains\n\
    HKABC,ABC FUTURES,hkcc,60,abc.com.hk\n\
    HKABC,ABC OPTIONS,seoch,60,abc.com.hk\n\
    BNK999,BANK OF FUZZ,hkscc-db,40,\n\
    C00001,TINY BROKER,hkscc-cp,3,tiny.hk\n";

/// The test clock every input runs at.
const NOW: &str = "2026-11-23T10:00:00+08:00";

pub struct World {
    _dir: tempfile::TempDir,
    pub service: Service,
    /// The exchange operator the migration runs as.
    pub operator: UserId,
    /// B01234X1, the demo's DA maker, for the bulk files' maker-checker check.
    pub maker: Actor,
}

impl World {
    fn new() -> World {
        // The test clock and seeded randomness: a crash replays exactly.
        std::env::set_var("DMS_NOW", NOW);
        std::env::set_var("DMS_SEED", "8");
        let dir = tempfile::Builder::new().prefix("dms-fuzz-").tempdir().expect("a temporary directory");
        let g = Global { db: dir.path().join("fuzz.db"), format: Format::Json, session: None };
        let args = InitArgs { demo: true, allow_test_clock: true, operator_email: Some("op@hkex.com.hk".into()) };
        init::run(&g, args).expect("dms init");
        let service = Service::open(&g.db, false).expect("open the database");
        let operator = UserId::parse(FIRST_OPERATOR_ID).expect("operator ID");
        let maker_id = UserId::parse("B01234X1").expect("maker ID");
        let maker = {
            let mut db = service.host_db(Some(NOW)).expect("the database");
            db.transact(Mode::Write, |w| {
                migration::import_participants(w, &operator, upload(PARTICIPANTS.as_bytes()), &mut |_| {})
            })
            .expect("register the participants");
            let account = users::account(db.conn(), &maker_id).expect("read the maker").expect("demo maker");
            Actor { account, token_hash: Vec::new(), method: Method::TwoFactor, created_at: db.now() }
        };
        World { _dir: dir, service, operator, maker }
    }

    /// Run `f` in one transaction of the command's kind and roll it back whatever it
    /// returned, handing back what it returned.
    pub fn rolled_back<T>(
        &mut self,
        mode: Mode,
        f: impl FnOnce(&mut Work<'_>) -> anyhow::Result<T>,
    ) -> anyhow::Result<T> {
        let mut out = None;
        let mut db = self.service.host_db(Some(NOW)).expect("the database");
        let rolled = db.transact(mode, |w| {
            out = Some(f(w));
            Err::<(), _>(anyhow::anyhow!("rolled back by the fuzz target"))
        });
        assert!(rolled.is_err(), "the transaction must not commit");
        out.expect("the closure ran")
    }
}

thread_local! {
    static WORLD: RefCell<Option<World>> = const { RefCell::new(None) };
}

/// Run `f` with this process's world, made on first use.
pub fn with_world<R>(f: impl FnOnce(&mut World) -> R) -> R {
    WORLD.with(|w| f(w.borrow_mut().get_or_insert_with(World::new)))
}

/// The migration targets' frame: the input is the file, `import` runs as the exchange
/// operator in a transaction that is rolled back, and a refusal must be one of bad input.
pub fn migrate(data: &[u8], import: impl FnOnce(&mut Work<'_>, &UserId, Upload) -> anyhow::Result<()>) {
    with_world(|w| {
        let op = w.operator.clone();
        if let Err(e) = w.rolled_back(Mode::Write, |work| import(work, &op, upload(data))) {
            refused_as_input(&e);
        }
    })
}

/// The input as the file a call carries.
pub fn upload(data: &[u8]) -> Upload {
    Upload { name: "input.csv".into(), bytes: data.to_vec() }
}

/// A refusal of a file must be one of SPEC §8's codes for what a file can hold (6 invalid
/// input, 7 conflict, 5 a maker-checker rule such as a DA's address going through DMS), never
/// 1 "anything else"; its message one line with nothing that moves the cursor, and each
/// fault the same.
pub fn refused_as_input(e: &anyhow::Error) {
    use dms::error::Kind;
    let (kind, message) = dms::error::classify(e);
    assert!(
        matches!(kind, Kind::Invalid | Kind::Conflict | Kind::NotPermitted),
        "bad input must be refused as input ({kind:?}): {e:#}"
    );
    for m in std::iter::once(&message).chain(dms::error::faults(e)) {
        assert!(!m.chars().any(char::is_control), "message not escaped: {m:?}");
    }
}
