//! The exchange operator's commands (SPEC §5): participants, eServices DA3 and DA4, settings,
//! holidays, the exchange's own accounts, and the migration imports.

pub mod account;
pub mod da3;
pub mod da4;
pub mod key;
pub mod migrate;
pub mod outbox;
pub mod participant;
pub mod remind;
pub mod settings;
pub mod smartcard;

use crate::cli::{
    AccountCommand, Da3Command, HkexCommand, HolidayCommand, KeyCommand, OutboxCommand, ParticipantCommand,
    RemindCommand, SettingsCommand, SmartcardCommand,
};
use crate::context::Ctx;
use crate::ops::exchange::Da3Action;

pub fn dispatch(ctx: &mut Ctx, c: HkexCommand) -> anyhow::Result<()> {
    match c {
        HkexCommand::Participant(ParticipantCommand::Add { id, name, house, max_users, domains }) => {
            participant::add(ctx, &id, &name, &house, max_users, &domains)
        }
        HkexCommand::Participant(ParticipantCommand::List) => participant::list(ctx),
        HkexCommand::Participant(ParticipantCommand::Show { id, house }) => participant::show(ctx, &id, house),
        HkexCommand::Participant(ParticipantCommand::Import { file, dry_run }) => {
            migrate::participants(ctx, &file, dry_run)
        }
        HkexCommand::ImportSmartcardUsers { file, dry_run } => migrate::smartcard_users(ctx, &file, dry_run),
        HkexCommand::Da3(Da3Command::Add { participant, house, role, surname, other_names, email }) => {
            da3::add(ctx, &participant, house, &role, &surname, &other_names, &email)
        }
        HkexCommand::Da3(Da3Command::Unlock { da_id, email }) => da3::unlock(ctx, da_id, Da3Action::Unlock, email),
        HkexCommand::Da3(Da3Command::Reset { da_id, email }) => da3::unlock(ctx, da_id, Da3Action::Reset, email),
        HkexCommand::Da3(Da3Command::Enable { da_id }) => da3::action(ctx, da_id, Da3Action::Enable),
        HkexCommand::Da3(Da3Command::Disable { da_id }) => da3::action(ctx, da_id, Da3Action::Disable),
        HkexCommand::Da3(Da3Command::Delete { da_id, yes }) => da3::delete(ctx, da_id, yes),
        HkexCommand::Da3(Da3Command::ChangeEmail { da_id, email }) => da3::change_email(ctx, da_id, &email),
        HkexCommand::Smartcard(SmartcardCommand::Issue { user_id, srn, certificate_expiry, password_stdin }) => {
            smartcard::issue(ctx, user_id, &srn, &certificate_expiry, password_stdin)
        }
        HkexCommand::Da3(Da3Command::AssignDa { user_id, role }) => da3::assign_da(ctx, user_id, &role),
        HkexCommand::Da4 { participant, house, accounts } => da4::run(ctx, &participant, house, accounts),
        HkexCommand::Settings(SettingsCommand::Show) => settings::show(ctx),
        HkexCommand::Settings(SettingsCommand::Set { key, value }) => settings::set(ctx, &key, &value),
        HkexCommand::Holiday(HolidayCommand::Add { date, name }) => settings::holiday_add(ctx, &date, &name),
        HkexCommand::Holiday(HolidayCommand::Remove { date }) => settings::holiday_remove(ctx, &date),
        HkexCommand::Holiday(HolidayCommand::List) => settings::holiday_list(ctx),
        HkexCommand::Outbox(OutboxCommand::List) => outbox::list(ctx),
        HkexCommand::Outbox(OutboxCommand::Retry) => outbox::retry(ctx),
        HkexCommand::Key(KeyCommand::Rotate) => key::rotate(ctx),
        HkexCommand::Remind(RemindCommand::Expiring { days, dry_run, system }) => {
            remind::expiring(ctx, days, dry_run, system)
        }
        HkexCommand::Remind(RemindCommand::NotInitialised { dry_run, system }) => {
            remind::not_initialised(ctx, dry_run, system)
        }
        HkexCommand::Account(AccountCommand::Add { role, surname, other_names, email }) => {
            account::add(ctx, &role, &surname, &other_names, &email)
        }
        HkexCommand::Account(AccountCommand::Reset { user_id }) => account::reset(ctx, user_id),
    }
}
