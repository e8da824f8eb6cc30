-- Back to 0005: the stored JSON and its function go, the request role may set version again.
-- The functions in sql/functions that read public_json or answer with an outcome go too, so
-- that the version before, whose write functions have other OUT parameters, can create its own
-- when it migrates (create or replace cannot change OUT parameters). Until then, task requests
-- fail for want of their functions. app_private.tg_tasks__stamp_row stays as it is (it reads no
-- column that goes) and is replaced by that version's own, which refuses a stale version again.
drop function if exists app.list_tasks(app.request_context);
drop function if exists app.get_task(app.request_context, bigint);
drop function if exists app.create_task(app.request_context, text, text, boolean);
drop function if exists app.replace_task(app.request_context, bigint, text, text, boolean, integer);
drop function if exists app.patch_task(app.request_context, bigint, jsonb, integer);
drop function if exists app.toggle_task(app.request_context, bigint, integer);
drop function if exists app.delete_task(app.request_context, bigint, integer);

alter table app.tasks drop column public_json;
drop function app.task_public_json(
  bigint, text, text, boolean, text, integer, timestamptz, timestamptz
);

comment on column app.tasks.version is
  'Bumped by every update; an update naming an older version is refused.';
grant update (version) on app.tasks to app_user;
