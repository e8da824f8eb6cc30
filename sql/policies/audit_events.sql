-- The audit trail: the request role may add events, and may not read, change or delete any
-- (no select policy, no grants beyond insert). The triggers hold the owner to append-only too.
drop policy if exists insert_any on app.audit_events;
create policy insert_any on app.audit_events for insert to app_user
  with check (true);

create or replace trigger _100_refuse_change before update or delete on app.audit_events
  for each row execute function app_private.tg__refuse_change();
create or replace trigger _110_refuse_truncate before truncate on app.audit_events
  for each statement execute function app_private.tg__refuse_change();
