//! DMS (signed-in DAs, maker-checker): `user create|change|delete|unlock|enquire|import-emails|
//! import`, `da assign`, and `request list|show|approve|reject|cancel`. With `--checker` the
//! checker's authorisation code is read here (its password from `--password-stdin` or a prompt,
//! its OTP from `--otp` or a prompt) and checked by the service.

use crate::api::{Call, Inline, ProfileFields, RequestQuery};
use crate::bulk;
use crate::cli::{DaCommand, InlineArgs, ProfileArgs, RequestCommand, UserCommand};
use crate::client::Client;
use crate::commands::{simple, with_input};
use crate::domain::flow::Slot;
use crate::ops::calls::user::MAX_FILE_BYTES;
use crate::secrets::Input;

fn fields(p: ProfileArgs) -> ProfileFields {
    ProfileFields {
        surname: p.surname,
        other_names: p.other_names,
        email: p.email,
        status: p.status,
        enable_from: p.enable_from,
        disable_after: p.disable_after,
        channel: p.channel,
        groups: p.groups,
        limit: p.limit,
        functions: p.functions,
    }
}

/// The inline checker and what this side reads of its authorisation code.
fn inline(a: &InlineArgs) -> anyhow::Result<(Option<Inline>, Input)> {
    let Some(checker) = &a.checker else { return Ok((None, Input::terminal())) };
    let secret = if a.smartcard { Slot::CheckerPin } else { Slot::CheckerPassword };
    let input = Input::new(a.password_stdin, &[secret])?.with(Slot::CheckerOtp, a.otp.as_deref());
    Ok((Some(Inline { checker: checker.clone(), smartcard: a.smartcard }), input))
}

pub fn run(client: &mut Client, c: UserCommand) -> anyhow::Result<()> {
    match c {
        UserCommand::Create { user_id, generate: _, profile, inline: i } => {
            let (inline, input) = inline(&i)?;
            with_input(client, Call::UserCreate { user_id, profile: fields(profile), inline }, input)
        }
        UserCommand::Change { id, profile, inline: i } => {
            let (inline, input) = inline(&i)?;
            with_input(client, Call::UserChange { user_id: id, profile: fields(profile), inline }, input)
        }
        UserCommand::Delete { id, inline: i } => {
            let (inline, input) = inline(&i)?;
            with_input(client, Call::UserDelete { user_id: id, inline }, input)
        }
        UserCommand::Unlock { id, inline: i } => {
            let (inline, input) = inline(&i)?;
            with_input(client, Call::UserUnlock { user_id: id, inline }, input)
        }
        UserCommand::SmartcardReset { id, inline: i } => {
            let (inline, input) = inline(&i)?;
            with_input(client, Call::UserSmartcardReset { user_id: id, inline }, input)
        }
        UserCommand::Groups => simple(client, Call::Groups),
        UserCommand::History { user_id } => simple(client, Call::History { user_id }),
        UserCommand::Enquire { id: Some(id), .. } => simple(client, Call::Enquire { user_id: id }),
        UserCommand::Enquire { id: None, name, participant, all, house } => {
            simple(client, Call::FindByName { name: name.unwrap_or_default(), participant, house, all })
        }
        UserCommand::ImportEmails { file, dry_run, page, inline: i } => {
            let file = bulk::read_upload(&file, MAX_FILE_BYTES)?;
            let (inline, input) = inline(&i)?;
            with_input(client, Call::ImportEmails { file, dry_run, page, inline }, input)
        }
        UserCommand::Import { file, dry_run, page, inline: i } => {
            let file = bulk::read_upload(&file, MAX_FILE_BYTES)?;
            let (inline, input) = inline(&i)?;
            with_input(client, Call::ImportUsers { file, dry_run, page, inline }, input)
        }
    }
}

pub fn da(client: &mut Client, c: DaCommand) -> anyhow::Result<()> {
    let DaCommand::Assign { da_id, groups, inline: i } = c;
    let (inline, input) = inline(&i)?;
    with_input(client, Call::DaAssign { da_id, groups, inline }, input)
}

pub fn request(client: &mut Client, c: RequestCommand) -> anyhow::Result<()> {
    match c {
        RequestCommand::List { status, participant, house, maker, checker, kind, from, to, subject } => {
            let q = RequestQuery { status, participant, house, maker, checker, kind, from, to, subject };
            simple(client, Call::RequestList(q))
        }
        RequestCommand::Show { id, page } => simple(client, Call::RequestShow { id, page }),
        RequestCommand::Approve { ids, otp, password_stdin, smartcard, yes } => {
            let secret = if smartcard { Slot::Pin } else { Slot::Password };
            let input = Input::new(password_stdin, &[secret])?.with(Slot::Otp, otp.as_deref());
            with_input(client, Call::Approve { ids, smartcard, yes }, input)
        }
        RequestCommand::Reject { id, reason } => simple(client, Call::Reject { id, reason }),
        RequestCommand::Cancel { id } => simple(client, Call::CancelRequest { id }),
        RequestCommand::Resubmit { id } => simple(client, Call::Resubmit { id }),
    }
}
