//! The table-control steps: the message grammar (each mistake at its word), what passes
//! to the kernel only where a refusal is expected, the refusals the walk predicts with
//! the kernel's errno, and what a thin without a device or a suspended pool can take.

use crate::scenario::load_scenario_str;
use crate::spec::{Action, ActivateSpec, ControlDevice, Expect, MessageSpec, PoolMessage};
use std::path::Path;

fn errors(text: &str) -> Vec<String> {
    match load_scenario_str(Path::new("t.toml"), text) {
        Ok(p) => panic!("should fail: {p:#?}"),
        Err(e) => e.errors.iter().map(ToString::to_string).collect(),
    }
}

fn one(text: &str) -> String {
    let e = errors(text);
    assert_eq!(e.len(), 1, "{e:#?}");
    e.into_iter().next().unwrap_or_default()
}

fn ok(text: &str) -> crate::spec::ScenarioSpec {
    load_scenario_str(Path::new("t.toml"), text).unwrap_or_else(|e| panic!("should load: {e}"))
}

fn loop_pool(steps: &str) -> String {
    format!("format = 1\n[[pool]]\nname = \"p\"\nkind = \"loop-lvm\"\n{steps}")
}

fn direct_pool(steps: &str) -> String {
    format!("format = 1\n[[pool]]\nname = \"d\"\nkind = \"direct-lvm\"\n{steps}")
}

fn msg(text: &str, extra: &str) -> String {
    format!("[[step]]\naction = \"message\"\ntext = \"{text}\"\n{extra}\n")
}

/// `t.toml:L:C` of `word` in the file's `n`th line holding it (0-based).
fn at(text: &str, word: &str, n: usize) -> String {
    let (line, l) = text
        .lines()
        .enumerate()
        .filter(|(_, l)| l.contains(word))
        .nth(n)
        .unwrap_or_else(|| panic!("no line {n} with `{word}` in {text}"));
    format!("t.toml:{}:{}", line + 1, l.find(word).unwrap() + 1)
}

#[test]
fn a_message_is_read_with_its_numbers_and_its_thin_name() {
    let p = ok(&loop_pool(&format!(
        "{}{}{}",
        msg("create_thin 7", "thin = \"a\""),
        msg("create_snap 8  7", ""),
        msg("set_transaction_id 0 5", "expect.transaction_id = 5")
    )));
    assert_eq!(
        p.steps[0].action,
        Action::Message(MessageSpec {
            message: PoolMessage::CreateThin { id: 7 },
            thin: Some(thinbench_schema::ids::Ident::new("a").unwrap()),
        })
    );
    let Action::Message(m) = &p.steps[1].action else {
        panic!("{:?}", p.steps[1].action)
    };
    assert_eq!(m.message, PoolMessage::CreateSnap { id: 8, origin: 7 });
    assert_eq!(
        m.message.to_string(),
        "create_snap 8 7",
        "sent as dm-thin reads it"
    );
    assert_eq!(p.steps[2].expect, vec![Expect::TransactionId(5)]);
}

#[test]
fn each_grammar_mistake_is_shown_at_its_word() {
    let t = loop_pool(&msg("create_thinn 1", ""));
    let e = one(&t);
    assert!(e.starts_with(&at(&t, "create_thinn", 0)), "{e}");
    assert!(
        e.contains("`create_thinn` is not a dm-thin pool message"),
        "{e}"
    );
    assert!(e.contains("did you mean `create_thin`?"), "{e}");

    let t = loop_pool(&msg("create_snap 1", ""));
    let e = one(&t);
    assert!(
        e.contains("`create_snap` takes 2 arguments, and 1 is given"),
        "{e}"
    );
    assert!(
        e.contains("write `create_snap <dev id> <origin id>`"),
        "{e}"
    );

    let t = loop_pool(&msg("delete 1 2", ""));
    let e = one(&t);
    assert!(e.starts_with(&at(&t, "2\"", 0)), "at the extra word: {e}");

    let t = loop_pool(&msg("delete 0x10", ""));
    let e = one(&t);
    assert!(e.starts_with(&at(&t, "0x10", 0)), "{e}");
    assert!(e.contains("must be a decimal number, not `0x10`"), "{e}");

    let e = one(&loop_pool(&msg("reserve_metadata_snap now", "")));
    assert!(e.contains("takes 0 arguments, and 1 is given"), "{e}");
    let e = one(&loop_pool(&msg("   ", "")));
    assert!(e.contains("`text` is empty"), "{e}");
    let e = one(&loop_pool("[[step]]\naction = \"message\"\n"));
    assert!(e.contains("message step has no `text`"), "{e}");
}

#[test]
fn an_id_past_24_bits_reaches_the_kernel_only_where_its_refusal_is_expected() {
    let t = loop_pool(&msg("create_thin 16777216", ""));
    let e = one(&t);
    assert!(e.starts_with(&at(&t, "16777216", 0)), "{e}");
    assert!(e.contains("past dm-thin's 24 bits"), "{e}");
    assert!(e.contains("expect.error = \"EINVAL\""), "{e}");

    let p = ok(&loop_pool(&msg(
        "create_thin 16777216",
        "expect.error = \"EINVAL\"",
    )));
    assert_eq!(
        p.steps[0].action,
        Action::Message(MessageSpec {
            message: PoolMessage::CreateThin { id: 16_777_216 },
            thin: None
        })
    );
    // Expecting another errno than the kernel's is a mistake the walk names.
    let e = one(&loop_pool(&msg(
        "create_thin 16777216",
        "expect.error = \"EBUSY\"",
    )));
    assert!(e.contains("the kernel refuses it: EINVAL"), "{e}");
    ok(&loop_pool(&msg("create_thin 16777215", "")));
}

#[test]
fn the_walk_predicts_the_kernels_refusals_with_their_errno() {
    let cases = [
        (msg("delete 3", ""), "no thin has id 3", "ENODATA"),
        (
            format!("{}{}", msg("create_thin 1", ""), msg("create_thin 1", "")),
            "thin `#1` holds id 1",
            "EEXIST",
        ),
        (msg("create_snap 2 9", ""), "no thin has id 9", "ENODATA"),
        (
            msg("set_transaction_id 4 5", ""),
            "the pool's transaction id is 0 here, not 4",
            "EINVAL",
        ),
        (
            msg("release_metadata_snap", ""),
            "no metadata snapshot is held",
            "EINVAL",
        ),
        (
            format!(
                "{}{}",
                msg("reserve_metadata_snap", ""),
                msg("reserve_metadata_snap", "")
            ),
            "holds the metadata snapshot already",
            "EBUSY",
        ),
        (
            "[[step]]\naction = \"create-thin\"\nthin = \"a\"\nid = 4\nsize = \"16MiB\"\n"
                .to_owned()
                + &msg("delete 4", ""),
            "thin `a` (id 4) has a device",
            "EBUSY",
        ),
    ];
    for (steps, why, errno) in cases {
        let e = one(&loop_pool(&steps));
        assert!(e.contains(why), "{steps}: {e}");
        assert!(
            e.contains(&format!("the kernel refuses it: {errno}")),
            "{steps}: {e}"
        );
        // The same step expecting that refusal passes validation.
        ok(&loop_pool(&format!("{steps}expect.error = \"{errno}\"\n")));
    }
}

#[test]
fn the_transaction_id_follows_the_messages_that_set_it() {
    ok(&loop_pool(&format!(
        "{}{}{}",
        msg("set_transaction_id 0 1234", ""),
        msg("set_transaction_id 0 1", "expect.error = \"EINVAL\""),
        msg("set_transaction_id 1234 0", "")
    )));
}

#[test]
fn direct_lvm_takes_only_the_metadata_snapshot_messages() {
    ok(&direct_pool(&format!(
        "{}{}",
        msg("reserve_metadata_snap", ""),
        msg("release_metadata_snap", "")
    )));
    for (text, why) in [
        ("create_thin 1", "lvm owns a direct-lvm pool's thin ids"),
        ("delete 1", "lvm owns a direct-lvm pool's thin ids"),
        (
            "set_transaction_id 0 1",
            "lvm keeps the pool's transaction id",
        ),
    ] {
        let t = direct_pool(&msg(text, ""));
        let e = one(&t);
        assert!(e.contains(why), "{text}: {e}");
        assert!(e.contains("run the step on loop-lvm pools only"), "{e}");
    }
}

#[test]
fn a_thin_made_by_a_message_takes_io_only_once_activated_with_a_size() {
    let write = "[[step]]\naction = \"small-write\"\nthin = \"a\"\ncount = 1\n";
    let t = loop_pool(&format!("{}{write}", msg("create_thin 1", "thin = \"a\"")));
    let e = one(&t);
    assert!(e.contains("thin `a` has no device"), "{e}");
    assert!(e.contains("add an activate step"), "{e}");

    let activate = "[[step]]\naction = \"activate\"\nthin = \"a\"\n";
    let e = one(&loop_pool(&format!(
        "{}{activate}",
        msg("create_thin 1", "thin = \"a\"")
    )));
    assert!(
        e.contains("has never had a device, so it has no size yet"),
        "{e}"
    );

    let p = ok(&loop_pool(&format!(
        "{}{activate}size = \"16MiB\"\nread_only = true\n{write}",
        msg("create_thin 1", "thin = \"a\"")
    )));
    assert_eq!(
        p.steps[1].action,
        Action::Activate(ActivateSpec {
            thin: thinbench_schema::ids::Ident::new("a").unwrap(),
            read_only: true,
            size: Some(thinbench_schema::units::Bytes(16 << 20)),
        })
    );
    // A deactivated thin comes back at its size; activating it twice is EBUSY.
    ok(&loop_pool(&format!(
        "[[step]]\naction = \"create-thin\"\nthin = \"a\"\nsize = \"16MiB\"\n\
         [[step]]\naction = \"deactivate\"\nthin = \"a\"\n{activate}{write}"
    )));
    let e = one(&loop_pool(&format!(
        "[[step]]\naction = \"create-thin\"\nthin = \"a\"\nsize = \"16MiB\"\n{activate}"
    )));
    assert!(
        e.contains("thin `a` has a device already (the kernel refuses it: EBUSY)"),
        "{e}"
    );
    let e = errors(&loop_pool(&msg("delete 1", "thin = \"a\"")));
    assert!(
        e.iter().any(|e| e.contains("`delete` makes none")),
        "{e:#?}"
    );
}

#[test]
fn a_suspended_pool_takes_control_steps_only() {
    let thin = "[[step]]\naction = \"create-thin\"\nthin = \"a\"\nsize = \"16MiB\"\n";
    let suspend = "[[step]]\nname = \"s\"\naction = \"suspend\"\n";
    let write = "[[step]]\naction = \"small-write\"\nthin = \"a\"\ncount = 1\n";
    let e = one(&loop_pool(&format!("{thin}{suspend}{write}")));
    assert!(
        e.contains("the pool is suspended (step `s` suspended it)"),
        "{e}"
    );
    assert!(e.contains("would wait for its resume forever"), "{e}");
    assert!(e.contains("add a resume step"), "{e}");
    ok(&loop_pool(&format!(
        "{thin}{suspend}{}[[step]]\naction = \"resume\"\n{write}",
        msg("reserve_metadata_snap", "")
    )));
    // A thin's suspend waits for the pool's resume; a thin suspended first is fine.
    let e = one(&loop_pool(&format!(
        "{thin}{suspend}[[step]]\naction = \"suspend\"\ndevice = \"a\"\n"
    )));
    assert!(
        e.contains("the suspend of thin `a` would wait for the pool's resume"),
        "{e}"
    );
    let p = ok(&loop_pool(&format!(
        "{thin}[[step]]\naction = \"suspend\"\ndevice = \"a\"\nflush = false\n{suspend}\
         [[step]]\naction = \"resume\"\n[[step]]\naction = \"resume\"\ndevice = \"a\"\n"
    )));
    assert_eq!(
        p.steps[1].action,
        Action::Suspend {
            device: ControlDevice::Thin(thinbench_schema::ids::Ident::new("a").unwrap()),
            flush: false,
            pool_resumes_after: None,
        }
    );
    assert_eq!(
        p.steps[2].action,
        Action::Suspend {
            device: ControlDevice::Pool,
            flush: true,
            pool_resumes_after: None,
        }
    );
    // IO to a suspended thin waits too.
    let e = one(&loop_pool(&format!(
        "{thin}[[step]]\naction = \"suspend\"\ndevice = \"a\"\n{write}"
    )));
    assert!(e.contains("thin `a` is suspended"), "{e}");
    // Activation while the pool is suspended: the kernel's EINVAL, expected or reported.
    let make = msg("create_thin 5", "thin = \"b\"");
    let act = "[[step]]\naction = \"activate\"\nthin = \"b\"\nsize = \"16MiB\"\n";
    let e = one(&loop_pool(&format!("{make}{suspend}{act}")));
    assert!(
        e.contains("does not activate a thin of a suspended pool (the kernel refuses it: EINVAL)"),
        "{e}"
    );
    ok(&loop_pool(&format!(
        "{make}{suspend}{act}expect.error = \"EINVAL\"\n[[step]]\naction = \"resume\"\n{act}"
    )));
}

#[test]
fn keys_of_other_actions_are_refused_on_control_steps() {
    let e = one(&loop_pool("[[step]]\naction = \"resume\"\nflush = false\n"));
    assert!(
        e.contains("`flush` is not a key of resume steps (it is for: suspend, discard)"),
        "{e}"
    );
    let e = one(&loop_pool(&msg("create_thin 1", "size = \"1GiB\"")));
    assert!(e.contains("`size` is not a key of message steps"), "{e}");
}

#[test]
fn a_pool_expected_to_be_refused_takes_what_dm_thin_refuses_and_runs_no_steps() {
    let pool = |keys: &str| {
        format!(
            "format = 1\n[[pool]]\nname = \"bad\"\nkind = \"loop-lvm\"\ndata_size = \"64MiB\"\n\
             {keys}\n[[pool]]\nname = \"p\"\nkind = \"loop-lvm\"\n\
             [[step]]\naction = \"create-thin\"\nthin = \"a\"\npools = [\"p\"]\n"
        )
    };
    // Without `expect_error` a chunk dm-thin refuses is the checker's error.
    let e = one(&pool("chunk_size = 94720"));
    assert!(e.contains("64KiB"), "{e}");
    let p = ok(&pool(
        "chunk_size = 94720\nmetadata_size = \"16KiB\"\nexpect_error = \"EINVAL\"",
    ));
    let r = p.pools[0].refusal.expect("a refusal");
    assert_eq!(r.kind, crate::errors::Kind::Einval);
    assert_eq!(r.chunk_sectors, Some(185));
    assert_eq!(p.pools[1].refusal, None);
    // A chunk dm-thin takes is kept as the pool's own.
    let p = ok(&pool("chunk_size = \"128KiB\"\nexpect_error = \"EINVAL\""));
    assert_eq!(p.pools[0].refusal.and_then(|r| r.chunk_sectors), None);
    assert_eq!(p.pools[0].chunk.sectors().0, 256);
    // Not whole sectors, or not a kind: still errors.
    let e = one(&pool("chunk_size = 1000\nexpect_error = \"EINVAL\""));
    assert!(e.contains("chunk"), "{e}");
    let e = one(&pool("expect_error = \"EWHAT\""));
    assert!(
        e.contains("`expect_error` must be an error kind, not \"EWHAT\""),
        "{e}"
    );
    // A step that would run on it is an error, naming the pool.
    let t =
        "format = 1\n[[pool]]\nname = \"bad\"\nkind = \"loop-lvm\"\nexpect_error = \"EINVAL\"\n\
             [[step]]\nname = \"mk\"\naction = \"create-thin\"\nthin = \"a\"\n";
    let e = one(t);
    assert!(
        e.contains(
            "step `mk` would run on pool `bad`, whose construction the scenario expects to fail"
        ),
        "{e}"
    );
    // direct-lvm pools do not take it (lvm checks sizes before the kernel sees them).
    let e = one(
        "format = 1\n[[pool]]\nname = \"d\"\nkind = \"direct-lvm\"\nexpect_error = \"EINVAL\"\n\
                 [[step]]\naction = \"create-thin\"\nthin = \"a\"\n",
    );
    assert!(
        e.contains("`expect_error` is a key of loop-lvm pools"),
        "{e}"
    );
}

#[test]
fn a_thins_suspend_may_wait_for_a_pool_resumed_meanwhile() {
    let thin = "[[step]]\naction = \"create-thin\"\nthin = \"a\"\nsize = \"16MiB\"\n";
    let p = ok(&loop_pool(&format!(
        "{thin}[[step]]\naction = \"suspend\"\n\
         [[step]]\naction = \"suspend\"\ndevice = \"a\"\npool_resumes_after = \"2s\"\n\
         [[step]]\naction = \"resume\"\ndevice = \"a\"\n\
         [[step]]\naction = \"small-write\"\nthin = \"a\"\nbytes = \"1MiB\"\n"
    )));
    assert!(matches!(
        p.steps[2].action,
        Action::Suspend {
            pool_resumes_after: Some(d),
            ..
        } if d == std::time::Duration::from_secs(2)
    ));
    // Without a suspended pool there is nothing to wait for.
    let e = one(&loop_pool(&format!(
        "{thin}[[step]]\naction = \"suspend\"\ndevice = \"a\"\npool_resumes_after = \"2s\"\n"
    )));
    assert!(e.contains("the pool is not suspended"), "{e}");
    // It is a thin's wait, not the pool's.
    let e = one(&loop_pool(&format!(
        "{thin}[[step]]\naction = \"suspend\"\npool_resumes_after = \"2s\"\n"
    )));
    assert!(e.contains("is for a thin's suspend or resume"), "{e}");
}
