-- Back to 0006. The functions and policies of sql/functions and sql/policies that exist for
-- erasure, export and retention go; the audit trail is append-only without exception again;
-- refresh tokens forget their access tokens, and the two functions that write them go, so that
-- the version before creates its own when it migrates. Events of the two new kinds stay: the
-- old check is added back without validating the rows already there.
drop function if exists app.erase_account(uuid, timestamptz, text, text, text);
drop function if exists app.own_account();
drop function if exists app.own_audit_events();
drop function if exists app.own_sessions();
drop function if exists app_private.purge_expired(interval, interval, interval);
drop function if exists app.issue_refresh_token(text, uuid, bytea, timestamptz, uuid, timestamptz);
drop function if exists app.rotate_refresh_token(bytea, bytea, timestamptz, uuid, timestamptz);

drop policy if exists delete_self on app.users;
drop policy if exists select_own on app.audit_events;
drop policy if exists select_maintained on app.audit_events;
drop policy if exists erase_own on app.audit_events;
drop policy if exists purge_expired on app.audit_events;
create or replace trigger _100_refuse_change before update or delete on app.audit_events
  for each row execute function app_private.tg__refuse_change();
drop function if exists app_private.tg_audit_events__guard();

alter table app_private.refresh_tokens
  drop column access_token_id,
  drop column access_expires_at;

drop index app.audit_events_created_at_idx;
alter table app.audit_events drop constraint audit_events_event_check;
alter table app.audit_events add constraint audit_events_event_check check (event in (
  'sign_up', 'sign_up_failed', 'sign_in', 'sign_in_failed', 'refresh', 'refresh_reused',
  'sign_out', 'token_rejected', 'rate_limited')) not valid;
