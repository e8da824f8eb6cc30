-- Holds the audit trail to append-only for everyone, its owner included, with two exceptions,
-- each opened by one function for the rows it names and closed again before it returns:
--   delete  of an event older than app.audit_purge_before (app_private.purge_expired);
--   update  of an event of app.erasing_user that replaces its user id, and nothing else, by an
--           erased-user pseudonym (app.erase_account).
-- Those settings are not secrets: any role may set them. What they guard is the owner's own
-- mistake; the request role has no update or delete grant on the table in the first place.
create or replace function app_private.tg_audit_events__guard() returns trigger
language plpgsql volatile
set search_path = pg_catalog, pg_temp
as $$
begin
  if tg_op = 'DELETE' and old.created_at <
       nullif(pg_catalog.current_setting('app.audit_purge_before', true), '')::timestamptz then
    return old;
  end if;
  if tg_op = 'UPDATE'
     and old.user_id = nullif(pg_catalog.current_setting('app.erasing_user', true), '')
     and new.user_id like 'erased:%'
     and pg_catalog.to_jsonb(new) - 'user_id' = pg_catalog.to_jsonb(old) - 'user_id' then
    return new;
  end if;
  raise exception '% is append-only', tg_table_schema || '.' || tg_table_name
    using errcode = 'PT403';
end
$$;

comment on function app_private.tg_audit_events__guard() is
  'Refuses changes to the audit trail but the retention purge and erasure''s pseudonyms.';
revoke all on function app_private.tg_audit_events__guard() from public;
