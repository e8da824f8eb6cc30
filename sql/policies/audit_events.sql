-- The audit trail: the request role may add events, and may not read, change or delete any
-- (no select policy it could use, no grants beyond insert). The policies below it cannot use
-- either, for want of grants: they are what the owner acts under when it runs, through its
-- app_user membership, the functions that read a caller's own events (app.own_audit_events),
-- pseudonymise them (app.erase_account) and purge old ones (app_private.purge_expired). The
-- guard trigger holds everyone, the owner too, to append-only but for those two changes.
drop policy if exists insert_any on app.audit_events;
create policy insert_any on app.audit_events for insert to app_user
  with check (true);

drop policy if exists select_own on app.audit_events;
create policy select_own on app.audit_events for select to app_user
  using (user_id = (select app.current_user_id()));

-- An update or a delete whose WHERE reads the rows must also see them, and an update's new row
-- too: what the purge may delete, and the pseudonyms an erasure writes, while it runs.
drop policy if exists select_maintained on app.audit_events;
create policy select_maintained on app.audit_events for select to app_user
  using (created_at < nullif(current_setting('app.audit_purge_before', true), '')::timestamptz
         or (user_id like 'erased:%'
             and nullif(current_setting('app.erasing_user', true), '') is not null));

drop policy if exists erase_own on app.audit_events;
create policy erase_own on app.audit_events for update to app_user
  using (user_id = (select app.current_user_id()))
  with check (user_id like 'erased:%');

drop policy if exists purge_expired on app.audit_events;
create policy purge_expired on app.audit_events for delete to app_user
  using (created_at < nullif(current_setting('app.audit_purge_before', true), '')::timestamptz);

create or replace trigger _100_refuse_change before update or delete on app.audit_events
  for each row execute function app_private.tg_audit_events__guard();
create or replace trigger _110_refuse_truncate before truncate on app.audit_events
  for each statement execute function app_private.tg__refuse_change();
