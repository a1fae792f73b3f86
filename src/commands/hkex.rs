//! The exchange operator's commands (SPEC §5): participants, eServices DA3 and DA4, smartcards,
//! settings, holidays, the outbox, key rotation, reminders, the exchange's own accounts and the
//! migration imports (the files read here and sent with the call).

use crate::api::{Call, Da3Action};
use crate::bulk;
use crate::cli::{
    AccountCommand, Da3Command, HkexCommand, HolidayCommand, KeyCommand, OutboxCommand, ParticipantCommand,
    RemindCommand, Scard1Command, SettingsCommand, SmartcardCommand,
};
use crate::client::Client;
use crate::commands::{simple, with_terminal};
use crate::ops::migration::MAX_FILE_BYTES;

pub fn run(client: &mut Client, c: HkexCommand) -> anyhow::Result<()> {
    let call = match c {
        HkexCommand::Participant(ParticipantCommand::Add { id, name, house, max_users, domains }) => {
            Call::ParticipantAdd { id, name, house, max_users, domains }
        }
        HkexCommand::Participant(ParticipantCommand::List) => Call::ParticipantList,
        HkexCommand::Participant(ParticipantCommand::Show { id, house }) => Call::ParticipantShow { id, house },
        HkexCommand::Participant(ParticipantCommand::Import { file, dry_run }) => {
            Call::ParticipantImport { file: bulk::read_upload(&file, MAX_FILE_BYTES)?, dry_run }
        }
        HkexCommand::ImportSmartcardUsers { file, dry_run } => {
            Call::SmartcardUsersImport { file: bulk::read_upload(&file, MAX_FILE_BYTES)?, dry_run }
        }
        HkexCommand::Da3(c) => return da3(client, c),
        HkexCommand::Smartcard(SmartcardCommand::Issue { user_id, srn, certificate_expiry, password_stdin }) => {
            if password_stdin {
                client.out.warn(
                    "--password-stdin is ignored: the operator no longer chooses a smartcard's PIN (the holder is mailed a one-time initial PIN)",
                );
            }
            Call::SmartcardIssue { user_id, srn, certificate_expiry }
        }
        HkexCommand::Scard1(Scard1Command::ResetPin { da_id }) => Call::Scard1ResetPin { user_id: da_id },
        HkexCommand::Da4 { participant, house, accounts } => Call::Da4 { participant, house, accounts },
        HkexCommand::Settings(SettingsCommand::Show) => Call::SettingsShow,
        HkexCommand::Settings(SettingsCommand::Set { key, value }) => Call::SettingsSet { key, value },
        HkexCommand::Holiday(HolidayCommand::Add { date, name }) => Call::HolidayAdd { date, name },
        HkexCommand::Holiday(HolidayCommand::Remove { date }) => Call::HolidayRemove { date },
        HkexCommand::Holiday(HolidayCommand::List) => Call::HolidayList,
        HkexCommand::Outbox(OutboxCommand::List) => Call::OutboxList,
        HkexCommand::Outbox(OutboxCommand::Retry) => Call::OutboxRetry,
        HkexCommand::Key(KeyCommand::Rotate) => Call::KeyRotate,
        HkexCommand::Remind(RemindCommand::Expiring { days, dry_run, system }) => {
            Call::RemindExpiring { days, dry_run, system }
        }
        HkexCommand::Remind(RemindCommand::NotInitialised { dry_run, system }) => {
            Call::RemindNotInitialised { dry_run, system }
        }
        HkexCommand::Account(AccountCommand::Add { role, surname, other_names, email }) => {
            Call::AccountAdd { role, surname, other_names, email }
        }
        HkexCommand::Account(AccountCommand::Reset { user_id }) => Call::AccountReset { user_id },
    };
    simple(client, call)
}

fn da3(client: &mut Client, c: Da3Command) -> anyhow::Result<()> {
    let action = |da_id, action| Call::Da3 { da_id, action, email: None, yes: false };
    let call = match c {
        Da3Command::Add { participant, house, role, surname, other_names, email } => {
            return simple(client, Call::Da3Add { participant, house, role, surname, other_names, email })
        }
        Da3Command::Unlock { da_id, email } => Call::Da3 { da_id, action: Da3Action::Unlock, email, yes: false },
        Da3Command::Reset { da_id, email } => Call::Da3 { da_id, action: Da3Action::Reset, email, yes: false },
        Da3Command::Enable { da_id } => action(da_id, Da3Action::Enable),
        Da3Command::Disable { da_id } => action(da_id, Da3Action::Disable),
        Da3Command::Delete { da_id, yes } => Call::Da3 { da_id, action: Da3Action::Delete, email: None, yes },
        Da3Command::ChangeEmail { da_id, email } => return simple(client, Call::Da3ChangeEmail { da_id, email }),
        Da3Command::AssignDa { user_id, role } => return simple(client, Call::Da3AssignDa { user_id, role }),
    };
    // Unlock and Reset ask for the DA's address, Delete for a confirmation, at a terminal.
    with_terminal(client, call)
}
