-- Keeps a task's bookkeeping honest on every update, whoever runs it:
-- id, owner and created_at never change; version must be the one the writer read (a writer that
-- sets version to an older value is refused with PT409, which the API turns into 409 or 412);
-- version then goes up by one and updated_at moves to now().
create or replace function app_private.tg_tasks__stamp_row() returns trigger
language plpgsql volatile
set search_path = ''
as $$
begin
  if new.id is distinct from old.id
     or new.user_id is distinct from old.user_id
     or new.created_at is distinct from old.created_at then
    raise exception 'id, user_id and created_at of a task cannot be changed'
      using errcode = 'PT422';
  end if;
  if new.version is distinct from old.version then
    raise exception 'the task was changed by someone else (version % is current, not %)',
      old.version, new.version
      using errcode = 'PT409';
  end if;
  new.version := old.version + 1;
  new.updated_at := pg_catalog.now();
  return new;
end
$$;

comment on function app_private.tg_tasks__stamp_row() is
  'Before update on app.tasks: pins id, user_id, created_at; checks and bumps version; stamps updated_at.';
revoke all on function app_private.tg_tasks__stamp_row() from public;
