-- Keeps a task's bookkeeping honest on every update, whoever runs it: id, owner and created_at
-- never change (PT422); version goes up by exactly one and updated_at moves to now(), whatever
-- the update set them to. A writer cannot choose a version: optimistic locking is the writer's
-- own WHERE clause (t.version = the version the client read, as in app.replace_task), which
-- finds no row when the task has moved on.
create or replace function app_private.tg_tasks__stamp_row() returns trigger
language plpgsql volatile
set search_path = pg_catalog, pg_temp
as $$
begin
  if new.id is distinct from old.id
     or new.user_id is distinct from old.user_id
     or new.created_at is distinct from old.created_at then
    raise exception 'id, user_id and created_at of a task cannot be changed'
      using errcode = 'PT422';
  end if;
  new.version := old.version + 1;
  new.updated_at := pg_catalog.now();
  return new;
end
$$;

comment on function app_private.tg_tasks__stamp_row() is
  'Before update on app.tasks: pins id, user_id, created_at; bumps version by one; stamps updated_at.';
revoke all on function app_private.tg_tasks__stamp_row() from public;
