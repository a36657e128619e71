use nix::errno::Errno;

use super::*;

#[test]
fn errnos_map_to_their_kind_and_unknown_ones_to_other() {
    assert_eq!(Kind::of_errno(Errno::ENOSPC), Kind::Enospc);
    assert_eq!(Kind::of_errno(Errno::EBUSY), Kind::Ebusy);
    assert_eq!(Kind::of_errno(Errno::EACCES), Kind::Eperm);
    assert_eq!(Kind::of_errno(Errno::ENOENT), Kind::Other);
    let io = std::io::Error::from_raw_os_error(libc_eio());
    assert_eq!(Kind::of_io(&io), Kind::Eio);
}

fn libc_eio() -> i32 {
    Errno::EIO as i32
}

#[test]
fn every_kind_parses_back_from_its_name_and_typos_do_not() {
    for k in Kind::ALL {
        assert_eq!(Kind::parse(k.name()), Some(k));
    }
    assert_eq!(Kind::parse("EBUSSY"), None);
    assert_eq!(Kind::parse("ebusy"), None);
}

#[test]
fn error_kind_check_passes_only_a_failure_of_an_expected_kind() {
    let want = [Kind::Ebusy, Kind::Eio];
    assert_eq!(check_error_kind(&want, Err(Kind::Eio)), None);
    let other = check_error_kind(&want, Err(Kind::Enospc)).unwrap();
    assert!(
        other.contains("EBUSY or EIO") && other.contains("ENOSPC"),
        "{other}"
    );
    let ok = check_error_kind(&want, Ok(())).unwrap();
    assert!(ok.contains("succeeded"), "{ok}");
}
