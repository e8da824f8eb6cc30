-- What export, erasure and retention (how-to/privacy.md) need from the schema; the functions
-- themselves are in sql/functions, the policies they act under in sql/policies.
--
-- 1. Two more audit events: an export, and an erasure (recorded under a pseudonym).
-- 2. Each refresh token remembers the access token issued with it (its jti and expiry), so that
--    erasing an account can revoke every access token of the user still alive, not only the one
--    in use. app.issue_refresh_token and app.rotate_refresh_token take them, which changes
--    their arguments: create or replace cannot, so the old ones go here and sql/functions
--    creates the new ones.
-- 3. A BRIN index on the audit trail's created_at, for the retention purge: the table only grows,
--    in time order, so a block-range index is a few pages however long the trail gets.
-- depends: 0006_check_versions_and_store_json

alter table app.audit_events drop constraint audit_events_event_check;
alter table app.audit_events add constraint audit_events_event_check check (event in (
  'sign_up', 'sign_up_failed', 'sign_in', 'sign_in_failed', 'refresh', 'refresh_reused',
  'sign_out', 'token_rejected', 'rate_limited', 'account_exported', 'account_erased',
  'account_erase_refused'));
create index audit_events_created_at_idx on app.audit_events using brin (created_at);

alter table app_private.refresh_tokens
  add column access_token_id uuid,
  add column access_expires_at timestamptz;
comment on column app_private.refresh_tokens.access_token_id is
  'jti of the access token issued with this refresh token; erasure revokes it while it lives.';

drop function if exists app.issue_refresh_token(text, uuid, bytea, timestamptz);
drop function if exists app.rotate_refresh_token(bytea, bytea, timestamptz);
