-- Makes a table append-only for everyone, its owner included: updates, deletes and truncates
-- are refused.
create or replace function app_private.tg__refuse_change() returns trigger
language plpgsql volatile
set search_path = pg_catalog, pg_temp
as $$
begin
  raise exception '% is append-only', tg_table_schema || '.' || tg_table_name
    using errcode = 'PT403';
end
$$;

comment on function app_private.tg__refuse_change() is 'Refuses any change to an append-only table.';
revoke all on function app_private.tg__refuse_change() from public;
