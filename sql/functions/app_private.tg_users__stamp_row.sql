-- Keeps a user's bookkeeping honest on every update: id and created_at never change,
-- updated_at moves to now().
create or replace function app_private.tg_users__stamp_row() returns trigger
language plpgsql volatile
set search_path = pg_catalog, pg_temp
as $$
begin
  if new.id is distinct from old.id or new.created_at is distinct from old.created_at then
    raise exception 'id and created_at of a user cannot be changed' using errcode = 'PT422';
  end if;
  new.updated_at := pg_catalog.now();
  return new;
end
$$;

comment on function app_private.tg_users__stamp_row() is
  'Before update on app.users: pins id and created_at, stamps updated_at.';
revoke all on function app_private.tg_users__stamp_row() from public;
